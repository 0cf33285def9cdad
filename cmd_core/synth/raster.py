"""Per-frame geometry shared by both modalities: object part-label masks, who owns each pixel,
occluder coverage, shadows, and the annotations derived from them.

Because the RGB and the TIR renderers both paint from this one raster, the target mask is the same
pixels in both images (pixel-aligned pair), and the boxes / occlusion / truncation numbers written
to the annotation files are measured on exactly what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .background import World
from .scene import Scene
from .shapes import object_polygons

_SHIFT = 4  # sub-pixel precision of cv2.fillPoly
_WIDTH = {"person": 0.26, "vehicle": 1.0, "animal": 0.7}  # footprint width per unit, for shadows
_DRAW_ORDER_TOP = {"vehicle": 0, "animal": 1, "person": 2}


@dataclass
class ObjectRaster:
    object_id: int
    kind: str
    roi: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image (clipped, x1/y1 exclusive)
    labels: np.ndarray  # uint8 over the roi: part index + 1, 0 = not this object
    full_area: int  # pixels of the whole object, inside or outside the image
    in_area: int  # pixels inside the image
    visible_area: int  # pixels inside the image not hidden by an occluder or a closer object
    box: tuple[int, int, int, int] | None  # tight x, y, w, h of the in-image full mask
    full_box: tuple[float, float, float, float]  # unclipped extent x, y, w, h
    blur: tuple[float, float]  # motion-blur vector (px) applied to this object, (0, 0) = none

    @property
    def occlusion(self) -> float:
        """Share of the in-image object hidden by occluders / closer objects."""
        return 0.0 if self.in_area == 0 else 1.0 - self.visible_area / self.in_area

    @property
    def truncation(self) -> float:
        return 0.0 if self.full_area == 0 else 1.0 - self.in_area / self.full_area

    @property
    def visible_fraction(self) -> float:
        return 0.0 if self.full_area == 0 else self.visible_area / self.full_area


@dataclass
class FrameRaster:
    t: int
    matrix: np.ndarray
    objects: list[ObjectRaster]  # in draw order (back to front)
    owner: np.ndarray  # int16 (H, W): who is seen: object_id + 1, -1 = occluder, 0 = background
    occ_rgba: np.ndarray  # warped occluder layer (H, W, 4) uint8
    shadow: np.ndarray  # float32 (H, W) 0..1 shadow strength
    by_id: dict[int, ObjectRaster]


def _draw_order(scene: Scene, t: int) -> list[int]:
    if scene.target.view == "side":
        return sorted(range(len(scene.objects)), key=lambda i: (scene.objects[i].y[t], i))
    return sorted(range(len(scene.objects)), key=lambda i: (_DRAW_ORDER_TOP[scene.objects[i].kind], i))


def rasterize(scene: Scene, world: World, t: int) -> FrameRaster:
    """Rasterise frame t: masks, ownership, occluders, shadows, annotations."""
    w, h = scene.width, scene.height
    cam = scene.camera
    mat = cam.matrix(t, w, h)
    zoom = float(cam.zoom[t])
    owner = np.zeros((h, w), np.int16)
    shadow = np.zeros((h, w), np.float32)
    rasters: list[ObjectRaster] = []
    occ_rgba = cv2.warpAffine(world.occ_rgba, mat, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    occ = occ_rgba[..., 3] > 127
    has_occ = bool(occ.any())
    if has_occ:
        occ_base = cv2.warpAffine(world.occ_base, mat, (w, h), flags=cv2.INTER_NEAREST,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=-1e9)
    for i in _draw_order(scene, t):
        o = scene.objects[i]
        u, v = cam.to_image(o.x[t], o.y[t], t, w, h)
        size = float(o.size[t] * zoom)
        polys = object_polygons(o.kind, o.view, u, v, size, float(o.orient[t]), float(o.phase[t]), o.gait, o.build)
        pts = np.concatenate([p for _, p in polys])
        bx0, by0 = int(np.floor(pts[:, 0].min())) - 1, int(np.floor(pts[:, 1].min())) - 1
        bx1, by1 = int(np.ceil(pts[:, 0].max())) + 2, int(np.ceil(pts[:, 1].max())) + 2
        canvas = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
        off = np.array([bx0, by0], float)
        for part, p in polys:
            cv2.fillPoly(canvas, [np.round((p - off) * (1 << _SHIFT)).astype(np.int32)], int(part) + 1,
                         lineType=cv2.LINE_8, shift=_SHIFT)
        full_area = int(np.count_nonzero(canvas))
        rows, cols = np.nonzero(canvas.any(axis=1))[0], np.nonzero(canvas.any(axis=0))[0]
        if len(rows):
            full_box = (float(bx0 + cols[0]), float(by0 + rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1))
        else:
            full_box = (float(u), float(v), 0.0, 0.0)
        ix0, iy0, ix1, iy1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
        if ix1 > ix0 and iy1 > iy0:
            labels = canvas[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0]
        else:
            ix0, iy0, ix1, iy1 = 0, 0, 0, 0
            labels = np.zeros((0, 0), np.uint8)
        mask = labels > 0
        in_area = int(np.count_nonzero(mask))
        box = None
        if in_area:
            r = np.nonzero(mask.any(axis=1))[0]
            c = np.nonzero(mask.any(axis=0))[0]
            box = (ix0 + int(c[0]), iy0 + int(r[0]), int(c[-1] - c[0] + 1), int(r[-1] - r[0] + 1))
            draw = mask
            if has_occ:  # an occluder hides this object where its base is at or in front of the object's
                depth = o.y[t] if o.view == "side" else -1e8
                draw = mask & ~(occ[iy0:iy1, ix0:ix1] & (occ_base[iy0:iy1, ix0:ix1] >= depth))
            owner[iy0:iy1, ix0:ix1][draw] = o.object_id + 1
        # shadow on the ground
        if o.view == "side":
            sw = 0.5 * _WIDTH[o.kind] * size * 1.1
            cv2.ellipse(shadow, (int(round(u + scene.illumination.shadow_dx * size * 0.5)), int(round(v))),
                        (max(1, int(sw)), max(1, int(0.05 * size))), 0, 0, 360, 1.0, -1)
        else:
            d = np.array([0.12, 0.09]) * size
            for _, p in polys:
                cv2.fillPoly(shadow, [np.round((p + d) * (1 << _SHIFT)).astype(np.int32)], 1.0, shift=_SHIFT)
        # motion blur when the object moves fast in the image
        blur = (0.0, 0.0)
        if t > 0:
            pu, pv = cam.to_image(o.x[t - 1], o.y[t - 1], t - 1, w, h)
            du, dv = u - pu, v - pv
            if np.hypot(du, dv) > 0.025 * w:
                blur = (float(du) * 0.6, float(dv) * 0.6)
        rasters.append(ObjectRaster(o.object_id, o.kind, (ix0, iy0, ix1, iy1), labels, full_area, in_area, 0, box,
                                    full_box, blur))
    owner[occ & (owner == 0)] = -1
    for r in rasters:
        x0, y0, x1, y1 = r.roi
        if r.in_area:
            r.visible_area = int(np.count_nonzero(owner[y0:y1, x0:x1] == r.object_id + 1))
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.006 * w))
    return FrameRaster(t, mat, rasters, owner, occ_rgba, shadow, {r.object_id: r for r in rasters})


def motion_blur(img: np.ndarray, r: ObjectRaster, shape: tuple[int, int]) -> None:
    """Smear the object along its image motion (in place), blending by the smeared mask."""
    du, dv = r.blur
    length = float(np.hypot(du, dv))
    if length < 1.5 or not r.in_area:
        return
    h, w = shape
    k = int(min(2 * int(length) + 1, 31))
    pad = k // 2 + 1
    x0, y0, x1, y1 = r.roi
    X0, Y0, X1, Y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    cv2.line(kernel, (int(round(c - du / 2)), int(round(c - dv / 2))), (int(round(c + du / 2)), int(round(c + dv / 2))), 1.0, 1)
    kernel /= max(kernel.sum(), 1e-6)
    patch = img[Y0:Y1, X0:X1]
    mask = np.zeros(patch.shape[:2], np.float32)
    mask[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = (r.labels > 0)
    blurred = cv2.filter2D(patch, -1, kernel, borderType=cv2.BORDER_REFLECT)
    alpha = np.clip(cv2.filter2D(mask, -1, kernel) * 1.5, 0, 1)
    if patch.ndim == 3:
        alpha = alpha[..., None]
    img[Y0:Y1, X0:X1] = patch * (1 - alpha) + blurred * alpha
