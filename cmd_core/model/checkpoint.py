"""DiMP networks from checkpoint files: official pytracking ones (their pickled ``NetConstructor``
translated into :func:`~cmd_core.model.dimpnet.build_dimp` arguments) and our own (their stored
``config``), read safely by :mod:`cmd_core.model.safe_load`; and writing our own.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cmd_core.io import atomic_path

from .dimpnet import build_dimp
from .safe_load import CheckpointError, load_state_dict_checked, read_checkpoint

__all__ = ["load_dimp_checkpoint", "build_from_constructor", "save_checkpoint"]


# Keyword arguments of pytracking's dimpnet18/dimpnet50 that map one to one onto build_dimp.
_PASS_THROUGH = ("filter_size", "optim_iter", "optim_init_step", "optim_init_reg", "init_gauss_sigma",
                 "num_dist_bins", "bin_displacement", "mask_init_factor", "target_mask_act", "clf_feat_blocks",
                 "clf_feat_norm", "final_conv", "out_feature_dim", "init_filter_norm", "iou_input_dim",
                 "iou_inter_dim", "detach_length", "frozen_backbone_layers")
_IGNORED = ("backbone_pretrained", "score_act", "act_param", "classification_layer", "feat_stride")
# Defaults of pytracking's dimpnet18/50 signatures (used when the constructor omits a keyword).
_PYTRACKING_DEFAULTS = dict(filter_size=1, optim_iter=5, optim_init_step=1.0, optim_init_reg=0.01,
                            init_gauss_sigma=1.0, num_dist_bins=5, bin_displacement=1.0, mask_init_factor=4.0)


def build_from_constructor(constructor: Any, **overrides) -> nn.Module:
    """Build our DiMPNet from a (stand-in) pytracking NetConstructor ('dimpnet18' / 'dimpnet50')."""
    fun_name = getattr(constructor, "fun_name", None) if not isinstance(constructor, dict) else constructor.get("fun_name")
    kwds = getattr(constructor, "kwds", None) if not isinstance(constructor, dict) else constructor.get("kwds")
    kwds = dict(kwds or {})
    backbone = {"dimpnet18": "resnet18", "dimpnet50": "resnet50"}.get(fun_name)
    if backbone is None:
        raise CheckpointError(f"unsupported network constructor {fun_name!r}: only 'dimpnet18' and 'dimpnet50' "
                              "(DiMP-18, DiMP-50, Super DiMP) are implemented")
    if kwds.get("classification_layer", "layer3") != "layer3":
        raise CheckpointError(f"unsupported classification_layer {kwds['classification_layer']!r}")
    if kwds.get("score_act", "relu") != "relu":
        raise CheckpointError(f"unsupported score_act {kwds['score_act']!r} (only 'relu')")
    args = dict(_PYTRACKING_DEFAULTS)
    args.update({k: v for k, v in kwds.items() if k in _PASS_THROUGH})
    if "frozen_backbone_layers" in args:
        fl = args["frozen_backbone_layers"]
        args["frozen_backbone_layers"] = fl if isinstance(fl, str) else tuple(fl)
    unknown = sorted(k for k in kwds if k not in _PASS_THROUGH and k not in _IGNORED)
    if unknown:
        warnings.warn(f"ignoring unknown constructor keyword(s) {unknown} of {fun_name}", stacklevel=2)
    args.update(overrides)
    return build_dimp(backbone, name=fun_name, **args)


def load_dimp_checkpoint(path: str | Path, model: nn.Module | None = None, strict: bool = True,
                         map_location: str | torch.device = "cpu", **build_overrides):
    """Load an official or own DiMP checkpoint.

    With ``model=None`` the network is built from the checkpoint's constructor (official files) or
    its stored ``config`` (files written by :func:`save_checkpoint`). Returns ``(model, checkpoint)``.
    """
    path = Path(path)
    ckpt = read_checkpoint(path, map_location=map_location)
    if isinstance(ckpt, dict) and "net" in ckpt:
        state = ckpt["net"]
    elif isinstance(ckpt, dict) and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state, ckpt = ckpt, {"net": ckpt}
    else:
        raise CheckpointError(f"{path}: not a DiMP checkpoint (expected a dict with a 'net' state dict)")
    if model is None:
        if ckpt.get("constructor") is not None:
            model = build_from_constructor(ckpt["constructor"], **build_overrides)
        elif isinstance(ckpt.get("config"), dict):
            cfg = {k: v for k, v in ckpt["config"].items() if k not in ("backbone",)}
            cfg.update(build_overrides)
            model = build_dimp(ckpt["config"].get("backbone", "resnet50"), **cfg)
        else:
            raise CheckpointError(f"{path}: no constructor/config in the checkpoint; pass model=")
    load_state_dict_checked(model, state, source=str(path), strict=strict)
    return model, ckpt


def save_checkpoint(path: str | Path, model: nn.Module, **extra) -> None:
    """Save ``{'net': state_dict, 'config': model.config, **extra}``; loadable with weights_only=True."""
    payload = {"net": model.state_dict(), "config": dict(getattr(model, "config", {}) or {})}
    payload.update(extra)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
