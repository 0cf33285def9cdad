"""LSOTB-TIR training set: `TrainingData/TIR_training_00k/<video>/%08d.jpg` with per-frame
ImageNet-VID style XML `Annotations/TIR_training_00k/<video>/%08d.xml` (`<object>` with trackid,
name, occluded, bndbox xmin ymin xmax ymax -> x = xmin, w = xmax - xmin; values kept as written).

All objects go to the objects manifest (modality "tir"). When a video has exactly one trackid,
that track is also the sequence's TIR ground truth (frames without it: no box, absent = True);
with several tracks the frames carry no single-object GT. A frame without its XML file is reported.
Root is the folder holding TrainingData/ and Annotations/ (split: a TIR_training_00k folder name
selects one part).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cmd_core.datasets.listing import list_images, require_dir
from cmd_core.datasets.adapters.common import read_frame_xmls
from cmd_core.datasets.spec import FrameLabels, GtTrack, SequenceSpec


def _single_track(seq: SequenceSpec, n: int, ann_dir: Path) -> None:
    ids = {o.object_id for o in seq.objects}
    if len(ids) != 1:
        return
    boxes = np.full((n, 4), math.nan)
    for o in seq.objects:
        boxes[o.frame] = (o.x, o.y, o.w, o.h)
    seq.gt_tir = GtTrack(file=str(ann_dir), boxes=boxes, lines=np.arange(1, n + 1))
    seq.absent = FrameLabels(file=str(ann_dir), values=np.isnan(boxes[:, 0]).astype(float))


def lsotb_train(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    data = require_dir(root / "TrainingData", "LSOTB-TIR TrainingData/ folder")
    ann_root = root / "Annotations"
    parts = sorted(p for p in data.iterdir() if p.is_dir())
    if split != "all":
        parts = [p for p in parts if p.name == split]
    seqs = []
    for part in parts:
        for vdir in sorted(p for p in part.iterdir() if p.is_dir()):
            seq = SequenceSpec(name=f"{part.name}/{vdir.name}", split=split)
            seq.tir = list_images(vdir)
            ann_dir = ann_root / part.name / vdir.name
            read_frame_xmls(seq, seq.tir, ann_dir, "tir")
            _single_track(seq, len(seq.tir), ann_dir)
            seqs.append(seq)
    return seqs
