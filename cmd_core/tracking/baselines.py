"""Classic baseline trackers behind the same interface as the DiMP tracker, so result tables
have a floor: OpenCV's MIL (always in opencv-python), KCF and CSRT (only in builds with the
contrib trackers; otherwise :class:`TrackerUnavailable` says why), and a static box that
repeats the first-frame box (the trivial lower bound)."""

from __future__ import annotations

import cv2
import numpy as np

from .dimp_tracker import check_init_box
from .preprocessing import to_rgb

__all__ = ["TrackerUnavailable", "StaticTracker", "OpenCVTracker", "baseline_availability",
           "make_baseline"]


class TrackerUnavailable(RuntimeError):
    """The installed OpenCV lacks this tracker (the message is the recorded reason)."""


class StaticTracker:
    """Returns the first-frame box for every frame."""

    name = "static"

    def initialize(self, image: np.ndarray, box) -> None:
        self.shape = np.asarray(image).shape[:2]
        self.box = check_init_box(box, self.shape)

    def track(self, image: np.ndarray) -> np.ndarray:
        if np.asarray(image).shape[:2] != self.shape:
            raise ValueError("frame size differs from the first frame's")
        return self.box.copy()


# name -> candidate factory attribute paths (new API first, then cv2.legacy)
_FACTORIES = {
    "mil": ("TrackerMIL_create", "legacy.TrackerMIL_create"),
    "kcf": ("TrackerKCF_create", "legacy.TrackerKCF_create"),
    "csrt": ("TrackerCSRT_create", "legacy.TrackerCSRT_create"),
}


def _factory(kind: str):
    for path in _FACTORIES[kind]:
        obj = cv2
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    raise TrackerUnavailable(f"OpenCV {cv2.__version__} has no {kind.upper()} tracker "
                             f"(cv2.{_FACTORIES[kind][0]} missing; it needs opencv-contrib-python)")


class OpenCVTracker:
    """An OpenCV tracker (MIL / KCF / CSRT); keeps the last box when the tracker reports failure."""

    def __init__(self, kind: str):
        if kind not in _FACTORIES:
            raise ValueError(f"unknown OpenCV tracker {kind!r} (choose from {sorted(_FACTORIES)})")
        self.name = kind
        self._create = _factory(kind)

    @staticmethod
    def _bgr(image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(to_rgb(image)[:, :, ::-1])

    def initialize(self, image: np.ndarray, box) -> None:
        img = self._bgr(image)
        self.shape = img.shape
        b = check_init_box(box, img.shape)
        x0, y0 = max(int(round(b[0])), 0), max(int(round(b[1])), 0)
        x1 = min(int(round(b[0] + b[2])), img.shape[1])
        y1 = min(int(round(b[1] + b[3])), img.shape[0])
        rect = (x0, y0, max(x1 - x0, 1), max(y1 - y0, 1))
        self.tracker = self._create()
        self.tracker.init(img, rect)
        self.box = b.copy()

    def track(self, image: np.ndarray) -> np.ndarray:
        img = self._bgr(image)
        if img.shape != self.shape:
            raise ValueError("frame size differs from the first frame's")
        ok, rect = self.tracker.update(img)
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return self.box.copy()


def baseline_availability() -> dict[str, str | None]:
    """{baseline: None if usable else the reason it is not}."""
    out: dict[str, str | None] = {"static": None}
    for kind in _FACTORIES:
        try:
            _factory(kind)
            out[kind] = None
        except TrackerUnavailable as exc:
            out[kind] = str(exc)
    return out


def make_baseline(name: str):
    """A fresh baseline tracker ('mil', 'kcf', 'csrt' or 'static')."""
    if name == "static":
        return StaticTracker()
    return OpenCVTracker(name)
