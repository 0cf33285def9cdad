"""VTUAV (Visible-Thermal UAV tracking, Zhang et al. CVPR 2022; 1920x1080 drone video).

Layout: `<seq>/rgb/000000.jpg ...`, `<seq>/ir/000000.jpg ...` and `<seq>/rgb.txt`, `<seq>/ir.txt`
with one `x y w h` box per line for every 10th frame only. With split, `root/<split>` is read
when it exists (e.g. test_ST, test_LT).

Frame convention: frame index = file number - first frame number (000000.jpg is frame 0, see
`cmd_core.datasets.listing`), the manifest's 0-based `frame`. Annotation line k + 1 (k = 0, 1, ...)
is frame 10 k: the first line is the first frame, as in the VTUAV toolkit, which scores result
rows `1:10:end` against the annotation lines. A sequence of n frames has (n - 1) // 10 + 1 lines.

No frame is dropped. A frame without an annotation line has null boxes, gt_*_valid = false and
`absent` null (not annotated); an annotated frame has `absent` False, or True when neither file's
line gives a box (NaN, w or h <= 0). That absence reading is ours: VTUAV states no convention.
An `absence.label` file, where one exists, is read per frame instead (as for LasHeR).

Bad input: a file with more lines than the frames allow is reported at the first line past the
last frame; a line that is not 4 numbers at its line (frame 10 k); too few lines leave annotated
frames without a box, each reported as that frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cmd_core.datasets.adapters.common import child_dirs, split_root
from cmd_core.datasets.adapters.rgbt_pairs import paired_sequence
from cmd_core.datasets.spec import FrameLabels, GtTrack, Issue, SequenceSpec

ANNOTATION_STEP = 10  # VTUAV annotates frames 0, 10, 20 ... (the protocol `vtuav` samples the same)


def spread_annotations(track: GtTrack | None, n: int, step: int, issues: list[Issue]) -> GtTrack | None:
    """A sparse track (line k = frame step * k) as one row per frame of an n-frame sequence:
    NaN rows between annotations, `annotated` marking the rest. Line-count problems go to `issues`."""
    if track is None:
        return None
    allowed = (n - 1) // step + 1 if n > 0 else 0
    k = len(track.boxes)
    if k > allowed:
        issues.append(Issue(track.file, f"{k} annotation lines but {n} frames allow at most {allowed} (line j "
                            f"annotates frame {step}*(j-1)); this line would annotate frame {step * allowed}, "
                            f"past the last frame {n - 1}", line=int(track.lines[allowed])))
    issues.extend(Issue(track.file, f"no annotation line for this frame ({k} lines for {n} frames; one line per "
                        f"{step}th frame from frame 0 expected)", frame=step * j) for j in range(k, allowed))
    kept = min(k, allowed)
    rows = np.arange(kept) * step
    boxes = np.full((n, 4), np.nan)
    boxes[rows] = track.boxes[:kept]
    lines = np.zeros(n, np.int64)
    lines[rows] = track.lines[:kept]
    annotated = np.zeros(n, bool)
    annotated[rows] = True
    errors = [(row * step, line, reason) for row, line, reason in track.errors]
    return GtTrack(file=track.file, boxes=boxes, lines=lines, errors=errors, annotated=annotated)


def _absence(tracks: list[GtTrack], n: int) -> FrameLabels:
    """Per frame: NaN where no file annotates it, 1 where no annotating line gives a box, else 0."""
    annotated = np.zeros(n, bool)
    has_box = np.zeros(n, bool)
    for t in tracks:
        annotated |= t.annotated
        with np.errstate(invalid="ignore"):
            has_box |= t.annotated & np.isfinite(t.boxes).all(1) & (t.boxes[:, 2] > 0) & (t.boxes[:, 3] > 0)
    values = np.where(annotated, (~has_box).astype(np.float64), np.nan)
    return FrameLabels(file=tracks[0].file, values=values)


def vtuav_sequence(seq_dir: Path, split: str, step: int = ANNOTATION_STEP) -> SequenceSpec:
    """One VTUAV sequence: paired rgb/ir frames, the sparse GT spread over all frames."""
    seq = paired_sequence(seq_dir, split, "rgb", "ir", "rgb.txt", "ir.txt")
    n = max(len(seq.rgb or ()), len(seq.tir or ()))
    seq.gt_rgb = spread_annotations(seq.gt_rgb, n, step, seq.issues)
    seq.gt_tir = spread_annotations(seq.gt_tir, n, step, seq.issues)
    tracks = [t for t in (seq.gt_rgb, seq.gt_tir) if t is not None]
    if seq.absent is None and tracks:
        seq.absent = _absence(tracks, n)
    return seq


def vtuav(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    """Every `<seq>` folder with `rgb/` or `ir/` under root (or root/<split>)."""
    base, label = split_root(root, split)
    dirs = child_dirs(base, lambda p: (p / "rgb").is_dir() or (p / "ir").is_dir())
    return [vtuav_sequence(d, label) for d in dirs]
