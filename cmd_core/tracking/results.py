"""Tracker result files: one sequence's boxes and per-frame times, in the layout a toolkit reads
(pytracking, the GOT-10k toolkit's GOT-10k or OTB experiments, or the OTB MATLAB toolkits). Reading
them back is :func:`cmd_core.evaluation.read_results`; :data:`RESULT_FORMATS` says, for each
format, which toolkit reads it and which ``cmd-tir evaluate`` protocol scores it as that toolkit does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmd_core.io import write_text

__all__ = ["RESULT_FORMATS", "ResultFormat", "write_pytracking_results", "write_tracker_results"]


@dataclass(frozen=True)
class ResultFormat:
    """One result layout: its files (``<seq>`` is the sequence name, inside the tracker's folder),
    the toolkit that reads it unmodified and the protocols that score it as that toolkit does."""

    name: str
    boxes: str
    times: str
    separator: str
    toolkit: str
    protocols: tuple[str, ...]


RESULT_FORMATS: dict[str, ResultFormat] = {f.name: f for f in (
    ResultFormat("pytracking", "<seq>.txt", "<seq>_time.txt", "\t", "pytracking's analysis scripts", ("pytracking",)),
    # ExperimentGOT10k.report() scores the val split; on the test split it zips this folder for the server
    ResultFormat("got10k", "<seq>/<seq>_001.txt", "<seq>/<seq>_time.txt", ",",
                 "GOT-10k toolkit (got10k) ExperimentGOT10k, GOT-10k server", ("got10k",)),
    # ExperimentDTB70, UAV123, NfS and TColor128 inherit ExperimentOTB's files (and the repository's ExperimentLaSOT)
    ResultFormat("got10k-otb", "<seq>.txt", "times/<seq>_time.txt", ",",
                 "GOT-10k toolkit (got10k) ExperimentOTB and its children", ("got10k-otb", "got10k-lasot")),
    ResultFormat("otb", "<seq>.txt", "<seq>_time.txt", ",", "OTB / LSOTB-TIR / PTB-TIR MATLAB toolkits",
                 ("lsotb", "ptb")),
)}


def write_tracker_results(
    directory: str | os.PathLike, sequence: str, boxes: np.ndarray, times: np.ndarray | None = None,
    integer: bool = False, result_format: str = "pytracking",
) -> Path:
    """Write one sequence's boxes (x y w h per frame) and per-frame seconds atomically, for a toolkit
    (see :data:`RESULT_FORMATS`); returns the box file.

    - ``pytracking``: ``<seq>.txt`` tab-separated, ``<seq>_time.txt``;
    - ``got10k`` (GOT-10k toolkit ExperimentGOT10k and the GOT-10k server, ``np.loadtxt(delimiter=',')``):
      ``<seq>/<seq>_001.txt`` comma-separated (the first repetition), ``<seq>/<seq>_time.txt`` ``%.8f``;
    - ``got10k-otb`` (GOT-10k toolkit ExperimentOTB and its children): ``<seq>.txt`` comma-separated,
      ``times/<seq>_time.txt`` ``%.8f``;
    - ``otb`` (OTB / LSOTB-TIR / PTB-TIR MATLAB toolkits, ``dlmread``): ``<seq>.txt`` comma-separated,
      ``<seq>_time.txt``. Coordinates are not shifted: the boxes are in the origin of the ground truth
      the tracker was started from (manifests keep each source's own origin), which is the ground truth
      these toolkits compare them with; adding 1 would shift them against it.

    ``integer=True`` stores truncated integers (pytracking's ``%d``); otherwise 3 decimals (the
    toolkits' own ``%.3f``).
    """
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {result_format!r} (choose from {list(RESULT_FORMATS)})")
    fmt = RESULT_FORMATS[result_format]
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{sequence}: boxes must be (N, 4), got {boxes.shape}")
    if not np.isfinite(boxes).all():
        raise ValueError(f"{sequence}: boxes hold NaN or inf (frame {int(np.flatnonzero(~np.isfinite(boxes).all(1))[0]) + 1})")
    d = Path(directory)
    path = d / fmt.boxes.replace("<seq>", sequence)
    sep = fmt.separator
    if integer:
        text = "\n".join(sep.join(str(int(v)) for v in row) for row in np.trunc(boxes)) + "\n"
    else:
        text = "\n".join(sep.join(f"{v:.3f}" for v in row) for row in boxes) + "\n"
    write_text(path, text)
    if times is not None:
        times = np.asarray(times, dtype=np.float64).ravel()
        if len(times) != len(boxes):
            raise ValueError(f"{sequence}: {len(times)} times for {len(boxes)} boxes")
        digits = 6 if result_format in ("pytracking", "otb") else 8  # the got10k toolkit's %.8f
        write_text(d / fmt.times.replace("<seq>", sequence), "\n".join(f"{t:.{digits}f}" for t in times) + "\n")
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
