"""Object kinds as articulated compositions of polygons and ellipses (not rectangles).

Every kind has a fixed list of named parts; the part index is what the renderers look up to get a
colour (RGB) or a temperature (TIR), so the *same* geometry yields both modalities and the masks are
pixel-identical. Side views (street-level cameras) have walking limbs driven by a gait phase, which
gives real deformation; top views are used for drone footage.
"""

from __future__ import annotations

import numpy as np

KINDS: tuple[str, ...] = ("person", "vehicle", "animal")

PARTS: dict[str, tuple[str, ...]] = {
    "person": ("leg_back", "arm_back", "torso", "leg_front", "arm_front", "head", "hair"),
    "vehicle": ("body", "hood", "cabin", "window", "wheel_back", "wheel_front", "exhaust"),
    "animal": ("legs_far", "body", "legs_near", "tail", "head"),
}

# size (world px per unit) relative to a person's height, and typical speed in units per frame
RELATIVE_SIZE = {"person": 1.0, "vehicle": 2.0, "animal": 0.75}
ARTICULATED = {"person": True, "vehicle": False, "animal": True}


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 16) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _limb(x0: float, y0: float, angle: float, length: float, w0: float, w1: float) -> np.ndarray:
    """A tapered quad hanging from (x0, y0), rotated by `angle` (0 = straight down)."""
    dx, dy = np.sin(angle), np.cos(angle)
    px, py = dy, -dx  # perpendicular
    x1, y1 = x0 + length * dx, y0 + length * dy
    return np.array([
        [x0 - w0 * px, y0 - w0 * py], [x0 + w0 * px, y0 + w0 * py],
        [x1 + w1 * px, y1 + w1 * py], [x1 - w1 * px, y1 - w1 * py],
    ])


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def side_parts(kind: str, phase: float, gait: float, build: float) -> list[tuple[int, np.ndarray]]:
    """(part index, polygon) in draw order; local units, origin at the ground contact, y down, facing +x."""
    out: list[tuple[int, np.ndarray]] = []
    if kind == "person":
        a = gait * np.sin(phase)
        w = build
        out.append((0, _limb(0.0, -0.50, -a, 0.50, 0.07 * w, 0.045 * w)))
        out.append((1, _limb(0.0, -0.79, a * 0.8, 0.34, 0.05 * w, 0.038 * w)))
        out.append((2, np.array([[-0.14 * w, -0.78], [-0.10 * w, -0.82], [0.10 * w, -0.82], [0.14 * w, -0.78],
                                 [0.12 * w, -0.47], [-0.12 * w, -0.47]])))
        out.append((3, _limb(0.0, -0.50, a, 0.50, 0.07 * w, 0.045 * w)))
        out.append((4, _limb(0.0, -0.79, -a * 0.8, 0.34, 0.05 * w, 0.038 * w)))
        out.append((5, _rect(-0.035, -0.86, 0.035, -0.8)))
        out.append((5, _ellipse(0.01, -0.905, 0.068, 0.078)))
        out.append((6, _ellipse(-0.012, -0.94, 0.07, 0.05)))
    elif kind == "vehicle":
        hb = build
        out.append((0, np.array([[-0.5, -0.08], [0.5, -0.08], [0.5, -0.21 * hb], [0.46, -0.25 * hb],
                                 [-0.48, -0.26 * hb], [-0.5, -0.2 * hb]])))
        out.append((1, np.array([[0.2, -0.085], [0.5, -0.085], [0.5, -0.21 * hb], [0.46, -0.25 * hb], [0.2, -0.255 * hb]])))
        out.append((2, np.array([[-0.44, -0.25 * hb], [0.2, -0.25 * hb], [0.07, -0.40 * hb], [-0.32, -0.40 * hb]])))
        out.append((3, np.array([[-0.39, -0.265 * hb], [0.15, -0.265 * hb], [0.05, -0.375 * hb], [-0.29, -0.375 * hb]])))
        out.append((4, _ellipse(-0.30, -0.085, 0.085, 0.085)))
        out.append((5, _ellipse(0.30, -0.085, 0.085, 0.085)))
        out.append((6, _rect(-0.53, -0.05, -0.47, -0.085)))
    elif kind == "animal":
        a = gait * np.sin(phase)
        out.append((0, _limb(-0.20, -0.35, -a, 0.35, 0.035, 0.025)))
        out.append((0, _limb(0.20, -0.35, a, 0.35, 0.035, 0.025)))
        out.append((1, _ellipse(0.0, -0.42, 0.30, 0.12 * build)))
        out.append((2, _limb(-0.18, -0.35, a, 0.35, 0.038, 0.027)))
        out.append((2, _limb(0.22, -0.35, -a, 0.35, 0.038, 0.027)))
        out.append((3, _limb(-0.28, -0.48, 2.2 + 0.3 * np.sin(phase * 0.5), 0.2, 0.025, 0.012)))
        out.append((4, np.array([[0.20, -0.50], [0.28, -0.45], [0.40, -0.58], [0.33, -0.66]])))
        out.append((4, _ellipse(0.38, -0.64, 0.09, 0.06)))
    else:
        raise ValueError(f"unknown object kind {kind!r}")
    return out


def top_parts(kind: str, phase: float, gait: float, build: float) -> list[tuple[int, np.ndarray]]:
    """(part index, polygon) seen from above; origin at the centre, heading +x."""
    out: list[tuple[int, np.ndarray]] = []
    if kind == "person":  # size = height; footprint ~ 0.35 of it
        s = np.sin(phase) * gait
        out.append((1, _ellipse(0.05 * s, -0.17 * build, 0.06, 0.04)))
        out.append((1, _ellipse(-0.05 * s, 0.17 * build, 0.06, 0.04)))
        out.append((2, _ellipse(0.0, 0.0, 0.09, 0.17 * build)))
        out.append((6, _ellipse(0.015, 0.0, 0.075, 0.07)))
    elif kind == "vehicle":
        w = 0.22 * build
        out.append((0, np.array([[-0.5, -w + 0.03], [-0.47, -w], [0.45, -w], [0.5, -w + 0.04],
                                 [0.5, w - 0.04], [0.45, w], [-0.47, w], [-0.5, w - 0.03]])))
        out.append((1, _rect(0.2, -w + 0.02, 0.48, w - 0.02)))
        out.append((2, _rect(-0.32, -w + 0.03, 0.08, w - 0.03)))
        out.append((3, _rect(0.08, -w + 0.04, 0.19, w - 0.04)))
    elif kind == "animal":
        out.append((1, _ellipse(0.0, 0.0, 0.32, 0.11 * build)))
        out.append((3, _limb(-0.3, 0.0, np.pi / 2 + 0.3 * np.sin(phase), 0.2, 0.02, 0.01)))
        out.append((4, _ellipse(0.38, 0.0, 0.09, 0.065)))
    else:
        raise ValueError(f"unknown object kind {kind!r}")
    return out


def object_polygons(kind: str, view: str, x: float, y: float, size: float, orient: float,
                    phase: float, gait: float, build: float) -> list[tuple[int, np.ndarray]]:
    """Parts placed in image coordinates: anchor (x, y), scale `size` px per unit.

    Side view: `orient` is the facing sign (+1 right, -1 left). Top view: heading angle (rad).
    """
    if view == "side":
        parts = side_parts(kind, phase, gait, build)
        sx = size * (1.0 if orient >= 0 else -1.0)
        return [(i, np.stack([x + sx * p[:, 0], y + size * p[:, 1]], axis=1)) for i, p in parts]
    parts = top_parts(kind, phase, gait, build)
    c, s = np.cos(orient), np.sin(orient)
    return [(i, np.stack([x + size * (c * p[:, 0] - s * p[:, 1]), y + size * (s * p[:, 0] + c * p[:, 1])], axis=1))
            for i, p in parts]
