"""Linking boxes over time into tracklets (IoU + Hungarian assignment) and temporal pairs.

`link_tracklets`: frame by frame, the boxes are matched to the tracklets seen within the last
`max_age` frames by maximising total IoU (scipy's linear_sum_assignment on 1 - IoU); a match needs
IoU >= `min_iou`; unmatched boxes start new tracklets. `temporal_partners` picks, for each box,
a later box of the same tracklet at most `max_gap` frames ahead (seeded choice among them).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from cmd_core.pairs.boxes import as_boxes, box_iou, frame_rng


def link_tracklets(frames: list[int], boxes: list[np.ndarray], min_iou: float = 0.3, max_age: int = 1) -> list[np.ndarray]:
    """Tracklet ids (int, from 0) for every box of every frame; `frames` ascending."""
    next_id = 0
    active: list[tuple[int, int, np.ndarray]] = []  # (tracklet id, last frame, last box)
    out: list[np.ndarray] = []
    for frame, b in zip(frames, boxes):
        b = as_boxes(b)
        active = [a for a in active if frame - a[1] <= max_age]
        ids = np.full(len(b), -1, dtype=np.int64)
        if active and len(b):
            iou = box_iou(np.stack([a[2] for a in active]), b)
            rows, cols = linear_sum_assignment(1.0 - iou)
            for r, c in zip(rows, cols):
                if iou[r, c] >= min_iou:
                    ids[c] = active[r][0]
        matched = set(int(i) for i in ids if i >= 0)
        active = [a for a in active if a[0] not in matched]
        for j in range(len(b)):
            if ids[j] < 0:
                ids[j] = next_id
                next_id += 1
            active.append((int(ids[j]), frame, b[j]))
        out.append(ids)
    return out


def temporal_partners(frames: np.ndarray, tracklet: np.ndarray, max_gap: int, seed: int, sequence: str) -> np.ndarray:
    """For each box (frame, tracklet id), the index of a partner box of the same tracklet
    1..`max_gap` frames later, chosen uniformly with a seeded generator; -1 where none exists."""
    frames, tracklet = np.asarray(frames), np.asarray(tracklet)
    partner = np.full(len(frames), -1, dtype=np.int64)
    for tid in np.unique(tracklet):
        idx = np.flatnonzero(tracklet == tid)
        idx = idx[np.argsort(frames[idx], kind="stable")]
        fr = frames[idx]
        for a, i in enumerate(idx):
            later = idx[a + 1:][(fr[a + 1:] - fr[a] >= 1) & (fr[a + 1:] - fr[a] <= max_gap)]
            if len(later):
                rng = frame_rng(seed, sequence, int(fr[a]), salt=1_000_003 + int(tid))
                partner[i] = later[rng.integers(len(later))]
    return partner
