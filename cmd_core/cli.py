"""The `cmd-tir` command line: one entry point, one subcommand per stage of the workflow.

Each subcommand lives in the module that owns the concept and exposes `add_arguments(parser)`
and `run(args) -> int`; modules are imported only when their subcommand runs, so `--help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("cmd_core.synth.cli", "generate the synthetic RGB-T benchmark (four splits) on disk"),
    "ingest": ("cmd_core.datasets.cli", "read a dataset in its native layout into Parquet manifests"),
    "datasets-table": ("cmd_core.datasets.table", "summarise ingested datasets into datasets.csv/.md"),
    "contact-sheet": ("cmd_core.viz.contact_sheet", "draw aligned RGB | TIR frames with boxes from a manifest"),
    "pairs": ("cmd_core.pairs.cli", "unsupervised RGB-T pairs: generate, quality report, contact sheet"),
    "track": ("cmd_core.tracking.cli", "run a tracker (DiMP or a classic baseline) on a frames manifest"),
    "train": ("cmd_core.training.cli", "supervised DiMP training (the RGB teacher) on a labelled frames manifest"),
    "distill": ("cmd_core.distill.cli", "cross-modal distillation of one strategy / seed, or the supervised TIR upper bound"),
    "compare": ("cmd_core.experiment.cli", "comparison / ablation tables, claim check and plots of the experiment"),
    "evaluate": ("cmd_core.evaluation.cli", "score tracker results with a benchmark's own protocol"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmd-tir",
        description="Cross-modal distillation of an RGB tracker into a thermal-infrared tracker.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
        # Arguments are added lazily in main() for the chosen subcommand only.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Find the chosen subcommand, then let its module add its own arguments.
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    if chosen is None:
        parser.parse_args(argv)  # handles -h and reports unknown commands (exit 2)
        parser.print_help()
        return 0
    sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    module = importlib.import_module(SUBCOMMANDS[chosen][0])
    module.add_arguments(sub_action.choices[chosen])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(module.run(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        # Library errors carry the file (and line) in their message; no traceback for bad input.
        print(f"cmd-tir {chosen}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
