"""Generic pairs: two frame folders or two videos (RGB, TIR) whose frames correspond in order,
or two folders of still image pairs.

A sequence folder holds one of the pairs (rgb, tir), (visible, infrared), (visible, lwir),
(color, ir), (visual, thermal) as sub-folders, or as video files with those stems (e.g. rgb.mp4 +
tir.mp4). Options `rgb=...` and `tir=...` name the two (relative to each sequence folder) instead.
Root is a sequence folder or a folder of them. No ground truth (unlabelled pairs).

Video frames (default): folders are paired by the number in the file names (f3.jpg <-> t3.jpg:
names need not match otherwise); frame index = number - first number. A frame present on one side
only is rejected alone and the pairs after it stay aligned; a number missing on both sides is a gap
that loses no alignment: it is left out and the frames keep their numbers (so frame gaps stay time
gaps for temporal pairs). Only when a folder's names hold no number are the frames paired by
position after natural sorting. Videos are paired frame by frame (packing "video", frame = index).

Stills (option `stills=true`): the two folders hold unrelated still images (RoadScene: FLIR_00006.jpg
... FLIR_video_04215.jpg), paired by identical file stem; an image without a partner of the same stem
on the other side is rejected alone. Each pair becomes its own one-frame sequence named after the
stem (`<folder>-<stem>` when root holds several pair folders), so pair generation never makes a
temporal pair or a tracklet across two different stills: every pair of a still is a same-instant pair.
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.adapters.common import child_dirs, opt_bool
from cmd_core.datasets.listing import VIDEO_EXTS, list_images, natural_key, pair_by_number
from cmd_core.datasets.spec import Issue, SequenceSpec

DEFAULT_PAIRS = (("rgb", "tir"), ("visible", "infrared"), ("visible", "lwir"), ("color", "ir"), ("visual", "thermal"))


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


def _stills(a: Path, b: Path, split: str, prefix: str) -> list[SequenceSpec]:
    """One one-frame sequence per stem found in folder `a` or `b`; a stem on one side only (or a
    stem held by two files of one side, e.g. x.jpg and x.png) is an issue of that sequence."""
    sides = {}
    for folder in (a, b):
        by_stem: dict[str, list[str]] = {}
        for p in list_images(folder):
            by_stem.setdefault(Path(p).stem, []).append(p)
        sides[folder] = by_stem
    seqs = []
    for stem in sorted(set(sides[a]) | set(sides[b]), key=natural_key):
        seq = SequenceSpec(name=prefix + stem, split=split)
        got = []
        for folder, other in ((a, b), (b, a)):
            files = sides[folder].get(stem, [])
            if len(files) > 1:
                seq.issues.append(Issue(str(folder), f"two stills with stem {stem!r}: "
                                        f"{', '.join(Path(f).name for f in files)}", frame=0))
            elif not files:
                partner = Path(sides[other][stem][0]).name
                seq.issues.append(Issue(str(folder), f"missing still matching {partner} (stills are paired by "
                                        "identical file stem)", frame=0, missing=True))
            got.append(files[0] if files else None)
        seq.rgb, seq.tir = [got[0]], [got[1]]
        seqs.append(seq)
    return seqs


def generic_pairs(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    """Sequences of `root` (see the module docstring); options rgb, tir, stills."""
    rgb_name, tir_name = options.pop("rgb", None), options.pop("tir", None)
    stills = opt_bool(options, "stills")
    if (rgb_name is None) != (tir_name is None):
        raise ValueError("generic_pairs: give both options rgb=... and tir=... or neither")
    pairs = ((rgb_name, tir_name),) if rgb_name else DEFAULT_PAIRS
    seqs = []
    dirs = child_dirs(root, lambda p: _find_pair(p, pairs) is not None)
    if not dirs:
        raise FileNotFoundError(f"{root}: no RGB/TIR pair of folders or videos named {[list(p) for p in pairs]}")
    for d in dirs:
        a, b = _find_pair(d, pairs)
        if stills:
            if not (a.is_dir() and b.is_dir()):
                raise ValueError(f"{d}: option stills=true needs two image folders, found {a.name} and {b.name}")
            seqs += _stills(a, b, split, "" if d == root else f"{d.name}-")
            continue
        seq = SequenceSpec(name=d.name, split=split)
        if a.is_dir() and b.is_dir():
            seq.rgb, seq.tir, issues = pair_by_number(list_images(a), list_images(b), str(a), str(b), labelled=False)
            for i in issues:
                if i.reason.startswith("two files for frame number"):
                    i.reason += " (a folder of unrelated stills? option stills=true pairs them by file name)"
            seq.issues.extend(issues)
        elif a.is_file() and b.is_file():
            seq.packing, seq.rgb, seq.tir = "video", [str(a.resolve())], [str(b.resolve())]
        else:
            seq.issues.append(Issue(str(d), f"{a.name} and {b.name} must both be folders or both videos"))
            seq.rgb, seq.tir = [], []
        seqs.append(seq)
    return seqs
