"""Fusion of one frame's detections from all sources into the boxes that become pairs.

Rules, applied in this order (the published recipe plus explicit size / border limits):
1. confidence below `min_confidence` -> dropped ("low confidence");
2. more than `border_limit` of the box area outside the image -> dropped ("border"); the rest are
   clipped to the image;
3. w or h below `min_size` pixels -> dropped ("small"); area above `max_area` x the frame area ->
   dropped ("large": background regions, not objects);
4. duplicates: boxes with IoU > `duplicate_iou` are one object, the higher confidence is kept
   (greedy, most confident first). A kept box that absorbed a box of the other modality becomes
   modality "both" ("duplicate rgb/tir"; same-modality duplicates count as "duplicate");
5. class balance: boxes whose label is not a person label are capped per frame at
   max(`min_other`, ceil(`other_per_person` x persons)), most confident first ("class balance");
6. at most `max_boxes_per_frame` boxes, most confident first ("max boxes").
Every dropped box is counted under its reason; the output order is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from cmd_core.pairs.boxes import as_boxes, box_iou, clip_boxes, fraction_outside


@dataclass
class FrameBoxes:
    """Boxes of one frame with their attributes (parallel arrays / lists)."""

    boxes: np.ndarray
    conf: np.ndarray
    labels: list
    modality: list
    source: list

    @classmethod
    def empty(cls) -> "FrameBoxes":
        return cls(np.zeros((0, 4)), np.zeros(0), [], [], [])

    def __len__(self) -> int:
        return len(self.conf)

    def take(self, idx) -> "FrameBoxes":
        idx = np.asarray(idx, dtype=np.int64)
        return FrameBoxes(self.boxes[idx].reshape(-1, 4), self.conf[idx], [self.labels[i] for i in idx],
                          [self.modality[i] for i in idx], [self.source[i] for i in idx])

    @classmethod
    def concat(cls, parts: list["FrameBoxes"]) -> "FrameBoxes":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.boxes for p in parts]), np.concatenate([p.conf for p in parts]),
                   sum((p.labels for p in parts), []), sum((p.modality for p in parts), []),
                   sum((p.source for p in parts), []))


def _order(fb: FrameBoxes) -> np.ndarray:
    """Most confident first; ties broken by position and size (deterministic)."""
    b = fb.boxes
    return np.lexsort((b[:, 3], b[:, 2], b[:, 1], b[:, 0], -fb.conf))


def fuse(fb: FrameBoxes, width: float, height: float, settings: dict, dropped: Counter) -> FrameBoxes:
    """Apply the fusion rules (module docstring) to one frame; counts go into `dropped`."""
    if not len(fb):
        return fb
    fb = FrameBoxes(as_boxes(fb.boxes), np.asarray(fb.conf, np.float64), list(fb.labels), list(fb.modality),
                    list(fb.source))

    def keep(mask, reason):
        nonlocal fb
        mask = np.asarray(mask, bool)
        if (~mask).any():
            dropped[reason] += int((~mask).sum())
            fb = fb.take(np.flatnonzero(mask))

    keep(fb.conf >= float(settings.get("min_confidence", 0.0)), "low confidence")
    keep(fraction_outside(fb.boxes, width, height) <= float(settings["border_limit"]), "border")
    fb.boxes = clip_boxes(fb.boxes, width, height)
    ms = float(settings["min_size"])
    keep((fb.boxes[:, 2] >= ms) & (fb.boxes[:, 3] >= ms), "small")
    keep(fb.boxes[:, 2] * fb.boxes[:, 3] <= float(settings.get("max_area", 1.0)) * width * height, "large")
    if not len(fb):
        return fb

    fb = fb.take(_order(fb))
    iou = box_iou(fb.boxes, fb.boxes)
    thr = float(settings["duplicate_iou"])
    alive = np.ones(len(fb), bool)
    modality = list(fb.modality)
    for i in range(len(fb)):
        if not alive[i]:
            continue
        dups = np.flatnonzero(alive & (iou[i] > thr))
        for j in dups[dups > i]:
            alive[j] = False
            if fb.modality[i] != fb.modality[j]:
                modality[i] = "both"
                dropped["duplicate rgb/tir"] += 1
            else:
                dropped["duplicate"] += 1
    fb.modality = modality
    fb = fb.take(np.flatnonzero(alive))

    persons = {str(p).lower() for p in settings["person_labels"]}
    is_person = np.array([lab is not None and str(lab).lower() in persons for lab in fb.labels], bool)
    cap = max(int(settings["min_other"]), math.ceil(float(settings["other_per_person"]) * int(is_person.sum())))
    other_rank = np.cumsum(~is_person)
    keep(is_person | (other_rank <= cap), "class balance")
    keep(np.arange(len(fb)) < int(settings["max_boxes_per_frame"]), "max boxes")
    return fb
