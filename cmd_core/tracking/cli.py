"""``cmd-tir track``: run a tracker (DiMP or a classic baseline) on a frames manifest.

Writes results into ``--out``: pytracking format by default (``<seq>.txt`` tab-separated boxes,
``<seq>_time.txt`` seconds per frame), or with ``--result-format`` ``got10k`` (GOT-10k's own layout,
``<seq>/<seq>_001.txt`` and ``<seq>/<seq>_time.txt``, for the GOT-10k toolkit and server),
``got10k-otb`` (the GOT-10k toolkit's OTB experiments: ``<seq>.txt``, ``times/<seq>_time.txt``) or
``otb`` (comma-separated, for the OTB / LSOTB-TIR MATLAB toolkits; see
:data:`cmd_core.tracking.results.RESULT_FORMATS`) and, with ``--marker``, a JSON summary (speed,
parameters, or the reason a baseline is unavailable in this OpenCV build). Argument parsing only: the library form of the
command is :func:`cmd_core.tracking.api.track`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cmd_core.cli import positive_int, report_error

from .api import TRACKERS, track
from .results import RESULT_FORMATS

__all__ = ["add_arguments", "parse_overrides", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .params import preset_names

    parser.add_argument("--manifest", required=True, help="frames manifest (.frames.parquet)")
    parser.add_argument("--modality", required=True, choices=("rgb", "tir"), help="which images to track on")
    parser.add_argument("--tracker", default="dimp", choices=TRACKERS, help="tracker type (default: dimp)")
    parser.add_argument("--preset", default="dimp50", choices=preset_names(), help="DiMP parameter preset")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override one DiMP parameter of the preset (repeatable), e.g. "
                             "--set use_iou_net=False --set net_opt_iter=10; values are Python literals")
    parser.add_argument("--checkpoint", help="DiMP weights: our own checkpoint or an official pytracking file")
    parser.add_argument("--allow-untrained", action="store_true",
                        help="run DiMP with random weights when no checkpoint is given (smoke tests only)")
    parser.add_argument("--out", required=True, help="output folder of the result files")
    parser.add_argument("--sequences", nargs="+", help="only these sequences (default: all)")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch / OpenCV threads")
    parser.add_argument("--batch", type=_batch, default=None, metavar="B",
                        help="DiMP: track B sequences together (batched network calls, the same boxes as one at a "
                             "time; a finished sequence's slot takes the next one; B may exceed the number of "
                             "sequences; out of device memory halves it). A sequence that fails then fails alone: "
                             "the others are written and the command exits non-zero naming every failed sequence. "
                             "'auto': what suits the device (none on a CPU, by GPU memory on a GPU). Default: one "
                             "at a time")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device of the DiMP network")
    parser.add_argument("--integer", action="store_true", help="write truncated integer boxes (pytracking's %%d)")
    parser.add_argument("--result-format", default="pytracking", choices=tuple(RESULT_FORMATS),
                        help="result file layout, each read unmodified by one toolkit: "
                             + "; ".join(f"{f.name} ({f.boxes}, {f.times}): {f.toolkit}, scored by --protocol "
                                         f"{' or '.join(f.protocols)}" for f in RESULT_FORMATS.values())
                             + " (default: pytracking)")
    parser.add_argument("--marker", help="write a JSON summary here when done")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["name=value", ...]`` -> {name: value}, values read as Python literals (else kept as strings)."""
    import ast

    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip()
        out[name.strip()] = tuple(value) if isinstance(value, list) else value
    return out


def _batch(text: str) -> int | str:
    """argparse type of --batch: a whole number >= 1 or 'auto'."""
    return "auto" if text == "auto" else positive_int(text)


def run(args: argparse.Namespace) -> int:
    from cmd_core.model import CheckpointError

    try:
        summary = track(args.manifest, args.modality, args.tracker, args.out, preset=args.preset,
                        checkpoint=args.checkpoint, allow_untrained=args.allow_untrained, sequences=args.sequences,
                        threads=args.threads, device=args.device, integer=args.integer, marker=args.marker,
                        progress=sys.stderr.isatty(), overrides=parse_overrides(args.overrides),
                        result_format=args.result_format, batch=args.batch)
    except CheckpointError as exc:
        return report_error("track", exc)
    if summary.get("status") == "unavailable":
        print(f"cmd-tir track: {args.tracker} unavailable: {summary['reason']}", file=sys.stderr)
        return 0
    fps = summary.get("fps")
    print(f"tracked {len(summary['sequences'])} sequence(s), {summary['frames']} frames"
          + (f", {fps:.1f} FPS" if fps else "") + f" -> {args.out}")
    return 0
