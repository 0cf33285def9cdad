"""Procedural noise: the texture source for grass, asphalt, fabric, fur and thermal clutter.

Fractal value noise is built from a few low-resolution Gaussian grids upsampled with bicubic
interpolation and summed, so it is fully vectorised (cv2.resize) and cheap at any size.
"""

from __future__ import annotations

import cv2
import numpy as np


def fbm(rng: np.random.Generator, height: int, width: int, scale: float, octaves: int = 4,
        persistence: float = 0.5) -> np.ndarray:
    """Zero-mean, unit-std fractal noise of shape (height, width); `scale` = largest feature in px."""
    height, width = int(height), int(width)
    out = np.zeros((height, width), np.float32)
    amp = 1.0
    for _ in range(max(1, octaves)):
        gh = max(2, int(np.ceil(height / max(scale, 1.0))) + 2)
        gw = max(2, int(np.ceil(width / max(scale, 1.0))) + 2)
        grid = rng.standard_normal((gh, gw), dtype=np.float32)
        out += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        amp *= persistence
        scale /= 2.0
        if scale < 1.0:
            break
    std = float(out.std())
    return (out - float(out.mean())) / (std if std > 1e-6 else 1.0)


def smooth_series(rng: np.random.Generator, n: int, period: float, amplitude: float = 1.0) -> np.ndarray:
    """A smooth random time series of length n (std ~ amplitude) with features of about `period` frames."""
    knots = max(2, int(np.ceil(n / max(period, 1.0))) + 2)
    values = rng.standard_normal(knots)
    x = np.linspace(0, knots - 1, n)
    idx = np.clip(x.astype(int), 0, knots - 2)
    f = x - idx
    f = f * f * (3 - 2 * f)  # smoothstep between knots
    series = values[idx] * (1 - f) + values[idx + 1] * f
    return (amplitude * series).astype(np.float64)


class NoiseBank:
    """Pre-drawn Gaussian noise fields; each frame takes a randomly offset window of one of them.

    Drawing fresh full-frame noise every frame dominated the render time; a few fields with random
    offsets look the same to the eye and to a tracker (no repeated pattern at a fixed position).
    """

    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...], fields: int = 3, pad: int = 24):
        self.rng, self.shape, self.pad = rng, shape, pad
        big = (shape[0] + pad, shape[1] + pad) + tuple(shape[2:])
        self.fields = [rng.standard_normal(big, dtype=np.float32) for _ in range(fields)]

    def sample(self) -> np.ndarray:
        k = int(self.rng.integers(0, len(self.fields)))
        dy, dx = (int(v) for v in self.rng.integers(0, self.pad + 1, 2))
        return self.fields[k][dy:dy + self.shape[0], dx:dx + self.shape[1]]
