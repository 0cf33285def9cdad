"""Box geometry shared by every part of the pair generator, and the two label-free box sources.

All boxes are float arrays of shape (N, 4) in x, y, w, h pixels. `box_iou` is the one IoU helper
of the package (fusion, tracklets and the quality report all use it).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch
import torchvision
from torchvision.ops import box_convert


def as_boxes(boxes) -> np.ndarray:
    """`boxes` as a float64 (N, 4) array (an empty input gives shape (0, 4))."""
    arr = np.asarray(boxes, dtype=np.float64)
    return arr.reshape(-1, 4)


def box_iou(a, b) -> np.ndarray:
    """Pairwise IoU of xywh boxes: (N, 4) x (M, 4) -> (N, M) by ``torchvision.ops.box_iou`` in float64
    (0 where the union is 0)."""
    ta, tb = (box_convert(torch.from_numpy(as_boxes(x)), "xywh", "xyxy") for x in (a, b))
    return torchvision.ops.box_iou(ta, tb).nan_to_num(0.0).numpy()


def fraction_outside(boxes, width: float, height: float) -> np.ndarray:
    """Share of each box's area lying outside the image [0, width] x [0, height]."""
    b = as_boxes(boxes)
    inside = clip_boxes(b, width, height)
    area = b[:, 2] * b[:, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, 1.0 - inside[:, 2] * inside[:, 3] / area, 1.0)


def clip_boxes(boxes, width: float, height: float) -> np.ndarray:
    """Boxes cut to the image; a box wholly outside gets w = h = 0."""
    b = as_boxes(boxes)
    x1 = np.clip(b[:, 0], 0, width)
    y1 = np.clip(b[:, 1], 0, height)
    x2 = np.clip(b[:, 0] + b[:, 2], 0, width)
    y2 = np.clip(b[:, 1] + b[:, 3], 0, height)
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)


def frame_rng(seed: int, sequence: str, frame: int, salt: int = 0) -> np.random.Generator:
    """A generator that depends only on (seed, sequence, frame, salt): results do not depend on
    the order or the thread in which sequences are processed."""
    return np.random.default_rng([int(seed), zlib.crc32(sequence.encode("utf-8")), int(frame), int(salt)])


def central_boxes(widths, heights, scale: tuple[float, float]) -> np.ndarray:
    """One box per frame at the image centre, `scale` = (w, h) as fractions of the frame size."""
    w = np.asarray(widths, dtype=np.float64) * float(scale[0])
    h = np.asarray(heights, dtype=np.float64) * float(scale[1])
    x = (np.asarray(widths, dtype=np.float64) - w) / 2.0
    y = (np.asarray(heights, dtype=np.float64) - h) / 2.0
    return np.stack([x, y, w, h], axis=1)


def random_boxes(rng: np.random.Generator, width: int, height: int, k: int, size: tuple[float, float],
                 aspect: tuple[float, float], min_separation: float, max_tries: int = 50) -> np.ndarray:
    """Up to `k` boxes wholly inside the frame whose centres are at least `min_separation` x the
    frame's shorter side apart (rejection sampling; fewer than `k` if they do not fit).

    `size`: (min, max) of sqrt(w*h) as a fraction of the shorter side; `aspect`: (min, max) of w/h,
    sampled log-uniformly.
    """
    short = float(min(width, height))
    min_dist = float(min_separation) * short
    n = k * max_tries
    side = rng.uniform(size[0], size[1], n) * short
    ar = np.exp(rng.uniform(np.log(aspect[0]), np.log(aspect[1]), n))
    w = np.minimum(side * np.sqrt(ar), width)
    h = np.minimum(side / np.sqrt(ar), height)
    x = rng.uniform(0, 1, n) * (width - w)
    y = rng.uniform(0, 1, n) * (height - h)
    cx, cy = x + w / 2, y + h / 2
    kept: list[int] = []
    for i in range(n):
        if kept:
            d2 = (cx[kept] - cx[i]) ** 2 + (cy[kept] - cy[i]) ** 2
            if np.any(d2 < min_dist * min_dist):
                continue
        kept.append(i)
        if len(kept) == k:
            break
    return np.stack([x[kept], y[kept], w[kept], h[kept]], axis=1) if kept else np.zeros((0, 4))
