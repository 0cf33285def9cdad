"""Target localisation in a DiMP score map, with the official 'advanced' case analysis.

The score map (Ho x Wo, one cell per 16 crop pixels, cell (Ho-1)/2 at the crop centre) is read at
its maximum. Flags decide what the tracker does with the frame:

- ``not_found``: peak below ``target_not_found_threshold`` - keep the old state, learn nothing;
- ``uncertain``: a distractor peak (outside the target neighbourhood) nearly as high as the
  main one, and position history cannot tell them apart - move, but do not learn;
- ``hard_negative``: a clear second peak - learn this frame with the higher hard-negative rate
  and re-optimise the filter at once;
- ``normal``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .params import DiMPParams

__all__ = ["Localization", "localize", "localize_simple"]


@dataclass(frozen=True)
class Localization:
    disp: np.ndarray  # (dy, dx) of the chosen peak from the score-map centre, in score cells
    flag: str
    max_score: float


def _argmax2d(scores: torch.Tensor, subcell: bool = False) -> tuple[float, np.ndarray]:
    """Peak value and (row, col); with ``subcell`` the position is refined by a parabola through the
    peak and its two neighbours on each axis (at most half a cell), else it is the integer cell."""
    flat = int(torch.argmax(scores))
    W = scores.shape[-1]
    idx = np.array([flat // W, flat % W], dtype=np.float64)
    if subcell:
        idx += _parabolic_offsets(scores, flat // W, flat % W)
    return float(scores.reshape(-1)[flat]), idx


def _parabolic_offsets(scores: torch.Tensor, r: int, c: int) -> np.ndarray:
    """Offsets in [-0.5, 0.5] of the vertex of the parabola through (-1, 0, +1) on each axis; 0 at a border
    or where the three values are not concave (no interior maximum)."""
    off = np.zeros(2)
    for axis, (i, n) in enumerate(((r, scores.shape[-2]), (c, scores.shape[-1]))):
        if 0 < i < n - 1:
            line = scores[:, c] if axis == 0 else scores[r, :]
            lo, mid, hi = (float(v) for v in line[i - 1:i + 2])
            curv = lo - 2 * mid + hi
            if curv < 0:
                off[axis] = float(np.clip(0.5 * (lo - hi) / curv, -0.5, 0.5))
    return off


def localize_simple(scores: torch.Tensor, params: DiMPParams | None = None) -> Localization:
    """Plain arg-max localisation (flag ``normal``)."""
    s = scores.reshape(scores.shape[-2:])
    center = (np.array(s.shape, dtype=np.float64) - 1) / 2
    m, idx = _argmax2d(s, params.subcell_peak if params is not None else False)
    return Localization(idx - center, "normal", m)


def localize(scores: torch.Tensor, target_size_cells, prev_disp, params: DiMPParams) -> Localization:
    """Advanced localisation.

    args:
        scores: (Ho, Wo) score map (any leading singleton dims).
        target_size_cells: target (h, w) in score cells.
        prev_disp: previous target position relative to the map centre, (dy, dx) in cells.
    """
    if not params.advanced_localization:
        return localize_simple(scores, params)
    s = scores.reshape(scores.shape[-2:])
    sz = np.array(s.shape, dtype=np.float64)
    center = (sz - 1) / 2
    max1, idx1 = _argmax2d(s, params.subcell_peak)
    disp1 = idx1 - center
    if max1 < params.target_not_found_threshold:
        return Localization(disp1, "not_found", max1)
    # Mask out the target neighbourhood and look for a second peak.
    neigh = params.target_neighborhood_scale * np.asarray(target_size_cells, dtype=np.float64)
    top = max(int(round(idx1[0] - neigh[0] / 2)), 0)
    bottom = min(int(round(idx1[0] + neigh[0] / 2 + 1)), int(sz[0]))
    left = max(int(round(idx1[1] - neigh[1] / 2)), 0)
    right = min(int(round(idx1[1] + neigh[1] / 2 + 1)), int(sz[1]))
    masked = s.clone()
    masked[top:bottom, left:right] = 0
    max2, idx2 = _argmax2d(masked, params.subcell_peak)
    disp2 = idx2 - center
    prev = np.asarray(prev_disp, dtype=np.float64)
    if max2 > params.distractor_threshold * max1:
        d1 = float(np.sqrt(((disp1 - prev) ** 2).sum()))
        d2 = float(np.sqrt(((disp2 - prev) ** 2).sum()))
        thr = params.dispalcement_scale * math.sqrt(sz[0] * sz[1]) / 2
        if d2 > thr and d1 < thr:
            return Localization(disp1, "hard_negative", max1)
        if d2 < thr and d1 > thr:
            return Localization(disp2, "hard_negative", max2)
        return Localization(disp1, "uncertain", max1)
    if max2 > params.hard_negative_threshold * max1 and max2 > params.target_not_found_threshold:
        return Localization(disp1, "hard_negative", max1)
    return Localization(disp1, "normal", max1)
