"""Thermal rendering: intensity from temperature, heat structure, optics blur, sensor noise,
fixed-pattern column noise, automatic gain control (AGC), thermal crossover.

TIR appearance comes only from part *temperatures* and material temperatures (little texture, no
colour): a cold colour twin vanishes, a camouflaged hot target stands out, and when the target's
temperature approaches its surroundings (crossover) it fades. AGC maps the frame's temperature range
(robust percentiles, smoothed over time, with occasional gain jumps) to 8 bits, so the same object
changes grey level when something hot enters the view.

Since generator 1.2.0 two sensor-and-weather effects are drawn per sequence, from the sensor's own
seed (so the scene draws and every RGB frame stay as they were), both calibrated on real aligned
RGB-T pairs with `cmd-tir gap` (README, "How far is my TIR data from my RGB data?"):
- a thermal contrast scale (0.3-0.75) on every object's difference to its surround: humidity, wind,
  clothing and paint bring real objects much closer to the background than their core temperature
  says (synthetic targets stood out twice as much as PTB-TIR's: contrast 1.4-1.8 against 0.75);
- fine heat structure that the visible image does not show (moisture, sun flecks, emissivity), and
  digital detail enhancement (DDE), the high-pass boost of uncooled cores (FLIR's DDE): real TIR has
  two to four times the high-frequency share the plain optics gave (0.036-0.087 against 0.02), and
  its edges follow the visible ones less than DDE alone would make them.
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
        look = np.random.default_rng([s.fpn_seed, 3])
        self.contrast_scale = float(look.uniform(0.3, 0.75))
        self.dde_gain = float(look.uniform(0.3, 1.0))
        self.dde_sigma = float(look.uniform(1.5, 3.0) * max(1.0, w / 320))
        # fine heat structure the visible image does not show (moisture, sun flecks, surface emissivity)
        wh, ww = world.temp.shape
        grain = float(look.uniform(0.8, 2.0)) * fbm(look, wh, ww, 4.0 * max(1.0, w / 320), octaves=2)
        self.world_temp = world.temp + grain
        self.lo: float | None = None
        self.hi: float | None = None
        self._bg_cache: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self.last_range: tuple[float, float] = (0.0, 1.0)

    def _background(self, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = mat.tobytes()
        if self._bg_cache is None or self._bg_cache[0] != key:
            size = (self.scene.width, self.scene.height)
            bg = cv2.warpAffine(self.world_temp, mat, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
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
            k = float(o.contrast[fr.t]) * self.contrast_scale
            temps = ref + (o.temps - ref) * k
            lut = np.concatenate([[0.0], temps]).astype(np.float32)
            hh, ww = r.labels.shape
            tex = cv2.resize(self.textures[r.object_id], (ww, hh), interpolation=cv2.INTER_LINEAR)
            seen = fr.owner[y0:y1, x0:x1] == r.object_id + 1
            local[seen] = lut[r.labels][seen] + tex[seen] * k
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
        x += np.float32(self.dde_gain) * (x - cv2.GaussianBlur(x, (0, 0), self.dde_sigma))
        np.clip(x, 0.0, 1.0, out=x)
        img = x * np.float32(235.0)
        img += self.fixed
        img += self.noise.sample() * np.float32(s.noise)
        np.clip(img, 0, 255, out=img)
        return img.astype(np.uint8)
