"""Benchmark: synthetic RGB-T benchmark generation speed.

Generates the default demo benchmark (four splits) with the given threads and reports frames/s,
against the rate of only JPEG-encoding and writing already-rendered frames of the same size with the
same threads (the library limit every generator pays). The ratio says how much rendering costs on
top of encoding.

    python benchmarks/bench_synth.py [--threads 2] [--dir /tmp/bench_synth]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2

from cmd_core.synth import SynthConfig, generate_benchmark
from cmd_core.synth.generator import make_scene, render_sequence


def encode_only_rate(cfg: SynthConfig, out: Path, threads: int, repeats: int) -> float:
    """Frames/s of cv2.imencode + file write of rendered RGB and TIR frames (same threads)."""
    tr = render_sequence(make_scene(cfg, "rgbt_eval", 0), ("rgb", "tir"), keep_frames=True)
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in tr["frames"]["rgb"]] + tr["frames"]["tir"]
    params = [int(cv2.IMWRITE_JPEG_QUALITY), cfg.jpeg_quality]
    out.mkdir(parents=True, exist_ok=True)

    def write(i: int) -> None:
        ok, buf = cv2.imencode(".jpg", frames[i % len(frames)], params)
        (out / f"{i:06d}.jpg").write_bytes(buf.tobytes())

    n = len(frames) * repeats
    cv2.setNumThreads(1)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(n)))
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    cfg = SynthConfig(seed=2021)
    images = sum(s.sequences * s.frames * (2 if name.startswith("rgbt") else 1)
                 for name, s in cfg.splits.items())
    try:
        start = time.perf_counter()
        generate_benchmark(work / "synth", cfg, threads=args.threads, progress=False)
        elapsed = time.perf_counter() - start
        limit = encode_only_rate(cfg, work / "encode", args.threads, repeats=4)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    rate = images / elapsed
    print(f"synthetic benchmark: {images} images ({cfg.width}x{cfg.height}) in {elapsed:.2f} s "
          f"with {args.threads} threads")
    print(f"  generation:            {rate:8.1f} images/s")
    print(f"  JPEG encode+write only: {limit:8.1f} images/s")
    print(f"  ratio (generation / encode-only): {rate / limit:.3f}")


if __name__ == "__main__":
    main()
