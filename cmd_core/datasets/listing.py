"""Listing frame files and pairing the two modalities of a sequence.

Frames are placed by the number in their file name (00001v.jpg, v000.jpg, I00012.jpg ...): frame
index = number - first frame number, and the two modalities are paired by that number, so a frame
missing on one side, or in a single-modality folder, is reported as exactly that frame instead of
shifting every later pair or ground-truth line. Only names without any number fall back to order.
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


def _numbered(paths: list[str], folder: str) -> tuple[dict[int, str], list[tuple[int, str]]] | None:
    """number -> path, plus (number, message) for numbers held by two files; None when some
    file name has no number (the folder cannot be indexed by frame number)."""
    out: dict[int, str] = {}
    dups: list[tuple[int, str]] = []
    for p in paths:
        n = frame_number(p)
        if n is None:
            return None
        if n in out:
            dups.append((n, f"two files for frame number {n}: {Path(out[n]).name} and {Path(p).name}"))
            continue
        out[n] = p
    return out, dups


def first_frame(numbers, labelled: bool) -> int:
    """Frame number of frame index 0: 0 or 1 for labelled sequences (GT line 1 is the first frame
    whatever files are missing, so a missing first frame shows up as missing, not as a shift), the
    smallest number for unlabelled ones (LLVIP 010001.jpg ...)."""
    lo = min(numbers)
    if labelled:
        return 0 if lo == 0 else 1
    return lo


def place_by_number(paths: list[str], folder: str, labelled: bool = True, what: str = "frame"
                    ) -> tuple[list[str | None], list[Issue]]:
    """Frame files of one folder at index (file number - first frame number): a gap in the
    numbering is a None entry plus a 'missing file' Issue for exactly that frame, a number held
    by two files an Issue for that frame, so ground-truth line i always meets frame i."""
    if not paths:
        return [], []
    indexed = _numbered(paths, folder)
    if indexed is None:  # names without numbers: natural order is all there is
        return list(paths), []
    by_num, dups = indexed
    base = first_frame(by_num, labelled)
    hi = max(by_num)
    slots = [by_num.get(n) for n in range(base, hi + 1)]
    issues = [Issue(folder, f"missing {what} file: no file numbered {base + i} ({len(by_num)} files numbered "
                    f"{min(by_num)}..{hi})", frame=i, missing=True)
              for i, s in enumerate(slots) if s is None]
    issues += [Issue(folder, msg, frame=n - base) for n, msg in dups]
    return slots, issues


def pair_by_number(rgb: list[str], tir: list[str], rgb_dir: str, tir_dir: str, labelled: bool = True
                   ) -> tuple[list[str | None], list[str | None], list[Issue]]:
    """Pair two frame lists by file-name number: frame index = number - first frame number (see
    `first_frame`). A frame missing on one side is reported as exactly that frame; the pairs after
    it keep their numbers. A number missing on both sides is reported too when `labelled` (a
    ground-truth line would meet no frame); in unlabelled data it loses nothing, so it is a gap:
    a (None, None) slot without an issue, which the ingest engine leaves out of the manifest while
    the frames after it keep their numbers. Names without numbers fall back to `pair_by_order`."""
    ri, ti = _numbered(rgb, rgb_dir), _numbered(tir, tir_dir)
    if ri is None or ti is None:
        return pair_by_order(rgb, tir, rgb_dir, tir_dir)
    (rmap, rdups), (tmap, tdups) = ri, ti
    numbers = set(rmap) | set(tmap)
    if not numbers:
        return [], [], []
    base = first_frame(numbers, labelled)
    hi = max(numbers)
    rgb_out = [rmap.get(n) for n in range(base, hi + 1)]
    tir_out = [tmap.get(n) for n in range(base, hi + 1)]
    issues = []
    counts = f"{rgb_dir} has {len(rgb)} frames, {tir_dir} has {len(tir)}"
    for i, (r, t) in enumerate(zip(rgb_out, tir_out)):
        if r is None and t is None:
            if not labelled:  # a gap in the numbering of unlabelled pairs: nothing to align
                continue
            issues.append(Issue(rgb_dir, f"missing frame number {base + i} in both modalities ({counts})",
                                frame=i, missing=True))
        elif r is None:
            issues.append(Issue(rgb_dir, f"missing RGB frame matching {Path(t).name} ({counts})", frame=i, missing=True))
        elif t is None:
            issues.append(Issue(tir_dir, f"missing TIR frame matching {Path(r).name} ({counts})", frame=i, missing=True))
    issues += [Issue(rgb_dir, msg, frame=n - base) for n, msg in rdups]
    issues += [Issue(tir_dir, msg, frame=n - base) for n, msg in tdups]
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
