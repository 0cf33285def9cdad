"""Per-sequence scene description, sampled from one numpy Generator.

A `Scene` says everything that happens in a sequence, independent of how it is drawn: the world
(layout, materials, occluders), the camera path (static / pan / drone / hand-held), the moving
objects (kind, trajectory, size, gait, part colours *and* part temperatures), the illumination over
time, the thermal sensor (blur, noise, fixed-pattern noise, AGC behaviour) and the scenario flags
that make a sequence hard on purpose (colour twin, thermal twin, thermal crossover, occlusion,
camouflage, out of view, fast motion, scale change). Renderers turn it into frames; the attribute
code reads it back to label the sequence.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .background import LAYOUTS, Occluder, WorldSpec, ground_top, layout_unit
from .shapes import KINDS, PARTS, RELATIVE_SIZE
from .textures import smooth_series

CAMERA_MODELS = ("static", "pan", "drone", "handheld")
SCENARIOS = ("colour_twin", "thermal_twin", "crossover", "occlusion", "camouflage",
             "out_of_view", "fast_motion", "scale_change", "agc_jump")

# Probability of each scenario per split (labelled evaluation splits are made harder on purpose).
# Since generator 1.2.0 the paired and TIR splits follow real RGB-T video: look-alikes of one class are
# common in TIR (same temperature) and rare in RGB (same colours), and targets seldom wear the
# background's colours; rgb_train (the teacher's data) is unchanged.
_SCENARIO_P = {
    "rgb_train": dict(colour_twin=0.2, thermal_twin=0.1, crossover=0.0, occlusion=0.3, camouflage=0.1,
                      out_of_view=0.15, fast_motion=0.15, scale_change=0.3, agc_jump=0.0),
    "rgbt_train": dict(colour_twin=0.1, thermal_twin=0.4, crossover=0.2, occlusion=0.3, camouflage=0.05,
                       out_of_view=0.15, fast_motion=0.15, scale_change=0.3, agc_jump=0.2),
    "tir_eval": dict(colour_twin=0.15, thermal_twin=0.55, crossover=0.4, occlusion=0.4, camouflage=0.1,
                     out_of_view=0.2, fast_motion=0.2, scale_change=0.35, agc_jump=0.3),
    "rgbt_eval": dict(colour_twin=0.15, thermal_twin=0.55, crossover=0.4, occlusion=0.4, camouflage=0.1,
                      out_of_view=0.2, fast_motion=0.2, scale_change=0.35, agc_jump=0.3),
}
_CAMERA_P = (0.35, 0.25, 0.2, 0.2)


@dataclass
class Camera:
    """World -> image map per frame: u = zoom * (x - cx) + W/2, v = zoom * (y - cy) + H/2."""

    model: str
    cx: np.ndarray
    cy: np.ndarray
    zoom: np.ndarray

    def matrix(self, t: int, width: int, height: int) -> np.ndarray:
        z = float(self.zoom[t])
        return np.array([[z, 0.0, width / 2 - z * self.cx[t]], [0.0, z, height / 2 - z * self.cy[t]]], np.float32)

    def to_image(self, x, y, t: int, width: int, height: int):
        z = self.zoom[t]
        return z * (x - self.cx[t]) + width / 2, z * (y - self.cy[t]) + height / 2

    def to_world(self, u, v, t: int, width: int, height: int):
        z = self.zoom[t]
        return self.cx[t] + (u - width / 2) / z, self.cy[t] + (v - height / 2) / z


@dataclass
class SceneObject:
    """One moving (or parked) object; arrays are per frame, in world coordinates."""

    object_id: int
    kind: str
    role: str  # target | other | colour_twin | thermal_twin | parked
    view: str  # side | top
    x: np.ndarray  # anchor: ground contact (side) or centre (top)
    y: np.ndarray
    size: np.ndarray  # world px per shape unit
    orient: np.ndarray  # facing sign (side) or heading in rad (top)
    phase: np.ndarray  # gait phase
    gait: float
    build: float
    colours: np.ndarray  # (n_parts, 3) RGB 0..255
    temps: np.ndarray  # (n_parts,) deg C
    contrast: np.ndarray  # per-frame thermal contrast factor (1 = normal, ~0 = crossover)
    texture_seed: int


@dataclass
class Illumination:
    night: bool
    gain: np.ndarray  # per-frame global brightness
    cast: np.ndarray  # (3,) RGB colour cast
    shadow_dx: float  # shadow direction (fraction of object size)
    noise: float  # RGB sensor noise std (levels)


@dataclass
class ThermalSensor:
    blur: float  # optics blur sigma, px
    noise: float  # temporal noise std, grey levels
    column_noise: float  # fixed-pattern column offsets std, grey levels
    agc_alpha: float  # AGC smoothing (0 = instant)
    agc_low: float  # lower percentile
    agc_high: float  # upper percentile
    agc_gain: np.ndarray  # per-frame multiplicative range change (AGC re-ranging / gain jumps)
    gamma: float
    fpn_seed: int


@dataclass
class Scene:
    split: str
    width: int
    height: int
    n_frames: int
    unit: float
    world: WorldSpec
    camera: Camera
    objects: list[SceneObject]
    illumination: Illumination
    sensor: ThermalSensor
    scenario: dict[str, bool]
    occlusion_frame: int | None = None
    crossover_frame: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> SceneObject:
        return self.objects[0]

    def summary(self) -> dict[str, Any]:
        """Small JSON-able description for meta.json."""
        return {
            "kind": self.target.kind,
            "view": self.target.view,
            "camera": self.camera.model,
            "layout": self.world.layout,
            "night": bool(self.illumination.night),
            "ambient_c": round(float(self.world.ambient), 2),
            "scenario": {k: bool(v) for k, v in self.scenario.items()},
            "objects": [{"object_id": o.object_id, "kind": o.kind, "role": o.role,
                         "mean_temp_c": round(float(np.mean(o.temps)), 2),
                         "mean_rgb": [round(float(c), 1) for c in o.colours.mean(axis=0)]}
                        for o in self.objects],
        }


# --------------------------------------------------------------------------- appearance


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0


def _random_cloth(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.35:  # greys / black / white
        return np.full(3, rng.uniform(25, 230)) * (1 + rng.normal(0, 0.03, 3))
    return _hsv(rng.random(), rng.uniform(0.35, 0.9), rng.uniform(0.25, 0.9))


def sample_colours(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Part colours (RGB) for a new object of `kind`."""
    n = len(PARTS[kind])
    c = np.zeros((n, 3))
    if kind == "person":
        skin = _hsv(rng.uniform(0.04, 0.08), rng.uniform(0.3, 0.6), rng.uniform(0.35, 0.95))
        shirt, pants = _random_cloth(rng), _random_cloth(rng) * rng.uniform(0.5, 0.9)
        hair = _hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.7), rng.uniform(0.08, 0.6))
        sleeves = skin if rng.random() < 0.4 else shirt
        c[:] = [pants, sleeves, shirt, pants, sleeves, skin, hair]
    elif kind == "vehicle":
        palette = [(235, 235, 232), (30, 30, 34), (168, 170, 175), (170, 28, 30), (30, 60, 140),
                   (90, 92, 96), (200, 180, 40), (40, 90, 60)]
        body = np.array(palette[rng.integers(0, len(palette))], float) * rng.uniform(0.85, 1.1)
        glass = np.array([45, 55, 68]) * rng.uniform(0.8, 1.3)
        tyre = np.array([28, 28, 30.0])
        c[:] = [body, body * 0.97, body * 1.02, glass, tyre, tyre, (70, 70, 72)]
    elif kind == "animal":
        fur = _hsv(rng.uniform(0.05, 0.1), rng.uniform(0.2, 0.7), rng.uniform(0.15, 0.75))
        c[:] = [fur * 0.85, fur, fur * 0.9, fur * 0.8, fur * 1.05]
    return np.clip(c, 0, 255)


def sample_temps(kind: str, rng: np.random.Generator, ambient: float, running: bool = True) -> np.ndarray:
    """Part temperatures (deg C): warm skin/fur, clothing between skin and air, hot engine/wheels."""
    if kind == "person":
        skin = rng.uniform(32.5, 35.0)
        cloth = ambient + rng.uniform(0.45, 0.7) * (skin - ambient)
        legs = ambient + rng.uniform(0.35, 0.55) * (skin - ambient)
        arms = ambient + rng.uniform(0.6, 0.85) * (skin - ambient)
        hair = ambient + rng.uniform(0.55, 0.8) * (skin - ambient)
        return np.array([legs, arms, cloth, legs, arms, skin, hair])
    if kind == "vehicle":
        if not running:
            return ambient + np.array([0.5, 0.5, 0.5, -3.0, 0.0, 0.0, 0.0]) + rng.normal(0, 0.3, 7)
        engine = ambient + rng.uniform(25, 45)
        wheels = ambient + rng.uniform(10, 22)
        return np.array([ambient + rng.uniform(2, 6), engine, ambient + rng.uniform(3, 7),
                         ambient - rng.uniform(2, 5), wheels, wheels, ambient + rng.uniform(40, 70)])
    if kind == "animal":
        core = rng.uniform(37, 39)
        body = ambient + rng.uniform(0.45, 0.65) * (core - ambient)
        return np.array([ambient + 0.45 * (core - ambient), body, ambient + 0.5 * (core - ambient),
                         ambient + 0.35 * (core - ambient), ambient + 0.8 * (core - ambient)])
    raise ValueError(kind)


# --------------------------------------------------------------------------- camera


def _sample_camera(model: str, rng: np.random.Generator, n: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=float)
    if model == "static":
        return np.zeros(n), np.zeros(n), np.ones(n)
    if model == "pan":
        v = rng.uniform(0.004, 0.010) * w * rng.choice([-1, 1])
        v = v * min(1.0, 1.2 * w / max(1.0, abs(v) * n))  # keep the pan within ~1.2 image widths
        cx = v * t
        cy = 0.004 * h * np.sin(t * rng.uniform(0.3, 0.8)) + smooth_series(rng, n, 15, 0.004 * h)
        zoom = 1.0 + rng.uniform(0.0, 0.15) * t / max(1, n - 1)
        return cx, cy, zoom
    if model == "drone":
        zoom = np.clip(np.exp(smooth_series(rng, n, 40, 0.18)) * rng.uniform(0.95, 1.25), 0.75, 1.8)
        ang = rng.uniform(0, 2 * np.pi)
        sp = rng.uniform(0.002, 0.006) * w
        sp = sp * min(1.0, 0.8 * w / max(1.0, sp * n))
        cx = sp * np.cos(ang) * t + smooth_series(rng, n, 30, 0.03 * w)
        cy = sp * np.sin(ang) * t + smooth_series(rng, n, 30, 0.03 * h)
        return cx, cy, zoom
    if model == "handheld":
        amp = rng.uniform(0.006, 0.014) * w
        jx = np.cumsum(rng.normal(0, amp, n)) * 0.5
        jy = np.cumsum(rng.normal(0, amp, n)) * 0.5
        jx -= np.linspace(0, jx[-1], n)  # keep the walk bounded
        jy -= np.linspace(0, jy[-1], n)
        cx = jx + rng.normal(0, amp, n) + smooth_series(rng, n, 40, 0.02 * w)
        cy = jy + rng.normal(0, amp, n)
        zoom = 1.0 + 0.01 * rng.standard_normal(n)
        return cx, cy, zoom
    raise ValueError(f"unknown camera model {model!r}")


# --------------------------------------------------------------------------- trajectories


_SPEED = {"person": (0.005, 0.011), "vehicle": (0.010, 0.028), "animal": (0.008, 0.022)}  # x image width


def _simulate(rng: np.random.Generator, cam: Camera, n: int, w: int, h: int, start_uv: tuple[float, float],
              speed_img: float, goal_region, steer: float, ground_world: float | None,
              forced_goals: list[tuple[int, int, float, float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Goal-seeking motion: waypoints are drawn in image coordinates so objects stay mostly in view."""
    x, y = cam.to_world(start_uv[0], start_uv[1], 0, w, h)
    speed = speed_img / cam.zoom[0]
    ang = rng.uniform(0, 2 * np.pi)
    vx, vy = speed * np.cos(ang), speed * np.sin(ang) * 0.3
    goal_uv = goal_region(rng)
    xs, ys = np.zeros(n), np.zeros(n)
    for t in range(n):
        xs[t], ys[t] = x, y
        forced = None
        for f0, f1, gu, gv in forced_goals or ():
            if f0 <= t < f1:
                forced = (gu, gv)
        if forced is not None:
            gx, gy = cam.to_world(forced[0], forced[1], t, w, h)
            boost = 1.6
        else:
            gx, gy = cam.to_world(goal_uv[0], goal_uv[1], t, w, h)
            boost = 1.0
        dx, dy = gx - x, gy - y
        d = float(np.hypot(dx, dy))
        sp = speed * boost
        if d < 2.5 * sp and forced is None:
            goal_uv = goal_region(rng)
        if d > 1e-6:
            vx = (1 - steer) * vx + steer * sp * dx / d
            vy = (1 - steer) * vy + steer * sp * dy / d
        x += vx + rng.normal(0, 0.05 * speed)
        y += vy + rng.normal(0, 0.05 * speed)
        if ground_world is not None and y < ground_world:
            y, vy = ground_world, abs(vy)
    return xs, ys


def _orient(view: str, xs: np.ndarray, ys: np.ndarray, initial: float) -> np.ndarray:
    vx = np.gradient(xs) if len(xs) > 1 else np.zeros_like(xs)
    vy = np.gradient(ys) if len(ys) > 1 else np.zeros_like(ys)
    out = np.zeros(len(xs))
    if view == "side":
        facing = initial
        thr = 0.15 * (np.median(np.hypot(vx, vy)) + 1e-6)
        for t in range(len(xs)):
            if abs(vx[t]) > thr:
                facing = 1.0 if vx[t] > 0 else -1.0
            out[t] = facing
        return out
    heading = np.arctan2(vy, vx)
    return np.unwrap(heading)


# --------------------------------------------------------------------------- scene
#
# `sample_scene` draws every choice of a sequence from ONE numpy Generator, in a fixed order. The order is
# part of the benchmark's definition: moving, adding or dropping a single draw changes every scene (and every
# frame) after it, so the stages below must keep drawing exactly what they draw, in the order they draw it.


_SIDE_OCCLUDERS = ("tree", "pole", "sign", "bush", "wall")


def sample_scene(rng: np.random.Generator, split: str, width: int, height: int, n_frames: int,
                 force: Mapping[str, Any] | None = None) -> Scene:
    """Sample a complete scene. `force` can pin choices (tests, demos): any scenario flag,
    'camera', 'kind', 'night', 'n_objects'."""
    return _SceneSampler(rng, split, width, height, n_frames, force).sample()


class _SceneSampler:
    """The state one `sample_scene` call shares between its stages.

    `sample` runs the stages in draw order; each stage reads what the earlier ones set (scenario flags,
    camera, ground line, target) and draws from `rng` only what it documents.
    """

    # set by _draw_scenario
    scenario: dict[str, bool]
    cam_model: str
    view: str  # "top" (drone) or "side"
    layout: str
    night: bool
    ambient: float
    kind: str  # the target's kind
    # set by _camera_and_world
    cam: Camera
    unit: float
    gtop: float | None  # world y of the top of the ground (side views), None from above
    horizon: float  # world y at which perspective shrinks objects to nothing (side views)
    # set by _add_target
    start: tuple[float, float]  # the target's first image position
    t_size: float  # the target's size at frame 0, image px per shape unit

    def __init__(self, rng: np.random.Generator, split: str, width: int, height: int, n_frames: int,
                 force: Mapping[str, Any] | None) -> None:
        self.rng = rng
        self.split = split
        self.force = dict(force or {})
        self.w, self.h, self.n = int(width), int(height), int(n_frames)
        self.objects: list[SceneObject] = []

    def sample(self) -> Scene:
        """All stages, in the order they draw from `rng`."""
        self._draw_scenario()
        world = self._camera_and_world()
        target = self._add_target()
        if self.scenario["colour_twin"]:
            self._add_colour_twin(target)
        if self.scenario["thermal_twin"]:
            self._add_thermal_twin(target)
        self._add_traffic()
        world.occluders, occ_frame = self._occluders(target)
        cross_frame = None
        if self.scenario["crossover"]:
            cross_frame, target.contrast = _crossover_contrast(self.rng, self.n)
        illum = _sample_illumination(self.rng, self.night, self.n)
        sensor = _sample_sensor(self.rng, self.scenario["agc_jump"], self.w, self.n)
        return Scene(self.split, self.w, self.h, self.n, self.unit, world, self.cam, self.objects, illum, sensor,
                     self.scenario, occ_frame, cross_frame)

    # ---- scenario draw

    def _draw_scenario(self) -> None:
        """The sequence's coarse choices: scenario flags (per-split odds), camera model, view, layout,
        day or night, air temperature and the target's kind; `force` overrides some of them (a forced
        scenario flag is still drawn first, so forcing one flag leaves the rest of the stream alone)."""
        rng, force = self.rng, self.force
        probs = _SCENARIO_P.get(self.split, _SCENARIO_P["tir_eval"])
        scenario = {k: bool(rng.random() < probs[k]) for k in SCENARIOS}
        for k in SCENARIOS:
            if k in force:
                scenario[k] = bool(force[k])
        self.scenario = scenario
        self.cam_model = force.get("camera") or CAMERA_MODELS[int(rng.choice(len(CAMERA_MODELS), p=_CAMERA_P))]
        self.view = "top" if self.cam_model == "drone" else "side"
        self.layout = "aerial" if self.view == "top" else str(rng.choice([l for l in LAYOUTS if l != "aerial"]))
        self.night = bool(force["night"]) if "night" in force else bool(rng.random() < 0.3)
        self.ambient = rng.uniform(2, 16) if self.night else rng.uniform(12, 30)
        self.kind = force.get("kind") or str(rng.choice(KINDS))

    # ---- camera and world

    def _camera_and_world(self) -> WorldSpec:
        """The camera path, a world just large enough for everything the camera sees (plus a margin),
        its ground line, and the camera lifted where needed so that the ground is in view."""
        rng, w, h, n = self.rng, self.w, self.h, self.n
        cx, cy, zoom = _sample_camera(self.cam_model, rng, n, w, h)
        cx, cy, ww, wh = _fit_world(cx, cy, zoom, w, h)
        cam = self.cam = Camera(self.cam_model, cx, cy, zoom)
        self.unit = layout_unit(w, h)
        world_seed = int(rng.integers(0, 2**31 - 1))
        gtop = self.gtop = ground_top(self.layout, world_seed, ww, wh, self.unit) if self.view == "side" else None
        # the ground must be visible: if the layout's ground starts low in the view, lift the camera
        if gtop is not None:
            top_img = cam.to_image(0.0, gtop, 0, w, h)[1]
            if top_img > 0.55 * h:
                shift = (top_img - 0.4 * h) / zoom[0]
                cam.cy = cam.cy + shift
        self.horizon = (gtop if gtop is not None else 0.0) - 0.35 * h / zoom[0]
        return WorldSpec(self.layout, ww, wh, world_seed, self.night, float(self.ambient), float(gtop or 0.0))

    # ---- object helpers (shared by the target, the twins and other traffic)

    def _base_size(self, k: str) -> float:
        """A size (image px per shape unit at frame 0) for a new object of kind `k`; draws 1 number."""
        if self.view == "top":
            s = self.rng.uniform(0.16, 0.26) * self.h
        else:
            s = self.rng.uniform(0.24, 0.45) * self.h
        s *= RELATIVE_SIZE[k]
        return float(min(s, 0.55 * self.w if k == "vehicle" else 0.8 * self.h))

    def _ground_img(self, t: int) -> float:
        """Image row of the ground line at frame `t` (0 from above)."""
        if self.gtop is None:
            return 0.0
        return float(self.cam.to_image(0.0, self.gtop, t, self.w, self.h)[1])

    def _region_for(self, size_img: float, k: str):
        """A sampler of image positions an object of this size and kind may stand at or walk to: on the
        ground and low enough for its body to fit (side views), away from the borders (from above).
        Draws nothing itself; each call of the returned sampler draws 2 numbers (u, then v)."""
        w, h = self.w, self.h
        g0 = self._ground_img(0)
        if self.view == "side":
            vmin = max(g0 + 0.04 * h, 0.92 * size_img * (0.45 if k == "vehicle" else 1.0), 0.3 * h)
            vmax = 0.97 * h
            if vmin > vmax - 2:
                vmin = vmax - 0.15 * h
        else:
            vmin, vmax = 0.15 * h, 0.85 * h
        return lambda r: (float(r.uniform(0.12 * w, 0.88 * w)), float(r.uniform(vmin, vmax)))

    def _make_object(self, oid: int, k: str, role: str, start_uv, size_img: float, speed_img: float,
                     forced_goals=None) -> SceneObject:
        """One object: its path (goal-seeking, or parked when `speed_img` is 0), per-frame size
        (perspective, a slow drift and, for a scale-change target, a zoom-like trend), facing, gait
        phase, build, part colours and temperatures, and a texture seed."""
        rng, cam, w, h, n, view = self.rng, self.cam, self.w, self.h, self.n, self.view
        ground_w = (self.gtop + 0.02 * h) if self.gtop is not None else None
        steer = 0.06 if k == "vehicle" else 0.12
        region = self._region_for(size_img, k)
        if speed_img > 0:
            xs, ys = _simulate(rng, cam, n, w, h, start_uv, speed_img, region, steer, ground_w, forced_goals)
        else:
            xw, yw = cam.to_world(start_uv[0], start_uv[1], 0, w, h)
            xs, ys = np.full(n, xw), np.full(n, yw)
        size_w = size_img / cam.zoom[0]
        if view == "side":
            p = np.clip((ys - self.horizon) / max(1e-3, ys[0] - self.horizon), 0.35, 2.5)
        else:
            p = np.ones(n)
        drift = np.exp(smooth_series(rng, n, 40, 0.06))
        if role == "target" and self.scenario["scale_change"]:
            drift = drift * np.exp(np.linspace(0, rng.choice([-1, 1]) * np.log(rng.uniform(2.3, 3.2)), n))
        size = size_w * p * drift
        orient = _orient(view, xs, ys, float(rng.choice([-1.0, 1.0])))
        speed_series = np.hypot(np.gradient(xs), np.gradient(ys)) if n > 1 else np.zeros(n)
        gait = {"person": 0.45, "animal": 0.5, "vehicle": 0.0}[k] if speed_img > 0 else 0.0
        phase = rng.uniform(0, 2 * np.pi) + np.cumsum(2 * np.pi * speed_series / np.maximum(0.9 * size, 1e-3))
        build = float(rng.uniform(0.9, 1.15)) if k != "vehicle" else float(rng.uniform(0.95, 1.35))
        colours = sample_colours(k, rng)
        running = role != "parked"
        temps = sample_temps(k, rng, self.ambient, running=running)
        return SceneObject(oid, k, role, view, xs, ys, size, orient, phase, gait, build, colours, temps,
                           np.ones(n), int(rng.integers(0, 2**31 - 1)))

    # ---- target

    def _add_target(self) -> SceneObject:
        """The tracked object (object 0): starts near the middle of the first frame; faster under
        fast_motion; under out_of_view it is steered out of the image for a while and back."""
        rng, w, kind = self.rng, self.w, self.kind
        t_size = self.t_size = self._base_size(kind)
        region = self._region_for(t_size, kind)
        start = region(rng)
        start = self.start = (float(np.clip(start[0], 0.3 * w, 0.7 * w)), start[1])
        lo, hi = _SPEED[kind]
        speed = rng.uniform(lo, hi) * w
        if self.scenario["fast_motion"]:
            speed = max(3.0 * speed, rng.uniform(0.035, 0.05) * w)
        forced = []
        if self.scenario["out_of_view"]:
            forced.append(self._exit_goal())
            speed = max(speed, 0.02 * w)
        target = self._make_object(0, kind, "target", start, t_size, speed, forced)
        self.objects.append(target)
        return target

    def _exit_goal(self) -> tuple[int, int, float, float]:
        """A forced goal (first frame, end frame, u, v) just outside the image: left or right, or from
        above also top or bottom, for 12-25 % of the sequence starting 30-55 % in."""
        rng, w, h, n, t_size = self.rng, self.w, self.h, self.n, self.t_size
        t_out = int(rng.uniform(0.3, 0.55) * n)
        dur = max(3, int(rng.uniform(0.12, 0.25) * n))
        side_u = -0.6 * t_size if rng.random() < 0.5 else w + 0.6 * t_size
        v_goal = self.start[1] if self.view == "side" else float(rng.uniform(0.3, 0.7) * h)
        if self.view == "top" and rng.random() < 0.5:
            side_u, v_goal = float(rng.uniform(0.3, 0.7) * w), (-0.6 * t_size if rng.random() < 0.5 else h + 0.6 * t_size)
        return (t_out, t_out + dur, side_u, v_goal)

    # ---- look-alike distractors and other traffic

    def _place_near_target(self, k: str, size_img: float, role: str, speed_img: float) -> SceneObject:
        """A new object a quarter to 40 % of the image width to one side of the target's start."""
        rng, w, h, start = self.rng, self.w, self.h, self.start
        su = float(np.clip(start[0] + rng.choice([-1, 1]) * rng.uniform(0.25, 0.4) * w, 0.08 * w, 0.92 * w))
        # the region draw is discarded (its `* 0`) but kept: it is part of the draw order
        sv = float(np.clip(start[1] + rng.normal(0, 0.05 * h), self._region_for(size_img, k)(rng)[1] * 0 + 0.3 * h,
                           0.97 * h))
        return self._make_object(len(self.objects), k, role, (su, sv), size_img, speed_img)

    def _add_colour_twin(self, target: SceneObject) -> None:
        """Same kind, size, colours and build as the target, but cold (a parked car, a statue or
        mannequin, a shaded cut-out): a trap in RGB that thermal resolves. Parked 30 % of the time."""
        rng, w = self.rng, self.w
        lo, hi = _SPEED[self.kind]
        twin = self._place_near_target(self.kind, self.t_size * rng.uniform(0.9, 1.1), "colour_twin",
                                       rng.uniform(lo, hi) * w * (0.0 if rng.random() < 0.3 else 1.0))
        twin.colours = target.colours.copy()
        twin.build = target.build
        twin.temps = target.temps - rng.uniform(8.0, 14.0)
        self.objects.append(twin)

    def _add_thermal_twin(self, target: SceneObject) -> None:
        """Same kind, size and part temperatures as the target, in clearly different colours: a trap in
        thermal that RGB resolves."""
        rng, w = self.rng, self.w
        lo, hi = _SPEED[self.kind]
        twin = self._place_near_target(self.kind, self.t_size * rng.uniform(0.9, 1.1), "thermal_twin",
                                       rng.uniform(lo, hi) * w)
        twin.temps = target.temps.copy()
        for _ in range(20):  # different colours, far from the target's
            c = sample_colours(self.kind, rng)
            if np.abs(c.mean(0) - target.colours.mean(0)).sum() > 90:
                break
        twin.colours = c
        self.objects.append(twin)

    def _add_traffic(self) -> None:
        """Unrelated objects of any kind anywhere in view (vehicles parked 30 % of the time): 1-4 objects
        in all in rgbt_train, 0-2 more elsewhere. The count is drawn even when `force` pins it."""
        rng, force = self.rng, self.force
        if self.split == "rgbt_train":
            drawn = int(rng.integers(1, 5))
            n_other = max(0, int(force.get("n_objects", drawn)) - len(self.objects))
        else:
            drawn = int(rng.integers(0, 3))
            n_other = int(force.get("n_objects", drawn))
        for _ in range(n_other):
            k = str(rng.choice(KINDS))
            parked = k == "vehicle" and rng.random() < 0.3
            s = self._base_size(k)
            r = self._region_for(s, k)(rng)
            lo2, hi2 = _SPEED[k]
            obj = self._make_object(len(self.objects), k, "parked" if parked else "other", r, s,
                                    0.0 if parked else rng.uniform(lo2, hi2) * self.w)
            self.objects.append(obj)

    # ---- occluders

    def _occluders(self, target: SceneObject) -> tuple[list[Occluder], int | None]:
        """Under occlusion one occluder on the target's path (and the frame it is reached), then 0-2
        scattered elsewhere."""
        occluders: list[Occluder] = []
        occ_frame = None
        if self.scenario["occlusion"]:
            occ, occ_frame = self._path_occluder(target)
            occluders.append(occ)
        occluders.extend(self._scattered_occluders(target))
        return occluders, occ_frame

    def _path_occluder(self, target: SceneObject) -> tuple[Occluder, int]:
        """An occluder where the target is at a frame 35-80 % in (preferring a frame by which it has moved
        off its start), sized to hide it: tree/wall/bush/sign from the side, canopy from above."""
        rng, h, kind = self.rng, self.h, self.kind
        for _ in range(10):
            tf = int(rng.uniform(0.35, 0.8) * self.n)
            if abs(target.x[tf] - target.x[0]) > 0.8 * target.size[0] * (0.5 if kind != "vehicle" else 1.2):
                break
        if self.view == "side":
            ok = str(rng.choice(("tree", "wall", "bush", "sign")))
            s = target.size[tf] * (rng.uniform(1.2, 1.6) if ok in ("tree", "sign") else rng.uniform(0.7, 1.0))
            if kind == "vehicle":
                s *= 0.6
            return Occluder(ok, float(target.x[tf]), float(target.y[tf] + 0.01 * h), float(s)), tf
        return Occluder("canopy", float(target.x[tf]), float(target.y[tf]),
                        float(target.size[tf] * rng.uniform(0.9, 1.3))), tf

    def _scattered_occluders(self, target: SceneObject) -> list[Occluder]:
        """0-2 occluders at random first-frame positions; one that would stand within a fifth of the image
        width of the target's first position is dropped, so that the first frame stays clear."""
        rng, cam, w, h = self.rng, self.cam, self.w, self.h
        out: list[Occluder] = []
        for _ in range(int(rng.integers(0, 3))):
            u = float(rng.uniform(0, w))
            if abs(u - cam.to_image(target.x[0], 0.0, 0, w, h)[0]) < 0.2 * w:
                continue  # keep the first frame clear
            if self.view == "side":
                xw, yw = cam.to_world(u, float(rng.uniform(max(self._ground_img(0), 0.3 * h), h)), 0, w, h)
                out.append(Occluder(str(rng.choice(_SIDE_OCCLUDERS)), float(xw), float(yw),
                                    float(rng.uniform(0.3, 0.6) * h)))
            else:
                xw, yw = cam.to_world(u, float(rng.uniform(0, h)), 0, w, h)
                out.append(Occluder("canopy", float(xw), float(yw), float(rng.uniform(0.15, 0.3) * h)))
        return out


def _fit_world(cx: np.ndarray, cy: np.ndarray, zoom: np.ndarray, w: int, h: int
               ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Size the world to the union of all views plus a margin of a quarter image, and shift the camera
    path into its coordinates (world origin at the top-left). Returns (cx, cy, world width, world height)."""
    hx, hy = w / (2 * zoom), h / (2 * zoom)
    margin = 0.25 * max(w, h)
    x0, x1 = float(np.min(cx - hx)) - margin, float(np.max(cx + hx)) + margin
    y0, y1 = float(np.min(cy - hy)) - margin, float(np.max(cy + hy)) + margin
    return cx - x0, cy - y0, int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))


def _crossover_contrast(rng: np.random.Generator, n: int) -> tuple[int, np.ndarray]:
    """Thermal crossover: the target's contrast to its surroundings fades out around a frame 30-70 % in
    and back, with a flat near-zero bottom. Returns (that frame, per-frame contrast factor)."""
    cross_frame = int(rng.uniform(0.3, 0.7) * n)
    width_f = max(4.0, rng.uniform(0.15, 0.3) * n)
    bump = np.clip(1.6 * (1 - np.abs(np.arange(n) - cross_frame) / width_f), 0, 1)  # flat bottom
    bump = bump * bump * (3 - 2 * bump)
    return cross_frame, 1.0 - (1.0 - rng.uniform(0.0, 0.01)) * bump


def _sample_illumination(rng: np.random.Generator, night: bool, n: int) -> Illumination:
    """Per-frame brightness (dim and warm-cast at night; by day with a 40 % chance of a passing cloud),
    colour cast, shadow direction and RGB sensor noise (noisier at night)."""
    if night:
        gain = rng.uniform(0.28, 0.45) * (1 + smooth_series(rng, n, 30, 0.05))
        cast = np.array([1.15, 0.95, 0.7]) * rng.uniform(0.9, 1.1, 3)
        noise = rng.uniform(4, 8)
    else:
        gain = rng.uniform(0.9, 1.15) * (1 + smooth_series(rng, n, 30, 0.07))
        if rng.random() < 0.4:  # a cloud passes
            c = rng.uniform(0, n)
            gain = gain * (1 - rng.uniform(0.25, 0.45) * np.exp(-0.5 * ((np.arange(n) - c) / (0.12 * n + 1)) ** 2))
        cast = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.04, 3)
        noise = rng.uniform(1.5, 3.5)
    return Illumination(night, np.clip(gain, 0.1, 1.5), cast, float(rng.uniform(-0.4, 0.4)), float(noise))


def _sample_sensor(rng: np.random.Generator, agc_jump: bool, w: int, n: int) -> ThermalSensor:
    """The thermal camera: optics blur (scaled with image width), temporal and fixed-pattern noise, AGC
    smoothing and percentiles, gamma; under agc_jump the AGC range jumps for 15-35 % of the sequence."""
    agc_gain = np.ones(n)
    if agc_jump:
        t0 = int(rng.uniform(0.25, 0.6) * n)
        t1 = min(n, t0 + max(3, int(rng.uniform(0.15, 0.35) * n)))
        agc_gain[t0:t1] = rng.uniform(1.8, 2.6)
    return ThermalSensor(
        blur=float(rng.uniform(0.7, 1.3) * max(1.0, w / 320)),
        noise=float(rng.uniform(1.0, 2.5)),
        column_noise=float(rng.uniform(1.0, 3.5)),
        agc_alpha=float(rng.uniform(0.6, 0.9)),
        agc_low=float(rng.uniform(0.5, 2.0)),
        agc_high=float(rng.uniform(99.0, 99.8)),
        agc_gain=agc_gain,
        gamma=float(rng.uniform(0.8, 1.1)),
        fpn_seed=int(rng.integers(0, 2**31 - 1)),
    )
