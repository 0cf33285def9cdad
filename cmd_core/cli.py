"""The `cmd-tir` command line: one entry point, one subcommand per stage of the workflow.

Each subcommand lives in the module that owns the concept and exposes `add_arguments(parser)`
and `run(args) -> int`; modules are imported only when their subcommand runs, so `--help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
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
    "gap": ("cmd_core.gap.cli", "the modality gap of paired RGB-T sets: feature, gradient, noise and object statistics"),
}


def positive_int(text: str) -> int:
    """argparse type for counts such as --threads: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _handled_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input or a bad environment, not a bug: reported without a
    traceback. Checkpoint errors are included when the model code was imported (only then can
    they have been raised)."""
    types: list[type[BaseException]] = [OSError, ValueError, UnicodeError]
    model = sys.modules.get("cmd_core.model.safe_load")
    if model is not None:
        types.append(model.CheckpointError)
    return tuple(types)


_LINE_WORDS = re.compile(r"^(?P<file>[^\n]+?), line (?P<line>\d+): ")
# library messages that name their file later in the text -> "<file>: <what>"
_FILE_LATER = (
    (re.compile(r"^cannot read checkpoint (?P<file>\S+?): (?P<rest>.*)$", re.S), "cannot read checkpoint: {rest}"),
    (re.compile(r"^checkpoint not found: (?P<file>\S+)$", re.S), "checkpoint not found"),
    (re.compile(r"^(?P<file>\S+) (?P<what>does not match the \w+ architecture: .*)$", re.S), "{what}"),
    (re.compile(r"^Could not open Parquet input source '(?P<file>[^']+)': (?P<rest>.*)$", re.S),
     "not a readable Parquet file ({rest})"),
)


def error_message(exc: BaseException) -> str:
    """`<file>[:line]: <what>` for a handled error.

    OSErrors name their file through `filename` (e.g. PermissionError from open()), library
    errors carry it at the start of their message; "path, line N: ..." becomes "path:N: ..."."""
    if isinstance(exc, OSError) and exc.filename is not None and not str(exc).startswith(str(exc.filename)):
        what = exc.strerror or str(exc)
        if exc.filename2 is not None:
            return f"{exc.filename}: {what} (-> {exc.filename2})"
        return f"{exc.filename}: {what}"
    if isinstance(exc, FileNotFoundError) and len(exc.args) == 1 and str(exc.args[0]).strip() and \
            ": " not in str(exc.args[0]):  # a bare path (e.g. pyarrow's): say what is wrong with it
        return f"{exc.args[0]}: no such file or directory"
    if isinstance(exc, UnicodeDecodeError):
        return f"<input>: not UTF-8 text ({exc.reason} at byte {exc.start})"
    text = str(exc)
    for rx, template in _FILE_LATER:
        m = rx.match(text)
        if m:
            return f"{m['file']}: " + template.format(**m.groupdict())
    return _LINE_WORDS.sub(lambda m: f"{m['file']}:{m['line']}: ", text, count=1)


def report_error(command: str, exc: BaseException) -> int:
    """The one place a CLI error is reported: `cmd-tir <sub>: error: <file>[:line]: <what>`, exit 2."""
    print(f"cmd-tir {command}: error: {error_message(exc)}", file=sys.stderr)
    return 2


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
    except _handled_errors() as exc:
        # Library errors carry the file (and line) in their message; no traceback for bad input.
        logging.getLogger(__name__).debug("%s failed", chosen, exc_info=True)
        return report_error(chosen, exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
