"""Labelled RGB tracking data for the teacher: GOT-10k and LaSOT (modality "rgb").

- got10k: `<split>/<seq>/00000001.jpg`, `groundtruth.txt` (x,y,w,h), `absence.label` (1 = absent),
  `cover.label` (visible ratio in eighths, 0..8, as in pytracking's reading `cover / 8`), turned
  into the occluded fraction 1 - cover/8; a label outside those ranges (or not a whole number) is
  an error of its line. `list.txt` (when present) fixes the sequence list; without it every
  folder holding frames or a groundtruth.txt is a sequence (a lost GT file is reported). Root
  is the split folder, or the dataset folder with `split` naming the sub-folder (all: every split
  folder with sequences). The test split's groundtruth.txt holds only the first frame's box: for
  split "test" (or option `gt_init_only=true`) a one-line file is accepted as such.
- lasot: `<class>/<class>-N/img/00000001.jpg`, `groundtruth.txt`, `full_occlusion.txt`
  (-> occlusion 0/1), `out_of_view.txt` (-> absent), both one comma-separated line. Root is the
  dataset folder, one class folder or one sequence folder; split train/test uses the root's
  `training_set.txt` / `testing_set.txt` when present.
Box values are kept as written (0-based per these datasets' toolkits; no conversion needed).
"""

from __future__ import annotations

import os
from pathlib import Path

from cmd_core.datasets.adapters.common import opt_bool, optional_boxes
from cmd_core.datasets.listing import IMAGE_EXTS, list_images, place_by_number
from cmd_core.datasets.parsers import read_frame_labels
from cmd_core.datasets.spec import Issue, SequenceSpec


def _got_sequence(d: Path, split: str, init_only: bool) -> SequenceSpec:
    seq = SequenceSpec(name=d.name, split=split)
    if not d.is_dir():
        seq.issues.append(Issue(str(d), "sequence listed in list.txt does not exist", missing=True, whole_sequence=True))
        seq.rgb = []
        return seq
    seq.rgb, issues = place_by_number(list_images(d), str(d))
    seq.issues.extend(issues)
    if not seq.rgb:
        seq.issues.append(Issue(str(d), "no image files in sequence folder", whole_sequence=True))
    seq.gt_rgb = optional_boxes(d / "groundtruth.txt")
    if seq.gt_rgb is None:
        seq.issues.append(Issue(str(d / "groundtruth.txt"), "ground-truth file does not exist", missing=True, whole_sequence=True))
    elif init_only:
        seq.gt_rgb.init_only = True
    if (d / "absence.label").is_file():
        seq.absent = read_frame_labels(d / "absence.label", value_range=(0, 1))
    if (d / "cover.label").is_file():
        cover = read_frame_labels(d / "cover.label", value_range=(0, 8))
        cover.values = 1.0 - cover.values / 8.0
        seq.occlusion = cover
    return seq


def _is_got_sequence(p: Path) -> bool:
    """A GOT-10k sequence folder: it has its groundtruth.txt or frame images (a folder whose GT
    file is lost is still a sequence, reported as such instead of silently left out)."""
    if (p / "groundtruth.txt").is_file():
        return True
    with os.scandir(p) as it:
        return any(e.is_file() and e.name.lower().endswith(IMAGE_EXTS) for e in it)


def _got_split(base: Path, label: str, init_only: bool) -> list[SequenceSpec]:
    listing = base / "list.txt"
    if listing.is_file():
        names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
        return [_got_sequence(base / n, label, init_only) for n in names]
    dirs = sorted(p for p in base.iterdir() if p.is_dir() and _is_got_sequence(p))
    return [_got_sequence(d, label, init_only) for d in dirs]


def got10k(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    init_opt = opt_bool(options, "gt_init_only", False)
    is_split = (root / "list.txt").is_file() or any(_is_got_sequence(p) for p in root.iterdir() if p.is_dir())
    if is_split:
        label = split if split != "all" else root.name
        return _got_split(root, label, init_opt or label == "test")
    if split != "all":
        if not (root / split).is_dir():
            raise FileNotFoundError(f"{root / split}: GOT-10k split folder does not exist")
        return _got_split(root / split, split, init_opt or split == "test")
    seqs = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        seqs.extend(_got_split(sub, sub.name, init_opt or sub.name == "test"))
    return seqs


def _lasot_sequence(d: Path, split: str) -> SequenceSpec:
    seq = SequenceSpec(name=d.name, split=split)
    seq.rgb, issues = place_by_number(list_images(d / "img"), str(d / "img"))
    seq.issues.extend(issues)
    if not seq.rgb:
        seq.issues.append(Issue(str(d / "img"), "no image files in frame folder", whole_sequence=True))
    seq.gt_rgb = optional_boxes(d / "groundtruth.txt")
    if seq.gt_rgb is None:
        seq.issues.append(Issue(str(d / "groundtruth.txt"), "ground-truth file does not exist", missing=True, whole_sequence=True))
    if (d / "full_occlusion.txt").is_file():
        seq.occlusion = read_frame_labels(d / "full_occlusion.txt", value_range=(0, 1))
    if (d / "out_of_view.txt").is_file():
        seq.absent = read_frame_labels(d / "out_of_view.txt", value_range=(0, 1))
    return seq


def lasot(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    def is_seq(p: Path) -> bool:
        return (p / "img").is_dir()

    dirs = [root] if is_seq(root) else []
    if not dirs:
        for child in sorted(p for p in root.iterdir() if p.is_dir()):
            if is_seq(child):  # root is one class folder
                dirs.append(child)
            else:
                dirs.extend(sorted(p for p in child.iterdir() if p.is_dir() and is_seq(p)))
    if split in ("train", "test"):
        listing = root / ("training_set.txt" if split == "train" else "testing_set.txt")
        if listing.is_file():
            wanted = {ln.strip() for ln in listing.read_text().splitlines() if ln.strip()}
            dirs = [d for d in dirs if d.name in wanted]
    return [_lasot_sequence(d, split) for d in dirs]
