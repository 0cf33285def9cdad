"""Paired RGB-T datasets with one folder per modality per sequence: RGBT234, LasHeR, GTOT.

- RGBT234: `<seq>/visible/00001v.jpg`, `<seq>/infrared/00001i.jpg`, `visible.txt`, `infrared.txt`
  (x,y,w,h); when both are missing, `init.txt` is used for both modalities.
- LasHeR: `<seq>/visible/v000.jpg`, `<seq>/infrared/i000.jpg`, same GT files; optional per-frame
  `absence.label` (-> absent). Rows with w or h = 0 exist and become invalid GT. With split
  train/test, `root/<split>` is used when it exists (e.g. trainingset/testingset passed as split).
- GTOT: `<seq>/v/00001_v.jpg`, `<seq>/i/00001_i.jpg`, `groundTruth_v.txt`, `groundTruth_i.txt` in
  corner format x1 y1 x2 y2 converted as the GTOT toolkit does (x1, y1, x2-x1, y2-y1, unrounded).
Coordinates are kept as the source writes them (the formats document does not state an origin
for these files), frames are paired by the number in their names. A sequence with an empty
modality folder, or with one modality's GT file but not the other's, is reported (dropped whole
with on_error=skip), never ingested with that modality silently unlabelled.
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.adapters.common import child_dirs, optional_boxes, split_root
from cmd_core.datasets.listing import list_images, pair_by_number
from cmd_core.datasets.parsers import read_frame_labels
from cmd_core.datasets.spec import Issue, SequenceSpec


def paired_sequence(seq_dir: Path, split: str, rgb_dir: str, tir_dir: str, rgb_gt: str, tir_gt: str,
                    convention: str = "xywh") -> SequenceSpec:
    """One sequence with `rgb_dir` / `tir_dir` frame folders and one GT file per modality."""
    seq = SequenceSpec(name=seq_dir.name, split=split)
    lists = []
    for d in (rgb_dir, tir_dir):
        p = seq_dir / d
        if not p.is_dir():
            seq.issues.append(Issue(str(p), "modality frame folder does not exist", missing=True, whole_sequence=True))
            lists.append([])
        else:
            lists.append(list_images(p))
            if not lists[-1]:
                seq.issues.append(Issue(str(p), "no image files in frame folder", whole_sequence=True))
    seq.rgb, seq.tir, issues = pair_by_number(lists[0], lists[1], str(seq_dir / rgb_dir), str(seq_dir / tir_dir))
    seq.issues.extend(issues)
    seq.gt_rgb = optional_boxes(seq_dir / rgb_gt, convention)
    seq.gt_tir = optional_boxes(seq_dir / tir_gt, convention)
    if seq.gt_rgb is None and seq.gt_tir is None:
        seq.gt_rgb = seq.gt_tir = optional_boxes(seq_dir / "init.txt", convention)
    else:  # one modality's GT without the other's would leave that modality silently unlabelled
        for track, name in ((seq.gt_rgb, rgb_gt), (seq.gt_tir, tir_gt)):
            if track is None:
                seq.issues.append(Issue(str(seq_dir / name), "ground-truth file does not exist (the other "
                                        "modality's exists)", missing=True, whole_sequence=True))
    if (seq_dir / "absence.label").is_file():
        seq.absent = read_frame_labels(seq_dir / "absence.label", value_range=(0, 1))
    return seq


def _adapter(rgb_dir: str, tir_dir: str, rgb_gt: str, tir_gt: str, convention: str):
    def adapter(root: Path, split: str, options: dict) -> list[SequenceSpec]:
        base, label = split_root(root, split)
        dirs = child_dirs(base, lambda p: (p / rgb_dir).is_dir() or (p / tir_dir).is_dir())
        return [paired_sequence(d, label, rgb_dir, tir_dir, rgb_gt, tir_gt, convention) for d in dirs]
    return adapter


rgbt234 = _adapter("visible", "infrared", "visible.txt", "infrared.txt", "xywh")
lasher = _adapter("visible", "infrared", "visible.txt", "infrared.txt", "xywh")
gtot = _adapter("v", "i", "groundTruth_v.txt", "groundTruth_i.txt", "corners")
