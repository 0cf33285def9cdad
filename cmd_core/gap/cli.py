"""``cmd-tir gap``: how far is my TIR data from my RGB data?

    cmd-tir gap --manifest NAME=FRAMES.parquet [--manifest ...] [--reference NAME ...] --out-dir DIR
                [--plot FILE] [--frames 200] [--boxes-per-frame 4] [--seed 0] [--threads N]

Measures the modality gap of each paired frames manifest (scene level on random boxes, object level
where ground truth exists; see `cmd_core.gap.measure`) and writes gap.csv (one row per dataset),
gap_sequences.csv, gap_calibration.csv (each dataset against the range of the --reference sets),
gap.md and gap.png.
"""

from __future__ import annotations

import argparse
import os


def _named(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FRAMES.parquet, got {text!r}")
    return name, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``cmd-tir gap``."""
    from cmd_core.cli import positive_int

    parser.add_argument("--manifest", required=True, action="append", type=_named, metavar="NAME=FRAMES.parquet",
                        help="a paired frames manifest (repeatable)")
    parser.add_argument("--reference", action="append", default=[], metavar="NAME",
                        help="a dataset whose range the others are checked against (e.g. real sets; repeatable)")
    parser.add_argument("--out-dir", required=True, help="folder for gap.csv, gap.md, ...")
    parser.add_argument("--plot", default=None, help="the figure's path (default: <out-dir>/gap.png)")
    parser.add_argument("--frames", type=positive_int, default=200, help="frames sampled per dataset (default 200)")
    parser.add_argument("--boxes-per-frame", type=positive_int, default=4, help="random boxes per paired frame, at least 2 (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1, help="torch threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Measure every manifest, write the outputs, print gap.md. Returns 0."""
    from pathlib import Path

    from .run import measure_and_write

    names = [n for n, _ in args.manifest]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"--manifest names must be unique; repeated: {', '.join(duplicated)}")
    paths = measure_and_write(dict(args.manifest), list(args.reference), Path(args.out_dir) / "gap.md", args.plot,
                              threads=args.threads, progress=not args.no_progress, frames=args.frames,
                              boxes_per_frame=args.boxes_per_frame, seed=args.seed)
    print(paths["md"].read_text(encoding="utf-8"), end="")
    return 0
