"""Precise RoI pooling: exact integral, gradients for features and boxes, layouts."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import roi_align

from cmd_core.model.prroi_pool import PrRoIPool2D, prroi_pool2d, prroi_pool2d_rois, triangle_antiderivative


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _interp(feat: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bilinear interpolant of feat (C, H, W) at points (x, y); cells at integer coords, 0 outside."""
    C, H, W = feat.shape
    padded = torch.nn.functional.pad(feat, (2, 2, 2, 2))  # zeros around the map
    xs, ys = x + 2, y + 2
    x0, y0 = torch.floor(xs), torch.floor(ys)
    out = torch.zeros(C, *x.shape, dtype=feat.dtype)
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            w = (1 - (xs - xi).abs()).clamp(min=0) * (1 - (ys - yi).abs()).clamp(min=0)
            ok = (xi >= 0) & (xi < W + 4) & (yi >= 0) & (yi < H + 4)
            out += padded[:, yi.clamp(0, H + 3).long(), xi.clamp(0, W + 3).long()] * (w * ok)
    return out


def _brute_force(feat, box, out_hw, scale, n=300):
    """Midpoint-rule integral of the interpolant over every bin, divided by the bin area."""
    x0, y0, x1, y1 = (float(v) * scale for v in box)
    ph, pw = out_hw
    res = torch.zeros(feat.shape[0], ph, pw, dtype=feat.dtype)
    for p in range(ph):
        for q in range(pw):
            bx0, bx1 = x0 + q * (x1 - x0) / pw, x0 + (q + 1) * (x1 - x0) / pw
            by0, by1 = y0 + p * (y1 - y0) / ph, y0 + (p + 1) * (y1 - y0) / ph
            if bx1 <= bx0 or by1 <= by0:
                continue
            t = (torch.arange(n, dtype=feat.dtype) + 0.5) / n
            yy, xx = torch.meshgrid(by0 + t * (by1 - by0), bx0 + t * (bx1 - bx0), indexing="ij")
            res[:, p, q] = _interp(feat, xx, yy).mean(dim=(-1, -2))
    return res


def test_antiderivative_is_integral_of_triangle():
    t = torch.linspace(-2, 2, 81, dtype=torch.float64, requires_grad=True)
    k = triangle_antiderivative(t)
    assert k[0].item() == 0 and k[-1].item() == 1
    assert torch.allclose(triangle_antiderivative(torch.tensor(0.0)), torch.tensor(0.5))
    (g,) = torch.autograd.grad(k.sum(), t)
    assert torch.allclose(g, (1 - t.abs()).clamp(min=0), atol=1e-12)


def test_matches_brute_force_integration_including_borders():
    torch.manual_seed(0)
    feat = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    boxes = torch.tensor([[[-1.3, 0.2, 3.7, 4.9], [1.0, 1.0, 2.0, 1.5]],
                          [[2.2, -0.7, 7.4, 5.8], [0.3, 2.1, 0.3, 3.0]]], dtype=torch.float64)  # last: zero width
    out = prroi_pool2d(feat, boxes * 2, (2, 3), spatial_scale=0.5)
    assert out.shape == (2, 2, 3, 2, 3)
    for b in range(2):
        for k in range(2):
            ref = _brute_force(feat[b], boxes[b, k] * 2, (2, 3), 0.5)
            assert torch.allclose(out[b, k], ref, atol=2e-5), (b, k, (out[b, k] - ref).abs().max())
    assert torch.all(out[1, 1] == 0)  # zero-area bins give 0


def test_constant_map_inside_gives_constant():
    feat = torch.full((1, 2, 8, 8), 3.0, dtype=torch.float64)
    out = prroi_pool2d(feat, torch.tensor([[[1.2, 2.5, 5.9, 6.1]]], dtype=torch.float64), 4, 1.0)
    assert torch.allclose(out, torch.full_like(out, 3.0))


def test_gradcheck_features_and_boxes():
    torch.manual_seed(1)
    feat = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    # Coordinates away from integer kinks of the piecewise-quadratic integrand (gradcheck uses finite
    # differences); boxes cross the border to exercise the zero padding.
    boxes = torch.tensor([[[0.31, 0.42, 2.77, 3.13], [-0.63, 1.21, 4.38, 2.86]],
                          [[1.12, -0.27, 3.41, 2.58], [2.23, 1.37, 5.62, 4.74]]], dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradcheck(lambda f, b: prroi_pool2d(f, b, (2, 3), 1.0), (feat, boxes),
                                    eps=1e-6, atol=1e-6)
    assert torch.autograd.gradcheck(lambda f, b: prroi_pool2d(f, b * 8, 2, 1 / 8), (feat, boxes),
                                    eps=1e-6, atol=1e-6)


def test_gradcheck_features_only_second_order():
    torch.manual_seed(2)
    feat = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    boxes = torch.tensor([[[0.4, 0.3, 2.6, 3.2]]], dtype=torch.float64)
    assert torch.autograd.gradgradcheck(lambda f: prroi_pool2d(f, boxes, 2, 1.0), (feat,))


def test_rois_layouts_agree():
    torch.manual_seed(3)
    feat = torch.randn(3, 4, 9, 9)
    boxes = torch.rand(3, 2, 4) * 40
    boxes[..., 2:] += boxes[..., :2]
    grouped = torch.cat((torch.arange(3.0).repeat_interleave(2)[:, None], boxes.reshape(-1, 4)), dim=1)
    expect = prroi_pool2d(feat, boxes, 3, 1 / 8).reshape(6, 4, 3, 3)
    assert torch.allclose(prroi_pool2d_rois(feat, grouped, 3, 1 / 8), expect, atol=1e-6)
    perm = torch.tensor([5, 0, 3, 1, 4, 2])  # arbitrary order -> gather path
    assert torch.allclose(PrRoIPool2D(3, 3, 1 / 8)(feat, grouped[perm]), expect[perm], atol=1e-6)


def test_matches_roi_align_inside_the_map():
    """roi_align (aligned, box shifted by +0.5/scale, dense sampling) approximates PrRoIPool inside."""
    torch.manual_seed(4)
    feat = torch.randn(1, 3, 12, 12, dtype=torch.float64)
    box = torch.tensor([[2.3, 3.1, 8.6, 9.4]], dtype=torch.float64) * 8
    pr = prroi_pool2d(feat, box[None], 3, 1 / 8)[0]
    rois = torch.cat((torch.zeros(1, 1, dtype=torch.float64), box + 0.5 * 8), dim=1)
    ra = roi_align(feat, rois, (3, 3), spatial_scale=1 / 8, sampling_ratio=64, aligned=True)
    assert torch.allclose(pr, ra, atol=1e-3)


def test_box_gradient_nonzero_and_finite_on_cpu_float32():
    feat = torch.randn(1, 4, 10, 10)
    boxes = torch.tensor([[[10.0, 12.0, 50.0, 60.0]]], requires_grad=True)
    prroi_pool2d(feat, boxes, 5, 1 / 8).pow(2).sum().backward()
    assert torch.isfinite(boxes.grad).all() and boxes.grad.abs().sum() > 0


def test_chunked_equals_single_pass():
    torch.manual_seed(5)
    feat = torch.randn(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    xy = torch.rand(2, 5, 2, dtype=torch.float64) * 4
    boxes = torch.cat((xy, xy + 0.5 + torch.rand(2, 5, 2, dtype=torch.float64) * 3), dim=-1).requires_grad_(True)
    full = prroi_pool2d(feat, boxes, 3, 1.0)
    chunked = prroi_pool2d(feat, boxes, 3, 1.0, max_intermediate=2 * 3 * 3 * 7 * 2)  # 2 boxes per chunk
    assert torch.allclose(full, chunked)
    g1 = torch.autograd.grad(full.sum(), (feat, boxes))
    g2 = torch.autograd.grad(chunked.sum(), (feat, boxes))
    assert all(torch.allclose(a, b) for a, b in zip(g1, g2))


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        prroi_pool2d(torch.randn(1, 2, 4, 4), torch.randn(2, 1, 4), 2, 1.0)
    with pytest.raises(ValueError):
        prroi_pool2d_rois(torch.randn(1, 2, 4, 4), torch.randn(3, 4), 2, 1.0)


def _finite_difference(fn, boxes: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central differences of sum(fn(boxes)) with respect to every box coordinate."""
    grad = torch.zeros_like(boxes)
    flat, gflat = boxes.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        keep = flat[i].item()
        flat[i] = keep + eps
        hi = fn(boxes).sum()
        flat[i] = keep - eps
        lo = fn(boxes).sum()
        flat[i] = keep
        gflat[i] = (hi - lo) / (2 * eps)
    return grad


@pytest.mark.parametrize("scale,out", [(1.0, (2, 3)), (1.0, 1), (1 / 8, 3), (1 / 16, (3, 2))])
def test_box_gradient_exact_on_integer_boxes(scale, out):
    """Integer boxes put bin edges exactly on feature-cell centres (the kinks of the triangle kernel's
    antiderivative); the gradient must still be the exact one (autograd through clamps was not)."""
    torch.manual_seed(6)
    feat = torch.randn(1, 3, 6, 7, dtype=torch.float64)
    cells = torch.tensor([[[1.0, 1.0, 4.0, 5.0], [0.0, 2.0, 3.0, 4.0], [2.0, 0.0, 6.0, 5.0],
                           [-1.0, 1.0, 5.0, 7.0]]], dtype=torch.float64)
    boxes = (cells / scale).requires_grad_(True)  # in input pixels: edges on cell centres at every scale
    def fn(b):
        return prroi_pool2d(feat, b, out, scale)

    (auto,) = torch.autograd.grad(fn(boxes).sum(), boxes)
    numeric = _finite_difference(fn, boxes.detach().clone())
    assert torch.allclose(auto, numeric, atol=1e-6, rtol=1e-6), (auto - numeric).abs().max()
    assert torch.autograd.gradcheck(fn, (boxes,), eps=1e-6, atol=1e-6)


def test_box_gradient_exact_when_inner_bin_edges_hit_cell_centres():
    """A box from 0.5 to 4.5 split into 4 bins has inner edges at 1.5, 2.5, 3.5 (no kinks) but one from
    1 to 5 has them at 2, 3, 4 (all kinks); both must match finite differences."""
    torch.manual_seed(7)
    feat = torch.randn(2, 2, 7, 7, dtype=torch.float64)
    boxes = torch.tensor([[[0.5, 0.5, 4.5, 4.5]], [[1.0, 1.0, 5.0, 5.0]]], dtype=torch.float64, requires_grad=True)
    def fn(b):  # non-linear in the pooled values
        return prroi_pool2d(feat, b, 4, 1.0).pow(2)

    (auto,) = torch.autograd.grad(fn(boxes).sum(), boxes)
    assert torch.allclose(auto, _finite_difference(fn, boxes.detach().clone()), atol=1e-6)


def test_antiderivative_derivative_at_kinks_is_the_triangle():
    t = torch.tensor([-1.0, 0.0, 1.0, -0.5, 0.5], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(triangle_antiderivative(t).sum(), t)
    assert g.tolist() == [0.0, 1.0, 0.0, 0.5, 0.5]
    # forward values unchanged: K(-1) = 0, K(0) = 1/2, K(1) = 1, K(+-1/2) = 1/8, 7/8
    assert triangle_antiderivative(t).tolist() == [0.0, 0.5, 1.0, 0.125, 0.875]
