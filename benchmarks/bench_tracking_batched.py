"""Aggregate throughput of batched DiMP tracking (``cmd-tir track --batch B``) on CPU.

A fixed workload of synthetic sequences (a textured square moving on a noisy 8-bit 'TIR'
background; lengths and frame sizes differ between sequences) is tracked through the batched runner
(:func:`cmd_core.tracking.runner.track_manifest_batched`: slot refill, frames decoded ahead in a
thread, result files written) for B = 1, 4, 16 and 64 sequences at once, on 1 and 2 threads, and
one sequence after the other with the unbatched :class:`~cmd_core.tracking.DiMPTracker` (today's
path) as the baseline. Every frame takes the full path, as with a trained network: "target not found"
is never declared and the IoU-Net refinement is forced on (``iou_net_min_init_corr=None``); its step
length is 0 (``box_refinement_step_length=0``: the same forward / backward passes, but the random
IoU-Net cannot walk the boxes to the size of the image, which would make the crops, not the
network, the cost).

Reported per configuration: aggregate frames/s (all frames, first frames and initialisation
included, over the wall time of the whole workload), and the effective compute rate
(GFLOP per frame, counted once on the unbatched tracker with ``FlopCounterMode`` and including the
initialisation's share, times frames/s) as a fraction of a plain float32 ``torch.mm`` rate measured
in the same run with the same threads (the 'matrix-multiply limit').

Usage: python benchmarks/bench_tracking_batched.py [--preset cpu_mobilenet] [--sequences 64]
       [--frames 20 40] [--batches 1 4 16 64] [--threads 1 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tracking import matmul_rate  # noqa: E402

from cmd_core.model import build_dimp, dimp_mobilenet  # noqa: E402
from cmd_core.tracking import DiMPTracker, get_preset  # noqa: E402
from cmd_core.tracking.batched import BatchedDiMPTracker  # noqa: E402
from cmd_core.tracking.runner import run_sequence, track_manifest_batched  # noqa: E402

SIZES = ((240, 320), (256, 336), (288, 384), (240, 360))


def workload(n: int, frames: tuple[int, int], seed: int = 0) -> pd.DataFrame:
    """Frames-manifest rows of ``n`` synthetic sequences (lengths uniform in ``frames``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n):
        length = int(rng.integers(frames[0], frames[1] + 1))
        H, W = SIZES[s % len(SIZES)]
        side = int(rng.integers(24, 48))
        x0, y0 = int(rng.integers(40, W - 100)), int(rng.integers(40, H - 100))
        dx, dy = rng.uniform(-2, 2, 2)
        for i in range(length):
            x, y = x0 + dx * i, y0 + dy * i
            rows.append({"sequence": f"s{s:03d}", "frame": i, "packing": "synthetic", "tir_path": f"s{s}/{i}",
                         "rgb_path": None, "H": H, "W": W, "seed": s, "x": x, "y": y, "side": side,
                         "gt_tir_x": x, "gt_tir_y": y, "gt_tir_w": side, "gt_tir_h": side, "gt_tir_valid": True})
    return pd.DataFrame(rows)


def make_frame(row, modality: str = "tir") -> np.ndarray:
    H, W = int(row["H"]), int(row["W"])
    rng = np.random.default_rng(int(row["seed"]) * 1000 + int(row["frame"]))
    yy, xx = np.mgrid[0:H, 0:W]
    img = 40 + 25 * np.sin(xx / 9.0 + row["seed"]) * np.cos(yy / 7.0) + rng.normal(0, 3, (H, W))
    x, y, s = int(round(row["x"])), int(round(row["y"])), int(row["side"])
    img[y:y + s, x:x + s] = 210
    img[y + s // 4:y + s - s // 4, x + s // 4:x + s - s // 4] = 130
    return np.clip(img, 0, 255).astype(np.uint8)


def build_net(preset: str, params):
    torch.manual_seed(0)
    if preset == "cpu_mobilenet":  # the shipped configuration (weights do not change the speed)
        return dimp_mobilenet(backbone_weights=None, crop_size=params.image_sample_size)
    return build_dimp(params.network or "resnet18", crop_size=params.image_sample_size)


def run_unbatched(net, params, df: pd.DataFrame) -> float:
    """Wall seconds to track every sequence one after the other with the unbatched tracker."""
    tracker = DiMPTracker(net, params)
    t0 = time.perf_counter()
    for name, rows in df.groupby("sequence", sort=False):
        run_sequence(tracker, rows.to_dict("records"), "tir", name, loader=make_frame)
    return time.perf_counter() - t0


def run_batched(net, params, df: pd.DataFrame, batch: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        track_manifest_batched(df, out, BatchedDiMPTracker(net, params), "tir", batch, loader=make_frame)
        return time.perf_counter() - t0


def gflop_per_frame(net, params, df: pd.DataFrame, sequences: int = 4) -> float:
    """FLOPs (convolutions, matrix products; forward and the refinement's backward) per frame of the
    unbatched tracker over the first ``sequences`` sequences, initialisation included."""
    names = list(dict.fromkeys(df["sequence"]))[:sequences]
    sub = df[df["sequence"].isin(names)]
    with FlopCounterMode(display=False) as counter:
        tracker = DiMPTracker(net, params)
        for name, rows in sub.groupby("sequence", sort=False):
            run_sequence(tracker, rows.to_dict("records"), "tir", name, loader=make_frame)
    return counter.get_total_flops() / 1e9 / len(sub)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="cpu_mobilenet")
    ap.add_argument("--sequences", type=int, default=64)
    ap.add_argument("--frames", type=int, nargs=2, default=(20, 40), metavar=("MIN", "MAX"))
    ap.add_argument("--batches", type=int, nargs="+", default=(1, 4, 16, 64))
    ap.add_argument("--threads", type=int, nargs="+", default=(1, 2))
    ap.add_argument("--no-unbatched", action="store_true", help="skip the unbatched baseline")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    params = get_preset(args.preset, target_not_found_threshold=-1e9, iou_net_min_init_corr=None,
                        box_refinement_step_length=0.0)
    net = build_net(args.preset, params)
    df = workload(args.sequences, tuple(args.frames))
    n_frames = len(df)
    torch.set_num_threads(max(args.threads))
    gf = gflop_per_frame(net, params, df)
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        mm = matmul_rate(torch.device("cpu"))
        configs = ([("unbatched", None)] if not args.no_unbatched else []) + [(f"B={b}", b) for b in args.batches]
        for label, b in configs:
            secs = run_unbatched(net, params, df) if b is None else run_batched(net, params, df, b)
            fps = n_frames / secs
            rows.append({"threads": threads, "config": label, "batch": b, "seconds": secs, "fps": fps,
                         "mm_gflops": mm, "gflop_per_frame": gf, "fraction_of_mm": gf * fps / mm})
            print(f"threads {threads} {label:>9}: {fps:7.1f} frames/s  ({secs:6.1f} s)  "
                  f"{gf * fps:6.1f} GFLOP/s = {gf * fps / mm:5.3f} of mm {mm:.1f}", flush=True)
    print(f"\n{args.preset}, {args.sequences} sequences, {n_frames} frames ({args.frames[0]}-{args.frames[1]} each), "
          f"{gf:.3f} GFLOP/frame incl. initialisation; torch {torch.__version__}")
    print(f"{'threads':>7} {'config':>9} {'frames/s':>9} {'x unbatched':>11} {'mm GF/s':>8} {'of mm':>6}")
    for r in rows:
        base = next((q["fps"] for q in rows if q["threads"] == r["threads"] and q["batch"] is None), None)
        speedup = f"{r['fps'] / base:11.2f}" if base else f"{'-':>11}"
        print(f"{r['threads']:>7} {r['config']:>9} {r['fps']:9.1f} {speedup} {r['mm_gflops']:8.1f} "
              f"{r['fraction_of_mm']:6.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"preset": args.preset, "sequences": args.sequences, "frames": n_frames,
                       "gflop_per_frame": gf, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
