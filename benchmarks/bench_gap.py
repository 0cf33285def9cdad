"""The modality-gap diagnostic: its speed against the backbone it is built on, and the real aligned
sets of ../shared beside the synthetic splits.

Speed: `measure_frames` on a paired manifest (decoding, cropping, statistics and embedding), against
the frozen backbone alone on the same number of crops in the same run: the ratio says how much of the
diagnostic is the backbone (the limit: it cannot be faster than embedding its crops).

Calibration: with ../shared present, the real sets (TNO Nato_camp and Duine, RoadScene, PTB-TIR
airplane) are ingested into a temporary folder and measured with every --manifest given (e.g. the
synthetic splits of a run, results/manifests/synth_rgbt_eval.frames.parquet), the real sets as
references; the table and the calibration check are printed and written to --out.

Usage: python benchmarks/bench_gap.py [--manifest NAME=FRAMES.parquet ...] [--frames 100] [--threads 2]
                                      [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cmd_core.datasets.ingest import ingest_dataset, write_result  # noqa: E402
from cmd_core.datasets.schema import read_manifest  # noqa: E402
from cmd_core.gap import GapSettings, measure_frames  # noqa: E402
from cmd_core.gap.features import BoxEmbedder  # noqa: E402
from cmd_core.gap.run import measure_and_write  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "real"
# name -> (format, folder under ../shared/data/real, adapter options)
REAL_SETS = {
    "tno_nato_camp": ("generic_pairs", "tno-fel/Nato_camp", {"rgb": "visual", "tir": "thermal"}),
    "tno_duine": ("generic_pairs", "tno-fel/Duine", {"rgb": "visual", "tir": "thermal"}),
    "roadscene": ("generic_pairs", "roadscene", {"stills": "true"}),
    "ptb_airplane": ("ptb_tir", "ptb-tir-airplane", {}),
}


def ingest_real(out: Path) -> dict[str, Path]:
    """The real sets of ../shared as frames manifests under `out` (a set the adapters refuse is reported
    and left out)."""
    paths = {}
    for name, (fmt, folder, options) in REAL_SETS.items():
        try:
            write_result(ingest_dataset(name, fmt, SHARED / folder, options=dict(options), threads=2), out)
            paths[name] = out / f"{name}.frames.parquet"
        except (OSError, ValueError) as exc:
            print(f"{name}: not ingested ({exc})")
    return paths


def speed(manifest: Path, frames: int) -> None:
    """Frames/s of the diagnostic and the backbone's share of its time."""
    embedder = BoxEmbedder()
    table = read_manifest(manifest, "frames")
    settings = GapSettings(frames=frames)
    t0 = time.perf_counter()
    measured = measure_frames(table, "speed", settings, embedder, progress=False)
    total = time.perf_counter() - t0
    n_crops = 3 * len(measured["boxes"]) + sum(1 + settings.distractor_windows for _ in range(len(measured["objects"])))
    crops = [np.random.default_rng(0).integers(0, 255, (embedder.size, embedder.size, 3), np.uint8)] * n_crops
    embedder.embed(crops[:embedder.batch])  # warm-up
    t0 = time.perf_counter()
    embedder.embed(crops)
    backbone = time.perf_counter() - t0
    n = len(measured["frames"])
    print(f"{manifest.name}: {n} frames in {total:.1f} s ({n / total:.1f} frames/s, {n_crops} crops); the backbone alone "
          f"on those crops {backbone:.1f} s: {100 * backbone / total:.0f} % of the diagnostic's time is the backbone")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", action="append", default=[], metavar="NAME=FRAMES.parquet")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="folder for gap.md etc. (default: a temporary folder)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    given = dict(item.split("=", 1) for item in args.manifest)
    with tempfile.TemporaryDirectory() as tmp:
        real = ingest_real(Path(tmp)) if SHARED.is_dir() else {}
        if not real:
            print(f"{SHARED} absent: no real sets to compare with")
        manifests = {**{k: Path(v) for k, v in given.items()}, **real}
        if not manifests:
            raise SystemExit("nothing to measure: give --manifest or provide ../shared")
        speed(next(iter(manifests.values())), min(args.frames, 50))
        out = Path(args.out or tmp)
        paths = measure_and_write(manifests, list(real), out / "gap.md", threads=args.threads, progress=False,
                                  frames=args.frames)
        print(paths["md"].read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
