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

__all__ = ["MODALITIES", "read_frames_manifest", "sequence_rows", "run_sequence", "track_manifest", "set_threads",
           "track_manifest_batched", "SequencesFailed"]

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



def _prepare_run(manifest, out_dir, sequences: list[str] | None,
                 result_format: str) -> tuple[pd.DataFrame, list[str], Path]:
    """Check the format and the requested sequences; read the manifest and create ``out_dir``."""
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
    return df, names, out



def _write_sequence(summary: dict[str, Any], out: Path, name: str, boxes: np.ndarray, times: np.ndarray,
                    integer: bool, result_format: str) -> None:
    """Write one tracked sequence's result files and record its frames, seconds and speed in ``summary``."""
    write_tracker_results(out, name, boxes, times, integer=integer, result_format=result_format)
    n, secs = len(boxes), float(times.sum())
    summary["sequences"][name] = {"frames": n, "seconds": secs, "fps": (n / secs) if secs > 0 else None}
    log.info("%s: %d frames, %.1f FPS", name, n, n / max(secs, 1e-9))


def _add_totals(summary: dict[str, Any]) -> dict[str, Any]:
    """The run's total frames and aggregate speed, from its per-sequence entries."""
    done = summary["sequences"].values()
    frames, secs = sum(v["frames"] for v in done), sum(v["seconds"] for v in done)
    summary["frames"] = frames
    summary["fps"] = frames / secs if secs > 0 else None
    return summary


def track_manifest(manifest: str | Path | pd.DataFrame, out_dir: str | Path, make_tracker: Callable[[], Any],
                   modality: str, sequences: list[str] | None = None, integer: bool = False,
                   progress: bool = False, result_format: str = "pytracking") -> dict[str, Any]:
    """Track every (or the listed) sequence(s); write ``<seq>.txt`` and the times into ``out_dir``
    (``result_format``: ``pytracking``, ``got10k``, ``got10k-otb`` or ``otb``).

    ``make_tracker()`` gives the tracker of a sequence (a fresh baseline, or the same DiMP tracker,
    which ``initialize`` resets). Returns a summary {sequences: {name: {frames, seconds, fps}}, ...}.
    """
    df, names, out = _prepare_run(manifest, out_dir, sequences, result_format)
    summary: dict[str, Any] = {"modality": modality, "result_format": result_format, "sequences": {}}
    iterator: Iterable[str] = names
    if progress:
        from tqdm import tqdm

        iterator = tqdm(names, desc="track", unit="seq")
    for name in iterator:
        rows = sequence_rows(df, name, modality)
        boxes, times = run_sequence(make_tracker(), rows, modality, name)
        _write_sequence(summary, out, name, boxes, times, integer, result_format)
    return _add_totals(summary)


def _out_of_memory_types() -> tuple[type[BaseException], ...]:
    import torch

    return tuple({getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None)} - {None})


_OUT_OF_MEMORY = _out_of_memory_types()


def _empty_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class SequencesFailed(ValueError):
    """Some sequences of a batched run failed (the others were tracked and written); ``failures`` lists
    (sequence, file or None, frame or None, reason) and ``summary`` is the run's summary."""

    def __init__(self, failures: list[tuple[str, str | None, Any, str]], summary: dict[str, Any]):
        self.failures = failures
        self.summary = summary
        lines = [f"  {name}" + (f", frame {frame}" if frame is not None else "") + (f" ({file})" if file else "")
                 + f": {reason}" for name, file, frame, reason in failures]
        super().__init__(f"{len(failures)} sequence(s) failed, the other {len(summary['sequences'])} were written:\n"
                         + "\n".join(lines))


class _Slot:
    """One sequence in a batch: its frames, the decoded-ahead images, results so far and tracker state."""

    def __init__(self, name: str, rows: list[dict[str, Any]], init_box: np.ndarray, state, modality: str,
                 pool: ThreadPoolExecutor, loader: Callable[[dict, str], np.ndarray], depth: int = 2):
        self.name, self.rows, self.init_box, self.state = name, rows, init_box, state
        self.modality, self.pool, self.loader = modality, pool, loader
        self.index = 0
        self.boxes = np.zeros((len(rows), 4))
        self.times = np.zeros(len(rows))
        self.shape = None
        self.lo_hi: tuple[float, float] | None = None
        self.pending = deque(pool.submit(loader, r, modality) for r in rows[:depth])
        self.next_row = min(depth, len(rows))

    def frame_file(self) -> str | None:
        path = self.rows[self.index].get(f"{self.modality}_path")
        return None if path is None or path != path else str(path)

    def next_image(self) -> np.ndarray:
        """The current frame as uint8 (raises on a missing / corrupt image or a frame size change)."""
        image = self.pending.popleft().result()
        if self.next_row < len(self.rows):
            self.pending.append(self.pool.submit(self.loader, self.rows[self.next_row], self.modality))
            self.next_row += 1
        if image.dtype != np.uint8:  # e.g. 16-bit TIR: one linear map per sequence
            if self.lo_hi is None:
                self.lo_hi = tuple(float(v) for v in np.percentile(image, (0.5, 99.5)))
            image = to_uint8(image, *self.lo_hi)
        if self.shape is None:
            self.shape = image.shape
        elif image.shape != self.shape:
            raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the first "
                             f"frame's {self.shape[1]}x{self.shape[0]}")
        return image

    def close(self) -> None:
        for fut in self.pending:
            fut.cancel()
        self.pending.clear()


def track_manifest_batched(manifest: str | Path | pd.DataFrame, out_dir: str | Path, tracker, modality: str,
                           batch: int, sequences: list[str] | None = None, integer: bool = False,
                           progress: bool = False, result_format: str = "pytracking",
                           loader: Callable[[dict, str], np.ndarray] = _load) -> dict[str, Any]:
    """:func:`track_manifest` with a :class:`~cmd_core.tracking.batched.BatchedDiMPTracker`: ``batch``
    sequences advance one frame together; a finished (or failed) sequence's slot takes the next one.

    Result files are those of :func:`track_manifest` (the boxes equal tracking each sequence alone);
    a frame's time is its share of the batched step (step time / sequences in the step). A sequence
    whose frame cannot be read or is rejected fails alone, with its name, file and frame; the others
    are tracked and written, then :class:`SequencesFailed` names every failed sequence.
    """
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a whole number >= 1, got {batch!r}")
    df, names, out = _prepare_run(manifest, out_dir, sequences, result_format)
    summary: dict[str, Any] = {"modality": modality, "result_format": result_format, "batch": int(batch),
                               "sequences": {}}
    failures: list[tuple[str, str | None, Any, str]] = []
    queue = deque(names)
    slots: list[_Slot] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(names), desc="track", unit="seq")

    def fail(slot: _Slot, exc: BaseException) -> None:
        row = slot.rows[min(slot.index, len(slot.rows) - 1)]
        failures.append((slot.name, slot.frame_file(), row.get("frame"), str(exc)))
        log.error("sequence %s, frame %s: %s", slot.name, row.get("frame"), exc)
        slot.close()
        slots.remove(slot)
        if bar is not None:
            bar.update(1)

    def finish(slot: _Slot) -> None:
        slot.close()
        slots.remove(slot)
        try:
            _write_sequence(summary, out, slot.name, slot.boxes, slot.times, integer, result_format)
        except ValueError as exc:
            failures.append((slot.name, None, None, str(exc)))
            return
        if bar is not None:
            bar.update(1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            while queue or slots:
                while queue and len(slots) < batch:  # refill
                    name = queue.popleft()
                    try:
                        rows = sequence_rows(df, name, modality)
                        init_box = _first_box(rows[0], name, modality)
                    except ValueError as exc:
                        failures.append((name, None, None, str(exc)))
                        if bar is not None:
                            bar.update(1)
                        continue
                    slots.append(_Slot(name, rows, init_box, tracker.new_state(), modality, pool, loader))
                images: dict[int, np.ndarray] = {}
                for slot in list(slots):
                    try:
                        images[id(slot)] = slot.next_image()
                    except (OSError, ValueError) as exc:
                        fail(slot, exc)
                ready = [s for s in slots if id(s) in images]
                groups = ((True, [s for s in ready if s.index == 0]), (False, [s for s in ready if s.index > 0]))
                for first, group in groups:  # sequences at their first frame, then the others
                    if not group:
                        continue
                    t0 = time.perf_counter()
                    try:
                        if first:
                            res = tracker.initialize([s.state for s in group], [images[id(s)] for s in group],
                                                     [s.init_box for s in group])
                        else:
                            res = tracker.track([s.state for s in group], [images[id(s)] for s in group])
                    except _OUT_OF_MEMORY as exc:
                        if batch == 1:
                            raise
                        batch = max(1, batch // 2)
                        restart = list(slots)
                        log.warning("out of memory on the device with %d sequences in flight (%s): batch halved "
                                    "to %d; they start again from their first frame", len(restart),
                                    str(exc).splitlines()[0] if str(exc) else "OOM", batch)
                        summary["batch_reduced_to"] = batch
                        for slot in restart:
                            slot.close()
                            slots.remove(slot)
                        queue.extendleft(reversed([s.name for s in restart]))
                        _empty_device_cache()
                        break
                    share = (time.perf_counter() - t0) / len(group)
                    for slot, r in zip(group, res):
                        if isinstance(r, Exception):
                            fail(slot, r)
                            continue
                        slot.boxes[slot.index] = slot.init_box if first else r
                        slot.times[slot.index] = share
                        slot.index += 1
                        if slot.index == len(slot.rows):
                            finish(slot)
        finally:
            for slot in slots:
                slot.close()
            if bar is not None:
                bar.close()
    _add_totals(summary)
    if failures:
        summary["failed"] = [{"sequence": n, "file": f, "frame": fr, "reason": r} for n, f, fr, r in failures]
        raise SequencesFailed(failures, summary)
    return summary
