"""Generic pairs: two frame folders or two videos (RGB, TIR) whose frames correspond in order.

A sequence folder holds one of the pairs (rgb, tir), (visible, infrared), (visible, lwir),
(color, ir) as sub-folders, or as video files with those stems (e.g. rgb.mp4 + tir.mp4).
Options `rgb=...` and `tir=...` name the two (relative to each sequence folder) instead.
Folders are paired by the number in the file names (f3.jpg <-> t3.jpg: names need not match
otherwise), so a frame missing on one side is rejected alone and the pairs after it stay aligned;
only when a folder's names hold no number are the frames paired by position after natural
sorting. Videos are paired frame by frame (packing "video", frame = index). Root is a sequence folder or a folder of them.
No ground truth (unlabelled pairs).
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.adapters.common import child_dirs
from cmd_core.datasets.listing import VIDEO_EXTS, list_images, pair_by_number
from cmd_core.datasets.spec import Issue, SequenceSpec

DEFAULT_PAIRS = (("rgb", "tir"), ("visible", "infrared"), ("visible", "lwir"), ("color", "ir"))


def _resolve(d: Path, name: str) -> Path | None:
    p = d / name
    if p.exists():
        return p
    for ext in VIDEO_EXTS:
        if (d / (name + ext)).is_file():
            return d / (name + ext)
    return None


def _find_pair(d: Path, pairs) -> tuple[Path, Path] | None:
    for a, b in pairs:
        pa, pb = _resolve(d, a), _resolve(d, b)
        if pa is not None and pb is not None:
            return pa, pb
    return None


def generic_pairs(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    rgb_name, tir_name = options.pop("rgb", None), options.pop("tir", None)
    if (rgb_name is None) != (tir_name is None):
        raise ValueError("generic_pairs: give both options rgb=... and tir=... or neither")
    pairs = ((rgb_name, tir_name),) if rgb_name else DEFAULT_PAIRS
    seqs = []
    dirs = child_dirs(root, lambda p: _find_pair(p, pairs) is not None)
    if not dirs:
        raise FileNotFoundError(f"{root}: no RGB/TIR pair of folders or videos named {[list(p) for p in pairs]}")
    for d in dirs:
        a, b = _find_pair(d, pairs)
        seq = SequenceSpec(name=d.name, split=split)
        if a.is_dir() and b.is_dir():
            seq.rgb, seq.tir, issues = pair_by_number(list_images(a), list_images(b), str(a), str(b), labelled=False)
            seq.issues.extend(issues)
        elif a.is_file() and b.is_file():
            seq.packing, seq.rgb, seq.tir = "video", [str(a.resolve())], [str(b.resolve())]
        else:
            seq.issues.append(Issue(str(d), f"{a.name} and {b.name} must both be folders or both videos"))
            seq.rgb, seq.tir = [], []
        seqs.append(seq)
    return seqs
