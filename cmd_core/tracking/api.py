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

__all__ = ["TRACKERS", "auto_batch", "track", "track_sets"]

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
    one = {"manifest": manifest, "out": out, "marker": marker, "sequences": sequences}
    return track_sets([one], modality, tracker, preset=preset, checkpoint=checkpoint,
                      allow_untrained=allow_untrained, threads=threads, device=device, integer=integer,
                      progress=progress, overrides=overrides, result_format=result_format, batch=batch)[0]


def track_sets(sets: list[dict[str, Any]], modality: str, tracker: str, preset: str = "dimp50",
               checkpoint: str | None = None, allow_untrained: bool = False, threads: int | None = None,
               device: str = "cpu", integer: bool = False, progress: bool = False,
               overrides: dict[str, Any] | None = None, result_format: str = "pytracking",
               batch: int | None = None) -> list[dict[str, Any]]:
    """Track several evaluation sets with one tracker loaded once (one process per tracker: start-up
    and model loading are paid once). ``sets``: dicts with ``manifest``, ``out`` and optionally
    ``marker`` (the set's summary JSON) and ``sequences``; each set gets its own results folder and
    summary, as :func:`track` gives them. Sets run in order; the first failing one stops the job.
    ``batch='auto'``: :func:`auto_batch` of the device."""
    from cmd_core.io import write_text

    from .baselines import TrackerUnavailable, make_baseline
    from .runner import set_threads

    if tracker not in TRACKERS:
        raise ValueError(f"unknown tracker {tracker!r} (choose from {list(TRACKERS)})")
    if overrides and tracker != "dimp":
        raise ValueError(f"parameter overrides are DiMP parameters; tracker {tracker!r} has none")
    if batch == "auto":
        batch = auto_batch(device) if tracker == "dimp" else None
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a whole number >= 1 or 'auto', got {batch!r}")
        if tracker != "dimp":
            raise ValueError(f"batched tracking (batch={batch}) is for the DiMP tracker, not {tracker!r}")
    if not sets:
        raise ValueError("no evaluation sets to track")
    set_threads(threads)
    base: dict[str, Any] = {"tracker": tracker, "modality": modality, "threads": threads, "device": device}
    if tracker == "dimp":
        run_set = _dimp_runner(base, preset, checkpoint, allow_untrained, device, overrides, batch, modality,
                               integer, progress, result_format)
    else:
        try:
            make_baseline(tracker)
        except TrackerUnavailable as exc:
            log.warning("tracker %s skipped: %s", tracker, exc)
            summaries = []
            for one in sets:
                Path(one["out"]).mkdir(parents=True, exist_ok=True)
                summary = dict(base, manifest=str(one["manifest"]), status="unavailable", reason=str(exc),
                               sequences={})
                if one.get("marker"):
                    write_text(one["marker"], json.dumps(summary, indent=2) + "\n")
                summaries.append(summary)
            return summaries
        from .runner import track_manifest

        def run_set(one: dict[str, Any]) -> dict[str, Any]:
            return track_manifest(one["manifest"], one["out"], lambda: make_baseline(tracker), modality,
                                  sequences=one.get("sequences"), integer=integer, progress=progress,
                                  result_format=result_format)

    summaries = []
    for one in sets:
        summary = dict(base, manifest=str(one["manifest"]))
        try:
            result = run_set(one)
        except Exception as exc:
            failed = getattr(exc, "summary", None)
            if failed is not None and one.get("marker"):  # SequencesFailed: the others were written
                write_text(one["marker"], json.dumps(dict(summary, **failed, status="failed"), indent=2,
                                                     default=str) + "\n")
            raise
        summary.update(result, status="done")
        if one.get("marker"):
            write_text(one["marker"], json.dumps(summary, indent=2, default=str) + "\n")
        summaries.append(summary)
    return summaries


def auto_batch(device: str) -> int | None:
    """The batch that suits the device: on a CPU none (one sequence at a time; at one thread per job a
    batch is no faster: README, the ``--batch`` paragraph); on a GPU 8 sequences per 10 GiB of its memory,
    at most 128 (an out-of-memory error halves it while tracking)."""
    if not str(device).startswith("cuda"):
        return None
    import torch

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    return int(max(1, min(128, 8 * total // (10 * 2 ** 30))))


def _dimp_runner(base: dict[str, Any], preset: str, checkpoint: str | None, allow_untrained: bool, device: str,
                 overrides: dict[str, Any] | None, batch: int | None, modality: str, integer: bool,
                 progress: bool, result_format: str):
    """Load the DiMP network once; return the function that tracks one set with it (records the
    preset, checkpoint and parameters in ``base``)."""
    import torch

    from .dimp_tracker import DiMPTracker
    from .network import load_network
    from .params import get_preset
    from .runner import track_manifest, track_manifest_batched

    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but CUDA is not available")
    params = get_preset(preset, **(overrides or {}))
    net = load_network(checkpoint, params, allow_untrained=allow_untrained)
    base.update(preset=params.name, checkpoint=checkpoint, untrained=checkpoint is None,
                params={k: v for k, v in dataclasses.asdict(params).items() if k != "extra"})
    if batch is not None:
        from .batched import BatchedDiMPTracker

        batched = BatchedDiMPTracker(net, params, device=device)
        return lambda one: track_manifest_batched(one["manifest"], one["out"], batched, modality, batch,
                                                  sequences=one.get("sequences"), integer=integer,
                                                  progress=progress, result_format=result_format)
    dimp = DiMPTracker(net, params, device=device)  # initialize() resets the state per sequence
    return lambda one: track_manifest(one["manifest"], one["out"], lambda: dimp, modality,
                                      sequences=one.get("sequences"), integer=integer, progress=progress,
                                      result_format=result_format)
