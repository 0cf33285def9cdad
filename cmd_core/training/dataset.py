"""Training data: a map-style Dataset keyed by ``(epoch, index)`` and its DataLoader.

Keys carry the epoch, so persistent DataLoader workers (which hold copies of the dataset) still
produce the right epoch's samples, and every sample is a pure function of ``(seed, epoch, index)``:
the stream is identical for any number of workers and after a resume. Any dataset whose
``__getitem__`` accepts ``(epoch, index)`` and returns a dict of arrays can use :func:`make_loader`
(the distillation pairs dataset does).

Batches stack samples along dim 1 (pytracking's ``stack_dim=1``): images become
``(frames, sequences, 3, H, W)`` as ``DiMPNet.forward`` expects.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import OrderedDict
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .processing import DiMPProcessing, ProcessingSettings
from .sampler import SequenceSampler

__all__ = ["TrackingSamplesDataset", "EpochBatchSampler", "make_loader", "stack_collate", "default_frame_loader",
           "loader_workers"]

log = logging.getLogger(__name__)


def default_frame_loader(row: dict, modality: str) -> np.ndarray:
    """Read one frame of a manifest row: BGR uint8 (RGB modality) or gray (TIR) as stored."""
    from cmd_core.datasets.frames import load_frame_pair

    rgb, tir = load_frame_pair(row)
    img = rgb if modality == "rgb" else tir
    if img is None:
        raise FileNotFoundError(f"no {modality} image for sequence {row.get('sequence')} frame {row.get('frame')}")
    return img


class TrackingSamplesDataset(Dataset):
    """DiMP training samples: ``dataset[(epoch, index)]`` -> dict of float32 tensors.

    args:
        sampler: the :class:`SequenceSampler` (frames manifest + modality + seed).
        processing: :class:`DiMPProcessing` or its :class:`ProcessingSettings`.
        samples_per_epoch: the nominal length (an int key ``i`` means ``(0, i)``).
        cache_frames: decoded frames kept per worker (LRU), 0 to disable.
        frame_loader: ``f(row_dict, modality) -> image`` (default reads files via the manifest).
    """

    def __init__(self, sampler: SequenceSampler, processing: DiMPProcessing | ProcessingSettings,
                 samples_per_epoch: int, cache_frames: int = 256,
                 frame_loader: Callable[[dict, str], np.ndarray] = default_frame_loader):
        self.sampler = sampler
        self.processing = processing if isinstance(processing, DiMPProcessing) else DiMPProcessing(processing)
        self.samples_per_epoch = int(samples_per_epoch)
        self.cache_frames = int(cache_frames)
        self.frame_loader = frame_loader
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        # only the columns the frame loader needs, as arrays (cheap to pickle into workers, no per-row dicts)
        cols = [c for c in ("sequence", "frame", "packing", "rgb_path", "tir_path") if c in sampler.df]
        self._columns = {c: sampler.df[c].to_numpy() for c in cols}

    def __len__(self) -> int:
        return self.samples_per_epoch

    def _frame(self, row: int) -> np.ndarray:
        img = self._cache.get(row)
        if img is not None:
            self._cache.move_to_end(row)
            return img
        img = self.frame_loader({c: v[row] for c, v in self._columns.items()}, self.sampler.modality)
        if self.cache_frames > 0:
            self._cache[row] = img
            while len(self._cache) > self.cache_frames:
                self._cache.popitem(last=False)
        return img

    def __getitem__(self, key) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        rng = self.sampler.rng(epoch, index)
        fs = self.sampler.sample(epoch, index, rng)
        out = self.processing([self._frame(r) for r in fs.train_rows], fs.train_boxes,
                              [self._frame(r) for r in fs.test_rows], fs.test_boxes, rng)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}


class EpochBatchSampler(Sampler):
    """Yields batches of ``(epoch, index)`` keys for the current epoch (set with :meth:`set_epoch`).

    Indices run in order: samples are already random draws, so shuffling adds nothing.
    ``drop_last`` as in the official loader.
    """

    def __init__(self, samples_per_epoch: int, batch_size: int, drop_last: bool = True):
        if batch_size < 1 or samples_per_epoch < batch_size:
            raise ValueError(f"need samples_per_epoch ({samples_per_epoch}) >= batch_size ({batch_size}) >= 1")
        self.samples_per_epoch = int(samples_per_epoch)
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n, b = self.samples_per_epoch, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = min(start + self.batch_size, self.samples_per_epoch)
            yield [(self.epoch, i) for i in range(start, stop)]


def stack_collate(samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack per-sample tensors (frames, ...) along a new dim 1 -> (frames, batch, ...)."""
    return {k: torch.stack([s[k] for s in samples], dim=1) for k in samples[0]}


def loader_workers(threads: int, device: str | torch.device = "cpu") -> int:
    """DataLoader workers for a job with ``threads`` cores. On CPU the model needs the cores, so about
    a quarter of them load data (at least 1 when threads >= 2); on CUDA all but one core load data."""
    threads = int(threads)
    if threads <= 1:
        return 0
    if torch.device(device).type == "cuda":
        return min(16, threads - 1)
    return max(1, min(8, threads // 4))


def _exit_with_main(main_pid: int, interval: float = 2.0) -> None:
    """Daemon thread of a worker: exit when the main process is gone (e.g. SIGKILL). A forkserver
    worker's parent is the forkserver, so PyTorch's own parent watchdog never fires, and the worker
    holds the forkserver's liveness pipe, so both would otherwise linger."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # pragma: no cover - pid reused by another user's process
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-main", daemon=True).start()


def _worker_init(worker_id: int, main_pid: int | None = None) -> None:
    """Workers do light per-sample work: one thread each, no oversubscription."""
    if main_pid is not None:
        _exit_with_main(main_pid)
    torch.set_num_threads(1)
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover
        pass
    # Samples get their own seeded Generators; seed the globals too for any library that uses them.
    info = torch.utils.data.get_worker_info()
    seed = (info.seed if info is not None else 0) % (2 ** 32)
    np.random.seed(seed)
    import random

    random.seed(seed)


def _mp_context() -> str | None:
    """'forkserver' on POSIX: forking a process that already used OpenCV's or OpenMP's thread pools
    can deadlock the child (seen with cv2 in DataLoader workers), and fork is unsafe after CUDA init."""
    return "forkserver" if os.name == "posix" else None


def make_loader(dataset: Dataset, batch_size: int, samples_per_epoch: int, threads: int = 1,
                device: str | torch.device = "cpu", seed: int = 0, prefetch_factor: int = 4,
                num_workers: int | None = None, collate_fn: Callable[[list], Any] = stack_collate) -> DataLoader:
    """DataLoader over ``(epoch, index)`` keys: workers sized from ``threads``, persistent, prefetching,
    pinned memory on CUDA. Call ``loader.batch_sampler.set_epoch(e)`` before each epoch."""
    workers = loader_workers(threads, device) if num_workers is None else int(num_workers)
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    kwargs: dict[str, Any] = {}
    if workers > 0:
        kwargs.update(persistent_workers=True, prefetch_factor=prefetch_factor,
                      worker_init_fn=functools.partial(_worker_init, main_pid=os.getpid()),
                      multiprocessing_context=_mp_context())
    return DataLoader(dataset, batch_sampler=EpochBatchSampler(samples_per_epoch, batch_size), num_workers=workers,
                      collate_fn=collate_fn, pin_memory=torch.device(device).type == "cuda", generator=gen, **kwargs)
