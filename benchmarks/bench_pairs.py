"""Benchmark of the pair generator: pairs/s per method on >= 20,000 frames, frames/s of the
built-in detectors, each with the ratio to a limit measured in the same run.

- central / random / detector-from-files (MOTChallenge det.txt, 3 boxes per frame): a frames
  manifest of `--frames` 640x512 frames without images; limit = rows/s of a plain numpy write
  (np.save of the same number of rows in the pair manifest's 20 numeric columns + 2 strings).
- detector with built-in detectors (thermal + motion, as configured by default) on real decoded
  images: the synthetic rgbt_train frames (results/manifests/synth_rgbt_train.frames.parquet)
  repeated to `--frames` frames; limit = frames/s of only decoding the same RGB and TIR images
  with cv2.imread.
- each built-in detector alone (thermal, motion, hog) on `--detector-frames` pre-decoded frames;
  limit = cv2.imread decode rate of that modality's images.

    python benchmarks/bench_pairs.py [--frames 20000] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from cmd_core.pairs.detectors import HogPeople, MotionRegions, ThermalRegions
from cmd_core.pairs.generate import generate_pairs, read_frames

ROOT = Path(__file__).resolve().parents[1]


def fake_manifest(n_frames: int, per_seq: int = 200) -> pd.DataFrame:
    n_seq = -(-n_frames // per_seq)
    seq = np.repeat([f"s{i:04d}" for i in range(n_seq)], per_seq)[:n_frames]
    frame = np.tile(np.arange(per_seq), n_seq)[:n_frames]
    return pd.DataFrame({"dataset": "bench", "split": "all", "sequence": seq, "frame": frame, "packing": "files",
                         "rgb_path": "/none/v.jpg", "tir_path": "/none/i.jpg", "rgb_width": 640,
                         "rgb_height": 512, "tir_width": 640, "tir_height": 512})


def numpy_write_rate(rows: int, folder: Path) -> float:
    """rows/s of writing `rows` pair-like rows with plain numpy (the I/O + memory limit)."""
    t0 = time.perf_counter()
    cols = {f"c{i}": np.arange(rows, dtype=np.float64) for i in range(20)}
    cols["seq"] = np.full(rows, "s0000", dtype="U8")
    cols["src"] = np.full(rows, "central", dtype="U12")
    np.savez(folder / "plain.npz", **cols)
    return rows / (time.perf_counter() - t0)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_box_methods(n: int, threads: int, folder: Path) -> list[dict]:
    frames = fake_manifest(n)
    det_dir = folder / "dets"
    rng = np.random.default_rng(0)
    for seq, g in frames.groupby("sequence"):
        (det_dir / seq).mkdir(parents=True, exist_ok=True)
        k = len(g) * 3
        xy = rng.uniform(0, 500, (k, 2))
        wh = rng.uniform(30, 120, (k, 2))
        fr = np.repeat(g["frame"].to_numpy() + 1, 3)
        lines = [f"{f},-1,{x:.1f},{y:.1f},{w:.1f},{h:.1f},{c:.3f},-1,-1,-1"
                 for f, (x, y), (w, h), c in zip(fr, xy, wh, rng.uniform(0.3, 1, k))]
        (det_dir / seq / "det.txt").write_text("\n".join(lines) + "\n")
    cfg = {"methods": {"central": {"type": "central"}, "random": {"type": "random"},
                       "detector_files": {"type": "detector", "builtin": [],
                                          "files": [{"path": str(det_dir / "{sequence}" / "det.txt"),
                                                     "format": "mot"}]}}}
    out = []
    for method in ("central", "random", "detector_files"):
        res, sec = timed(lambda: generate_pairs(frames, method, cfg, threads=threads))
        rows = res.pairs.num_rows
        limit = numpy_write_rate(rows, folder)
        out.append({"method": method, "frames": len(frames), "pairs": rows, "seconds": sec,
                    "pairs_per_s": rows / sec, "limit": "numpy write rows/s", "limit_per_s": limit,
                    "ratio": rows / sec / limit})
    return out


def synthetic_frames(n: int) -> pd.DataFrame:
    path = ROOT / "results/manifests/synth_rgbt_train.frames.parquet"
    base = read_frames(path)
    reps = -(-n // len(base))
    parts = [base.assign(sequence=base["sequence"] + f"_r{r}") for r in range(reps)]
    return pd.concat(parts, ignore_index=True).iloc[:n]


def decode_rate(paths: list[str], flags: int) -> float:
    t0 = time.perf_counter()
    for p in paths:
        cv2.imread(p, flags)
    return len(paths) / (time.perf_counter() - t0)


def bench_builtin(n: int, threads: int) -> dict:
    frames = synthetic_frames(n)
    res, sec = timed(lambda: generate_pairs(frames, "detector", {}, threads=threads))
    sample = frames.sample(min(2000, len(frames)), random_state=0)
    t0 = time.perf_counter()
    for r in sample.itertuples():
        cv2.imread(r.rgb_path, cv2.IMREAD_UNCHANGED)
        cv2.imread(r.tir_path, cv2.IMREAD_UNCHANGED)
    decode = len(sample) / (time.perf_counter() - t0)
    return {"method": "detector (thermal+motion)", "frames": len(frames), "pairs": res.pairs.num_rows,
            "seconds": sec, "pairs_per_s": res.pairs.num_rows / sec, "frames_per_s": len(frames) / sec,
            "limit": "cv2.imread RGB+TIR frames/s (1 thread)", "limit_per_s": decode,
            "ratio": len(frames) / sec / decode, "fallback_frames": res.summary["fallback_frames"]}


def bench_detectors(n: int) -> list[dict]:
    frames = synthetic_frames(n)
    rgb = [cv2.imread(p) for p in frames["rgb_path"]]
    tir = [cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in frames["tir_path"]]
    out = []
    for det, imgs, paths, flag in ((ThermalRegions(), tir, frames["tir_path"], cv2.IMREAD_GRAYSCALE),
                                   (MotionRegions(), rgb, frames["rgb_path"], cv2.IMREAD_COLOR),
                                   (HogPeople(), rgb, frames["rgb_path"], cv2.IMREAD_COLOR)):
        k = len(imgs) if det.name != "hog" else min(len(imgs), 300)
        t0 = time.perf_counter()
        for img in imgs[:k]:
            det.detect(img)
        fps = k / (time.perf_counter() - t0)
        limit = decode_rate(list(paths[:k]), flag)
        out.append({"detector": det.name, "frames": k, "frames_per_s": fps, "limit": "cv2.imread frames/s",
                    "limit_per_s": limit, "ratio": fps / limit})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--detector-frames", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    pd.set_option("display.width", 200)
    with tempfile.TemporaryDirectory() as tmp:
        boxes = bench_box_methods(args.frames, args.threads, Path(tmp))
    print("== pair generation (pairs/s; limit measured in the same run) ==")
    print(pd.DataFrame(boxes + [bench_builtin(args.frames, args.threads)]).to_string(index=False,
                                                                                      float_format="%.3g"))
    print("\n== built-in detectors alone (frames/s, decoded frames in memory) ==")
    print(pd.DataFrame(bench_detectors(args.detector_frames)).to_string(index=False, float_format="%.3g"))


if __name__ == "__main__":
    main()
