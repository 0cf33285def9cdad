"""Built-in CPU detectors that need no download: thermal hot/cold regions, RGB motion, OpenCV's
HOG people detector, and (optional) an ultralytics YOLO model from a local weights file.

Each detector works on one modality, is reset at the start of every sequence (motion keeps a
background model across frames) and returns (boxes xywh (N, 4), confidences (N,), labels).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

Result = tuple[np.ndarray, np.ndarray, list]
_EMPTY: Result = (np.zeros((0, 4)), np.zeros(0), [])


def to_uint8(gray: np.ndarray) -> np.ndarray:
    """8-bit view of a grey image: 16-bit / float TIR frames are min-max stretched."""
    if gray.dtype == np.uint8:
        return gray
    g = gray.astype(np.float32)
    lo, hi = float(g.min()), float(g.max())
    return np.zeros(g.shape, np.uint8) if hi <= lo else ((g - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _components(mask: np.ndarray, min_area: int):
    """Connected components of a binary mask with area >= min_area: (labels image, stats rows, ids)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    ids = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return labels, stats, ids


class ThermalRegions:
    """Hot (or cold) regions of a TIR frame: pixels brighter than their neighbourhood mean by
    `offset` grey levels (adaptive mean threshold over a window of `block` x the shorter side),
    cleaned by a morphological opening, grouped into connected components.

    Confidence = the component's mean contrast above its local mean / 64, clipped to [0, 1].
    """

    modality = "tir"

    def __init__(self, polarity: str = "hot", block: float = 0.35, offset: float = 12.0, min_area: int = 30,
                 modality: str = "tir", **_):
        if polarity not in ("hot", "cold", "both"):
            raise ValueError(f"thermal detector polarity must be hot, cold or both, got {polarity!r}")
        self.polarity, self.block, self.offset, self.min_area = polarity, float(block), float(offset), int(min_area)
        self.modality = modality
        self.name = f"thermal_{polarity}"
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def reset(self) -> None:
        pass

    def detect(self, img: np.ndarray) -> Result:
        gray = to_uint8(img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        g = cv2.GaussianBlur(gray, (5, 5), 0)
        k = max(3, int(self.block * min(g.shape)) | 1)
        local = cv2.blur(g.astype(np.float32), (k, k), borderType=cv2.BORDER_REPLICATE)
        diff = g.astype(np.float32) - local
        boxes, confs, labels = [], [], []
        for pol, sign in (("hot", 1.0), ("cold", -1.0)):
            if self.polarity not in (pol, "both"):
                continue
            d = sign * diff
            mask = cv2.morphologyEx((d > self.offset).astype(np.uint8), cv2.MORPH_OPEN, self._kernel)
            lab, stats, ids = _components(mask, self.min_area)
            if not ids:
                continue
            contrast = np.bincount(lab.ravel(), weights=d.ravel(), minlength=len(stats)) / np.maximum(
                stats[:, cv2.CC_STAT_AREA], 1)
            for i in ids:
                x, y, w, h = stats[i, :4]
                boxes.append((x, y, w, h))
                confs.append(min(1.0, max(0.0, contrast[i] / 64.0)))
                labels.append(f"{pol}_region")
        if not boxes:
            return _EMPTY
        return np.asarray(boxes, np.float64), np.asarray(confs), labels


class MotionRegions:
    """Moving regions of the RGB frames: MOG2 background subtraction (no shadows), opening and
    closing, connected components. Nothing is reported during the first `warmup` frames of a
    sequence (the background model is not learnt yet). Confidence = foreground fill of the box."""

    def __init__(self, history: int = 50, var_threshold: float = 25.0, warmup: int = 3, min_area: int = 30,
                 modality: str = "rgb", **_):
        self.history, self.var_threshold = int(history), float(var_threshold)
        self.warmup, self.min_area, self.modality = int(warmup), int(min_area), modality
        self.name = "motion"
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self.reset()

    def reset(self) -> None:
        self._bg = cv2.createBackgroundSubtractorMOG2(history=self.history, varThreshold=self.var_threshold,
                                                      detectShadows=False)
        self._seen = 0

    def detect(self, img: np.ndarray) -> Result:
        if img.ndim == 2 or img.dtype != np.uint8:
            img = to_uint8(img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        fg = self._bg.apply(img)
        self._seen += 1
        if self._seen <= self.warmup:
            return _EMPTY
        mask = cv2.morphologyEx((fg > 127).astype(np.uint8), cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        lab, stats, ids = _components(mask, self.min_area)
        if not ids:
            return _EMPTY
        s = stats[ids]
        boxes = s[:, :4].astype(np.float64)
        fill = s[:, cv2.CC_STAT_AREA] / np.maximum(s[:, 2] * s[:, 3], 1)
        return boxes, np.clip(fill, 0, 1).astype(np.float64), ["moving"] * len(ids)


class HogPeople:
    """OpenCV's HOG + linear SVM people detector (64x128 window). Frames smaller than `min_side`
    pixels on their shorter side are upscaled first. Confidence = sigmoid(SVM margin)."""

    def __init__(self, win_stride: int = 8, scale: float = 1.05, min_side: int = 256, hit_threshold: float = 0.0,
                 modality: str = "rgb", **_):
        if not hasattr(cv2, "HOGDescriptor"):
            raise ValueError("this OpenCV build has no HOGDescriptor (OpenCV 5 dropped it); remove 'hog' "
                             "from the built-in detectors or install opencv-python-headless 4.x")
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.stride, self.scale, self.min_side = int(win_stride), float(scale), int(min_side)
        self.hit_threshold, self.modality, self.name = float(hit_threshold), modality, "hog"

    def reset(self) -> None:
        pass

    def detect(self, img: np.ndarray) -> Result:
        img = to_uint8(img) if img.dtype != np.uint8 else img
        f = max(1.0, self.min_side / min(img.shape[:2]))
        if f > 1.0:
            img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
        rects, weights = self._hog.detectMultiScale(img, hitThreshold=self.hit_threshold,
                                                    winStride=(self.stride, self.stride), scale=self.scale)
        if len(rects) == 0:
            return _EMPTY
        boxes = np.asarray(rects, np.float64).reshape(-1, 4) / f
        w = np.asarray(weights, np.float64).ravel()
        return boxes, 1.0 / (1.0 + np.exp(-w)), ["person"] * len(boxes)


class UltralyticsYolo:
    """An ultralytics YOLO model loaded from a local weights file (optional extra; never
    downloaded: a missing file is an error). Labels are the model's class names."""

    def __init__(self, weights: str | None = None, conf: float = 0.25, modality: str = "rgb", device: str = "cpu",
                 **_):
        if not weights or not Path(weights).is_file():
            raise FileNotFoundError(f"{weights}: ultralytics weights file does not exist (it is never downloaded)")
        try:
            from ultralytics import YOLO  # optional dependency, imported only when configured
        except ImportError as exc:
            raise ValueError("the 'ultralytics' detector needs the ultralytics package (optional extra)") from exc
        self._model = YOLO(str(weights))
        self.conf, self.modality, self.device, self.name = float(conf), modality, device, "ultralytics"

    def reset(self) -> None:
        pass

    def detect(self, img: np.ndarray) -> Result:
        if img.ndim == 2:
            img = cv2.cvtColor(to_uint8(img), cv2.COLOR_GRAY2BGR)
        res = self._model.predict(img, conf=self.conf, device=self.device, verbose=False)[0]
        xyxy = res.boxes.xyxy.cpu().numpy().astype(np.float64)
        if not len(xyxy):
            return _EMPTY
        boxes = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
        names = res.names
        labels = [str(names[int(c)]) for c in res.boxes.cls.cpu().numpy()]
        return boxes, res.boxes.conf.cpu().numpy().astype(np.float64), labels


_DETECTORS = {"thermal": ThermalRegions, "motion": MotionRegions, "hog": HogPeople, "ultralytics": UltralyticsYolo}


def make_detector(spec: dict):
    """A detector from its config entry {name: thermal|motion|hog|ultralytics, ...settings}."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in _DETECTORS:
        raise ValueError(f"unknown built-in detector {name!r} (one of {sorted(_DETECTORS)})")
    return _DETECTORS[name](**spec)

