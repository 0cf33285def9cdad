"""Writers for the four on-disk layouts, matching the real datasets the adapters read.

- rgb_train  -> GOT-10k:   <split>/<seq>/00000001.jpg, groundtruth.txt (x,y,w,h floats, 2 decimals),
                           absence.label (0/1), cover.label (0..8 visible eighths), cut_by_image.label
                           (0/1: part of the target is outside the image), meta_info.ini (GOT-10k's
                           keys in its order; resolution: (width, height), the one the GOT-10k
                           toolkit reads; what a synthetic scene has no value for is "unknown");
                           <split>/list.txt
- rgbt_train, rgbt_eval -> RGBT234: <split>/<seq>/visible/00001v.jpg, infrared/00001i.jpg,
                           visible.txt, infrared.txt (x,y,w,h integers), init.txt (first box),
                           plus objects.csv (frame,object_id,kind,x,y,w,h,occlusion; frame 0-based)
- tir_eval   -> LSOTB-TIR: <split>/sequences/<seq>/img/0001.jpg (grey), anno/<seq>.txt (x,y,w,h
                           integers), anno/att/<seq>.txt (16 flags), <split>/sequences.txt

Boxes are 0-based pixels; a frame where no part of the target is inside the image has box 0,0,0,0.
Writers only ever write inside a split's temporary directory; the generator renames the whole
split into place when it is complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

LAYOUT_OF_SPLIT = {"rgb_train": "got10k", "rgbt_train": "rgbt234", "tir_eval": "lsotb-tir", "rgbt_eval": "rgbt234"}
MODALITIES_OF_SPLIT = {"rgb_train": ("rgb",), "rgbt_train": ("rgb", "tir"), "tir_eval": ("tir",),
                       "rgbt_eval": ("rgb", "tir")}


def _fmt_int(b: Sequence[float]) -> str:
    return ",".join(str(int(round(v))) for v in b)


def _fmt_float(b: Sequence[float]) -> str:
    return ",".join(f"{float(v):.2f}" for v in b)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class SequenceWriter:
    """Knows where frame t of a modality goes and how to write a sequence's annotation files."""

    def __init__(self, split: str, split_dir: Path, name: str):
        self.split, self.split_dir, self.name = split, Path(split_dir), name
        self.layout = LAYOUT_OF_SPLIT[split]
        if self.layout == "got10k":
            self.seq_dir = self.split_dir / name
        elif self.layout == "rgbt234":
            self.seq_dir = self.split_dir / name
            (self.seq_dir / "visible").mkdir(parents=True, exist_ok=True)
            (self.seq_dir / "infrared").mkdir(parents=True, exist_ok=True)
        else:
            self.seq_dir = self.split_dir / "sequences" / name / "img"
        self.seq_dir.mkdir(parents=True, exist_ok=True)

    def frame_path(self, t: int, modality: str) -> Path:
        if self.layout == "got10k":
            return self.seq_dir / f"{t + 1:08d}.jpg"
        if self.layout == "rgbt234":
            return self.seq_dir / ("visible" if modality == "rgb" else "infrared") / (
                f"{t + 1:05d}{'v' if modality == 'rgb' else 'i'}.jpg")
        return self.seq_dir / f"{t + 1:04d}.jpg"

    def finish(self, boxes: np.ndarray, absent: np.ndarray, cover: np.ndarray,
               objects_rows: list[tuple] | None = None, attribute_line: str | None = None,
               cut_by_image: np.ndarray | None = None, meta_info: dict[str, str] | None = None) -> None:
        """Write the annotation files. `boxes` (n, 4) x,y,w,h of the target (zeros where none);
        GOT-10k layout: `cut_by_image` (n,) 0/1 and `meta_info` (see :func:`got10k_meta_info`)."""
        lines_f = "".join(_fmt_float(b) + "\n" for b in boxes)
        lines_i = "".join(_fmt_int(b) + "\n" for b in boxes)
        if self.layout == "got10k":
            _write(self.seq_dir / "groundtruth.txt", lines_f)
            _write(self.seq_dir / "absence.label", "".join(f"{int(a)}\n" for a in absent))
            _write(self.seq_dir / "cover.label", "".join(f"{int(c)}\n" for c in cover))
            if cut_by_image is None or meta_info is None:
                raise ValueError(f"{self.name}: the GOT-10k layout needs cut_by_image and meta_info")
            _write(self.seq_dir / "cut_by_image.label", "".join(f"{int(c)}\n" for c in cut_by_image))
            _write(self.seq_dir / "meta_info.ini", "[METAINFO]\n" + "".join(f"{k}: {v}\n" for k, v in meta_info.items()))
        elif self.layout == "rgbt234":
            _write(self.seq_dir / "visible.txt", lines_i)
            _write(self.seq_dir / "infrared.txt", lines_i)
            _write(self.seq_dir / "init.txt", _fmt_int(boxes[0]) + "\n")
            rows = ["frame,object_id,kind,x,y,w,h,occlusion\n"]
            # An object out of view has no box: it is left out (an annotation, not a fake 0,0,0,0 box).
            rows += [f"{f},{oid},{kind},{x},{y},{w},{h},{occ:.3f}\n"
                     for f, oid, kind, x, y, w, h, occ in objects_rows or () if w > 0 and h > 0]
            _write(self.seq_dir / "objects.csv", "".join(rows))
        else:
            _write(self.split_dir / "anno" / f"{self.name}.txt", lines_i)
            _write(self.split_dir / "anno" / "att" / f"{self.name}.txt", (attribute_line or "") + "\n")


GOT10K_META_KEYS = ("url", "begin", "end", "anno_fps", "object_class", "motion_class", "major_class", "root_class",
                    "motion_adverb", "resolution")


def got10k_meta_info(width: int, height: int, object_class: str) -> dict[str, str]:
    """A GOT-10k ``meta_info.ini``'s keys in the dataset's order (readers such as pytracking take the
    class names by line number, the GOT-10k toolkit the resolution by key): the target's class, the
    image size as ``(width, height)``, "unknown" for what a synthetic scene has no value for."""
    meta = dict.fromkeys(GOT10K_META_KEYS, "unknown")
    meta.update(url="none (synthetic sequence, cmd_core.synth)", object_class=object_class,
                resolution=f"({int(width)}, {int(height)})")
    return meta


def write_split_index(split: str, split_dir: Path, names: list[str]) -> None:
    """The split-level sequence list of the layout (GOT-10k list.txt, LSOTB sequences.txt)."""
    text = "".join(f"{n}\n" for n in names)
    layout = LAYOUT_OF_SPLIT[split]
    if layout == "got10k":
        _write(Path(split_dir) / "list.txt", text)
    elif layout == "lsotb-tir":
        _write(Path(split_dir) / "sequences.txt", text)
    else:  # RGBT234 ships no list file; a plain list helps and does not hurt
        _write(Path(split_dir) / "list.txt", text)
