"""The 16 LSOTB-TIR attributes, computed from what was actually generated and drawn.

Rules (thresholds relative to the image size so they hold at any resolution):
- deformation: the target is articulated (person, animal) and walks (its gait phase advances by
  more than 0.05 rad per frame on average), so limbs swing and the silhouette changes.
- occlusion: in some frame more than 30% of the in-image target is hidden by an occluder or a
  closer object.
- distractor: another object of the same kind that looks alike *in TIR* (mean part temperature
  within 3 deg C of the target's) is in view together with the target in at least 10% of frames.
  (A colour twin is cold, so it is a distractor for RGB only and does not set this flag.)
- background clutter: the median over frames of the grey-level standard deviation of the
  background ring around the target (box grown by 50% per side, background pixels only) is above
  10 grey levels.
- out of view: in some frame more than half of the target lies outside the image.
- scale variation: max / min of the target's size (sqrt of full-extent box area) > 2.
- fast motion: the GT box centre moves by more than W/40 px (16 px at 640 wide) between two
  consecutive frames in which the target is visible.
- motion blur: the renderer smeared the target along its motion in some frame (image speed
  above 2.5% of the width per frame).
- thermal crossover: in some frame where at least half of the target is visible, the absolute
  difference between the target's mean grey level and its background ring's is below 8 levels.
- intensity variation: the AGC's displayed temperature span changes by a factor > 1.5 over the
  sequence, or the target's mean grey level spans more than 60 levels.
- low resolution: the median target box area is below 0.5% of the image area.
- aspect ratio variation: the box aspect ratio w/h leaves [0.5, 2] times its first-frame value.
- vehicle-mounted / drone-mounted / surveillance / hand-held: from the camera model
  (pan / drone / static / handheld).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .scene import Scene
from .shapes import ARTICULATED

LSOTB_ATTRIBUTES: tuple[str, ...] = (
    "deformation", "occlusion", "distractor", "background_clutter", "out_of_view", "scale_variation",
    "fast_motion", "motion_blur", "thermal_crossover", "intensity_variation", "low_resolution",
    "aspect_ratio_variation", "vehicle_mounted", "drone_mounted", "surveillance", "hand_held",
)

_PLATFORM = {"pan": "vehicle_mounted", "drone": "drone_mounted", "static": "surveillance", "handheld": "hand_held"}


def compute_attributes(scene: Scene, track: dict[str, np.ndarray]) -> dict[str, int]:
    """Flags for the target of `scene`; `track` holds the per-frame arrays gathered while rendering
    (see generator.render_sequence): box (n,4), full_box (n,4), occlusion, truncation, visible,
    blurred, tir_contrast, ring_std, agc_span, target_level, others_lookalike."""
    tgt = scene.target
    n = scene.n_frames
    w, h = scene.width, scene.height
    box = track["box"]
    full = track["full_box"]
    present = track["visible"] > 0
    out = dict.fromkeys(LSOTB_ATTRIBUTES, 0)

    phase_rate = float(np.mean(np.abs(np.diff(tgt.phase)))) if n > 1 else 0.0
    out["deformation"] = int(ARTICULATED[tgt.kind] and tgt.gait > 0 and phase_rate > 0.05)
    out["occlusion"] = int(np.max(track["occlusion"]) > 0.3)
    out["distractor"] = int(np.mean(track["others_lookalike"]) >= 0.1)
    rs = track["ring_std"][present & np.isfinite(track["ring_std"])]
    out["background_clutter"] = int(len(rs) > 0 and float(np.median(rs)) > 10.0)
    out["out_of_view"] = int(np.max(track["truncation"]) > 0.5)
    sizes = np.sqrt(np.maximum(full[:, 2] * full[:, 3], 1e-6))
    in_view = track["truncation"] < 1.0
    if in_view.any():
        out["scale_variation"] = int(sizes[in_view].max() / sizes[in_view].min() > 2.0)
    ctr = box[:, :2] + box[:, 2:] / 2
    both = present[1:] & present[:-1]
    if both.any():
        step = np.hypot(*(ctr[1:] - ctr[:-1]).T)[both]
        out["fast_motion"] = int(step.max() > w / 40.0)
    out["motion_blur"] = int(np.any(track["blurred"]))
    half = track["visible_fraction"] >= 0.5
    con = np.abs(track["tir_contrast"][half & np.isfinite(track["tir_contrast"])])
    out["thermal_crossover"] = int(len(con) > 0 and float(con.min()) < 8.0)
    span = track["agc_span"]
    lev = track["target_level"][present & np.isfinite(track["target_level"])]
    out["intensity_variation"] = int(span.max() / max(span.min(), 1e-6) > 1.5 or (len(lev) > 0 and np.ptp(lev) > 60))
    areas = box[present, 2] * box[present, 3]
    out["low_resolution"] = int(len(areas) > 0 and float(np.median(areas)) < 0.005 * w * h)
    ok = present & (box[:, 3] > 0)
    if ok.any():
        ar = box[ok, 2] / box[ok, 3]
        rel = ar / ar[0]
        out["aspect_ratio_variation"] = int(rel.max() > 2.0 or rel.min() < 0.5)
    out[_PLATFORM[scene.camera.model]] = 1
    return out


def attribute_line(flags: dict[str, Any]) -> str:
    """The LSOTB-TIR att file line: 16 comma-separated 0/1 flags in the benchmark's order."""
    return ",".join(str(int(flags[name])) for name in LSOTB_ATTRIBUTES)
