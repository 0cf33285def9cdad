"""Tracking API: run a tracker (DiMP or a classic baseline) on a frames manifest, the library form of
``cmd-tir track`` (:mod:`cmd_core.tracking.cli` parses the command's arguments and calls
:func:`track`). Results go to the output folder in pytracking, GOT-10k, GOT-10k-toolkit OTB or OTB layout (see
:mod:`cmd_core.tracking.results`), plus an optional JSON summary (speed, parameters, or the reason a
baseline is unavailable in this OpenCV build).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

__all__ = ["TRACKERS", "track"]

TRACKERS = ("dimp", "mil", "kcf", "csrt", "static")
log = logging.getLogger(__name__)


def track(manifest: str, modality: str, tracker: str, out: str, preset: str = "dimp50",
          checkpoint: str | None = None, allow_untrained: bool = False, sequences: list[str] | None = None,
          threads: int | None = None, device: str = "cpu", integer: bool = False,
          marker: str | None = None, progress: bool = False,
          overrides: dict[str, Any] | None = None, result_format: str = "pytracking",
          batch: int | None = None) -> dict[str, Any]:
    """Library form of ``cmd-tir track``; returns (and optionally writes) the summary. ``overrides``
    replace fields of the DiMP preset (see :class:`DiMPParams`). ``batch`` (DiMP only): track that
    many sequences together with :class:`~cmd_core.tracking.batched.BatchedDiMPTracker` (same boxes);
    a failing sequence then fails alone and :class:`~cmd_core.tracking.runner.SequencesFailed` names
    every failed one after the others are written. None: one sequence after the other."""
    from cmd_core.io import write_text

    from .baselines import TrackerUnavailable, make_baseline
    from .runner import set_threads, track_manifest

    if tracker not in TRACKERS:
        raise ValueError(f"unknown tracker {tracker!r} (choose from {list(TRACKERS)})")
    if overrides and tracker != "dimp":
        raise ValueError(f"parameter overrides are DiMP parameters; tracker {tracker!r} has none")
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a whole number >= 1, got {batch!r}")
        if tracker != "dimp":
            raise ValueError(f"batched tracking (batch={batch}) is for the DiMP tracker, not {tracker!r}")
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
        summary.update(preset=params.name, checkpoint=checkpoint, untrained=checkpoint is None,
                       params={k: v for k, v in dataclasses.asdict(params).items() if k != "extra"})
        if batch is not None:
            from .batched import BatchedDiMPTracker

            batched = BatchedDiMPTracker(net, params, device=device)
        else:
            dimp = DiMPTracker(net, params, device=device)
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
    if batch is not None:
        from .runner import SequencesFailed, track_manifest_batched

        try:
            result = track_manifest_batched(manifest, out, batched, modality, batch, sequences=sequences,
                                            integer=integer, progress=progress, result_format=result_format)
        except SequencesFailed as exc:
            summary.update(exc.summary, status="failed")
            if marker:
                write_text(marker, json.dumps(summary, indent=2, default=str) + "\n")
            raise
    else:
        result = track_manifest(manifest, out, factory, modality, sequences=sequences, integer=integer,
                                progress=progress, result_format=result_format)
    summary.update(result, status="done")
    if marker:
        write_text(marker, json.dumps(summary, indent=2, default=str) + "\n")
    return summary
