"""Precise RoI pooling (PrRoIPool) in pure PyTorch.

Definition (Jiang et al., "Acquisition of Localization Confidence", ECCV 2018, as used by ATOM/DiMP):
feature cell (i, j) sits at the continuous coordinate (x=j, y=i); between cells the map is the
bilinear interpolant, outside the map it is zero (cells beyond the border count as 0, so the
interpolant falls linearly to 0 within one cell of the border). A box (x0, y0, x1, y1), multiplied
by ``spatial_scale``, is split into ``out_h x out_w`` equal bins and each output value is the exact
integral of the interpolant over its bin divided by the bin area (0 when the area is 0).

Why this form: the bilinear interpolant is separable, ``f(x, y) = sum_ij F_ij k(y - i) k(x - j)``
with the triangle kernel ``k(t) = max(0, 1 - |t|)``. Its integral over a bin ``[a, b] x [c, d]`` is
therefore ``sum_ij F_ij (K(d - i) - K(c - i)) (K(b - j) - K(a - j))`` with ``K`` the antiderivative
of ``k``, i.e. one weight matrix per axis and two batched matmuls per box. Everything is built from
differentiable torch ops (``K`` a small autograd Function whose derivative is the triangle kernel
exactly, also where a bin edge sits on a cell centre), so autograd gives exact gradients for the
features AND for the box coordinates (the IoU-Net box refinement needs the latter; ``torchvision.ops.roi_align`` has none).
No CUDA extension, no Python loops over boxes or bins.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["prroi_pool2d", "prroi_pool2d_rois", "PrRoIPool2D", "triangle_antiderivative"]


class _TriangleAntiderivative(torch.autograd.Function):
    """K(t) with the exact derivative K'(t) = k(t) = max(0, 1 - |t|) everywhere.

    K is continuously differentiable, but autograd through clamps takes the clamp's gradient at its
    limits, which is wrong exactly at the kinks t = -1, 0, 1 (a bin edge on a feature-cell centre,
    e.g. every integer box at stride 1). The backward is written in torch ops, so it is itself
    differentiable (second order in t: the triangle's slope, one-sided at the kinks).
    """

    @staticmethod
    def forward(ctx, t: Tensor) -> Tensor:
        ctx.save_for_backward(t)
        a = (t + 1.0).clamp(0.0, 1.0)
        b = t.clamp(0.0, 1.0)
        return 0.5 * a * a - 0.5 * b * b + b

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (t,) = ctx.saved_tensors
        return grad * (1.0 - t.abs()).clamp(min=0.0)


def triangle_antiderivative(t: Tensor) -> Tensor:
    """K(t) = integral of max(0, 1-|s|) from -inf to t (0 below -1, 1 above 1, piecewise quadratic).

    Its derivative (autograd) is exactly the triangle kernel, also at the kinks -1, 0 and 1.
    """
    return _TriangleAntiderivative.apply(t)


def _axis_weights(lo: Tensor, hi: Tensor, bins: int, size: int) -> Tensor:
    """Per-axis integration weights, shape (*lo.shape, bins, size).

    ``W[..., p, i]`` is the integral of k(t - i) over bin p of the interval [lo, hi] (bin edges
    ``lo + p (hi - lo) / bins``); summing ``W @ F`` integrates the interpolant along this axis.
    """
    steps = torch.arange(bins + 1, dtype=lo.dtype, device=lo.device) / bins
    edges = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * steps  # (..., bins+1)
    cells = torch.arange(size, dtype=lo.dtype, device=lo.device)
    prim = triangle_antiderivative(edges.unsqueeze(-1) - cells)  # (..., bins+1, size)
    return prim[..., 1:, :] - prim[..., :-1, :]


# Largest intermediate (elements) built at once; larger calls are split into chunks of boxes
# (B * K * out_h * C * W elements, e.g. 60 images x 128 proposals of Super DiMP training).
MAX_INTERMEDIATE = 1 << 27


def prroi_pool2d(features: Tensor, boxes: Tensor, output_size: int | tuple[int, int],
                 spatial_scale: float, max_intermediate: int | None = None) -> Tensor:
    """Precise RoI pooling of K boxes per image.

    args:
        features: (B, C, H, W).
        boxes: (B, K, 4) boxes (x0, y0, x1, y1) in input (image) coordinates; box k of row b pools
            from image b.
        output_size: bins per box, int or (out_h, out_w).
        spatial_scale: factor from box to feature coordinates (1/stride).
        max_intermediate: memory cap (elements) of the row-contracted intermediate; above it the
            boxes are processed in chunks along K (default :data:`MAX_INTERMEDIATE`).
    returns:
        (B, K, C, out_h, out_w).
    """
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    out_h, out_w = output_size
    if features.dim() != 4 or boxes.dim() != 3 or boxes.shape[-1] != 4 or boxes.shape[0] != features.shape[0]:
        raise ValueError(f"expected features (B,C,H,W) and boxes (B,K,4), got {tuple(features.shape)} "
                         f"and {tuple(boxes.shape)}")
    B, C, H, W = features.shape
    K = boxes.shape[1]
    cap = MAX_INTERMEDIATE if max_intermediate is None else max_intermediate
    per_box = B * out_h * C * W
    if K > 1 and per_box * K > cap:
        step = max(1, cap // per_box)
        return torch.cat([_pool(features, boxes[:, i:i + step], out_h, out_w, spatial_scale)
                          for i in range(0, K, step)], dim=1)
    return _pool(features, boxes, out_h, out_w, spatial_scale)


def _pool(features: Tensor, boxes: Tensor, out_h: int, out_w: int, spatial_scale: float) -> Tensor:
    B, C, H, W = features.shape
    K = boxes.shape[1]
    boxes = boxes.to(features.dtype) * spatial_scale
    x0, y0, x1, y1 = boxes.unbind(-1)  # (B, K) each
    # Degenerate (inverted) boxes pool nothing, as in the original (width clamped at 0).
    x1 = torch.maximum(x1, x0)
    y1 = torch.maximum(y1, y0)
    wy = _axis_weights(y0, y1, out_h, H)  # (B, K, out_h, H)
    wx = _axis_weights(x0, x1, out_w, W)  # (B, K, out_w, W)

    # Contract rows: (B, K*out_h, H) @ (B, H, C*W) -> (B, K*out_h, C*W)
    f_rows = features.permute(0, 2, 1, 3).reshape(B, H, C * W)
    t = torch.bmm(wy.reshape(B, K * out_h, H), f_rows)
    # Contract columns: (B*K, out_h*C, W) @ (B*K, W, out_w) -> (B*K, out_h*C, out_w)
    t = t.reshape(B * K, out_h * C, W)
    out = torch.bmm(t, wx.reshape(B * K, out_w, W).transpose(1, 2))
    out = out.reshape(B, K, out_h, C, out_w).permute(0, 1, 3, 2, 4)

    area = ((x1 - x0) / out_w) * ((y1 - y0) / out_h)  # (B, K)
    positive = area > 0
    safe_area = torch.where(positive, area, torch.ones_like(area))
    scale = torch.where(positive, 1.0 / safe_area, torch.zeros_like(area))
    return out * scale.reshape(B, K, 1, 1, 1)


def prroi_pool2d_rois(features: Tensor, rois: Tensor, output_size: int | tuple[int, int],
                      spatial_scale: float) -> Tensor:
    """Precise RoI pooling with torchvision-style rois (N, 5) = (batch_index, x0, y0, x1, y1).

    Returns (N, C, out_h, out_w). When the rois are grouped as an equal number of consecutive
    boxes per image (the layout DiMP always produces), this is the memory-lean per-image path;
    otherwise each roi's feature map is gathered first.
    """
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f"expected rois (N, 5), got {tuple(rois.shape)}")
    B = features.shape[0]
    N = rois.shape[0]
    idx = rois[:, 0].detach().round().long()
    if N % B == 0 and N > 0:
        per = N // B
        expected = torch.arange(B, device=idx.device).repeat_interleave(per)
        if torch.equal(idx, expected):
            out = prroi_pool2d(features, rois[:, 1:].reshape(B, per, 4), output_size, spatial_scale)
            return out.reshape(N, *out.shape[2:])
    out = prroi_pool2d(features.index_select(0, idx), rois[:, 1:].unsqueeze(1), output_size, spatial_scale)
    return out.squeeze(1)


class PrRoIPool2D(nn.Module):
    """Module form, same constructor signature as the original ``PrRoIPool2D(h, w, scale)``.

    ``forward(features, rois)`` takes rois (N, 5) with the batch index first, like the original.
    """

    def __init__(self, pooled_height: int, pooled_width: int, spatial_scale: float):
        super().__init__()
        self.pooled_height = int(pooled_height)
        self.pooled_width = int(pooled_width)
        self.spatial_scale = float(spatial_scale)

    def forward(self, features: Tensor, rois: Tensor) -> Tensor:
        return prroi_pool2d_rois(features, rois, (self.pooled_height, self.pooled_width), self.spatial_scale)

    def extra_repr(self) -> str:
        return f"pooled_height={self.pooled_height}, pooled_width={self.pooled_width}, " \
               f"spatial_scale={self.spatial_scale}"
