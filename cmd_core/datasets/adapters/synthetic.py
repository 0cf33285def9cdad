"""The project's synthetic benchmark (written by `cmd-tir synth`): four split folders, each in a
real dataset's layout, read by that dataset's adapter so the real adapters are exercised.

- rgb_train -> got10k; rgbt_train, rgbt_eval -> rgbt234 plus each sequence's `objects.csv`
  (`frame,object_id,kind,x,y,w,h,occlusion`, frame 0-based; -> objects with modality "both",
  label = kind, occluded = occlusion > 0); tir_eval -> lsotb_eval.
Root is `<out>/<split>`, or `<out>` (holding synth.json) with option `split=<name>` or the
`split` argument naming the split.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from cmd_core.datasets.adapters.rgb_tracking import got10k
from cmd_core.datasets.adapters.rgbt_pairs import rgbt234
from cmd_core.datasets.adapters.tir_benchmarks import lsotb_eval
from cmd_core.datasets.spec import Issue, ObjectRec, SequenceSpec

SPLITS = {"rgb_train": got10k, "rgbt_train": rgbt234, "rgbt_eval": rgbt234, "tir_eval": lsotb_eval}
OBJECT_COLUMNS = ("frame", "object_id", "kind", "x", "y", "w", "h", "occlusion")


def read_objects_csv(path: Path, seq: SequenceSpec) -> None:
    """Append the objects of a synthetic `objects.csv` to `seq` (bad rows become issues)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in OBJECT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            seq.issues.append(Issue(str(path), f"objects.csv lacks column(s) {missing}", line=1))
            return
        for lineno, row in enumerate(reader, start=2):
            try:
                frame = int(row["frame"])
                x, y, w, h = (float(row[k]) for k in "xywh")
                occ = float(row["occlusion"]) if row["occlusion"] not in ("", None) else math.nan
            except (TypeError, ValueError):
                seq.issues.append(Issue(str(path), f"cannot parse objects.csv row {row}", line=lineno))
                continue
            seq.objects.append(ObjectRec(frame=frame, x=x, y=y, w=w, h=h, object_id=row["object_id"] or None,
                                         label=row["kind"] or None, modality="both",
                                         occluded=None if math.isnan(occ) else occ > 0, file=str(path),
                                         line=lineno))


def synthetic(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    name = options.pop("split", None) or (split if split in SPLITS else None)
    if name is None:
        name = root.name
    else:
        root = root / name if (root / name).is_dir() else root
    if name not in SPLITS:
        raise ValueError(f"{root}: synthetic split must be one of {sorted(SPLITS)} (pass root=<out>/<split> "
                         f"or option split=<name>), got {name!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: synthetic split folder does not exist")
    seqs = SPLITS[name](root, name, options)
    for seq in seqs:
        seq.split = name
        if name.startswith("rgbt"):
            csv_path = root / seq.name / "objects.csv"
            if csv_path.is_file():
                read_objects_csv(csv_path, seq)
            else:
                seq.issues.append(Issue(str(csv_path), "objects.csv does not exist", missing=True))
    return seqs
