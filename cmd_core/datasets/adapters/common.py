"""Helpers shared by the adapters: options, sequence discovery, single-modality sequences."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from cmd_core.datasets.listing import list_images, place_by_number
from cmd_core.datasets.parsers import read_attribute_flags, read_boxes, read_voc_xml
from cmd_core.datasets.spec import GtTrack, Issue, SequenceSpec


def opt_bool(options: dict, key: str, default: bool = False) -> bool:
    """Pop a boolean key=value option ("true"/"false"/"1"/"0")."""
    v = options.pop(key, None)
    if v is None:
        return default
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"option {key}={v!r}: expected true or false")


def opt_choice(options: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    v = str(options.pop(key, default))
    if v not in choices:
        raise ValueError(f"option {key}={v!r}: expected one of {list(choices)}")
    return v


def split_root(root: Path, split: str) -> tuple[Path, str]:
    """`root/split` when that folder exists (the dataset's own split folders), else `root`."""
    if split != "all" and (root / split).is_dir():
        return root / split, split
    return root, split


def child_dirs(root: Path, is_sequence: Callable[[Path], bool]) -> list[Path]:
    """`root` itself if it is a sequence, else its sub-folders that are, sorted by name."""
    if is_sequence(root):
        return [root]
    return sorted((p for p in root.iterdir() if p.is_dir() and is_sequence(p)), key=lambda p: p.name)


def optional_boxes(path: Path, convention: str = "xywh") -> GtTrack | None:
    return read_boxes(path, convention) if path.is_file() else None


def tir_sequence(name: str, split: str, img_dir: Path, gt_file: Path | None, att_file: Path | None = None,
                 att_names: tuple[str, ...] = (), modality: str = "tir", convention: str = "xywh",
                 require_gt: bool = True) -> SequenceSpec:
    """A single-modality sequence: a frame folder, a box file, an optional attribute-flag file."""
    seq = SequenceSpec(name=name, split=split)
    frames: list[str | None] = []
    if img_dir.is_dir():
        frames, issues = place_by_number(list_images(img_dir), str(img_dir), labelled=gt_file is not None)
        seq.issues.extend(issues)
        if not frames:
            seq.issues.append(Issue(str(img_dir), "no image files in frame folder", whole_sequence=True))
    else:
        seq.issues.append(Issue(str(img_dir), "frame folder does not exist", missing=True, whole_sequence=True))
    gt = None
    if gt_file is not None and gt_file.is_file():
        gt = read_boxes(gt_file, convention)
    elif require_gt and gt_file is not None:
        seq.issues.append(Issue(str(gt_file), "ground-truth file does not exist", missing=True, whole_sequence=True))
    if modality == "tir":
        seq.tir, seq.gt_tir = frames, gt
    else:
        seq.rgb, seq.gt_rgb = frames, gt
    if att_file is not None and att_file.is_file():
        try:
            seq.attributes = read_attribute_flags(att_file, att_names)
        except ValueError as exc:
            seq.issues.append(Issue(str(att_file), str(exc).split(": ", 1)[-1], line=1))
    return seq


def read_frame_xmls(seq: SequenceSpec, images: list, ann_dir: Path, modality: str) -> None:
    """Append the objects of one VOC XML per frame (`<ann_dir>/<image stem>.xml`) to `seq`;
    a missing or unreadable file becomes an issue of that frame, never a silent gap."""
    for f, p in enumerate(images):
        if p is None:  # a missing frame file: already an issue of this frame
            continue
        xml = ann_dir / (Path(p).stem + ".xml")
        if not xml.is_file():
            seq.issues.append(Issue(str(xml), "missing annotation file", frame=f, missing=True))
            continue
        try:
            objs = read_voc_xml(xml, f, modality)
        except ValueError as exc:
            seq.issues.append(Issue(str(xml), str(exc).split(": ", 1)[-1], frame=f))
            continue
        for o in objs:
            o.file = str(xml)
        seq.objects.extend(objs)
