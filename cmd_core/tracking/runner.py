"""Run any tracker (``initialize(image, box)`` / ``track(image) -> box``) over the sequences of a
frames manifest in one modality and write result files with per-frame times (pytracking format by
default; GOT-10k, GOT-10k-toolkit OTB or OTB MATLAB format on request, see
:func:`cmd_core.tracking.results.write_tracker_results`).

Frames are decoded one step ahead in a background thread (decoding overlaps tracking); the
timed part is the tracker call only, as in pytracking. Bad input fails with a ValueError naming
the sequence (and frame): no frames, a single frame, an invalid / zero-size / outside first box,
a missing image, or a frame whose size differs from the first one.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from .preprocessing import to_uint8
from .results import RESULT_FORMATS, write_tracker_results

__all__ = ["MODALITIES", "read_frames_manifest", "sequence_rows", "run_sequence", "track_manifest", "set_threads"]

log = logging.getLogger(__name__)
MODALITIES = ("rgb", "tir")


def set_threads(threads: int | None) -> None:
    """Size torch's and OpenCV's thread pools (None: leave them as they are)."""
    if not threads:
        return
    import cv2
    import torch

    torch.set_num_threads(int(threads))
    cv2.setNumThreads(int(threads))


def read_frames_manifest(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"frames manifest not found: {path}")
    df = pd.read_parquet(path)
    missing = [c for c in ("sequence", "frame", "packing") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a frames manifest (missing column(s) {missing})")
    return df


def sequence_rows(df: pd.DataFrame, sequence: str, modality: str) -> list[dict[str, Any]]:
    """The frames of one sequence in order, as dicts; checks there is something to track."""
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r} (use 'rgb' or 'tir')")
    rows = df[df["sequence"] == sequence].sort_values("frame")
    if len(rows) == 0:
        raise ValueError(f"sequence {sequence}: no frames in the manifest")
    if len(rows) == 1:
        raise ValueError(f"sequence {sequence}: only one frame; tracking needs at least two")
    if rows[f"{modality}_path"].isna().all():
        raise ValueError(f"sequence {sequence}: no {modality.upper()} images in the manifest")
    return rows.to_dict("records")


def _first_box(row: dict[str, Any], sequence: str, modality: str) -> np.ndarray:
    valid = bool(row.get(f"gt_{modality}_valid", False))
    box = np.array([row.get(f"gt_{modality}_{k}") for k in "xywh"], dtype=np.float64)
    if not valid or not np.isfinite(box).all():
        raise ValueError(f"sequence {sequence}: the first frame has no valid {modality.upper()} ground-truth box")
    return box


def _load(row: dict[str, Any], modality: str) -> np.ndarray:
    from cmd_core.datasets.frames import load_frame_pair

    bgr, gray = load_frame_pair(row)
    if modality == "rgb":
        if bgr is None:
            raise ValueError(f"frame {row['frame']}: no RGB image")
        return np.ascontiguousarray(bgr[:, :, ::-1])
    if gray is None:
        raise ValueError(f"frame {row['frame']}: no TIR image")
    return gray


def _prefetch(fn: Callable, items: Iterable, depth: int = 2) -> Iterator:
    """``map(fn, items)`` computed ``depth`` items ahead in one background thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        it = iter(items)
        pending = deque(pool.submit(fn, x) for x in islice(it, depth))
        while pending:
            fut = pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(fn, nxt))
            yield fut.result()


def run_sequence(tracker, rows: list[dict[str, Any]], modality: str, sequence: str = "?",
                 loader: Callable[[dict, str], np.ndarray] = _load) -> tuple[np.ndarray, np.ndarray]:
    """Track one sequence; returns (boxes (N, 4), seconds per frame (N,)). Frame 0 gets the GT box."""
    if len(rows) < 2:
        raise ValueError(f"sequence {sequence}: {'no frames' if not rows else 'only one frame'}; "
                         "tracking needs at least two")
    init_box = _first_box(rows[0], sequence, modality)
    n = len(rows)
    boxes = np.zeros((n, 4))
    times = np.zeros(n)
    shape = None
    lo_hi: tuple[float, float] | None = None
    def load(row: dict[str, Any]) -> np.ndarray:
        try:
            return loader(row, modality)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"sequence {sequence}, frame {row['frame']}: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"sequence {sequence}, frame {row['frame']}: {exc}") from exc

    frames = _prefetch(load, rows)
    try:
        for i, image in enumerate(frames):
            try:
                if image.dtype != np.uint8:  # e.g. 16-bit TIR: one linear map per sequence
                    if lo_hi is None:
                        lo_hi = tuple(float(v) for v in np.percentile(image, (0.5, 99.5)))
                    image = to_uint8(image, *lo_hi)
                if shape is None:
                    shape = image.shape
                elif image.shape != shape:
                    raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the first "
                                     f"frame's {shape[1]}x{shape[0]}")
                t0 = time.perf_counter()
                if i == 0:
                    tracker.initialize(image, init_box)
                    box = init_box
                else:
                    box = tracker.track(image)
                times[i] = time.perf_counter() - t0
                boxes[i] = box
            except ValueError as exc:
                raise ValueError(f"sequence {sequence}, frame {rows[i]['frame']}: {exc}") from exc
    finally:
        frames.close()
    return boxes, times


def track_manifest(manifest: str | Path | pd.DataFrame, out_dir: str | Path, make_tracker: Callable[[], Any],
                   modality: str, sequences: list[str] | None = None, integer: bool = False,
                   progress: bool = False, result_format: str = "pytracking") -> dict[str, Any]:
    """Track every (or the listed) sequence(s); write ``<seq>.txt`` and the times into ``out_dir``
    (``result_format``: ``pytracking``, ``got10k``, ``got10k-otb`` or ``otb``).

    ``make_tracker()`` gives the tracker of a sequence (a fresh baseline, or the same DiMP tracker,
    which ``initialize`` resets). Returns a summary {sequences: {name: {frames, seconds, fps}}, ...}.
    """
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {result_format!r} (choose from {list(RESULT_FORMATS)})")
    df = read_frames_manifest(manifest) if not isinstance(manifest, pd.DataFrame) else manifest
    available = list(dict.fromkeys(df["sequence"].tolist()))
    names = list(sequences) if sequences else available
    unknown = [s for s in names if s not in set(available)]
    if unknown:
        raise ValueError(f"sequence(s) not in the manifest: {unknown[:10]}")
    if not names:
        raise ValueError("the manifest has no sequences")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"modality": modality, "result_format": result_format, "sequences": {}}
    iterator: Iterable[str] = names
    if progress:
        from tqdm import tqdm

        iterator = tqdm(names, desc="track", unit="seq")
    total_frames, total_time = 0, 0.0
    for name in iterator:
        rows = sequence_rows(df, name, modality)
        boxes, times = run_sequence(make_tracker(), rows, modality, name)
        write_tracker_results(out, name, boxes, times, integer=integer, result_format=result_format)
        secs = float(times.sum())
        summary["sequences"][name] = {"frames": len(rows), "seconds": secs,
                                      "fps": (len(rows) / secs) if secs > 0 else None}
        total_frames += len(rows)
        total_time += secs
        log.info("%s: %d frames, %.1f FPS", name, len(rows), len(rows) / max(secs, 1e-9))
    summary["frames"] = total_frames
    summary["fps"] = total_frames / total_time if total_time > 0 else None
    return summary
