"""What an adapter hands to the engine: a description of one sequence, nothing verified yet.

Adapters only *describe* (paths, parsed ground truth, per-frame labels, objects, and the problems
they found while parsing); the engine in `ingest.py` verifies files, applies the error policy and
builds the manifests. Keeping this split means every dataset gets the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Issue:
    """A problem found in the input: `frame` None for sequence-level problems, `line` 1-based."""

    file: str
    reason: str
    frame: int | None = None
    line: int | None = None
    missing: bool = False  # a file that should exist does not (FileNotFoundError in fail mode)
    whole_sequence: bool = False  # the sequence cannot be used at all (no frames, no GT file): skip drops it

    def message(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        at = f" (frame {self.frame})" if self.frame is not None else ""
        return f"{where}: {self.reason}{at}"


@dataclass
class GtTrack:
    """Boxes of one modality, one row per frame, already converted to x, y, w, h.

    `boxes` is float64 (n, 4); rows of unparseable lines are NaN and listed in `errors` as
    (row index, 1-based line, reason). `init_only` marks a file that legitimately holds only the
    first frame's box (GOT-10k test split), so a shorter file is not an error. `annotated` (bool per
    row) marks the rows a sparsely annotated format has a line for (VTUAV: every 10th frame); the
    other rows are NaN by design, not invalid GT. None: every row is annotated.
    """

    file: str
    boxes: np.ndarray
    lines: np.ndarray  # 1-based source line of each row (blank lines skipped; 0 where no line)
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    init_only: bool = False
    annotated: np.ndarray | None = None


@dataclass
class FrameLabels:
    """One per-frame value from a label file (absence, cover, occlusion ...)."""

    file: str
    values: np.ndarray  # float64, NaN where unparseable
    errors: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class ObjectRec:
    """One annotated object in one frame (multi-object datasets)."""

    frame: int
    x: float
    y: float
    w: float
    h: float
    object_id: str | None = None
    label: str | None = None
    modality: str = "both"
    occluded: bool | None = None
    ignore: bool = False
    file: str | None = None  # annotation file, for error messages
    line: int | None = None  # 1-based line in that file, where the format is line-based


@dataclass
class SequenceSpec:
    """One sequence as laid out on disk.

    packing "files": `rgb` / `tir` are per-frame path lists (None entries where the adapter knows a
    modality's frame is missing) or None when the dataset lacks that modality.
    packing "side_by_side": `rgb` lists the combined images; `tir` is None (same files).
    packing "video": `rgb` / `tir` are one-element lists holding the video file.
    `absent` and `occlusion` are per-frame labels (occlusion as an occluded fraction 0..1).
    """

    name: str
    split: str
    packing: str = "files"
    rgb: list[str | None] | None = None
    tir: list[str | None] | None = None
    gt_rgb: GtTrack | None = None
    gt_tir: GtTrack | None = None
    absent: FrameLabels | None = None
    occlusion: FrameLabels | None = None
    attributes: str | None = None
    objects: list[ObjectRec] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    n_frames: int | None = None  # set by the engine for video; files: len of the path lists
