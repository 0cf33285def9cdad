"""Readers for detection files people already have, with validation of every line.

Formats (boxes become x, y, w, h pixels, 0-based frame index of the frames manifest):
- "mot": MOTChallenge det.txt (FairMOT output), one file per sequence, comma-separated
  `frame,id,x,y,w,h,conf[,x,y,z]` (7 to 10 columns), frame 1-based, float tlwh pixels.
- "yolo": one txt per image, `class xc yc w h [conf]` (5 or 6 columns) normalised to [0, 1] by
  the image size. A missing file means "no detections" (YOLO writes none) and is counted.
- "corners": the side-by-side corner format of the authors' release, as this project reads it: one
  txt per combined image (RGB left half, TIR right half), `x1 y1 x2 y2 [conf [class]]`
  (space or comma separated) in pixels of the combined image; a box in the right half is a TIR
  box (shifted left by the half width), a box in the left half an RGB box, a box across the seam
  is an error.

Bad input (wrong column count, unparseable number, frame outside the sequence, negative or zero
size, confidence outside [0, 1], box wholly outside the image, RGB and TIR sizes that differ for a
box given for both): `Policy.bad` raises ValueError "<file>, line <n>: <reason>" with
on_error="fail", or drops the box and counts it under its reason with on_error="skip".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

_SPLIT = re.compile(r"[,\s]+")


class Policy:
    """on_error policy for bad input: raise at once ("fail") or count the dropped box ("skip")."""

    def __init__(self, on_error: str = "fail"):
        if on_error not in ("fail", "skip"):
            raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.dropped: Counter[str] = Counter()

    def bad(self, file: str | Path, line: int | None, reason: str, key: str | None = None) -> None:
        where = f"{file}, line {line}" if line is not None else str(file)
        if self.on_error == "fail":
            raise ValueError(f"{where}: {reason}")
        self.dropped[key or reason.split(" (")[0]] += 1


@dataclass
class Detections:
    """Detections of one sequence: parallel lists, one entry per box."""

    frame: list[int] = field(default_factory=list)
    modality: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    conf: list[float] = field(default_factory=list)
    label: list[str | None] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    def add(self, frame: int, modality: str, box, conf: float, label: str | None, source: str) -> None:
        self.frame.append(int(frame))
        self.modality.append(modality)
        self.boxes.append(tuple(float(v) for v in box))
        self.conf.append(float(conf))
        self.label.append(label)
        self.source.append(source)

    def extend(self, other: "Detections") -> None:
        for name in ("frame", "modality", "boxes", "conf", "label", "source"):
            getattr(self, name).extend(getattr(other, name))

    def __len__(self) -> int:
        return len(self.frame)


# (frame index) -> ((rgb_w, rgb_h), (tir_w, tir_h)), None when the frame is not in the manifest
SizeLookup = Callable[[int], "tuple[tuple[int, int], tuple[int, int]] | None"]


def _lines(path: Path, policy: Policy):
    """Non-empty, non-comment lines with their 1-based numbers; a line that is not UTF-8 is bad
    input of that line (named with the byte), not a decode error without a file name."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                policy.bad(path, lineno, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                           "unparseable line")
                continue
            if text and not text.startswith("#"):
                yield lineno, text


def _numbers(policy: Policy, path, lineno, parts) -> list[float] | None:
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        policy.bad(path, lineno, f"cannot parse a number in {parts}", "unparseable line")
        return None
    if not np.all(np.isfinite(vals)):
        policy.bad(path, lineno, "non-finite number", "unparseable line")
        return None
    return vals


def _check_box(policy: Policy, path, lineno, box, conf, width, height) -> bool:
    x, y, w, h = box
    if w <= 0 or h <= 0:
        policy.bad(path, lineno, f"negative or zero box size (w={w:g}, h={h:g})", "negative or zero size")
        return False
    if not 0.0 <= conf <= 1.0:
        policy.bad(path, lineno, f"confidence {conf:g} outside [0, 1]", "confidence outside [0, 1]")
        return False
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        policy.bad(path, lineno, f"box ({x:g}, {y:g}, {w:g}, {h:g}) lies outside the {width}x{height} image",
                   "box outside the image")
        return False
    return True


def _sizes_for(policy, path, lineno, sizes, modality):
    """(w, h) the box must fit, checking that RGB and TIR agree when the box is for both."""
    rgb, tir = sizes
    if modality == "both":
        if rgb != tir:
            policy.bad(path, lineno, f"image size differs between RGB {rgb[0]}x{rgb[1]} and TIR {tir[0]}x{tir[1]}; "
                       "a box for both modalities needs aligned frames of one size", "RGB/TIR size mismatch")
            return None
        return rgb
    return rgb if modality == "rgb" else tir


def read_mot(path: str | Path, n_frames: int, sizes: SizeLookup, policy: Policy, *, modality: str = "both",
             label: str | None = "person", source: str = "file:mot") -> Detections:
    """Read a MOTChallenge det.txt of a sequence with `n_frames` frames (see module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: detection file does not exist")
    out = Detections()
    for lineno, text in _lines(path, policy):
        parts = [p for p in text.split(",")]
        if not 7 <= len(parts) <= 10:
            what = "missing" if len(parts) < 7 else "extra"
            policy.bad(path, lineno, f"{what} columns: {len(parts)} values, expected 7 to 10 "
                       "(frame,id,x,y,w,h,conf[,x,y,z])", f"{what} columns")
            continue
        vals = _numbers(policy, path, lineno, parts)
        if vals is None:
            continue
        frame1 = vals[0]
        if frame1 != int(frame1) or not 1 <= frame1 <= n_frames:
            policy.bad(path, lineno, f"frame {frame1:g} outside the sequence (1..{n_frames})",
                       "frame outside the sequence")
            continue
        f = int(frame1) - 1
        sz = sizes(f)
        if sz is None:
            policy.dropped["frame not in the manifest"] += 1
            continue
        wh = _sizes_for(policy, path, lineno, sz, modality)
        if wh is None:
            continue
        box, conf = vals[2:6], vals[6]
        if not _check_box(policy, path, lineno, box, conf, *wh):
            continue
        out.add(f, modality, box, conf, label, source)
    return out


def read_yolo(path: str | Path, frame: int, sizes, policy: Policy, *, modality: str = "both",
              names: list[str] | None = None, source: str = "file:yolo") -> Detections | None:
    """Read the YOLO txt of one image (frame index `frame`, `sizes` its ((rgb), (tir)) sizes).

    Returns None when the file does not exist (no detections for that image). Class ids become
    labels through `names` when given, else the id as a string.
    """
    path = Path(path)
    if not path.is_file():
        return None
    out = Detections()
    for lineno, text in _lines(path, policy):
        parts = _SPLIT.split(text)
        if not 5 <= len(parts) <= 6:
            what = "missing" if len(parts) < 5 else "extra"
            policy.bad(path, lineno, f"{what} columns: {len(parts)} values, expected 5 or 6 "
                       "(class xc yc w h [conf])", f"{what} columns")
            continue
        vals = _numbers(policy, path, lineno, parts)
        if vals is None:
            continue
        cls = vals[0]
        if cls != int(cls) or cls < 0:
            policy.bad(path, lineno, f"class {cls:g} is not a non-negative integer", "bad class")
            continue
        wh = _sizes_for(policy, path, lineno, sizes, modality)
        if wh is None:
            continue
        W, H = wh
        xc, yc, w, h = vals[1:5]
        conf = vals[5] if len(vals) == 6 else 1.0
        box = ((xc - w / 2) * W, (yc - h / 2) * H, w * W, h * H)
        if not _check_box(policy, path, lineno, box, conf, W, H):
            continue
        c = int(cls)
        lab = names[c] if names and c < len(names) else str(c)
        out.add(frame, modality, box, conf, lab, source)
    return out


def read_corners(path: str | Path, frame: int, sizes, policy: Policy, *,
                 source: str = "file:corners") -> Detections | None:
    """Read the side-by-side corner file of one combined image (see module docstring).

    `sizes` are the ((rgb), (tir)) half-image sizes of the frame; None when the file is absent.
    """
    path = Path(path)
    if not path.is_file():
        return None
    (rw, rh), (tw, th) = sizes
    out = Detections()
    for lineno, text in _lines(path, policy):
        parts = _SPLIT.split(text)
        if not 4 <= len(parts) <= 6:
            what = "missing" if len(parts) < 4 else "extra"
            policy.bad(path, lineno, f"{what} columns: {len(parts)} values, expected 4 to 6 "
                       "(x1 y1 x2 y2 [conf [class]])", f"{what} columns")
            continue
        lab = None
        if len(parts) == 6:
            lab = parts[5]
            parts = parts[:5]
        vals = _numbers(policy, path, lineno, parts)
        if vals is None:
            continue
        x1, y1, x2, y2 = vals[:4]
        conf = vals[4] if len(vals) == 5 else 1.0
        if x1 >= rw:
            modality, W, H, x1, x2 = "tir", tw, th, x1 - rw, x2 - rw
        elif x2 <= rw or x2 <= x1:
            modality, W, H = "rgb", rw, rh
        else:
            policy.bad(path, lineno, f"box x {x1:g}..{x2:g} crosses the RGB|TIR seam at x={rw}", "box across the seam")
            continue
        if not _check_box(policy, path, lineno, (x1, y1, x2 - x1, y2 - y1), conf, W, H):
            continue
        out.add(frame, modality, (x1, y1, x2 - x1, y2 - y1), conf, lab, source)
    return out


def format_path(template: str, **values) -> Path:
    """A detection file path from its config template ({dataset}, {sequence}, {frame}, {frame1},
    {stem}); a template naming a key not available for its format is an error."""
    try:
        return Path(template.format(**values))
    except (KeyError, IndexError) as exc:
        raise ValueError(f"detection file path template {template!r}: unknown field {exc} "
                         f"(available: {sorted(values)})") from None
