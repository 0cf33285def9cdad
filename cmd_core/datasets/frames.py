"""Frame loading: decode the RGB and TIR images of one frames-manifest row.

Images are read with OpenCV (any bit depth, EXIF orientation ignored); side-by-side images are split
at half width (RGB left), videos are sought to the frame. File verification (completeness,
decodability, size) at ingest time is `cmd_core.datasets.imagecheck`.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["load_frame_pair"]

_READ_ANY = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION if hasattr(cv2, "IMREAD_IGNORE_ORIENTATION") \
    else cv2.IMREAD_UNCHANGED


def _imread(path: str, flags: int) -> np.ndarray:
    img = cv2.imdecode(np.fromfile(path, np.uint8), flags)
    if img is None:
        raise ValueError(f"{path}: cannot decode image")
    return img


def _to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return img


def _to_bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img[:, :, :3] if img.shape[2] == 4 else img


def _video_frame(path: str, frame: int) -> np.ndarray:
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f"{path}: cannot open video")
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, img = cap.read()
        if not ok:
            raise ValueError(f"{path}: cannot read frame {frame}")
        return img
    finally:
        cap.release()


def load_frame_pair(row) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(RGB as BGR uint8 HxWx3, TIR as 2-D grayscale) of one frames-manifest row; None if absent.

    `row` is a mapping (dict, pandas Series). Side-by-side images are split at half width (RGB
    left); videos are sought to `frame`. TIR keeps its bit depth (e.g. 16-bit PNG).
    """
    packing = row["packing"]
    rgb_path, tir_path = row.get("rgb_path"), row.get("tir_path")
    rgb_path = None if rgb_path is None or rgb_path != rgb_path else str(rgb_path)
    tir_path = None if tir_path is None or tir_path != tir_path else str(tir_path)
    if packing == "side_by_side":
        img = _imread(rgb_path or tir_path, _READ_ANY)
        half = img.shape[1] // 2
        return _to_bgr(img[:, :half]), _to_gray(img[:, half:2 * half])
    if packing == "video":
        f = int(row["frame"])
        rgb = _to_bgr(_video_frame(rgb_path, f)) if rgb_path else None
        tir = _to_gray(_video_frame(tir_path, f)) if tir_path else None
        return rgb, tir
    if packing != "files":
        raise ValueError(f"unknown packing {packing!r}")
    rgb = _to_bgr(_imread(rgb_path, _READ_ANY)) if rgb_path else None
    tir = _to_gray(_imread(tir_path, _READ_ANY)) if tir_path else None
    return rgb, tir
