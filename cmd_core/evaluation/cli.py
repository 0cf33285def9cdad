"""``cmd-tir evaluate``: score tracker results with a benchmark's own protocol.

    cmd-tir evaluate --protocol lasher --gt DIR --results NAME=DIR [--results ...] --out DIR

Writes scores.csv/.md/.tex, per_attribute.csv, curves.parquet, missing.csv and plots into --out,
and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .protocols import PRESETS
from .readers import GT_FORMATS

log = logging.getLogger(__name__)


def _named_dir(text: str) -> tuple[str, str]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``cmd-tir evaluate``."""
    parser.add_argument("--protocol", required=True, choices=sorted(PRESETS), help="metric protocol preset")
    parser.add_argument("--gt", required=True, help="ground-truth folder (or Parquet manifest)")
    parser.add_argument("--gt-format", default="auto", choices=("auto", *GT_FORMATS), help="ground-truth layout (default: detect)")
    parser.add_argument("--gt-columns", default="gt_", metavar="PREFIX", help="manifest box column prefix (gt_, gt_tir_, gt_rgb_)")
    parser.add_argument("--modality", choices=("infrared", "visible", "both"), default=None,
                        help="RGB-T ground truth to use (default: both for gtot and vtuav, else infrared)")
    parser.add_argument("--sequences", default=None, help="file with one sequence name per line (default: all in --gt)")
    parser.add_argument("--results", required=True, action="append", type=_named_dir, metavar="NAME=DIR",
                        help="a tracker's result folder; repeat for several trackers")
    parser.add_argument("--box-format", choices=("xywh", "corner"), default="xywh", help="4-value result boxes")
    parser.add_argument("--attributes", default=None, help="folder of per-sequence attribute flag files")
    parser.add_argument("--allow-missing", action="store_true",
                        help="got10k protocol: score the sequences that have results (the others are listed in "
                             "missing.csv) and those without a time file (no speed for them) instead of stopping; "
                             "the other protocols always leave out and list sequences without results")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report, print the Markdown table. Returns 0."""
    from pathlib import Path

    from cmd_core.io import ensure_folder

    from .api import evaluate_results
    from .readers import read_attributes
    from .report import markdown_table, write_report

    ensure_folder(args.out)  # before the work: an --out that is a file is a clear error at once
    results = dict(args.results)
    if len(results) != len(args.results):
        raise ValueError("--results: a tracker name is given twice")
    evals, missing = evaluate_results(
        args.protocol, args.gt, results, args.sequences, args.gt_format, args.modality, args.gt_columns, args.box_format,
        allow_missing=args.allow_missing,
    )
    attributes = read_attributes(args.attributes, evals[0].sequences) if args.attributes else None
    df = write_report(args.out, evals, attributes, missing, plots=not args.no_plots)
    print(markdown_table(df, evals[0].protocol), end="")
    if missing:
        n = sum(len(v) for v in missing.values())
        print(f"\n{n} missing result file(s), those sequences left out for all trackers; see {Path(args.out) / 'missing.csv'}:")
        for t, seqs in missing.items():
            print(f"  {t}: {', '.join(seqs)}")
    sys.stdout.flush()
    return 0
