"""DAG-level tracking throughput: what the workflow's ``track`` jobs achieve on the cores, start-up,
model loading, decoding, initialisation and result writing included.

It runs the ``track`` rule's work (:func:`cmd_core.tracking.api.track_sets`: one process per tracker,
every evaluation set in it) for several trained checkpoints of a finished default run, ``--jobs``
processes at a time with ``--threads`` threads each (the workflow's ``--cores`` and
``tracking.threads``), and reports:

- aggregate frames/s = all frames tracked / wall seconds from the first process's start to the last
  one's exit, against the 60 frames/s the default run's tracking reached before one-job-per-tracker
  and one core per job (issue 21);
- the share of the jobs' time spent in the tracker calls (the rest: importing torch, loading the
  network, reading manifests, decoding, writing);
- the effective compute rate (GFLOP per frame of this tracker on this data, counted with
  ``FlopCounterMode`` on two sequences, initialisation included, times the aggregate frames/s) as a
  fraction of ``--jobs`` x a float32 ``torch.mm`` rate measured in the same run on ``--threads``
  threads (the matrix-multiply limit of the cores the jobs use).

Usage: python benchmarks/bench_track_job.py --results results [--jobs 2] [--threads 1]
       [--checkpoints A.pth B.pth ...] [--sets synth_tir_eval synth_rgbt_eval] [--batch B] [--json out.json]
Default checkpoints: the run's teacher, its teacher variants and its distilled students (up to 2 x jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB = r"""
import json, sys, time
t0 = time.perf_counter()
from cmd_core.tracking.api import track_sets
spec = json.loads(sys.argv[1])
summaries = track_sets(spec["sets"], "tir", "dimp", preset=spec["preset"], checkpoint=spec["checkpoint"],
                       threads=spec["threads"], batch=spec["batch"])
print(json.dumps({"frames": sum(s["frames"] for s in summaries),
                  "tracker_s": sum(v["seconds"] for s in summaries for v in s["sequences"].values()),
                  "job_s": time.perf_counter() - t0}))
"""


def default_checkpoints(results: Path, limit: int) -> list[Path]:
    found = [results / "models" / "teacher" / "checkpoint.pth"]
    found += sorted((results / "models" / "teacher_variants").glob("*/checkpoint.pth"))
    found += sorted((results / "models" / "distill").glob("*/seed*/checkpoint.pth"))
    return [p for p in found if p.exists()][:limit]


def run_jobs(specs: list[dict], jobs: int) -> tuple[float, list[dict]]:
    """Run every job spec, ``jobs`` processes at a time; (wall seconds, per-job reports)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    pending, running, reports = list(specs), [], []
    t0 = time.perf_counter()
    while pending or running:
        while pending and len(running) < jobs:
            running.append(subprocess.Popen([sys.executable, "-c", JOB, json.dumps(pending.pop(0))],
                                            stdout=subprocess.PIPE, env=env, text=True))
        time.sleep(0.05)
        for proc in [p for p in running if p.poll() is not None]:
            running.remove(proc)
            out = proc.stdout.read()
            if proc.returncode != 0:
                raise SystemExit(f"a track job failed (exit {proc.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - t0, reports


def gflop_per_frame(checkpoint: Path, preset: str, manifest: Path, threads: int) -> float:
    """FLOPs per frame of the tracker on the first two sequences of ``manifest``, initialisation included."""
    import pandas as pd

    from bench_tracking import count_gflops

    from cmd_core.tracking.api import track_sets

    names = list(dict.fromkeys(pd.read_parquet(manifest, columns=["sequence"])["sequence"]))[:2]
    done: list[dict] = []
    with tempfile.TemporaryDirectory() as out:
        gflop = count_gflops(lambda: done.extend(track_sets(
            [{"manifest": str(manifest), "out": out, "sequences": names}], "tir", "dimp", preset=preset,
            checkpoint=str(checkpoint), threads=threads)))
    return gflop / done[0]["frames"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results", help="a finished default run's results folder")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes at a time (--cores)")
    ap.add_argument("--threads", type=int, default=1, help="threads per job (tracking.threads)")
    ap.add_argument("--checkpoints", nargs="+", help="trained checkpoints, one job each")
    ap.add_argument("--sets", nargs="+", default=("synth_tir_eval", "synth_rgbt_eval"))
    ap.add_argument("--preset", default="cpu_mobilenet")
    ap.add_argument("--batch", type=int, default=None, help="tracking.batch (default: one sequence at a time)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_tracking import matmul_rate

    results = Path(args.results)
    checkpoints = [Path(c) for c in args.checkpoints] if args.checkpoints else default_checkpoints(results, 2 * args.jobs)
    if not checkpoints:
        raise SystemExit(f"no trained checkpoints under {results}/models: run ./demo.sh first or pass --checkpoints")
    manifests = [results / "manifests" / f"{name}.frames.parquet" for name in args.sets]
    missing = [str(m) for m in manifests if not m.exists()]
    if missing:
        raise SystemExit(f"frames manifest(s) not found: {missing}")
    with tempfile.TemporaryDirectory() as tmp:
        specs = [{"checkpoint": str(c), "preset": args.preset, "threads": args.threads, "batch": args.batch,
                  "sets": [{"manifest": str(m), "out": f"{tmp}/{i}/{m.name}"} for m in manifests]}
                 for i, c in enumerate(checkpoints)]
        wall, reports = run_jobs(specs, args.jobs)
    torch.set_num_threads(args.threads)
    mm = matmul_rate(torch.device("cpu"))
    gflop = gflop_per_frame(checkpoints[0], args.preset, manifests[0], args.threads)
    frames = sum(r["frames"] for r in reports)
    fps = frames / wall
    share = sum(r["tracker_s"] for r in reports) / sum(r["job_s"] for r in reports)
    out = {"jobs": args.jobs, "threads": args.threads, "batch": args.batch, "track_jobs": len(reports),
           "frames": frames, "wall_s": wall, "aggregate_fps": fps, "ratio_to_60_fps": fps / 60.0,
           "tracker_share_of_job_time": share, "gflop_per_frame": gflop, "mm_gflops_per_job": mm,
           "fraction_of_mm_limit": gflop * fps / (mm * args.jobs),
           "job_s": [round(r["job_s"], 2) for r in reports]}
    print(f"{len(reports)} track jobs ({len(manifests)} sets each), {args.jobs} at a time x {args.threads} thread(s)"
          f"{'' if args.batch is None else f', batch {args.batch}'}: {frames} frames in {wall:.1f} s")
    print(f"  aggregate {fps:.1f} frames/s = {fps / 60:.2f} x the former 60 frames/s; "
          f"tracker calls {share:.0%} of job time")
    print(f"  {gflop:.3f} GFLOP/frame -> {gflop * fps:.1f} GFLOP/s = {out['fraction_of_mm_limit']:.3f} of "
          f"{args.jobs} x {mm:.1f} GFLOP/s (torch.mm, {args.threads} thread(s))")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
