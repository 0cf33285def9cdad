"""The static world: ground layout, materials (colour + temperature), and front occluders.

A world is a large image in world pixels that the camera views through a per-frame affine map.
Each pixel has a material; a material has an RGB colour and texture *and* a temperature offset
from the ambient air temperature (different by day and by night), which is where most of the
RGB-vs-thermal gap of the background comes from: grass is textured green but thermally flat and
cool, asphalt is a grey fine texture but hot on a sunny day, windows are dark in RGB but read cold
(reflected sky) by day and warm by night, painted markings are bright in RGB but almost invisible
in TIR. Occluders (trees, poles, signs, bushes, low walls) are a separate RGBA + temperature layer
drawn in front of the moving objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .textures import fbm

# name: (RGB colour, fine texture amp, coarse texture amp, dT day, dT night, thermal texture amp)
MATERIALS: dict[str, tuple[tuple[int, int, int], float, float, float, float, float]] = {
    "none": ((0, 0, 0), 0.0, 0.0, 0.0, 0.0, 0.0),
    "grass": ((78, 112, 52), 0.22, 0.18, -1.5, -4.0, 0.6),
    "dry_grass": ((128, 122, 72), 0.20, 0.15, 3.0, -3.0, 0.6),
    "asphalt": ((82, 83, 86), 0.10, 0.08, 14.0, 4.0, 1.3),
    "concrete": ((160, 156, 146), 0.06, 0.07, 8.0, 1.5, 0.9),
    "marking": ((226, 224, 212), 0.04, 0.02, 10.0, 3.0, 0.2),
    "dirt": ((136, 112, 82), 0.16, 0.12, 9.0, -1.0, 0.6),
    "water": ((58, 82, 96), 0.05, 0.10, -4.0, -2.0, 0.2),
    "sky": ((150, 182, 222), 0.02, 0.06, -32.0, -30.0, 0.5),
    "wall0": ((150, 84, 66), 0.10, 0.05, 6.0, 2.0, 0.3),
    "wall1": ((196, 182, 154), 0.06, 0.05, 5.0, 2.0, 0.3),
    "wall2": ((120, 124, 130), 0.06, 0.05, 4.0, 1.5, 0.3),
    "wall3": ((176, 150, 110), 0.08, 0.05, 7.0, 2.0, 0.3),
    "window": ((52, 66, 84), 0.04, 0.10, -7.0, 5.0, 0.4),
    "roof0": ((120, 64, 54), 0.10, 0.05, 22.0, -3.0, 0.5),
    "roof1": ((96, 98, 104), 0.08, 0.05, 20.0, -3.0, 0.5),
    "roof2": ((170, 166, 160), 0.05, 0.05, 14.0, -2.0, 0.5),
    "foliage": ((48, 82, 40), 0.30, 0.20, -3.0, -3.0, 0.8),
    "trunk": ((82, 62, 46), 0.18, 0.05, 1.0, -1.0, 0.3),
    "metal": ((128, 132, 138), 0.04, 0.03, -6.0, -4.0, 0.2),
    "sign": ((40, 90, 170), 0.03, 0.02, 8.0, 1.0, 0.2),
    "brick": ((140, 74, 58), 0.14, 0.04, 5.0, 1.0, 0.3),
}
MATERIAL_NAMES: tuple[str, ...] = tuple(MATERIALS)
M = {name: i for i, name in enumerate(MATERIAL_NAMES)}
LAYOUTS = ("street", "park", "parking", "aerial")


@dataclass
class Occluder:
    """A static scene element drawn in front of moving objects (world coordinates, ground point)."""

    kind: str  # tree | pole | sign | bush | wall | canopy
    x: float
    y: float
    size: float  # height (side view) or diameter (top view) in world px


@dataclass
class WorldSpec:
    """What the world looks like: sampled with the scene, rendered on demand by `build_world`."""

    layout: str
    width: int
    height: int
    seed: int
    night: bool
    ambient: float  # air temperature, deg C
    ground_top: float  # world y above which nothing walks (side views)
    occluders: list[Occluder] = field(default_factory=list)


@dataclass
class World:
    rgb: np.ndarray  # (H, W, 3) uint8, RGB order, before illumination
    temp: np.ndarray  # (H, W) float32 deg C
    occ_rgba: np.ndarray  # (H, W, 4) uint8, alpha 255 where an occluder is
    occ_temp: np.ndarray  # (H, W) float32 deg C (meaningful where alpha > 0)
    occ_base: np.ndarray  # (H, W) float32 world y of the occluder's base (depth); 1e9 = always in front


def _hline_band(label: np.ndarray, y0: float, y1: float, mat: str) -> None:
    label[int(round(y0)):int(round(y1))] = M[mat]


def _street(label: np.ndarray, rng: np.random.Generator, spec: WorldSpec, unit: float) -> float:
    h, w = label.shape
    label[:] = M["grass"]
    sky = rng.uniform(0.0, 0.14) * h
    bld_bottom = max(sky + 0.12 * h, rng.uniform(0.26, 0.38) * h)
    _hline_band(label, 0, sky, "sky")
    x = -rng.uniform(0, 0.3) * unit * 4
    while x < w:
        bw = rng.uniform(0.6, 1.6) * unit * 3
        top = rng.uniform(0, max(1.0, bld_bottom - sky - 0.1 * h)) * 0.6 if sky > 0 else 0
        wall = f"wall{rng.integers(0, 4)}"
        x0, x1 = int(x), int(x + bw)
        y_top = int(top)
        label[y_top:int(bld_bottom), max(0, x0):max(0, x1)] = M[wall]
        # windows in a grid
        ww, wh = rng.uniform(0.08, 0.14) * unit * 3, rng.uniform(0.10, 0.18) * unit * 3
        gx, gy = ww * rng.uniform(1.6, 2.4), wh * rng.uniform(1.5, 2.2)
        for wy in np.arange(y_top + 0.5 * gy, bld_bottom - wh - 0.3 * gy, gy):
            for wx in np.arange(x0 + 0.4 * gx, x1 - ww - 0.2 * gx, gx):
                cv2.rectangle(label, (int(wx), int(wy)), (int(wx + ww), int(wy + wh)), M["window"], -1)
        # dark door band at the bottom of some buildings
        x += bw + rng.uniform(0, 0.3) * unit
    side1 = bld_bottom + rng.uniform(0.06, 0.10) * h
    road = side1 + rng.uniform(0.24, 0.34) * h
    side2 = road + rng.uniform(0.04, 0.08) * h
    _hline_band(label, bld_bottom, side1, "concrete")
    _hline_band(label, side1, road, "asphalt")
    _hline_band(label, road, side2, "concrete")
    # dashed centre line and curb lines
    yc = int((side1 + road) / 2)
    dash = max(4, int(unit * 0.8))
    for xd in range(int(rng.uniform(0, dash)), w, 2 * dash):
        cv2.rectangle(label, (xd, yc - 1), (xd + dash, yc + 1), M["marking"], -1)
    label[int(side1):int(side1) + 2] = M["marking"]
    if rng.random() < 0.5:  # dry patches in the lower grass
        low = label[int(side2):]
        patch = fbm(rng, low.shape[0], w, unit * 2, octaves=3) > 0.6
        low[patch] = M["dry_grass"]
    return bld_bottom - 0.02 * h


def _park(label: np.ndarray, rng: np.random.Generator, spec: WorldSpec, unit: float) -> float:
    h, w = label.shape
    label[:] = M["grass"]
    n = fbm(rng, h, w, unit * 3, octaves=3)
    label[n > 0.9] = M["dry_grass"]
    top = 0.0
    if rng.random() < 0.6:  # tree line / sky at the top
        top = rng.uniform(0.12, 0.25) * h
        sky = top * rng.uniform(0.3, 0.6)
        wob = fbm(rng, 1, w, unit, octaves=3)[0] * 0.25 * (top - sky)
        ys = np.arange(h)[:, None]
        label[(ys < sky + wob[None, :])] = M["sky"]
        label[(ys >= sky + wob[None, :]) & (ys < top)] = M["foliage"]
    for _ in range(rng.integers(1, 3)):  # curved dirt paths
        pts = []
        y = rng.uniform(top + 0.1 * h, h)
        for xx in np.linspace(-0.1 * w, 1.1 * w, 8):
            y = np.clip(y + rng.normal(0, 0.08 * h), top + 0.05 * h, h)
            pts.append((xx, y))
        thick = int(rng.uniform(0.25, 0.6) * unit)
        cv2.polylines(label, [np.int32(pts)], False, M["dirt"], thickness=max(3, thick), lineType=cv2.LINE_8)
    if rng.random() < 0.35:
        c = (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.6, 0.95) * h))
        cv2.ellipse(label, c, (int(unit * rng.uniform(1.5, 3)), int(unit * rng.uniform(0.6, 1.2))), 0, 0, 360, M["water"], -1)
    return top


def _parking(label: np.ndarray, rng: np.random.Generator, spec: WorldSpec, unit: float) -> float:
    h, w = label.shape
    label[:] = M["asphalt"]
    top = rng.uniform(0.15, 0.3) * h
    _hline_band(label, 0, top, f"wall{rng.integers(0, 4)}")
    _hline_band(label, 0, top * rng.uniform(0.2, 0.5), "sky")
    win = rng.uniform(0.15, 0.3) * top
    for x in np.arange(rng.uniform(0, unit), w, unit * 1.2):
        cv2.rectangle(label, (int(x), int(top * 0.55)), (int(x + unit * 0.5), int(top * 0.55 + win)), M["window"], -1)
    _hline_band(label, top, top + 0.06 * h, "concrete")
    stall = unit * rng.uniform(0.9, 1.3)
    for row_y in np.arange(top + 0.15 * h, h, rng.uniform(0.25, 0.4) * h):
        for x in np.arange(rng.uniform(0, stall), w, stall):
            cv2.line(label, (int(x), int(row_y)), (int(x), int(row_y + 0.12 * h)), M["marking"], 2)
    if rng.random() < 0.5:
        y = int(rng.uniform(0.7, 0.9) * h)
        label[y:y + int(0.05 * h)] = M["grass"]
    return top + 0.03 * h


def _aerial(label: np.ndarray, rng: np.random.Generator, spec: WorldSpec, unit: float) -> float:
    h, w = label.shape
    label[:] = M["grass"]
    n = fbm(rng, h, w, unit * 4, octaves=3)
    label[n > 0.8] = M["dry_grass"]
    label[n < -1.2] = M["dirt"]
    for _ in range(rng.integers(1, 4)):  # roof tops
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        bw, bh = rng.uniform(1.5, 4) * unit, rng.uniform(1.5, 4) * unit
        rect = ((float(cx), float(cy)), (float(bw), float(bh)), float(rng.uniform(-20, 20)))
        cv2.fillPoly(label, [np.int32(cv2.boxPoints(rect))], M[f"roof{rng.integers(0, 3)}"])
    roads = rng.integers(1, 3)
    for i in range(roads):
        thick = int(rng.uniform(1.2, 2.0) * unit)
        if i == 0 or rng.random() < 0.5:
            y = int(rng.uniform(0.3, 0.7) * h)
            label[y - thick // 2:y + thick // 2] = M["asphalt"]
            for x in range(0, w, int(unit)):
                label[y - 1:y + 1, x:x + int(unit * 0.5)] = M["marking"]
        else:
            x = int(rng.uniform(0.3, 0.7) * w)
            label[:, x - thick // 2:x + thick // 2] = M["asphalt"]
            for y in range(0, h, int(unit)):
                label[y:y + int(unit * 0.5), x - 1:x + 1] = M["marking"]
    return 0.0


_LAYOUT_FUNCS = {"street": _street, "park": _park, "parking": _parking, "aerial": _aerial}


def sample_layout_ground(spec_layout: str, rng: np.random.Generator, height: int, width: int,
                         unit: float) -> tuple[np.ndarray, float]:
    """Draw the material label map; return it and the world y above which nobody walks."""
    label = np.zeros((height, width), np.uint8)
    dummy = WorldSpec(spec_layout, width, height, 0, False, 20.0, 0.0)
    top = _LAYOUT_FUNCS[spec_layout](label, rng, dummy, unit)
    return label, float(top)


def _draw_occluders(occluders: list[Occluder], shape: tuple[int, int], rng: np.random.Generator):
    """Material labels of the occluder layer, and per pixel the world y of the occluder's base
    (its depth in side views: an object whose feet are lower in the world is in front of it)."""
    label = np.zeros(shape, np.uint8)
    base = np.full(shape, -1e9, np.float32)

    def rect(x0, y0, x1, y1, mat, depth):
        for img, val in ((label, M[mat]), (base, depth)):
            cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), val, -1)

    def ell(cx, cy, rx, ry, mat, depth):
        for img, val in ((label, M[mat]), (base, depth)):
            cv2.ellipse(img, (int(cx), int(cy)), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, val, -1)

    for o in sorted(occluders, key=lambda o: o.y):
        s, x, y = o.size, o.x, o.y
        d = float(y) if o.kind != "canopy" else 1e9
        if o.kind == "tree":
            tw = max(2, int(0.07 * s))
            rect(x - tw / 2, y - 0.55 * s, x + tw / 2, y, "trunk", d)
            for _ in range(6):
                ell(x + rng.normal(0, 0.12 * s), y - 0.7 * s + rng.normal(0, 0.08 * s), 0.2 * s, 0.17 * s, "foliage", d)
        elif o.kind == "pole":
            pw = max(2, int(0.04 * s))
            rect(x - pw / 2, y - s, x + pw / 2, y, "metal", d)
        elif o.kind == "sign":
            pw = max(2, int(0.035 * s))
            rect(x - pw / 2, y - 0.7 * s, x + pw / 2, y, "metal", d)
            rect(x - 0.22 * s, y - s, x + 0.22 * s, y - 0.62 * s, "sign", d)
        elif o.kind == "bush":
            for _ in range(5):
                ell(x + rng.normal(0, 0.25 * s), y - 0.3 * s + rng.normal(0, 0.06 * s), 0.3 * s, 0.28 * s, "foliage", d)
        elif o.kind == "wall":
            rect(x - 0.8 * s, y - 0.45 * s, x + 0.8 * s, y, "brick", d)
        elif o.kind == "canopy":  # tree seen from above
            for _ in range(7):
                ell(x + rng.normal(0, 0.18 * s), y + rng.normal(0, 0.18 * s), 0.3 * s, 0.3 * s, "foliage", d)
        else:  # pragma: no cover - guarded by the scene sampler
            raise ValueError(f"unknown occluder kind {o.kind!r}")
    return label, base


def _material_tables(rng: np.random.Generator, spec: WorldSpec):
    n = len(MATERIAL_NAMES)
    colour = np.zeros((n, 3), np.float32)
    fine = np.zeros(n, np.float32)
    coarse = np.zeros(n, np.float32)
    temp = np.zeros(n, np.float32)
    ttex = np.zeros(n, np.float32)
    sun = rng.uniform(0.35, 1.1)  # overcast .. full sun: how much the ground heats up by day
    for i, name in enumerate(MATERIAL_NAMES):
        rgb, f, c, d_day, d_night, tt = MATERIALS[name]
        jitter = rng.uniform(0.85, 1.15) * (1 + rng.normal(0, 0.05, 3))
        colour[i] = np.clip(np.asarray(rgb, np.float32) * jitter, 0, 255)
        fine[i], coarse[i], ttex[i] = f, c, tt
        temp[i] = spec.ambient + (d_night if spec.night else d_day * (sun if d_day > 0 else 1.0)) * rng.uniform(0.8, 1.2)
    if spec.night:
        colour[M["sky"]] = (18, 22, 38)
    return colour, fine, coarse, temp, ttex


def _render_materials(label: np.ndarray, tables, rng: np.random.Generator, unit: float):
    colour, fine, coarse, temp, ttex = tables
    h, w = label.shape
    n_fine = fbm(rng, h, w, 3.0, octaves=2)
    n_coarse = fbm(rng, h, w, unit * 2.5, octaves=3)
    n_temp = fbm(rng, h, w, unit * 3.0, octaves=3)
    shade = 1.0 + fine[label] * n_fine + coarse[label] * n_coarse
    chroma = fbm(rng, h // 4 + 2, w // 4 + 2, unit, octaves=2)
    chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    rgb = colour[label] * shade[..., None]
    rgb[..., 0] += 6.0 * chroma
    rgb[..., 2] -= 6.0 * chroma
    t = temp[label] + ttex[label] * (0.8 * n_temp + 0.25 * n_fine)
    t = cv2.GaussianBlur(t.astype(np.float32), (0, 0), max(1.0, unit * 0.05))  # heat diffusion
    return np.clip(rgb, 0, 255).astype(np.uint8), t.astype(np.float32)


def layout_unit(view_width: int, view_height: int) -> float:
    """The size (world px) of a typical layout element, from the camera's image size."""
    return max(8.0, 0.12 * min(view_width, view_height))


def ground_top(layout: str, seed: int, width: int, height: int, unit: float) -> float:
    """World y above which objects do not walk (sky, facades); same rng stream as build_world."""
    return sample_layout_ground(layout, np.random.default_rng(seed), height, width, unit)[1]


def build_world(spec: WorldSpec, unit: float) -> World:
    """Render the world images from its spec (deterministic in spec.seed)."""
    rng = np.random.default_rng(spec.seed)
    label, _ = sample_layout_ground(spec.layout, rng, spec.height, spec.width, unit)
    tables = _material_tables(rng, spec)
    rgb, temp = _render_materials(label, tables, rng, unit)
    occ_label, occ_base = _draw_occluders(spec.occluders, label.shape, rng)
    occ_rgb, occ_temp = _render_materials(occ_label, tables, rng, unit)
    # occluder temperature must not bleed zero-material values in: keep only inside the mask
    alpha = np.where(occ_label > 0, 255, 0).astype(np.uint8)
    occ_rgba = np.dstack([occ_rgb, alpha])
    return World(rgb=rgb, temp=temp, occ_rgba=occ_rgba, occ_temp=occ_temp, occ_base=occ_base)
