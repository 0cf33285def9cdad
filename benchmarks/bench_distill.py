"""Distillation training throughput per strategy: samples/s, the share of step time spent waiting
for data, and the effective compute rate as a fraction of a plain matmul rate measured in the same run.

    python benchmarks/bench_distill.py --teacher T.pth --pairs-dir results/pairs/synth_rgbt_train \
        --frames results/manifests/synth_rgbt_train.frames.parquet --threads 2 --out bench_distill.json

Without --teacher a tiny world is made in a temporary folder (random 64 px DiMP-18 "teacher",
central / random pairs of a 2-sequence RGBT234 folder) - useful only as a smoke test.
Each strategy runs one epoch of ``--steps`` batches through the real Trainer (data loader workers,
CSV log); FLOPs per sample are counted once with ``torch.utils.flop_counter``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402


def matmul_gflops(n: int = 1024, seconds: float = 1.0, device: str = "cpu") -> float:
    """Sustained float32 matmul rate (GFLOP/s) of this process's threads."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def flops_per_sample(trainer) -> float:
    """FLOPs of one forward + backward of the actor on one batch, per sample."""
    from torch.utils.flop_counter import FlopCounterMode

    loader = trainer.loader
    loader.batch_sampler.set_epoch(0)
    batch = trainer._to_device(next(iter(loader)))
    n = next(iter(batch.values())).shape[1]
    trainer.actor.train(True)
    with FlopCounterMode(display=False) as fc:
        loss, _ = trainer.actor(batch)
        loss.backward()
    trainer.optimizer.zero_grad(set_to_none=True)
    return fc.get_total_flops() / n


def tiny_world(base: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_distill_fixtures import make_world

    w = make_world(base)
    return {"teacher": w["teacher"], "frames": w["frames"], "pairs_dir": w["central"].parent}


def main(argv=None) -> int:
    from cmd_core.distill.strategies import DEFAULT_STRATEGIES
    from cmd_core.distill.train import DistillJob, build_distill_trainer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher")
    ap.add_argument("--pairs-dir", help="folder with <method>.parquet pair manifests")
    ap.add_argument("--frames")
    ap.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    ap.add_argument("--steps", type=int, default=8, help="batches per strategy")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="loader workers (default: from --threads)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="JSON file for the results")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tmp = tempfile.TemporaryDirectory()
    if args.teacher:
        world = {"teacher": Path(args.teacher), "frames": Path(args.frames), "pairs_dir": Path(args.pairs_dir)}
    else:
        world = tiny_world(Path(tmp.name))
    dev = args.device
    if dev == "cuda":
        from cmd_core.gpu_lease import lease_gpu

        dev = lease_gpu().device
    mm = matmul_gflops(device=dev)
    rows = []
    for name in args.strategies.split(","):
        s = dict(DEFAULT_STRATEGIES[name])
        pairs = world["pairs_dir"] / f"{s['pairs']}.parquet"
        if not pairs.is_file():
            pairs = world["pairs_dir"] / "central.parquet"
            s["pairs"] = "central"
        out = Path(tmp.name) / "runs" / name
        trainer, _ = build_distill_trainer(DistillJob(s, pairs, world["frames"], world["teacher"], out, seed=0, epochs=1,
                                                      samples_per_epoch=args.steps * args.batch_size,
                                                      batch_size=args.batch_size, threads=args.threads, device=dev,
                                                      num_workers=args.workers, progress=False))
        fps = flops_per_sample(trainer)
        t0 = time.perf_counter()
        row = trainer.train_epoch(1)
        wall = time.perf_counter() - t0
        eff = fps * row["samples_per_s"] / 1e9
        rows.append({"strategy": name, "mode": s["mode"], "backbone": s["backbone"], "pairs": s["pairs"],
                     "samples_per_s": round(row["samples_per_s"], 2),
                     "data_wait_fraction": round(row["data_wait_fraction"], 4),
                     "gflop_per_sample": round(fps / 1e9, 3), "effective_gflops": round(eff, 2),
                     "fraction_of_matmul": round(eff / mm, 4), "epoch_wall_s": round(wall, 2),
                     "loader_workers": trainer.loader.num_workers})
        print(json.dumps(rows[-1]), flush=True)
        del trainer
    result = {"device": str(dev), "threads": args.threads, "batch_size": args.batch_size, "steps": args.steps,
              "matmul_gflops": round(mm, 1), "torch": torch.__version__, "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
