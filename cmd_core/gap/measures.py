"""Image statistics of the modality gap, on grey float images: gradient correlation between the
modalities, high-frequency share, sensor noise level, and target-versus-surround contrast.

Each is a plain function of arrays so that it can be checked on images whose answer is known.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["gradient_correlation", "high_frequency_share", "noise_sigma", "surround_contrast", "to_grey"]

# Immerkaer's noise mask: zero response to any locally linear (ramp) image, so texture and edges
# contribute little and flat noise dominates (J. Immerkaer, "Fast noise variance estimation", CVIU 1996).
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def to_grey(image: np.ndarray) -> np.ndarray:
    """BGR uint8 or grey (any bit depth, scaled to 0..255) -> grey float32."""
    img = image
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    img = img.astype(np.float32)
    if image.dtype != np.uint8:
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) * (255.0 / max(hi - lo, 1e-6))
    return img


def _gradient_magnitude(grey: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def gradient_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the Sobel gradient magnitudes of two same-size grey images: 1 when the
    two modalities have their edges in the same places with proportional strength, about 0 when
    unrelated. NaN when either image is flat."""
    if a.shape != b.shape:
        raise ValueError(f"gradient_correlation: image sizes differ ({a.shape} against {b.shape})")
    ga, gb = _gradient_magnitude(a).ravel(), _gradient_magnitude(b).ravel()
    if ga.std() < 1e-6 or gb.std() < 1e-6:
        return float("nan")
    return float(np.corrcoef(ga, gb)[0, 1])


def high_frequency_share(grey: np.ndarray, sigma: float = 2.0) -> float:
    """Share of the image's variance above the spatial frequency a Gaussian of `sigma` px removes:
    var(image - blur(image)) / var(image). Thermal images are smoother than visible ones (optics,
    heat diffusion), so this is low for real TIR unless noise dominates."""
    var = float(grey.var())
    if var < 1e-9:
        return float("nan")
    detail = grey - cv2.GaussianBlur(grey, (0, 0), sigma)
    return float(detail.var() / var)


def noise_sigma(grey: np.ndarray) -> float:
    """Standard deviation of additive white noise (grey levels), Immerkaer's estimator:
    sqrt(pi / 2) / (6 (W - 2)(H - 2)) * sum |I * N| over the valid interior."""
    h, w = grey.shape
    if h < 3 or w < 3:
        raise ValueError(f"noise_sigma: image of {w}x{h} px is too small (at least 3x3)")
    response = cv2.filter2D(grey, cv2.CV_32F, _NOISE_MASK, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).sum() / (6.0 * (w - 2) * (h - 2)))


def surround_contrast(grey: np.ndarray, box) -> float:
    """|mean inside the box - mean of its surround| / std of the surround, the surround being the ring
    between the box and the box grown to twice its width and height (clipped to the image). How much
    the target stands out from what is around it; NaN when the box or its ring is empty."""
    h, w = grey.shape
    x, y, bw, bh = (float(v) for v in box)
    inner = _clip_box(x, y, x + bw, y + bh, w, h)
    outer = _clip_box(x - bw / 2, y - bh / 2, x + 1.5 * bw, y + 1.5 * bh, w, h)
    if inner is None or outer is None:
        return float("nan")
    ring_mask = np.zeros((h, w), bool)
    ring_mask[outer[1]:outer[3], outer[0]:outer[2]] = True
    ring_mask[inner[1]:inner[3], inner[0]:inner[2]] = False
    ring = grey[ring_mask]
    inside = grey[inner[1]:inner[3], inner[0]:inner[2]]
    if ring.size < 4 or inside.size == 0:
        return float("nan")
    return float(abs(inside.mean() - ring.mean()) / max(float(ring.std()), 1.0))


def _clip_box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> tuple[int, int, int, int] | None:
    """Integer pixel box clipped to the image, or None when nothing is left."""
    c = (int(round(max(0.0, x0))), int(round(max(0.0, y0))), int(round(min(float(w), x1))), int(round(min(float(h), y1))))
    return c if c[2] > c[0] and c[3] > c[1] else None
