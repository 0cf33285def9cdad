"""Tracker result files: one sequence's boxes and per-frame times, in the layout a toolkit reads
(pytracking, got10k or the OTB MATLAB toolkits). Reading them back is
:func:`cmd_core.evaluation.read_results`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cmd_core.io import write_text

__all__ = ["RESULT_FORMATS", "write_pytracking_results", "write_tracker_results"]

RESULT_FORMATS = ("pytracking", "got10k", "otb")


def write_tracker_results(
    directory: str | os.PathLike, sequence: str, boxes: np.ndarray, times: np.ndarray | None = None,
    integer: bool = False, result_format: str = "pytracking",
) -> Path:
    """Write one sequence's boxes (x y w h per frame) and per-frame seconds atomically, for a toolkit.

    - ``pytracking``: ``<seq>.txt`` tab-separated, ``<seq>_time.txt``;
    - ``got10k`` (got10k-toolkit ExperimentOTB, which reads ``np.loadtxt(delimiter=',')``):
      ``<seq>.txt`` comma-separated ``%.3f``, ``times/<seq>_time.txt`` ``%.8f``;
    - ``otb`` (OTB / LSOTB-TIR / PTB-TIR MATLAB toolkits, ``dlmread``): ``<seq>.txt`` comma-separated,
      ``<seq>_time.txt``. Coordinates are not shifted: the boxes are in the origin of the ground truth
      the tracker was started from (manifests keep each source's own origin), which is the ground truth
      these toolkits compare them with; adding 1 would shift them against it.

    ``integer=True`` stores truncated integers (pytracking's ``%d``); otherwise 3 decimals.
    """
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {result_format!r} (choose from {list(RESULT_FORMATS)})")
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{sequence}: boxes must be (N, 4), got {boxes.shape}")
    if not np.isfinite(boxes).all():
        raise ValueError(f"{sequence}: boxes hold NaN or inf (frame {int(np.flatnonzero(~np.isfinite(boxes).all(1))[0]) + 1})")
    d = Path(directory)
    path = d / f"{sequence}.txt"
    sep = "\t" if result_format == "pytracking" else ","
    if integer:
        text = "\n".join(sep.join(str(int(v)) for v in row) for row in np.trunc(boxes)) + "\n"
    else:
        text = "\n".join(sep.join(f"{v:.3f}" for v in row) for row in boxes) + "\n"
    write_text(path, text)
    if times is not None:
        times = np.asarray(times, dtype=np.float64).ravel()
        if len(times) != len(boxes):
            raise ValueError(f"{sequence}: {len(times)} times for {len(boxes)} boxes")
        if result_format == "got10k":
            (d / "times").mkdir(parents=True, exist_ok=True)
            write_text(d / "times" / f"{sequence}_time.txt", "\n".join(f"{t:.8f}" for t in times) + "\n")
        else:
            write_text(d / f"{sequence}_time.txt", "\n".join(f"{t:.6f}" for t in times) + "\n")
    return path


def write_pytracking_results(
    directory: str | os.PathLike, sequence: str, boxes: np.ndarray, times: np.ndarray | None = None,
    integer: bool = False,
) -> Path:
    """Write ``<seq>.txt`` (tab-separated x y w h per frame) and ``<seq>_time.txt`` atomically.

    ``integer=True`` stores truncated integers exactly as pytracking does (``%d``); the default
    (as ``cmd-tir track`` and the workflow config) writes floats with 3 decimals (enough for
    sub-pixel trackers; pytracking's reader takes both).
    """
    return write_tracker_results(directory, sequence, boxes, times, integer=integer, result_format="pytracking")
