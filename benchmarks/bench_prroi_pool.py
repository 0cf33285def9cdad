"""Micro-benchmark: pure-PyTorch PrRoIPool vs torchvision.ops.roi_align (the library limit).

Same features, boxes and output size in the same run; prints times and the ratio PrRoIPool /
roi_align for forward and forward+backward. roi_align has no box gradient, so the comparison with
backward is on feature gradients; PrRoIPool with box gradients is timed separately. Also times the
candidate "features-only" autograd Function (manual backward, no graph through the weights) to
decide whether such a fast path is worth keeping.

    python benchmarks/bench_prroi_pool.py [--device cpu|cuda] [--threads 1] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torchvision.ops import roi_align

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cmd_core.model.prroi_pool import _axis_weights, prroi_pool2d  # noqa: E402


class _FeatureOnlyPrRoIPool(torch.autograd.Function):
    """Candidate fast path: weights built without a graph, backward computed by hand."""

    @staticmethod
    def forward(ctx, features, boxes, out_h, out_w, scale):
        B, C, H, W = features.shape
        K = boxes.shape[1]
        b = boxes * scale
        x0, y0, x1, y1 = b.unbind(-1)
        x1, y1 = torch.maximum(x1, x0), torch.maximum(y1, y0)
        area = ((x1 - x0) / out_w) * ((y1 - y0) / out_h)
        inv = torch.where(area > 0, 1.0 / torch.where(area > 0, area, torch.ones_like(area)), torch.zeros_like(area))
        wy = _axis_weights(y0, y1, out_h, H) * inv.reshape(B, K, 1, 1)
        wx = _axis_weights(x0, x1, out_w, W)
        t = torch.bmm(wy.reshape(B, K * out_h, H), features.permute(0, 2, 1, 3).reshape(B, H, C * W))
        out = torch.bmm(t.reshape(B * K, out_h * C, W), wx.reshape(B * K, out_w, W).transpose(1, 2))
        ctx.save_for_backward(wy, wx)
        ctx.dims = (B, C, H, W, K, out_h, out_w)
        return out.reshape(B, K, out_h, C, out_w).permute(0, 1, 3, 2, 4)

    @staticmethod
    def backward(ctx, grad):
        wy, wx = ctx.saved_tensors
        B, C, H, W, K, out_h, out_w = ctx.dims
        g = grad.permute(0, 1, 3, 2, 4).reshape(B * K, out_h * C, out_w)
        g = torch.bmm(g, wx.reshape(B * K, out_w, W))  # (B*K, out_h*C, W)
        g = torch.bmm(wy.reshape(B, K * out_h, H).transpose(1, 2), g.reshape(B, K * out_h, C * W))  # (B, H, C*W)
        return g.reshape(B, H, C, W).permute(0, 2, 1, 3), None, None, None, None


def _time(fn, repeat: int, device: str) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--boxes", type=int, default=16, help="boxes per image")
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--size", type=int, default=36, help="feature map side (layer2 of a 288 crop)")
    ap.add_argument("--bins", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1 / 8)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = args.device
    B, K, C, S, P = args.images, args.boxes, args.channels, args.size, args.bins
    feat = torch.randn(B, C, S, S, device=dev)
    img = S / args.scale
    xy = torch.rand(B, K, 2, device=dev) * img * 0.6
    wh = torch.rand(B, K, 2, device=dev) * img * 0.35 + img * 0.05
    boxes = torch.cat((xy, xy + wh), dim=-1)
    rois = torch.cat((torch.arange(B, device=dev, dtype=feat.dtype).repeat_interleave(K)[:, None],
                      boxes.reshape(-1, 4)), dim=1)

    def ra_fwd(f=feat):
        return roi_align(f, rois, (P, P), spatial_scale=args.scale, sampling_ratio=-1, aligned=True)

    def pr_fwd(f=feat, b=boxes):
        return prroi_pool2d(f, b, P, args.scale)

    def fo_fwd(f=feat, b=boxes):
        return _FeatureOnlyPrRoIPool.apply(f, b, P, P, args.scale)

    fg = feat.clone().requires_grad_(True)
    bg = boxes.clone().requires_grad_(True)

    def bwd(fn, **kw):
        def run():
            fg.grad = None
            bg.grad = None
            fn(**kw).sum().backward()
        return run

    with torch.no_grad():
        a, b = pr_fwd(), fo_fwd()
        assert torch.allclose(a, b, atol=1e-5), "feature-only variant disagrees"
    res = {
        "roi_align fwd": _time(lambda: ra_fwd(), args.repeat, dev),
        "prroi fwd": _time(lambda: pr_fwd(), args.repeat, dev),
        "roi_align fwd+bwd (feat)": _time(bwd(ra_fwd, f=fg), args.repeat, dev),
        "prroi fwd+bwd (feat)": _time(bwd(pr_fwd, f=fg), args.repeat, dev),
        "prroi fwd+bwd (feat, feature-only Function)": _time(bwd(fo_fwd, f=fg), args.repeat, dev),
        "prroi fwd+bwd (feat+boxes)": _time(bwd(pr_fwd, f=fg, b=bg), args.repeat, dev),
    }
    print(f"device={dev} threads={args.threads} features=({B},{C},{S},{S}) boxes={B}x{K} bins={P}x{P} "
          f"torch={torch.__version__}")
    for k, v in res.items():
        print(f"  {k:<46s} {v * 1e3:8.3f} ms")
    print(f"ratio prroi/roi_align forward:           {res['prroi fwd'] / res['roi_align fwd']:.2f}")
    print(f"ratio prroi/roi_align forward+backward:  "
          f"{res['prroi fwd+bwd (feat)'] / res['roi_align fwd+bwd (feat)']:.2f}")
    print(f"feature-only Function / generic (fwd+bwd): "
          f"{res['prroi fwd+bwd (feat, feature-only Function)'] / res['prroi fwd+bwd (feat)']:.2f}")


if __name__ == "__main__":
    main()
