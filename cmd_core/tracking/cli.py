"""``cmd-tir track``: run a tracker (DiMP or a classic baseline) on a frames manifest.

Writes results into ``--out``: pytracking format by default (``<seq>.txt`` tab-separated boxes,
``<seq>_time.txt`` seconds per frame), or ``--result-format got10k`` (comma-separated, times in
``times/<seq>_time.txt``) or ``otb`` (comma-separated, for the OTB / LSOTB-TIR MATLAB toolkits) and, with ``--marker``, a JSON summary (speed, parameters, or the reason a
baseline is unavailable in this OpenCV build).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from cmd_core.cli import positive_int, report_error

__all__ = ["add_arguments", "parse_overrides", "run", "track"]

TRACKERS = ("dimp", "mil", "kcf", "csrt", "static")
log = logging.getLogger(__name__)


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
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device of the DiMP network")
    parser.add_argument("--integer", action="store_true", help="write truncated integer boxes (pytracking's %%d)")
    parser.add_argument("--result-format", default="pytracking", choices=("pytracking", "got10k", "otb"),
                        help="result file layout: pytracking (default; tab-separated), got10k (comma-separated, "
                             "times/<seq>_time.txt) or otb (comma-separated, for the MATLAB toolkits)")
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


def track(manifest: str, modality: str, tracker: str, out: str, preset: str = "dimp50",
          checkpoint: str | None = None, allow_untrained: bool = False, sequences: list[str] | None = None,
          threads: int | None = None, device: str = "cpu", integer: bool = False,
          marker: str | None = None, progress: bool = False,
          overrides: dict[str, Any] | None = None, result_format: str = "pytracking") -> dict[str, Any]:
    """Library form of the command; returns (and optionally writes) the summary. ``overrides``
    replace fields of the DiMP preset (see :class:`DiMPParams`)."""
    from cmd_core.io import write_text

    from .baselines import TrackerUnavailable, make_baseline
    from .runner import set_threads, track_manifest

    if tracker not in TRACKERS:
        raise ValueError(f"unknown tracker {tracker!r} (choose from {list(TRACKERS)})")
    if overrides and tracker != "dimp":
        raise ValueError(f"parameter overrides are DiMP parameters; tracker {tracker!r} has none")
    set_threads(threads)
    summary: dict[str, Any] = {"tracker": tracker, "modality": modality, "manifest": str(manifest),
                               "threads": threads, "device": device}
    if tracker == "dimp":
        import torch

        from .dimp_tracker import DiMPTracker
        from .network import load_network
        from .params import get_preset

        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda requested but CUDA is not available")
        params = get_preset(preset, **(overrides or {}))
        net = load_network(checkpoint, params, allow_untrained=allow_untrained)
        dimp = DiMPTracker(net, params, device=device)
        summary.update(preset=params.name, checkpoint=checkpoint, untrained=checkpoint is None,
                       params={k: v for k, v in dataclasses.asdict(params).items() if k != "extra"})
        factory = lambda: dimp  # noqa: E731 - initialize() resets the state per sequence
    else:
        try:
            make_baseline(tracker)
        except TrackerUnavailable as exc:
            Path(out).mkdir(parents=True, exist_ok=True)
            summary.update(status="unavailable", reason=str(exc), sequences={})
            log.warning("tracker %s skipped: %s", tracker, exc)
            if marker:
                write_text(marker, json.dumps(summary, indent=2) + "\n")
            return summary
        factory = lambda: make_baseline(tracker)  # noqa: E731
    result = track_manifest(manifest, out, factory, modality, sequences=sequences, integer=integer, progress=progress,
                            result_format=result_format)
    summary.update(result, status="done")
    if marker:
        write_text(marker, json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def run(args: argparse.Namespace) -> int:
    from cmd_core.model import CheckpointError

    try:
        summary = track(args.manifest, args.modality, args.tracker, args.out, preset=args.preset,
                        checkpoint=args.checkpoint, allow_untrained=args.allow_untrained, sequences=args.sequences,
                        threads=args.threads, device=args.device, integer=args.integer, marker=args.marker,
                        progress=sys.stderr.isatty(), overrides=parse_overrides(args.overrides),
                        result_format=args.result_format)
    except CheckpointError as exc:
        return report_error("track", exc)
    if summary.get("status") == "unavailable":
        print(f"cmd-tir track: {args.tracker} unavailable: {summary['reason']}", file=sys.stderr)
        return 0
    fps = summary.get("fps")
    print(f"tracked {len(summary['sequences'])} sequence(s), {summary['frames']} frames"
          + (f", {fps:.1f} FPS" if fps else "") + f" -> {args.out}")
    return 0
