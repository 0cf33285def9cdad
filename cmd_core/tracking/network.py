"""Loading the DiMP network for tracking: our own checkpoints, official pytracking files, or
(explicitly, for smoke tests only) untrained weights."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from cmd_core.model import CheckpointError, build_dimp, build_from_constructor, load_state_dict_checked, read_checkpoint
from cmd_core.model.dimpnet import DiMPNet

from .params import DiMPParams

__all__ = ["load_network", "UntrainedModelError"]

log = logging.getLogger(__name__)


class UntrainedModelError(ValueError):
    """Tracking was asked for without a checkpoint and without allowing untrained weights."""


def _backbone_of_state(state: dict) -> str:
    return "resnet50" if "feature_extractor.layer1.0.conv3.weight" in state else "resnet18"


def load_network(checkpoint: str | Path | None, params: DiMPParams, allow_untrained: bool = False) -> DiMPNet:
    """The DiMP network for ``params``.

    ``checkpoint``: a file written by :func:`cmd_core.model.save_checkpoint` (its stored config
    builds the network), an official pytracking file (its constructor does), or a bare state
    dict (built from ``params.network``). Weights load strictly; a wrong architecture raises
    :class:`CheckpointError` naming the file and the missing / unexpected keys, and so does a
    backbone other than the preset's ``network``. Without a checkpoint this raises
    :class:`UntrainedModelError` unless ``allow_untrained``.
    """
    if checkpoint is None:
        if not allow_untrained:
            raise UntrainedModelError(
                f"the DiMP tracker (preset {params.name}) needs trained weights: pass a checkpoint "
                "(--checkpoint FILE); untrained weights are only for smoke tests (--allow-untrained)")
        backbone = params.network or "resnet18"
        log.warning("tracking with UNTRAINED %s weights (smoke test only)", backbone)
        torch.manual_seed(params.seed)
        return build_dimp(backbone, crop_size=params.image_sample_size, search_area_factor=params.search_area_scale,
                          name=f"untrained_{backbone}")
    path = Path(checkpoint)
    ckpt = read_checkpoint(path)
    if isinstance(ckpt, dict) and isinstance(ckpt.get("net"), dict):
        state = ckpt["net"]
    elif isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state, ckpt = ckpt, {}
    else:
        raise CheckpointError(f"{path}: not a DiMP checkpoint (expected a dict with a 'net' state dict)")
    if ckpt.get("constructor") is not None:
        net = build_from_constructor(ckpt["constructor"])
    elif isinstance(ckpt.get("config"), dict) and ckpt["config"].get("backbone"):
        cfg = {k: v for k, v in ckpt["config"].items() if k != "backbone"}
        net = build_dimp(ckpt["config"]["backbone"], **cfg)
    else:
        net = build_dimp(params.network or _backbone_of_state(state), crop_size=params.image_sample_size,
                         search_area_factor=params.search_area_scale)
    load_state_dict_checked(net, state, source=str(path), strict=True)
    backbone = net.config.get("backbone")
    if params.network is not None and backbone != params.network:
        raise CheckpointError(f"{path} holds a {backbone} DiMP, but preset {params.name!r} expects {params.network} "
                              "(choose the matching preset, or 'cpu' for any backbone)")
    return net
