"""Listing frame files and pairing the two modalities of a sequence.

Frames are ordered by the number in their file name (00001v.jpg, v000.jpg, I00012.jpg ...), and
paired across modalities by that number, so a frame missing on one side is reported as exactly
that frame instead of shifting every later pair.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cmd_core.datasets.spec import Issue

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".webm")
_NUM = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically (img2 < img10)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in _NUM.split(name))


def list_images(folder: str | Path) -> list[str]:
    """Image files directly in `folder`, naturally sorted, as absolute paths."""
    folder = Path(folder)
    with os.scandir(folder) as it:
        names = [e.name for e in it if e.is_file() and e.name.lower().endswith(IMAGE_EXTS)]
    names.sort(key=natural_key)
    base = str(folder.resolve())
    return [os.path.join(base, n) for n in names]


def frame_number(path: str) -> int | None:
    """The last number in the file's stem (None when the name has no digits)."""
    nums = _NUM.findall(Path(path).stem)
    return int(nums[-1]) if nums else None


def pair_by_number(rgb: list[str], tir: list[str], rgb_dir: str, tir_dir: str
                   ) -> tuple[list[str | None], list[str | None], list[Issue]]:
    """Pair two frame lists by file-name number; unmatched frames become None plus an Issue."""
    def index(paths: list[str], folder: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for p in paths:
            n = frame_number(p)
            if n is None or n in out:
                return {}
            out[n] = p
        return out

    ri, ti = index(rgb, rgb_dir), index(tir, tir_dir)
    if (rgb and not ri) or (tir and not ti):  # names without usable numbers: fall back to order
        return pair_by_order(rgb, tir, rgb_dir, tir_dir)
    numbers = sorted(set(ri) | set(ti))
    rgb_out = [ri.get(n) for n in numbers]
    tir_out = [ti.get(n) for n in numbers]
    issues = []
    counts = f"{rgb_dir} has {len(rgb)} frames, {tir_dir} has {len(tir)}"
    for i, (r, t) in enumerate(zip(rgb_out, tir_out)):
        if r is None:
            issues.append(Issue(rgb_dir, f"missing RGB frame matching {Path(t).name} ({counts})", frame=i, missing=True))
        elif t is None:
            issues.append(Issue(tir_dir, f"missing TIR frame matching {Path(r).name} ({counts})", frame=i, missing=True))
    return rgb_out, tir_out, issues


def pair_by_order(rgb: list[str], tir: list[str], rgb_dir: str, tir_dir: str
                  ) -> tuple[list[str | None], list[str | None], list[Issue]]:
    """Pair two frame lists by position; the longer list's extra frames become Issues."""
    n = max(len(rgb), len(tir))
    rgb_out = list(rgb) + [None] * (n - len(rgb))
    tir_out = list(tir) + [None] * (n - len(tir))
    issues = []
    if len(rgb) != len(tir):
        counts = f"different frame counts: {rgb_dir} has {len(rgb)}, {tir_dir} has {len(tir)}"
        for i in range(min(len(rgb), len(tir)), n):
            short = rgb_dir if rgb_out[i] is None else tir_dir
            issues.append(Issue(short, f"no frame to pair with {Path(rgb_out[i] or tir_out[i]).name} ({counts})",
                                frame=i))
    return rgb_out, tir_out, issues


def require_dir(path: str | Path, what: str) -> Path:
    """`path` as a Path, or FileNotFoundError naming it and what it should have been."""
    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: {what} does not exist or is not a directory")
    return p
