"""ResNet backbone: torchvision's ResNet that returns intermediate feature maps.

DiMP uses layer2 (stride 8) and layer3 (stride 16). Module names are torchvision's (``conv1``,
``bn1``, ``layer1`` ... ``layer4``, ``fc``), which are also the names in the official DiMP
checkpoints under ``feature_extractor.``; layer4 and fc exist only so those checkpoints load with
``strict=True`` and are never computed. No weights are downloaded: ``weights`` is an optional
local file loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from .safe_load import load_state_dict_checked

__all__ = ["ResNetBackbone", "resnet18_backbone", "resnet50_backbone", "LAYER_ORDER"]

LAYER_ORDER = ("conv1", "layer1", "layer2", "layer3", "layer4")


class ResNetBackbone(ResNet):
    """torchvision ResNet whose forward returns a dict of the requested intermediate layers.

    args:
        block, layers: as torchvision's ResNet.
        output_layers: default layers returned by ``forward``.
        frozen_layers: names of sub-modules (e.g. ``('conv1', 'bn1', 'layer1')``) or ``'all'``
            that get ``requires_grad=False`` and stay in eval mode (frozen batch-norm statistics).
    """

    def __init__(self, block, layers: Sequence[int], output_layers: Sequence[str] = ("layer2", "layer3"),
                 frozen_layers: Iterable[str] | str = ()):
        super().__init__(block, list(layers))
        self.output_layers = list(output_layers)
        if isinstance(frozen_layers, str):
            if frozen_layers != "all":
                raise ValueError(f"frozen_layers must be a list of module names or 'all', got {frozen_layers!r}")
            frozen_layers = [name for name, _ in self.named_children()]
        self.frozen_layers = list(frozen_layers)
        children = dict(self.named_children())
        for name in self.frozen_layers:
            if name not in children:
                raise ValueError(f"unknown backbone layer to freeze: {name!r} (have {sorted(children)})")
            for p in children[name].parameters():
                p.requires_grad_(False)
        self.out_feature_strides = {"conv1": 2, "layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}
        exp = block.expansion
        self.out_feature_channels = {"conv1": 64, "layer1": 64 * exp, "layer2": 128 * exp,
                                     "layer3": 256 * exp, "layer4": 512 * exp}
        self.train()  # puts the frozen layers in eval mode from the start

    def train(self, mode: bool = True):
        """Like nn.Module.train, but frozen layers always stay in eval mode."""
        super().train(mode)
        children = dict(self.named_children())
        for name in self.frozen_layers:
            children[name].eval()
        return self

    def forward(self, x: Tensor, output_layers: Sequence[str] | None = None) -> "OrderedDict[str, Tensor]":
        """Run only as far as the deepest requested layer; returns {layer name: feature map}."""
        wanted = list(self.output_layers if output_layers is None else output_layers)
        unknown = [name for name in wanted if name not in LAYER_ORDER]
        if unknown:
            raise ValueError(f"unknown backbone output layer(s) {unknown}; choose from {LAYER_ORDER}")
        last = max(LAYER_ORDER.index(name) for name in wanted)
        found: dict[str, Tensor] = {}
        x = self.relu(self.bn1(self.conv1(x)))
        found["conv1"] = x
        x = self.maxpool(x)
        for i, name in enumerate(LAYER_ORDER[1:], start=1):
            if i > last:
                break
            x = getattr(self, name)(x)
            found[name] = x
        return OrderedDict((name, found[name]) for name in wanted)


def _load_weights(model: nn.Module, weights: str | Path | None) -> None:
    if weights is None:
        return
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    load_state_dict_checked(model, state, source=str(path), strict=True)


def resnet18_backbone(weights: str | Path | None = None, **kwargs) -> ResNetBackbone:
    """ResNet-18 (layer2: 128 ch, layer3: 256 ch); ``weights`` a local torchvision-format file."""
    model = ResNetBackbone(BasicBlock, [2, 2, 2, 2], **kwargs)
    _load_weights(model, weights)
    return model


def resnet50_backbone(weights: str | Path | None = None, **kwargs) -> ResNetBackbone:
    """ResNet-50 (layer2: 512 ch, layer3: 1024 ch); ``weights`` a local torchvision-format file."""
    model = ResNetBackbone(Bottleneck, [3, 4, 6, 3], **kwargs)
    _load_weights(model, weights)
    return model
