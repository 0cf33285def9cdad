"""Parsers for the annotation text formats shared by several datasets.

- box files: one box per line, values separated by commas, tabs or spaces, in one of three
  conventions converted to x, y, w, h: "xywh" (kept as is), "corners" (`x1 y1 x2 y2`, w = x2 - x1
  as the GTOT toolkit does), "polygon" (x1,y1,...,xn,yn -> axis-aligned min/max box); "auto"
  takes 4 values as xywh and an even number >= 6 as a polygon (VOT groundtruth.txt).
- per-frame label files (GOT-10k absence/cover, LaSOT full_occlusion/out_of_view, VOT *.label/*.tag):
  one value per line, or all values on one comma-separated line.
- attribute flag files (LSOTB-TIR 16 flags, PTB-TIR 10 flags): one line of 0/1 flags.
- Pascal VOC / ImageNet-VID XML (LLVIP, LSOTB-TIR training): objects with name, trackid,
  occluded, difficult and bndbox xmin..xmax (w = xmax - xmin).
- KAIST bbGt v3 text: `label x y w h occ xv yv wv hv ignore angle`.

Parsers never raise on a bad line: they return NaN rows plus (row, line, reason) errors so the
engine can apply the error policy and name the file and line.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from cmd_core.datasets.spec import FrameLabels, GtTrack, ObjectRec

_SPLIT = re.compile(r"[,\s;]+")


def _fields(line: str) -> list[str]:
    return [t for t in _SPLIT.split(line.strip()) if t]


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-empty lines with their 1-based numbers; trailing blank lines are not frames."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [(i + 1, ln) for i, ln in enumerate(lines)]


def _to_xywh(vals: list[float], convention: str) -> tuple[float, float, float, float] | str:
    n = len(vals)
    if convention == "auto":
        convention = "xywh" if n == 4 else "polygon"
    if convention == "xywh":
        if n != 4:
            return f"expected 4 values x,y,w,h, got {n}"
        return vals[0], vals[1], vals[2], vals[3]
    if convention == "corners":
        if n != 4:
            return f"expected 4 values x1 y1 x2 y2, got {n}"
        return vals[0], vals[1], vals[2] - vals[0], vals[3] - vals[1]
    if convention == "polygon":
        if n < 6 or n % 2:
            return f"expected 4 values or a polygon of >= 3 points, got {n} values"
        xs, ys = vals[0::2], vals[1::2]
        if any(math.isnan(v) for v in vals):
            return math.nan, math.nan, math.nan, math.nan
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    raise ValueError(f"unknown box convention {convention!r}")


def read_boxes(path: str | Path, convention: str = "xywh") -> GtTrack:
    """Parse a one-box-per-line file into a GtTrack (NaN rows + errors for bad lines)."""
    path = Path(path)
    rows, lines, errors = [], [], []
    for lineno, text in _read_lines(path):
        toks = _fields(text)
        box: tuple | str
        if not toks:
            box = "empty line"
        else:
            try:
                vals = [float(t) for t in toks]
            except ValueError:
                box = f"cannot parse {text.strip()[:60]!r} as numbers"
            else:
                box = _to_xywh(vals, convention)
        if isinstance(box, str):
            errors.append((len(rows), lineno, box))
            box = (math.nan,) * 4
        rows.append(box)
        lines.append(lineno)
    boxes = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return GtTrack(file=str(path), boxes=boxes, lines=np.asarray(lines, dtype=np.int64), errors=errors)


def read_frame_labels(path: str | Path, value_range: tuple[int, int] | None = None) -> FrameLabels:
    """Parse a per-frame label file: one value per line, or one comma-separated line.

    With `value_range` (lo, hi) a label must be a whole number in lo..hi (GOT-10k cover 0..8,
    absence 0..1); others become NaN plus an error naming the line."""
    path = Path(path)
    numbered = _read_lines(path)
    if len(numbered) == 1:  # LaSOT style: all frames on one line
        lineno, text = numbered[0]
        items = [(lineno, t) for t in _fields(text)]
    else:
        items = [(lineno, text.strip()) for lineno, text in numbered]
    values, errors = [], []
    for lineno, tok in items:
        try:
            v = float(tok)
        except ValueError:
            errors.append((len(values), lineno, f"cannot parse label {tok[:40]!r}"))
            values.append(math.nan)
            continue
        if value_range is not None and not (math.isfinite(v) and v == int(v)
                                            and value_range[0] <= v <= value_range[1]):
            errors.append((len(values), lineno, f"label {tok[:40]!r} out of range: expected a whole number "
                           f"{value_range[0]}..{value_range[1]}"))
            values.append(math.nan)
            continue
        values.append(v)
    return FrameLabels(file=str(path), values=np.asarray(values, dtype=np.float64), errors=errors)


def read_attribute_flags(path: str | Path, names: tuple[str, ...]) -> str:
    """Names of the set flags in a one-line 0/1 attribute file, comma-separated (may be "")."""
    path = Path(path)
    numbered = _read_lines(path)
    toks = [t for _, ln in numbered for t in _fields(ln)]
    if len(toks) != len(names):
        raise ValueError(f"{path}:1: expected {len(names)} attribute flags, got {len(toks)}")
    try:
        flags = [int(float(t)) for t in toks]
    except ValueError:
        raise ValueError(f"{path}:1: attribute flags must be 0/1 numbers") from None
    return ",".join(n for n, f in zip(names, flags) if f)


def _text(node: ET.Element | None, tag: str) -> str | None:
    child = None if node is None else node.find(tag)
    return None if child is None or child.text is None else child.text.strip()


def read_voc_xml(path: str | Path, frame: int, modality: str = "both") -> list[ObjectRec]:
    """Objects of a Pascal VOC / ImageNet-VID XML file (raises ValueError naming the file)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}:{exc.position[0]}: XML does not parse ({exc})") from None
    out = []
    for obj in root.iter("object"):
        bb = obj.find("bndbox")
        try:
            x1, y1, x2, y2 = (float(_text(bb, k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError):
            raise ValueError(f"{path}: <object> without a numeric bndbox xmin/ymin/xmax/ymax") from None
        occ = _text(obj, "occluded")
        diff = _text(obj, "difficult")
        out.append(ObjectRec(frame=frame, x=x1, y=y1, w=x2 - x1, h=y2 - y1,
                             object_id=_text(obj, "trackid"), label=_text(obj, "name"), modality=modality,
                             occluded=None if occ is None else occ not in ("0", "false"),
                             ignore=diff not in (None, "0", "false")))
    return out


def read_bbgt(path: str | Path, frame: int) -> tuple[list[ObjectRec], list[tuple[int, str]]]:
    """Objects of a KAIST bbGt v3 file, plus (line, reason) errors for rows that do not parse."""
    path = Path(path)
    objs, errors = [], []
    for lineno, text in _read_lines(path):
        s = text.strip()
        if not s or s.startswith("%"):
            continue
        toks = s.split()
        try:
            x, y, w, h = (float(t) for t in toks[1:5])
            occ = int(float(toks[5])) if len(toks) > 5 else None
            ign = int(float(toks[10])) if len(toks) > 10 else 0
        except (ValueError, IndexError):
            errors.append((lineno, f"cannot parse bbGt row {s[:60]!r} (expected label x y w h ...)"))
            continue
        objs.append(ObjectRec(frame=frame, x=x, y=y, w=w, h=h, label=toks[0], modality="both",
                              occluded=None if occ is None else occ != 0, ignore=ign != 0,
                              file=str(path), line=lineno))
    return objs, errors
