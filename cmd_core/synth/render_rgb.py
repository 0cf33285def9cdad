"""Visible-light rendering: colour, texture, cast shadows, illumination changes, RGB sensor noise.

RGB appearance comes from the part *colours* and the material textures; it knows nothing about
temperature, so a hot target painted in background colours (camouflage) or at night is hard to see,
while a cold colour twin looks exactly like the target.
"""

from __future__ import annotations

import cv2
import numpy as np

from .background import World
from .raster import FrameRaster, motion_blur
from .scene import Scene
from .textures import NoiseBank, fbm


class RGBRenderer:
    """Stateful per-sequence renderer (textures and vignetting are computed once)."""

    def __init__(self, scene: Scene, world: World):
        self.scene, self.world = scene, world
        w, h = scene.width, scene.height
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        self.vignette = (1.0 - 0.18 * r2).astype(np.float32)[..., None]
        self.textures = {}
        for o in scene.objects:
            rng = np.random.default_rng(o.texture_seed)
            self.textures[o.object_id] = (0.10 * fbm(rng, 48, 48, 6, octaves=3) + 0.05 * fbm(rng, 48, 48, 2, octaves=1))
        self.colours = {o.object_id: o.colours.astype(np.float32) for o in scene.objects}
        self.camouflaged = False
        self.noise = NoiseBank(np.random.default_rng([scene.sensor.fpn_seed, 1]), (h, w, 3))
        self._bg_cache: tuple[bytes, np.ndarray] | None = None

    def _background(self, mat: np.ndarray) -> np.ndarray:
        key = mat.tobytes()
        if self._bg_cache is not None and self._bg_cache[0] == key:
            return self._bg_cache[1].copy()
        bg = cv2.warpAffine(self.world.rgb, mat, (self.scene.width, self.scene.height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
        self._bg_cache = (key, bg)
        return bg.copy()

    def render(self, fr: FrameRaster) -> np.ndarray:
        """RGB uint8 image (H, W, 3) for one rasterised frame."""
        sc = self.scene
        ill = sc.illumination
        img = self._background(fr.matrix)
        ys, xs = np.nonzero(fr.shadow.any(axis=1))[0], np.nonzero(fr.shadow.any(axis=0))[0]
        if len(ys):
            sy, sx = slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1)
            img[sy, sx] *= (1.0 - (0.2 if ill.night else 0.5) * fr.shadow[sy, sx])[..., None]
        if sc.scenario.get("camouflage") and not self.camouflaged:
            r = fr.by_id.get(0)
            if r is not None and r.in_area:
                x0, y0, x1, y1 = r.roi
                m = r.labels == 0
                ring = img[y0:y1, x0:x1][m] if m.any() else img[y0:y1, x0:x1].reshape(-1, 3)
                local = ring.mean(axis=0)
                c = self.colours[0]
                self.colours[0] = (0.82 * local + 0.18 * c * local.mean() / max(c.mean(), 1.0)).astype(np.float32)
                self.camouflaged = True
        for r in fr.objects:
            if not r.in_area:
                continue
            x0, y0, x1, y1 = r.roi
            lut = np.vstack([np.zeros((1, 3), np.float32), self.colours[r.object_id]])
            hh, ww = r.labels.shape
            tex = cv2.resize(self.textures[r.object_id], (ww, hh), interpolation=cv2.INTER_LINEAR)
            # simple top-lit shading: lighter at the top of the object, darker at the bottom
            fy0 = r.full_box[1]
            grad = 1.08 - 0.25 * np.clip((np.arange(y0, y1, dtype=np.float32) - fy0) / max(r.full_box[3], 1.0), 0, 1)
            shade = (1.0 + tex) * grad[:, None]
            col = lut[r.labels] * shade[..., None]
            m = fr.owner[y0:y1, x0:x1] == r.object_id + 1
            img[y0:y1, x0:x1][m] = col[m]
            if r.blur != (0.0, 0.0):
                motion_blur(img, r, (sc.height, sc.width))
        occ = fr.owner == -1
        if occ.any():
            alpha = fr.occ_rgba[..., 3][occ].astype(np.float32)[:, None] / 255.0
            img[occ] = fr.occ_rgba[..., :3][occ].astype(np.float32) / alpha  # undo edge darkening of the warp
        img *= self.vignette * (ill.gain[fr.t] * ill.cast).astype(np.float32)
        img += self.noise.sample() * np.float32(ill.noise)
        img = cv2.GaussianBlur(img, (0, 0), 0.6)
        np.clip(img, 0, 255, out=img)
        return img.astype(np.uint8)
