"""Training-throughput benchmark: samples/s, data-wait fraction, compute rate vs a matmul rate.

For each configuration (the cpu_demo and cpu_mobilenet presets, DiMP-18 at its official size: 288 px crops, 3+3
frames, batch 26) it runs a few real training steps through the full pipeline (sampler ->
processing -> DataLoader workers -> actor -> Adam) and reports:

- samples/s and step time (after warm-up steps),
- data-wait fraction: time blocked on the next batch / step time (target < 10%),
- effective compute rate: FLOPs of one training step (counted with torch's FlopCounterMode,
  forward + backward) / compute time, as a fraction of a plain float32 matmul rate measured in the
  same run on the same threads.

    python benchmarks/bench_training.py [--manifest M.frames.parquet] [--threads 2] [--device cpu]
        [--steps 6] [--dimp18-steps 2] [--dimp18-batch 26] [--skip-dimp18] [--json out.json]

Without ``--manifest`` a small synthetic dataset (moving textured boxes) is written to a temp dir.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cmd_core.training.config import resolve_config  # noqa: E402
from cmd_core.training.teacher import build_teacher_trainer  # noqa: E402


def matmul_rate(device: torch.device, n: int = 1024, seconds: float = 2.0) -> float:
    """Sustained float32 matmul GFLOP/s on ``device`` with the current threads."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
        if device.type == "cuda" and reps % 50 == 0:
            torch.cuda.synchronize()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def toy_manifest(root: Path, n_seq: int = 8, n_frames: int = 40, size=(256, 320)) -> Path:
    """Moving textured rectangles on blurred-noise backgrounds, JPEG frames + frames manifest."""
    import cv2
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for s in range(n_seq):
        tw, th = int(rng.integers(20, 80)), int(rng.integers(20, 80))
        tex = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST)
        bg = cv2.GaussianBlur(rng.integers(0, 255, (*size, 3), dtype=np.uint8), (0, 0), 4)
        x, y = rng.uniform(0, size[1] - tw), rng.uniform(0, size[0] - th)
        vx, vy = rng.uniform(-4, 4, 2)
        for f in range(n_frames):
            x = float(np.clip(x + vx, 0, size[1] - tw))
            y = float(np.clip(y + vy, 0, size[0] - th))
            img = bg.copy()
            img[int(y):int(y) + th, int(x):int(x) + tw] = tex
            path = root / f"seq{s}" / f"{f:05d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), img)
            rows.append(dict(dataset="toy", split="train", sequence=f"seq{s}", frame=f, packing="files",
                             rgb_path=str(path), tir_path=None, gt_rgb_x=float(int(x)), gt_rgb_y=float(int(y)),
                             gt_rgb_w=float(tw), gt_rgb_h=float(th), gt_tir_x=np.nan, gt_tir_y=np.nan,
                             gt_tir_w=np.nan, gt_tir_h=np.nan, gt_rgb_valid=True, gt_tir_valid=False, absent=False))
    path = root / "toy.frames.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return path


def step_flops(trainer) -> float:
    """FLOPs of one forward + backward pass of the actor on one batch."""
    from torch.utils.flop_counter import FlopCounterMode

    bs = trainer.loader.batch_sampler
    bs.set_epoch(0)
    batch = trainer._to_device(next(iter(trainer.loader)))
    trainer.actor.train(True)
    with FlopCounterMode(display=False) as fc:
        loss, _ = trainer.actor(batch)
        loss.backward()
    trainer.optimizer.zero_grad(set_to_none=True)
    return float(fc.get_total_flops())


def bench(name: str, manifest: Path, overrides: dict, steps: int, warmup: int, threads: int, device: str,
          matmul_gflops: float) -> dict:
    cfg = resolve_config(name, **overrides)
    cfg["samples_per_epoch"] = (steps + warmup) * cfg["batch_size"]
    with tempfile.TemporaryDirectory() as out:
        trainer = build_teacher_trainer(manifest, out, cfg, device=device, threads=threads, progress=False)
        # run one epoch = warmup + steps; time the steps after warm-up from the per-step records
        times: list[tuple[float, float]] = []
        loader = trainer.loader
        loader.batch_sampler.set_epoch(1)
        trainer.actor.train(True)
        it = iter(loader)
        t_prev = time.perf_counter()
        for i in range(steps + warmup):
            batch = next(it)
            t_data = time.perf_counter()
            batch = trainer._to_device(batch)
            with torch.autocast(device_type=trainer.device.type, dtype=trainer.amp_dtype, enabled=trainer.use_amp):
                loss, _ = trainer.actor(batch)
            trainer.optimizer.zero_grad(set_to_none=True)
            trainer.scaler.scale(loss).backward()
            trainer.scaler.step(trainer.optimizer)
            trainer.scaler.update()
            loss.item()
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            t_end = time.perf_counter()
            if i >= warmup:
                times.append((t_data - t_prev, t_end - t_prev))
            t_prev = t_end
        del it
        flops = step_flops(trainer)  # after timing: FLOP counting runs the ops through a Python mode
    wait = sum(w for w, _ in times)
    total = sum(t for _, t in times)
    compute = total - wait
    bsz = cfg["batch_size"]
    res = {
        "config": name, "crop": cfg["net"]["crop_size"], "batch": bsz,
        "frames_per_sample": cfg["num_train_frames"] + cfg["num_test_frames"], "steps": steps,
        "step_s": total / steps, "samples_per_s": bsz * steps / total, "data_wait_fraction": wait / total,
        "gflop_per_step": flops / 1e9, "effective_gflops": flops * steps / compute / 1e9,
        "matmul_gflops": matmul_gflops,
    }
    res["fraction_of_matmul"] = res["effective_gflops"] / matmul_gflops
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", help="labelled frames manifest (default: a generated toy dataset)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--steps", type=int, default=6, help="timed steps of cpu_demo and cpu_mobilenet")
    ap.add_argument("--dimp18-steps", type=int, default=2, help="timed steps of DiMP-18 at 288")
    ap.add_argument("--dimp18-batch", type=int, default=26, help="DiMP-18 batch (official 26)")
    ap.add_argument("--skip-dimp18", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if args.device == "auto" else args.device))
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(args.manifest) if args.manifest else toy_manifest(Path(tmp))
        mm = matmul_rate(dev)
        print(f"device {dev}, {args.threads} thread(s): float32 matmul {mm:.1f} GFLOP/s", flush=True)
        results = []
        for name in ("cpu_demo", "cpu_mobilenet"):  # from-scratch DiMP-18; heads on frozen MobileNetV2
            results.append(bench(name, manifest, {}, args.steps, 2, args.threads, str(dev), mm))
            print(json.dumps(results[-1]), flush=True)
        if not args.skip_dimp18:
            results.append(bench("dimp18", manifest, {"batch_size": args.dimp18_batch}, args.dimp18_steps, 1,
                                 args.threads, str(dev), mm))
            print(json.dumps(results[-1]), flush=True)
        # the machine may be shared: measure the matmul rate again and use the better of the two
        mm2 = matmul_rate(dev)
        print(f"float32 matmul again: {mm2:.1f} GFLOP/s", flush=True)
        for r in results:
            r["matmul_gflops"] = max(mm, mm2)
            r["fraction_of_matmul"] = r["effective_gflops"] / r["matmul_gflops"]
    print("\nconfig      crop batch  step_s  samples/s  data-wait  GFLOP/step  GFLOP/s  of-matmul")
    for r in results:
        print(f"{r['config']:<10} {r['crop']:>4} {r['batch']:>5} {r['step_s']:7.2f} {r['samples_per_s']:10.2f} "
              f"{r['data_wait_fraction']:9.1%} {r['gflop_per_step']:11.1f} {r['effective_gflops']:8.1f} "
              f"{r['fraction_of_matmul']:9.1%}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
