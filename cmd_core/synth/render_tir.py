"""Thermal rendering: intensity from temperature, heat structure, optics blur, sensor noise,
fixed-pattern column noise, automatic gain control (AGC), thermal crossover.

TIR appearance comes only from part *temperatures* and material temperatures (little texture, no
colour): a cold colour twin vanishes, a camouflaged hot target stands out, and when the target's
temperature approaches its surroundings (crossover) it fades. AGC maps the frame's temperature range
(robust percentiles, smoothed over time, with occasional gain jumps) to 8 bits, so the same object
changes grey level when something hot enters the view.
"""

from __future__ import annotations

import cv2
import numpy as np

from .background import World
from .raster import FrameRaster, motion_blur
from .scene import Scene
from .textures import NoiseBank, fbm


class TIRRenderer:
    """Stateful per-sequence renderer: AGC state, fixed-pattern noise, object heat textures."""

    def __init__(self, scene: Scene, world: World):
        self.scene, self.world = scene, world
        w, h = scene.width, scene.height
        rng = np.random.default_rng(scene.sensor.fpn_seed)
        s = scene.sensor
        cols = rng.standard_normal(w).astype(np.float32) * s.column_noise
        rows = rng.standard_normal(h).astype(np.float32) * 0.3 * s.column_noise
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        self.fixed = (12.0 + cols[None, :] + rows[:, None] + 5.0 * (0.5 - r2)).astype(np.float32)
        self.textures = {}
        for o in scene.objects:
            trng = np.random.default_rng([o.texture_seed, 2])
            self.textures[o.object_id] = 0.5 * fbm(trng, 32, 32, 10, octaves=2)
        self.noise = NoiseBank(np.random.default_rng([s.fpn_seed, 2]), (h, w))
        self.lo: float | None = None
        self.hi: float | None = None
        self._bg_cache: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self.last_range: tuple[float, float] = (0.0, 1.0)

    def _background(self, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = mat.tobytes()
        if self._bg_cache is None or self._bg_cache[0] != key:
            size = (self.scene.width, self.scene.height)
            bg = cv2.warpAffine(self.world.temp, mat, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            occ = cv2.warpAffine(self.world.occ_temp, mat, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            self._bg_cache = (key, bg, occ)
        return self._bg_cache[1].copy(), self._bg_cache[2]

    def temperature(self, fr: FrameRaster) -> np.ndarray:
        """Scene temperature (deg C) seen by the sensor for one frame, before blur and AGC."""
        sc = self.scene
        temp, occ_temp = self._background(fr.matrix)
        if not sc.illumination.night:
            temp -= 2.5 * fr.shadow  # shaded ground is cooler
        for r in fr.objects:
            if not r.in_area:
                continue
            o = sc.objects[r.object_id]
            x0, y0, x1, y1 = r.roi
            m = r.labels > 0
            local = temp[y0:y1, x0:x1]
            ref = float(np.median(local[~m])) if (~m).any() else float(local.mean())
            temps = ref + (o.temps - ref) * float(o.contrast[fr.t])
            lut = np.concatenate([[0.0], temps]).astype(np.float32)
            hh, ww = r.labels.shape
            tex = cv2.resize(self.textures[r.object_id], (ww, hh), interpolation=cv2.INTER_LINEAR)
            seen = fr.owner[y0:y1, x0:x1] == r.object_id + 1
            local[seen] = lut[r.labels][seen] + tex[seen] * float(o.contrast[fr.t])
            if r.blur != (0.0, 0.0):
                motion_blur(temp, r, (sc.height, sc.width))
        occ = fr.owner == -1
        if occ.any():
            temp[occ] = occ_temp[occ]
        return temp

    def render(self, fr: FrameRaster) -> np.ndarray:
        """Grey uint8 image (H, W), white-hot."""
        s = self.scene.sensor
        temp = cv2.GaussianBlur(self.temperature(fr), (0, 0), s.blur)
        sample = temp[::4, ::4]
        lo, hi = np.percentile(sample, [s.agc_low, s.agc_high])
        pad = 0.12 * (hi - lo) + 0.5  # headroom so hot/cold objects are not clipped flat
        lo, hi = lo - pad, hi + pad
        if self.lo is None:
            self.lo, self.hi = float(lo), float(hi)
        else:
            self.lo = s.agc_alpha * self.lo + (1 - s.agc_alpha) * float(lo)
            self.hi = s.agc_alpha * self.hi + (1 - s.agc_alpha) * float(hi)
        span = max(self.hi - self.lo, 2.0)
        span_g = span * float(s.agc_gain[fr.t])
        lo_g = self.lo - 0.5 * (span_g - span)
        self.last_range = (lo_g, lo_g + span_g)
        x = (temp - np.float32(lo_g)) * np.float32(1.0 / span_g)
        np.clip(x, 0.0, 1.0, out=x)
        if s.gamma != 1.0:
            cv2.pow(x, s.gamma, x)
        img = x * np.float32(235.0)
        img += self.fixed
        img += self.noise.sample() * np.float32(s.noise)
        np.clip(img, 0, 255, out=img)
        return img.astype(np.uint8)
