"""Frozen MobileNetV2 backbone on batches: one call per batch against cache-sized chunks.

The teacher's training step runs the frozen backbone on 16 crops of 160 px at a time, the tracker's
first frame on its augmented crops at 256 px. This measures, for each case, the time per crop and
the effective rate (FLOPs counted with FlopCounterMode / time) as a fraction of a float32 torch.mm
rate measured in the same run on the same threads, with the whole batch in one call and with the
library's chunking (``cmd_core.model.mobilenet.FIXED_CHUNK_PIXELS``).

Usage: python benchmarks/bench_backbone.py [--threads 2] [--reps 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_tracking import count_gflops, matmul_rate  # noqa: E402
from cmd_core.model import mobilenet as mn  # noqa: E402

CASES = (("training step (teacher)", 160, 16), ("training step (batch 16 x 2 frames)", 160, 32),
         ("tracker initialisation", 256, 13))


def seconds_per_call(backbone, x: torch.Tensor, reps: int) -> float:
    with torch.inference_mode():
        for _ in range(2):
            backbone(x)
        t0 = time.perf_counter()
        for _ in range(reps):
            backbone(x)
    return (time.perf_counter() - t0) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    backbone = mn.mobilenet_v2_backbone("imagenet")
    mm = matmul_rate(torch.device("cpu"))
    print(f"threads {args.threads}: torch.mm {mm:.0f} GFLOP/s; chunk budget {mn.FIXED_CHUNK_PIXELS} px")
    rows, chunk_budget = [], mn.FIXED_CHUNK_PIXELS
    for label, size, n in CASES:
        x = torch.rand(n, 3, size, size)
        gflop = count_gflops(lambda: backbone(x))
        row = {"case": label, "size": size, "crops": n, "gflop": round(gflop, 3)}
        for mode, budget in (("one_call", 10 ** 12), ("chunked", chunk_budget)):
            mn.FIXED_CHUNK_PIXELS = budget
            s = seconds_per_call(backbone, x, args.reps)
            row[f"{mode}_ms_per_crop"] = round(1e3 * s / n, 3)
            row[f"{mode}_fraction_of_mm"] = round(gflop / s / mm, 3)
        mn.FIXED_CHUNK_PIXELS = chunk_budget
        row["speedup"] = round(row["one_call_ms_per_crop"] / row["chunked_ms_per_crop"], 2)
        rows.append(row)
        print(f"{label:38s} {n:2d} x {size} px: one call {row['one_call_ms_per_crop']:.2f} ms/crop "
              f"({row['one_call_fraction_of_mm']:.0%} of mm), chunks of {mn.fixed_chunk_size(size, size)} "
              f"{row['chunked_ms_per_crop']:.2f} ms/crop ({row['chunked_fraction_of_mm']:.0%} of mm): "
              f"x{row['speedup']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "mm_gflops": mm, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
