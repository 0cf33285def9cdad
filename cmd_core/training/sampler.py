"""Sequence sampler: template (train) and search (test) frames of one sequence within a max gap.

Works on any labelled frames manifest (see ``cmd_core.datasets.schema``) and either modality: a
frame is usable when its ``gt_{modality}_valid`` is true, it is not ``absent`` and its box has a
positive size. Sampling is a pure function of ``(seed, epoch, index)``, so it is reproducible in
any number of DataLoader workers and after a resume; the sampler's "state" is just its seed.

Scheme (own variant of the DiMP "causal" sampling): pick a sequence uniformly and a base frame
``b``; the other templates come from usable frames in ``[n-max_gap, b]`` (``n`` the next usable
frame after ``b``), the search frames from usable frames in ``(b, t0+max_gap]`` (``t0`` the
earliest template), so all frames of a sample lie within ``max_gap`` frames. Sequences with a
single usable frame (still images) use that frame for both roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SequenceSampler", "FrameSample", "usable_mask"]

MODALITIES = ("rgb", "tir")


def usable_mask(df: pd.DataFrame, modality: str) -> np.ndarray:
    """Boolean mask of frames with a valid, present, positive-size ground-truth box."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    valid = df[f"gt_{modality}_valid"].fillna(False).to_numpy(dtype=bool)
    absent = df["absent"].fillna(False).to_numpy(dtype=bool) if "absent" in df else np.zeros(len(df), bool)
    w = df[f"gt_{modality}_w"].to_numpy(dtype=np.float64)
    h = df[f"gt_{modality}_h"].to_numpy(dtype=np.float64)
    path = df[f"{modality}_path"]
    has_path = path.notna().to_numpy() if df["packing"].ne("side_by_side").all() else np.ones(len(df), bool)
    with np.errstate(invalid="ignore"):
        ok = valid & ~absent & np.isfinite(w) & np.isfinite(h) & (w > 0) & (h > 0)
    return ok & has_path


@dataclass
class FrameSample:
    """One training sample: manifest row indices and boxes (xywh) of templates and search frames."""

    sequence: str
    train_rows: list[int]
    test_rows: list[int]
    train_frames: list[int]
    test_frames: list[int]
    train_boxes: np.ndarray
    test_boxes: np.ndarray


class SequenceSampler:
    """Draw template/search frame sets from a frames manifest.

    args:
        manifest: a frames-manifest DataFrame or a path to its Parquet file.
        modality: 'rgb' or 'tir' (which image and ground-truth columns are used).
        num_train_frames, num_test_frames: templates / search frames per sample (official 3 / 3).
        max_gap: largest frame distance between any template and any search frame.
        seed: base seed; sample ``(epoch, index)`` uses ``np.random.default_rng([seed, epoch, index])``.
    """

    def __init__(self, manifest: pd.DataFrame | str | Path, modality: str = "rgb", num_train_frames: int = 3,
                 num_test_frames: int = 3, max_gap: int = 30, seed: int = 0):
        df = pd.read_parquet(manifest) if isinstance(manifest, (str, Path)) else manifest
        if len(df) == 0:
            raise ValueError("frames manifest is empty: nothing to train on")
        if max_gap < 1:
            raise ValueError(f"max_gap must be >= 1, got {max_gap}")
        self.df = df.reset_index(drop=True)
        self.modality = modality
        self.num_train_frames = int(num_train_frames)
        self.num_test_frames = int(num_test_frames)
        self.max_gap = int(max_gap)
        self.seed = int(seed)
        ok = usable_mask(self.df, modality)
        boxes = self.df[[f"gt_{modality}_{k}" for k in "xywh"]].to_numpy(dtype=np.float64)
        self.boxes = boxes
        self.sequences: list[tuple[str, np.ndarray, np.ndarray]] = []  # (name, frame numbers, row indices)
        for name, idx in self.df.groupby("sequence", sort=True).indices.items():
            idx = np.asarray(idx)
            idx = idx[ok[idx]]
            if len(idx) == 0:
                continue
            frames = self.df["frame"].to_numpy()[idx]
            order = np.argsort(frames, kind="stable")
            self.sequences.append((str(name), frames[order].astype(np.int64), idx[order]))
        if not self.sequences:
            raise ValueError(f"no frame of the manifest has a usable {modality} ground-truth box "
                             f"(gt_{modality}_valid and not absent and w, h > 0)")

    def __len__(self) -> int:
        return len(self.sequences)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to reproduce the sample stream (stored in checkpoints)."""
        return {"seed": self.seed, "modality": self.modality, "max_gap": self.max_gap,
                "num_train_frames": self.num_train_frames, "num_test_frames": self.num_test_frames,
                "num_sequences": len(self.sequences)}

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(epoch), int(index)])

    def sample(self, epoch: int, index: int, rng: np.random.Generator | None = None) -> FrameSample:
        """The sample ``index`` of ``epoch`` (deterministic)."""
        rng = self.rng(epoch, index) if rng is None else rng
        name, frames, rows = self.sequences[int(rng.integers(len(self.sequences)))]
        tr, te = self._pick(frames, rng)
        return FrameSample(name, [int(rows[i]) for i in tr], [int(rows[i]) for i in te],
                           [int(frames[i]) for i in tr], [int(frames[i]) for i in te],
                           self.boxes[rows[tr]], self.boxes[rows[te]])

    def _pick(self, frames: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Positions (into ``frames``) of template and search frames."""
        n = len(frames)
        g = self.max_gap
        if n == 1:
            return np.zeros(self.num_train_frames, int), np.zeros(self.num_test_frames, int)
        # bases that have at least one usable frame within (b, b + max_gap]
        nxt = np.searchsorted(frames, frames + 1, side="left")
        has_next = (nxt < n) & (frames[np.minimum(nxt, n - 1)] <= frames + g)
        cand = np.flatnonzero(has_next)
        if len(cand) == 0:  # usable frames further apart than max_gap: same-frame pairs only
            i = int(rng.integers(n))
            return np.full(self.num_train_frames, i), np.full(self.num_test_frames, i)
        b = int(cand[rng.integers(len(cand))])
        # earliest template no earlier than (next usable frame - max_gap): the next frame stays in range
        lo = np.searchsorted(frames, frames[b + 1] - g, side="left")
        others = rng.integers(lo, b + 1, size=self.num_train_frames - 1)
        train = np.concatenate([[b], others]).astype(int)
        t0 = frames[train].min()
        hi = np.searchsorted(frames, t0 + g, side="right")  # positions < hi have frame <= t0 + g
        test = rng.integers(b + 1, max(hi, b + 2), size=self.num_test_frames).astype(int)
        return train, test
