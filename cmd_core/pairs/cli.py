"""`cmd-tir pairs`: generate unsupervised RGB-T pairs, report their quality, draw them.

    cmd-tir pairs generate FRAMES --method detector [--config config.yaml] --out PAIRS.parquet
    cmd-tir pairs quality --run PAIRS.parquet[:OBJECTS.parquet] ... --csv Q.csv --md Q.md
    cmd-tir pairs sheet PAIRS.parquet --frames FRAMES.parquet --out SHEET.png
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cmd_core.cli import positive_int

log = logging.getLogger(__name__)


def _side(path: Path, suffix: str) -> Path:
    """The boxes / summary file written next to a pairs file (<method>.boxes.parquet, ...)."""
    return path.with_name(path.name.removesuffix(".parquet") + suffix)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pairs_command", metavar="ACTION", required=True)
    g = sub.add_parser("generate", help="pairs of one method for one frames manifest")
    g.add_argument("frames", help="frames manifest (<dataset>.frames.parquet)")
    g.add_argument("--method", required=True, help="a method name from the config (default config: central, "
                   "random, detector)")
    g.add_argument("--config", help="YAML with a 'pairs' section (or only that section); defaults otherwise")
    g.add_argument("--out", required=True, help="pairs Parquet to write; <out>.boxes.parquet and "
                   "<out>.summary.json are written next to it")
    g.add_argument("--seed", type=int, help="override pairs.seed")
    g.add_argument("--threads", type=positive_int, default=1)
    g.add_argument("--on-error", choices=("fail", "skip"), help="override pairs.on_error")
    g.add_argument("--roles", choices=("rgb_to_tir", "tir_to_rgb", "both", "random"), help="override pairs.roles")

    q = sub.add_parser("quality", help="quality report of generated pairs against ground truth")
    q.add_argument("--run", action="append", required=True, metavar="PAIRS[:OBJECTS[:FRAMES]]",
                   help="a pairs file and the GT manifests of its dataset (repeatable)")
    q.add_argument("--csv", required=True)
    q.add_argument("--md", required=True)

    s = sub.add_parser("sheet", help="contact sheet of sampled pairs")
    s.add_argument("pairs")
    s.add_argument("--frames", required=True, help="the frames manifest the pairs were made from")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=8)
    s.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if args.pairs_command == "generate":
        from cmd_core.pairs.config import load_config
        from cmd_core.pairs.generate import generate_pairs, read_frames, write_pairs

        cfg = load_config(args.config)
        for key, val in (("seed", args.seed), ("on_error", args.on_error), ("roles", args.roles)):
            if val is not None:
                cfg[key] = val
        out = Path(args.out)
        result = generate_pairs(read_frames(args.frames), args.method, cfg, threads=args.threads, progress=True)
        write_pairs(result, out, _side(out, ".boxes.parquet"), _side(out, ".summary.json"))
        s = result.summary
        print(f"{s['pairs']} pairs from {s['frames']} frames ({s['fallback_frames']} fallback frames, "
              f"{s['frames_without_pairs_total']} frames without pairs, {s['dropped_boxes_total']} dropped boxes) "
              f"-> {out}")
        return 0
    if args.pairs_command == "quality":
        from cmd_core.pairs.quality import quality_report

        runs = []
        for spec in args.run:
            parts = spec.split(":")
            p = Path(parts[0])
            runs.append({"pairs": p, "boxes": _side(p, ".boxes.parquet"), "summary": _side(p, ".summary.json"),
                         "objects": parts[1] if len(parts) > 1 and parts[1] else None,
                         "frames": parts[2] if len(parts) > 2 and parts[2] else None})
        df = quality_report(runs, args.csv, args.md)
        print(df.to_string(index=False))
        return 0
    from cmd_core.pairs.contact_sheet import pairs_contact_sheet

    p = Path(args.pairs)
    pairs_contact_sheet(p, args.frames, args.out, boxes_path=_side(p, ".boxes.parquet"), n=args.n, seed=args.seed)
    return 0
