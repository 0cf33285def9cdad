"""Labelled RGB tracking data for the teacher: GOT-10k and LaSOT (modality "rgb").

- got10k: `<split>/<seq>/00000001.jpg`, `groundtruth.txt` (x,y,w,h), `absence.label` (1 = absent),
  `cover.label` (visible ratio in eighths, 0..8, as in pytracking's reading `cover / 8`), turned
  into the occluded fraction 1 - cover/8. `list.txt` (when present) fixes the sequence list. Root
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

from pathlib import Path

from cmd_core.datasets.adapters.common import opt_bool, optional_boxes
from cmd_core.datasets.listing import list_images
from cmd_core.datasets.parsers import read_frame_labels
from cmd_core.datasets.spec import Issue, SequenceSpec


def _got_sequence(d: Path, split: str, init_only: bool) -> SequenceSpec:
    seq = SequenceSpec(name=d.name, split=split)
    if not d.is_dir():
        seq.issues.append(Issue(str(d), "sequence listed in list.txt does not exist", missing=True))
        seq.rgb = []
        return seq
    seq.rgb = list_images(d)
    seq.gt_rgb = optional_boxes(d / "groundtruth.txt")
    if seq.gt_rgb is None:
        seq.issues.append(Issue(str(d / "groundtruth.txt"), "ground-truth file does not exist", missing=True))
    elif init_only:
        seq.gt_rgb.init_only = True
    if (d / "absence.label").is_file():
        seq.absent = read_frame_labels(d / "absence.label")
    if (d / "cover.label").is_file():
        cover = read_frame_labels(d / "cover.label")
        cover.values = 1.0 - cover.values / 8.0
        seq.occlusion = cover
    return seq


def _got_split(base: Path, label: str, init_only: bool) -> list[SequenceSpec]:
    listing = base / "list.txt"
    if listing.is_file():
        names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
        return [_got_sequence(base / n, label, init_only) for n in names]
    dirs = sorted(p for p in base.iterdir() if p.is_dir() and (p / "groundtruth.txt").is_file())
    return [_got_sequence(d, label, init_only) for d in dirs]


def got10k(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    init_opt = opt_bool(options, "gt_init_only", False)
    is_split = (root / "list.txt").is_file() or any((p / "groundtruth.txt").is_file() for p in root.iterdir()
                                                   if p.is_dir())
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
    seq = SequenceSpec(name=d.name, split=split, rgb=list_images(d / "img"))
    seq.gt_rgb = optional_boxes(d / "groundtruth.txt")
    if seq.gt_rgb is None:
        seq.issues.append(Issue(str(d / "groundtruth.txt"), "ground-truth file does not exist", missing=True))
    if (d / "full_occlusion.txt").is_file():
        seq.occlusion = read_frame_labels(d / "full_occlusion.txt")
    if (d / "out_of_view.txt").is_file():
        seq.absent = read_frame_labels(d / "out_of_view.txt")
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
