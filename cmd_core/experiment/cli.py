"""``cmd-tir compare``: the experiment's tables and figures from per-run score tables.

    cmd-tir compare --scores FILE [FILE ...] --out-tables DIR --out-plots DIR
                    [--protocol lsotb] [--train-log STRATEGY[:SEED]=CSV ...] [--margin 3]

Score tables (CSV or Parquet) hold one row per tracker x evaluation set x seed with columns
eval_set, tracker, strategy, seed, pair_method, component, kind, success, precision,
norm_precision, and optionally eval_dir / eval_tracker (the evaluation toolkit's folder of that
run, for curves and per-attribute tables: with them the tables carry standard errors over sequences
and paired bootstrap intervals), train_log (CSV training log), teacher_seed (the seed of the teacher
a distilled row learnt from: the claim compares with that teacher) and protocol.
Prints comparison.md and the claim checks.
"""

from __future__ import annotations

import argparse

from .tables import CLAIM_MARGIN_PTS


def _train_log(text: str) -> tuple[str, str | None, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected STRATEGY[:SEED]=CSV, got {text!r}")
    strategy, _, seed = name.partition(":")
    return strategy, (seed or None), path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``cmd-tir compare``."""
    from cmd_core.evaluation.protocols import PRESETS

    parser.add_argument("--scores", required=True, nargs="+", metavar="FILE", help="per-run score table(s), CSV or Parquet")
    parser.add_argument("--out-tables", required=True, metavar="DIR", help="folder for the tables")
    parser.add_argument("--out-plots", default=None, metavar="DIR", help="folder for the figures (default: no figures)")
    # the comparison reads per-sequence scores off the curves: not GOT-10k's AO, a mean IoU no curve holds
    parser.add_argument("--protocol", default="lsotb", choices=sorted(n for n, p in PRESETS.items() if p.success_score != "mean_iou"),
                        help="metric protocol of the curves files, unless the scores have a protocol column (default: lsotb)")
    parser.add_argument("--train-log", action="append", type=_train_log, default=[], metavar="STRATEGY[:SEED]=CSV",
                        help="a CSV training log (epoch, loss* columns); repeat per strategy and seed")
    parser.add_argument("--margin", type=float, default=CLAIM_MARGIN_PTS,
                        help=f"claim: success points the best strategy must gain over the teacher (default {CLAIM_MARGIN_PTS:g})")


def run(args: argparse.Namespace) -> int:
    """Write the tables (and figures), print the comparison. Returns 0."""
    from pathlib import Path

    from .report import compare

    paths = compare(args.scores, args.out_tables, args.out_plots, args.protocol, args.train_log, args.margin)
    print(Path(paths["comparison.md"]).read_text(encoding="utf-8"), end="")
    print(f"\nwrote {len(paths)} file(s) under {args.out_tables}" + (f" and {args.out_plots}" if args.out_plots else ""))
    return 0
