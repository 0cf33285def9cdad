"""KAIST multispectral pedestrian: `images/setXX/VYYY/{visible,lwir}/IZZZZZ.jpg` with bbGt v3
annotations `annotations/setXX/VYYY/IZZZZZ.txt` (shared by both modalities -> modality "both").

Sequence name "setXX/VYYY"; split train = set00-05, test = set06-11, a set name (e.g. "set06")
selects one set, "all" everything. Boxes are bbGt's `x y w h`, kept as written (the format does
not state an origin); `occ` -> occluded, the `ignore` field (11th value, when present) -> ignore.
The frame size is read from the images (the dataset reports both 640x480 and 640x512). With no
`annotations/` folder the pairs are ingested without objects; when it exists every frame needs
its annotation file.
"""

from __future__ import annotations

import re
from pathlib import Path

from cmd_core.datasets.listing import list_images, pair_by_number, require_dir
from cmd_core.datasets.parsers import read_bbgt
from cmd_core.datasets.spec import Issue, SequenceSpec

TRAIN_SETS = tuple(f"set{i:02d}" for i in range(0, 6))
TEST_SETS = tuple(f"set{i:02d}" for i in range(6, 12))


def _sets(images: Path, split: str) -> list[Path]:
    sets = sorted(p for p in images.iterdir() if p.is_dir() and re.fullmatch(r"set\d+", p.name))
    if split == "train":
        return [s for s in sets if s.name in TRAIN_SETS]
    if split == "test":
        return [s for s in sets if s.name in TEST_SETS]
    if split == "all":
        return sets
    if re.fullmatch(r"set\d+", split):
        return [s for s in sets if s.name == split]
    raise ValueError(f"KAIST split must be train, test, all or setXX, got {split!r}")


def kaist(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    images = require_dir(root / "images", "KAIST images/ folder")
    ann_root = root / "annotations"
    seqs = []
    for set_dir in _sets(images, split):
        for vdir in sorted(p for p in set_dir.iterdir() if p.is_dir()):
            seq = SequenceSpec(name=f"{set_dir.name}/{vdir.name}", split=split)
            vis, lwir = vdir / "visible", vdir / "lwir"
            lists = [list_images(d) if d.is_dir() else [] for d in (vis, lwir)]
            for d in (vis, lwir):
                if not d.is_dir():
                    seq.issues.append(Issue(str(d), "modality frame folder does not exist", missing=True, whole_sequence=True))
            seq.rgb, seq.tir, issues = pair_by_number(lists[0], lists[1], str(vis), str(lwir), labelled=False)
            seq.issues.extend(issues)
            if ann_root.is_dir():
                for f, p in enumerate(seq.rgb):
                    p = p or seq.tir[f]
                    if p is None:  # missing in both modalities: already an issue of this frame
                        continue
                    ann = ann_root / set_dir.name / vdir.name / (Path(p).stem + ".txt")
                    if not ann.is_file():
                        seq.issues.append(Issue(str(ann), "missing annotation file", frame=f, missing=True))
                        continue
                    objs, errors = read_bbgt(ann, f)
                    for o in objs:
                        o.file = str(ann)
                    seq.objects.extend(objs)
                    seq.issues.extend(Issue(str(ann), r, frame=f, line=ln) for ln, r in errors)
            seqs.append(seq)
    return seqs
