"""Speed of the DiMP online tracker: frames per second and effective compute rate.

For DiMP-18 and DiMP-50 at 288, the CPU preset on DiMP-18 and the MobileNetV2 CPU preset
(``cpu_mobilenet``; random weights: speed does not depend on them), this measures
- FPS of ``DiMPTracker.track`` on synthetic 640x480 frames (every frame takes the full path:
  classification, IoU-Net refinement, memory update; filter re-optimisation as scheduled);
- GFLOPs per frame, counted with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and
  matrix products, forward and the refinement's backward);
- the effective rate (GFLOPs/frame x FPS) as a fraction of a plain float32 ``torch.mm`` rate
  measured in the same run with the same threads;
- the backbone alone (the dominant part): GFLOP/s and fraction of the matmul rate, with
  channels_last vs. contiguous layout.

Usage: python benchmarks/bench_tracking.py [--threads 2] [--frames 10] [--device cpu|cuda] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from cmd_core.model import build_dimp, dimp_mobilenet
from cmd_core.tracking import DiMPTracker, get_preset


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_rate(device, n: int = 2048, reps: int = 10) -> float:
    """GFLOP/s of float32 torch.mm on n x n matrices."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(2):
        torch.mm(a, b)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    _sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def count_gflops(fn) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def frames(n: int, H: int = 480, W: int = 640):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 80, (H, W, 3)).astype(np.uint8)
    out = []
    for i in range(n):
        img = base.copy()
        x, y = 250 + 3 * i, 200 + 2 * i
        img[y:y + 60, x:x + 40] = (230, 200, 50)
        out.append((img, (x, y, 40, 60)))
    return out


def bench_backbone(net, size: int, device, channels_last: bool, reps: int) -> float:
    """Seconds per backbone forward (layer2 + layer3) of one crop."""
    net = net.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    x = torch.randn(1, 3, size, size, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(2):
            net.extract_backbone_features(x)
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(reps):
            net.extract_backbone_features(x)
        _sync(device)
    return (time.perf_counter() - t0) / reps


def bench(name: str, preset: str, backbone: str, n_frames: int, device, mm: float) -> dict:
    params = get_preset(preset, target_not_found_threshold=-1e9)
    size = params.image_sample_size
    torch.manual_seed(0)
    if backbone == "mobilenet_v2":  # the shipped configuration: identity head, small IoU-Net
        net = dimp_mobilenet(backbone_weights=None, crop_size=size).eval().to(device)
    else:
        net = build_dimp(backbone, crop_size=size).eval().to(device)
    tracker = DiMPTracker(net, params, device=device)
    seq = frames(n_frames + 3)
    t0 = time.perf_counter()
    tracker.initialize(*seq[0])
    _sync(device)
    init_s = time.perf_counter() - t0
    for img, _ in seq[1:3]:  # warm-up
        tracker.track(img)
    _sync(device)
    t0 = time.perf_counter()
    for img, _ in seq[3:]:
        tracker.track(img)
    _sync(device)
    fps = n_frames / (time.perf_counter() - t0)
    gflop_frame = count_gflops(lambda: tracker.track(seq[-1][0]))
    x = torch.randn(1, 3, size, size, device=device)
    gflop_bb = count_gflops(lambda: net.extract_backbone_features(x))
    bb_cl = bench_backbone(net, size, device, True, 5)
    bb_c = bench_backbone(net, size, device, False, 5)
    net.to(memory_format=torch.channels_last)
    return {
        "name": name, "preset": preset, "backbone": backbone, "crop": size, "fps": fps, "init_s": init_s,
        "gflop_per_frame": gflop_frame, "effective_gflops": gflop_frame * fps, "fraction_of_mm": gflop_frame * fps / mm,
        "backbone_gflop": gflop_bb, "backbone_ms_channels_last": bb_cl * 1e3, "backbone_ms_contiguous": bb_c * 1e3,
        "backbone_fraction_of_mm": gflop_bb / bb_cl / mm,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--only", nargs="+", help="subset of dimp18 dimp50 cpu mobilenet")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    mm = matmul_rate(device)
    rows = []
    for name, preset, backbone in (("dimp18", "dimp18", "resnet18"), ("dimp50", "dimp50", "resnet50"),
                                   ("cpu", "cpu", "resnet18"), ("mobilenet", "cpu_mobilenet", "mobilenet_v2")):
        if args.only and name not in args.only:
            continue
        rows.append(bench(name, preset, backbone, args.frames, device, mm))
    print(f"device {device}, {args.threads} threads, torch {torch.__version__}; float32 mm rate {mm:.1f} GFLOP/s")
    print(f"{'tracker':8} {'crop':>4} {'FPS':>6} {'GFLOP/f':>8} {'eff GF/s':>8} {'of mm':>6} | "
          f"{'bb GFLOP':>8} {'bb ms CL':>8} {'bb ms C':>8} {'bb of mm':>8}")
    for r in rows:
        print(f"{r['name']:8} {r['crop']:>4} {r['fps']:6.2f} {r['gflop_per_frame']:8.2f} {r['effective_gflops']:8.1f} "
              f"{r['fraction_of_mm']:6.2f} | {r['backbone_gflop']:8.2f} {r['backbone_ms_channels_last']:8.1f} "
              f"{r['backbone_ms_contiguous']:8.1f} {r['backbone_fraction_of_mm']:8.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "threads": args.threads, "mm_gflops": mm, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
