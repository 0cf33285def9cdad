"""Initial-frame augmentation of the DiMP tracker.

From one expanded crop around the target (``augmentation_expansion_factor`` times the crop), the
tracker builds its first training samples: the identity crop, relative shifts, a horizontal flip,
Gaussian blurs and rotations (the last three with a small random shift, ``random_shift_factor``),
all cut to the crop size in one batch; dropout copies of the identity sample are added later on
the features (:func:`feature_dropout`). Each sample comes with the shift (dy, dx) of the target in
the crop, so its training box is the identity box moved by that shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .params import DiMPParams

__all__ = ["AugmentedSamples", "expanded_size", "augment", "feature_dropout"]


@dataclass(frozen=True)
class AugmentedSamples:
    images: np.ndarray  # (N, out, out, 3) uint8 or float32 (as the expanded crop)
    shifts: np.ndarray  # (N, 2) target shift (dy, dx) in crop pixels
    names: tuple[str, ...]


def expanded_size(params: DiMPParams) -> int:
    """Side of the expanded crop: ~factor x crop size, with an even margin so crops stay centred."""
    out = params.image_sample_size
    if not params.use_augmentation:
        return out
    return out + 2 * int(round(out * (params.augmentation_expansion_factor - 1) / 2))


def _center_crop(img: np.ndarray, out: int, shift) -> np.ndarray:
    """The out x out window whose content is moved by ``shift`` (dy, dx) relative to the centre
    window (replicate padding beyond the border)."""
    E = img.shape[0]
    y0 = (E - out) // 2 - int(shift[0])
    x0 = (E - out) // 2 - int(shift[1])
    if 0 <= y0 and 0 <= x0 and y0 + out <= E and x0 + out <= img.shape[1]:
        return img[y0:y0 + out, x0:x0 + out]
    ys = np.clip(np.arange(y0, y0 + out), 0, E - 1)
    xs = np.clip(np.arange(x0, x0 + out), 0, img.shape[1] - 1)
    return img[ys[:, None], xs[None, :]]


def augment(expanded: np.ndarray, params: DiMPParams, rng: np.random.Generator) -> AugmentedSamples:
    """All image-level augmentations of an expanded crop (HxWx3, uint8 or float32 0-255), as one batch."""
    out = params.image_sample_size
    samples: list[np.ndarray] = []
    shifts: list[tuple[int, int]] = []
    names: list[str] = []

    def rand_shift() -> tuple[int, int]:
        if params.random_shift_factor <= 0:
            return (0, 0)
        r = (rng.random(2) - 0.5) * out * params.random_shift_factor
        return (int(r[0]), int(r[1]))  # truncation towards zero, as .long()

    def add(img: np.ndarray, shift, name: str) -> None:
        samples.append(_center_crop(img, out, shift))
        shifts.append((int(shift[0]), int(shift[1])))
        names.append(name)

    add(expanded, (0, 0), "identity")
    if params.use_augmentation:
        for rel in params.aug_relativeshift:
            absolute = (int(rel[0] * out / 2), int(rel[1] * out / 2))
            extra = rand_shift()
            add(expanded, (absolute[0] + extra[0], absolute[1] + extra[1]), f"shift{rel}")
        if params.aug_fliplr:
            add(np.ascontiguousarray(expanded[:, ::-1]), rand_shift(), "fliplr")
        for sigma in params.aug_blur:
            sy, sx = float(sigma[0]), float(sigma[1])
            ky, kx = 2 * math.ceil(2 * sy) + 1, 2 * math.ceil(2 * sx) + 1
            blurred = cv2.GaussianBlur(expanded, (kx, ky), sigmaX=sx, sigmaY=sy, borderType=cv2.BORDER_REPLICATE)
            add(blurred, rand_shift(), f"blur{sigma}")
        E = expanded.shape[0]
        for angle in params.aug_rotate:
            m = cv2.getRotationMatrix2D(((E - 1) / 2.0, (E - 1) / 2.0), float(angle), 1.0)
            rotated = cv2.warpAffine(expanded, m, (expanded.shape[1], E), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
            add(rotated, rand_shift(), f"rotate{angle}")
    return AugmentedSamples(np.stack(samples), np.array(shifts, dtype=np.float64), tuple(names))


def feature_dropout(feat: torch.Tensor, num: int, prob: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """``num`` copies of the first sample's features (1, C, H, W) with channel dropout (rate ``prob``,
    survivors scaled by 1/(1-prob), as ``F.dropout2d`` in training mode); deterministic given the generator."""
    if num <= 0:
        return feat[:0]
    base = feat[:1].expand(num, -1, -1, -1)
    if generator is None:
        return F.dropout2d(base, p=prob, training=True)
    keep = (torch.rand((num, feat.shape[1], 1, 1), generator=generator) >= prob).to(feat.dtype).to(feat.device)
    return base * keep / (1.0 - prob)
