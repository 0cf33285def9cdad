"""Ingest throughput vs a plain decode-only loop over the same files (target ratio >= 0.8).

    PYTHONPATH=. python benchmarks/bench_ingest.py [--pairs 20000] [--threads 2] [--dir DIR]

Generates an RGBT234-layout dataset (160x128 random-textured JPEGs, a few encoded variants
reused by copying bytes), then in the same run times (a) cv2.imdecode of every file's bytes with a
ThreadPoolExecutor of the same size, (b) `ingest_dataset` end to end (listing, GT parsing,
verification, manifest building). The baseline runs before and after the ingest and the faster
of the two is used, so the ratio is not flattered by a cold page cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from cmd_core.datasets.imagecheck import single_threaded_opencv
from cmd_core.datasets.ingest import ingest_dataset


def generate(root: Path, pairs: int, per_seq: int = 200, w: int = 160, h: int = 128) -> list[str]:
    """Write `pairs` frame pairs in the RGBT234 layout; return all image paths."""
    rng = np.random.default_rng(0)
    variants = []
    for _ in range(8):
        img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (5, 5), 0)
        variants.append((cv2.imencode(".jpg", img)[1].tobytes(),
                         cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))[1].tobytes()))
    paths, k = [], 0
    for s in range((pairs + per_seq - 1) // per_seq):
        n = min(per_seq, pairs - s * per_seq)
        seq = root / f"seq{s:04d}"
        (seq / "visible").mkdir(parents=True, exist_ok=True)
        (seq / "infrared").mkdir(parents=True, exist_ok=True)
        for i in range(1, n + 1):
            rgb, tir = variants[k % len(variants)]
            k += 1
            for sub, name, data in (("visible", f"{i:05d}v.jpg", rgb), ("infrared", f"{i:05d}i.jpg", tir)):
                p = seq / sub / name
                p.write_bytes(data)
                paths.append(str(p))
        gt = "\n".join(f"{10 + i % 50},{20},{40},{30}" for i in range(n)) + "\n"
        (seq / "visible.txt").write_text(gt)
        (seq / "infrared.txt").write_text(gt)
    return paths


def decode_only(paths: list[str], threads: int) -> float:
    """Seconds for a plain read + cv2.imdecode(IMREAD_UNCHANGED) of every file."""
    def dec(p: str):
        with open(p, "rb") as fh:
            return cv2.imdecode(np.frombuffer(fh.read(), np.uint8), cv2.IMREAD_UNCHANGED) is not None

    t = time.perf_counter()
    with single_threaded_opencv(threads), ThreadPoolExecutor(threads) as ex:
        ok = all(ex.map(dec, paths, chunksize=64))
    assert ok
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dir", help="where to generate (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.dir or tmp) / "rgbt_bench"
        t = time.perf_counter()
        paths = generate(root, args.pairs)
        print(f"generated {args.pairs} pairs ({len(paths)} files) in {time.perf_counter() - t:.1f}s at {root}")
        base1 = decode_only(paths, args.threads)
        t = time.perf_counter()
        res = ingest_dataset("bench", "rgbt234", root, threads=args.threads)
        ingest_s = time.perf_counter() - t
        base2 = decode_only(paths, args.threads)
        assert res.summary["frames"] == args.pairs, res.summary
        base = min(base1, base2)
        ingest_fps, decode_fps = args.pairs / ingest_s, args.pairs / base
        print(f"threads={args.threads}")
        print(f"decode-only: {decode_fps:8.0f} frame pairs/s ({2 * decode_fps:.0f} images/s; runs {base1:.2f}s, {base2:.2f}s)")
        print(f"ingest:      {ingest_fps:8.0f} frame pairs/s ({ingest_s:.2f}s end to end)")
        print(f"ratio ingest/decode-only: {ingest_fps / decode_fps:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
