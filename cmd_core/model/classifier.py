"""DiMP target classifier: feature head, filter initializer and steepest-descent filter optimizer.

The classifier learns a small convolution filter (C x 4 x 4) that discriminates the target from the
background in the template (train) features, then applies it to the search (test) features.
Sub-module and parameter names follow the official checkpoints (``classifier.feature_extractor``,
``classifier.filter_initializer.filter_conv``, ``classifier.filter_optimizer.{log_step_length,
filter_reg, label_map_predictor, target_mask_predictor.0, spatial_weight_predictor}``).

Feature tensors use the DiMP layout: (images, sequences, C, H, W); boxes (images, sequences, 4) as
(x, y, w, h) in crop pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock

from .prroi_pool import prroi_pool2d

__all__ = [
    "InstanceL2Norm", "classification_head", "apply_filter", "apply_filter_transpose", "distance_bins",
    "FilterInitializerLinear", "DiMPSteepestDescentGN", "LinearFilter",
]


class InstanceL2Norm(nn.Module):
    """Scale each sample so that its mean squared value is ``scale**2``: x * scale * sqrt(CHW / (|x|^2 + eps)).

    Keeps classification scores independent of the feature magnitude.
    """

    def __init__(self, scale: float = 1.0, eps: float = 1e-5):
        super().__init__()
        self.scale = scale
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        numel = x.shape[1] * x.shape[2] * x.shape[3]
        sq = (x * x).reshape(x.shape[0], -1).sum(dim=1).reshape(-1, 1, 1, 1)
        return x * (self.scale * torch.sqrt(numel / (sq + self.eps)))


def classification_head(in_dim: int, out_dim: int, num_blocks: int, filter_size: int,
                        l2norm: bool = True, final_conv: bool = True) -> nn.Sequential:
    """Classification feature head on layer3.

    DiMP-18: ``num_blocks=1`` BasicBlock(256, 256) + Conv3x3(256->256, no bias) + L2 norm.
    DiMP-50: ``num_blocks=0``: Conv3x3(1024->512, no bias) + L2 norm. Indices of the Sequential
    match the official state dict (``classifier.feature_extractor.0...``).
    """
    layers: list[nn.Module] = []
    for i in range(num_blocks):
        if in_dim != out_dim and not (final_conv or i < num_blocks - 1):
            raise ValueError("a residual block cannot change the width; use final_conv=True")
        layers.append(BasicBlock(in_dim, in_dim))
    if final_conv:
        layers.append(nn.Conv2d(in_dim, out_dim, kernel_size=3, padding=1, bias=False))
    if l2norm:
        layers.append(InstanceL2Norm(scale=math.sqrt(1.0 / (out_dim * filter_size * filter_size))))
    head = nn.Sequential(*layers)
    for m in head.modules():  # same initialisation scheme as the reference
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return head


def _as_5d(feat: Tensor) -> Tensor:
    return feat if feat.dim() == 5 else feat.unsqueeze(1)


def apply_filter(feat: Tensor, filt: Tensor) -> Tensor:
    """Correlate each sequence's features with its own filter.

    feat (I, S, C, H, W) or (I, C, H, W) [S=1]; filt (S, C, fh, fw). Padding fh//2, so a 4x4 filter
    on 18x18 features gives 19x19 scores. Returns (I, S, Ho, Wo).
    """
    feat = _as_5d(feat)
    I, S, C, H, W = feat.shape
    pad = (filt.shape[-2] // 2, filt.shape[-1] // 2)
    scores = F.conv2d(feat.reshape(I, S * C, H, W), filt, padding=pad, groups=S)
    return scores.reshape(I, S, scores.shape[-2], scores.shape[-1])


def apply_filter_transpose(feat: Tensor, maps: Tensor, filter_size: tuple[int, int]) -> Tensor:
    """Adjoint of :func:`apply_filter` with respect to the filter (sums over images).

    feat (I, S, C, H, W); maps (I, S, Ho, Wo). Returns (S, C, fh, fw): the filter gradient of
    ``sum(maps * apply_filter(feat, f))``.
    """
    feat = _as_5d(feat)
    I, S, C, H, W = feat.shape
    pad = (filter_size[0] // 2, filter_size[1] // 2)
    # Channels become the batch, every (image, sequence) pair its own group.
    out = F.conv2d(feat.reshape(I * S, C, H, W).transpose(0, 1), maps.reshape(I * S, 1, *maps.shape[-2:]),
                   padding=pad, groups=I * S)  # (C, I*S, fh', fw')
    out = out[..., : filter_size[0], : filter_size[1]]
    return out.reshape(C, I, S, *out.shape[-2:]).sum(dim=1).transpose(0, 1)


def distance_bins(center: Tensor, output_size: tuple[int, int], num_bins: int, bin_width: float) -> Tensor:
    """Triangular binning of the distance to ``center`` (N, 2) given as (y, x) in score cells.

    Returns (N, num_bins, H, W); bin k has value max(0, 1 - |d/bin_width - k|), the last bin
    saturates at 1 for all larger distances.
    """
    center = center.reshape(-1, 2)
    dev, dt = center.device, center.dtype
    ky = torch.arange(output_size[0], device=dev, dtype=dt).reshape(1, 1, -1, 1)
    kx = torch.arange(output_size[1], device=dev, dtype=dt).reshape(1, 1, 1, -1)
    dy = ky - center[:, 0].reshape(-1, 1, 1, 1)
    dx = kx - center[:, 1].reshape(-1, 1, 1, 1)
    dist = torch.sqrt(dy * dy + dx * dx)
    diff = dist / bin_width - torch.arange(num_bins, device=dev, dtype=dt).reshape(1, -1, 1, 1)
    return torch.cat((F.relu(1.0 - diff[:, :-1].abs()), (1.0 + diff[:, -1:]).clamp(0.0, 1.0)), dim=1)


class FilterInitializerLinear(nn.Module):
    """Initial filter: Conv3x3(C, C, bias) on the template features, then PrRoIPool of the target
    box to filter_size x filter_size (scale 1/stride), averaged over the template images."""

    def __init__(self, filter_size: int = 4, feature_dim: int = 256, feature_stride: int = 16,
                 filter_norm: bool = False, conv_ksz: int = 3):
        super().__init__()
        self.filter_size = filter_size
        self.feature_stride = feature_stride
        self.filter_norm = filter_norm
        self.filter_conv = nn.Conv2d(feature_dim, feature_dim, kernel_size=conv_ksz, padding=conv_ksz // 2)
        n = conv_ksz * conv_ksz * feature_dim
        nn.init.normal_(self.filter_conv.weight, 0.0, math.sqrt(2.0 / n))
        nn.init.zeros_(self.filter_conv.bias)

    def forward(self, feat: Tensor, bb: Tensor) -> Tensor:
        """feat (I, S, C, H, W), bb (I, S, 4) xywh -> filter (S, C, fs, fs)."""
        feat = _as_5d(feat)
        I, S = feat.shape[:2]
        x = self.filter_conv(feat.reshape(I * S, *feat.shape[-3:]))
        bb = bb.reshape(I * S, 1, 4)
        boxes = torch.cat((bb[..., :2], bb[..., :2] + bb[..., 2:]), dim=-1)
        w = prroi_pool2d(x, boxes, self.filter_size, 1.0 / self.feature_stride)[:, 0]
        w = w.reshape(I, S, *w.shape[-3:]).mean(dim=0)
        if self.filter_norm:
            w = w / (w.shape[1] * w.shape[2] * w.shape[3])
        return w


class DiMPSteepestDescentGN(nn.Module):
    """Unrolled steepest descent (Gauss-Newton step length) on the DiMP discriminative loss.

    Learned parts: step length ``exp(log_step_length)``, regularisation ``filter_reg**2`` (at least
    ``min_filter_reg**2``), and 1x1 convolutions over a binned distance-to-target map predicting the
    label y (``label_map_predictor``), the target mask m (``target_mask_predictor``, sigmoid) and the
    spatial weight v (``spatial_weight_predictor``). Residual r = sqrt(w_img) v (act(s, m) - y) with
    act(s, m) = max(s, 0) + m min(s, 0) and s = x * f; loss = sum r^2 + lambda |f|^2.
    """

    def __init__(self, num_iter: int = 5, feat_stride: int = 16, init_step_length: float = 1.0,
                 init_filter_reg: float = 1e-2, init_gauss_sigma: float = 1.0, num_dist_bins: int = 5,
                 bin_displacement: float = 1.0, mask_init_factor: float = 4.0, min_filter_reg: float = 1e-3,
                 mask_act: str = "sigmoid", detach_length: float = float("inf"), alpha_eps: float = 0.0):
        super().__init__()
        self.num_iter = num_iter
        self.feat_stride = feat_stride
        self.num_dist_bins = num_dist_bins
        self.bin_displacement = bin_displacement
        self.min_filter_reg = min_filter_reg
        self.detach_length = detach_length
        self.alpha_eps = alpha_eps
        self.log_step_length = nn.Parameter(math.log(init_step_length) * torch.ones(1))
        self.filter_reg = nn.Parameter(init_filter_reg * torch.ones(1))

        d = torch.arange(num_dist_bins, dtype=torch.float32).reshape(1, -1, 1, 1) * bin_displacement
        if init_gauss_sigma == 0:
            gauss = torch.zeros_like(d)
            gauss[0, 0] = 1.0
        else:
            gauss = torch.exp(-0.5 * (d / init_gauss_sigma) ** 2)
        self.label_map_predictor = nn.Conv2d(num_dist_bins, 1, kernel_size=1, bias=False)
        self.target_mask_predictor = nn.Sequential(nn.Conv2d(num_dist_bins, 1, kernel_size=1, bias=False))
        if mask_act == "sigmoid":
            self.target_mask_predictor.append(nn.Sigmoid())
            mask_bias = 0.0
        elif mask_act == "linear":
            mask_bias = 0.5
        else:
            raise ValueError(f"unknown mask activation {mask_act!r} (use 'sigmoid' or 'linear')")
        self.spatial_weight_predictor = nn.Conv2d(num_dist_bins, 1, kernel_size=1, bias=False)
        with torch.no_grad():
            self.label_map_predictor.weight.copy_(gauss - gauss.min())
            self.target_mask_predictor[0].weight.copy_(mask_init_factor * torch.tanh(2.0 - d) + mask_bias)
            self.spatial_weight_predictor.weight.fill_(1.0)

    @staticmethod
    def _act(s: Tensor, m: Tensor) -> Tensor:
        """max(s,0) + m*min(s,0), written as in the reference (leaky ReLU with slope m)."""
        return (1.0 - m) / 2.0 * s.abs() + (1.0 + m) / 2.0 * s

    @staticmethod
    def _act_deriv(s: Tensor, m: Tensor) -> Tensor:
        return (1.0 - m) / 2.0 * torch.sign(s.detach()) + (1.0 + m) / 2.0

    def loss_maps(self, bb: Tensor, num_images: int, num_sequences: int, output_size: tuple[int, int],
                  filter_size: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
        """Label y, target mask m and spatial weight v, each (I, S, Ho, Wo), for boxes bb (I, S, 4)."""
        # Score cell k of an even-sized filter is centred on pixel k*stride, of an odd one on
        # (k + 1/2)*stride: hence the offset (filter_size % 2) / 2.
        offset = torch.tensor([(filter_size[0] % 2) / 2.0, (filter_size[1] % 2) / 2.0],
                              dtype=bb.dtype, device=bb.device)
        center = ((bb[..., :2] + bb[..., 2:] / 2) / self.feat_stride).reshape(-1, 2).flip((1,)) - offset
        dist = distance_bins(center, output_size, self.num_dist_bins, self.bin_displacement)
        shape = (num_images, num_sequences, *dist.shape[-2:])
        return (self.label_map_predictor(dist).reshape(shape), self.target_mask_predictor(dist).reshape(shape),
                self.spatial_weight_predictor(dist).reshape(shape))

    def forward(self, weights: Tensor, feat: Tensor, bb: Tensor, sample_weight: Tensor | None = None,
                num_iter: int | None = None, compute_losses: bool = True):
        """Optimise the filter.

        args:
            weights: initial filter (S, C, fh, fw).
            feat: template features (I, S, C, H, W) or (I, C, H, W).
            bb: template boxes (I, S, 4) xywh in crop pixels.
            sample_weight: optional per-image weights (I, S); default 1/I each.
            num_iter: iterations (default ``self.num_iter``).
        returns:
            (final filter, [filter iterates incl. the initial one], [training losses]).
        """
        feat = _as_5d(feat)
        num_iter = self.num_iter if num_iter is None else num_iter
        I, S = feat.shape[:2]
        bb = bb.reshape(I, S, 4)
        filter_size = (weights.shape[-2], weights.shape[-1])
        output_size = (feat.shape[-2] + (filter_size[0] + 1) % 2, feat.shape[-1] + (filter_size[1] + 1) % 2)

        step_factor = torch.exp(self.log_step_length)
        reg = (self.filter_reg * self.filter_reg).clamp(min=self.min_filter_reg ** 2)
        label, mask, spatial = self.loss_maps(bb, I, S, output_size, filter_size)
        if sample_weight is None:
            sw = math.sqrt(1.0 / I) * spatial
        else:
            sw = sample_weight.sqrt().reshape(I, S, 1, 1) * spatial

        iterates = [weights]
        losses: list[Tensor] = []
        for i in range(num_iter):
            if self.detach_length <= 0 or (i > 0 and i % self.detach_length == 0):
                weights = weights.detach()
            scores = apply_filter(feat, weights)
            act = self._act(scores, mask)
            dact = self._act_deriv(scores, mask)
            residuals = sw * (act - label)
            if compute_losses:
                losses.append(((residuals ** 2).sum() + reg * (weights ** 2).sum()) / S)
            grad = apply_filter_transpose(feat, dact * (sw * residuals), filter_size) + reg * weights
            jg = sw * (dact * apply_filter(feat, grad))
            alpha_num = (grad * grad).sum(dim=(1, 2, 3))
            alpha_den = ((jg * jg).reshape(I, S, -1).sum(dim=(0, 2)) + (reg + self.alpha_eps) * alpha_num).clamp(1e-8)
            alpha = alpha_num / alpha_den
            weights = weights - (step_factor * alpha.reshape(-1, 1, 1, 1)) * grad
            iterates.append(weights)
        if compute_losses:
            act = self._act(apply_filter(feat, weights), mask)
            losses.append((((sw * (act - label)) ** 2).sum() + reg * (weights ** 2).sum()) / S)
        return weights, iterates, losses


class LinearFilter(nn.Module):
    """The classifier: feature head + initializer + optimizer; ``forward`` is the training pass."""

    def __init__(self, filter_size: int, filter_initializer: nn.Module, filter_optimizer: nn.Module | None,
                 feature_extractor: nn.Module | None):
        super().__init__()
        self.filter_size = filter_size
        self.filter_initializer = filter_initializer
        self.filter_optimizer = filter_optimizer
        self.feature_extractor = feature_extractor

    def extract_classification_feat(self, feat: Tensor, num_sequences: int | None = None) -> Tensor:
        """Head on backbone layer3 features (N, C, H, W); reshaped to (I, S, ...) if S given."""
        if feat.dim() == 5:
            feat = feat.reshape(-1, *feat.shape[-3:])
        out = feat if self.feature_extractor is None else self.feature_extractor(feat)
        if num_sequences is None:
            return out
        return out.reshape(-1, num_sequences, *out.shape[-3:])

    def classify(self, weights: Tensor, feat: Tensor) -> Tensor:
        """Scores (I, S, Ho, Wo) of filter ``weights`` on classification features ``feat``."""
        return apply_filter(feat, weights)

    def get_filter(self, feat: Tensor, bb: Tensor, *args, **kwargs):
        """Initial filter + optimisation; returns (filter, iterates, losses)."""
        weights = self.filter_initializer(feat, bb)
        if self.filter_optimizer is None:
            return weights, [weights], None
        return self.filter_optimizer(weights, feat, bb, *args, **kwargs)

    def forward(self, train_feat: Tensor, test_feat: Tensor, train_bb: Tensor, *args, **kwargs) -> list[Tensor]:
        """Backbone features of template/search images and template boxes (I, S, 4) -> scores of
        every filter iterate on the search features, each (I_test, S, Ho, Wo)."""
        if train_bb.dim() != 3:
            raise ValueError(f"train_bb must be (images, sequences, 4), got {tuple(train_bb.shape)}")
        S = train_bb.shape[1]
        train = self.extract_classification_feat(train_feat, S)
        test = self.extract_classification_feat(test_feat, S)
        _, iterates, _ = self.get_filter(train, train_bb, *args, **kwargs)
        return [self.classify(f, test) for f in iterates]
