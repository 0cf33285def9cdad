"""LLVIP: `visible/{train,test}/NNNNNN.jpg`, `infrared/{train,test}/NNNNNN.jpg` (same name = one
aligned pair), `Annotations/NNNNNN.xml` (Pascal VOC, class person; modality "both").

LLVIP is a set of image pairs, not videos: each split folder is one "sequence" named after the
split, frames ordered by file number. VOC boxes become x = xmin, w = xmax - xmin (kept as
written); `difficult` -> ignore. Without an `Annotations/` folder the pairs have no objects; when
it exists every pair needs its XML file.
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.listing import list_images, pair_by_number, require_dir
from cmd_core.datasets.adapters.common import read_frame_xmls
from cmd_core.datasets.spec import SequenceSpec


def llvip(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    vis_root = require_dir(root / "visible", "LLVIP visible/ folder")
    require_dir(root / "infrared", "LLVIP infrared/ folder")
    splits = sorted(p.name for p in vis_root.iterdir() if p.is_dir()) if split == "all" else [split]
    ann_root = root / "Annotations"
    seqs = []
    for s in splits:
        vis, ir = root / "visible" / s, root / "infrared" / s
        seq = SequenceSpec(name=s, split=s)
        for d in (vis, ir):
            if not d.is_dir():
                raise FileNotFoundError(f"{d}: LLVIP split folder does not exist")
        seq.rgb, seq.tir, issues = pair_by_number(list_images(vis), list_images(ir), str(vis), str(ir), labelled=False)
        seq.issues.extend(issues)
        if ann_root.is_dir():
            images = [p or t for p, t in zip(seq.rgb, seq.tir)]
            read_frame_xmls(seq, images, ann_root, "both")
        seqs.append(seq)
    return seqs
