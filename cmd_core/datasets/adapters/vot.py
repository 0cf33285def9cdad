"""VOT sequences: single-modality VOT (`vot`) and VOT-RGBT (`vot_rgbt`).

Both read `groundtruth.txt` with rectangles (x,y,w,h) or polygons (x1,y1,...,x4,y4 -> axis-aligned
min/max box); values are kept as written (VOT's own toolkit convention, origin not converted).
Lines "0,0,0,0" or NaN mark frames without a target and become invalid GT.
Per-frame `*.tag` / `*.label` files (0/1 per line) give the sequence's attribute names (those
with any frame set); `occlusion.tag|label` also fills the per-frame occlusion column (0 or 1).

- vot_rgbt: each sequence has an INI-like `sequence` file with `channels.color=color/%08d.jpg`
  and `channels.ir=ir/%08d.jpg`; frames are paired by number; the one GT fills both modalities.
- vot: images in `color/`, `imgs/`, `img/` or the sequence folder itself; when a frame-list file
  (`*frames.txt`, one line "first,last", as in the VOT2015 test sequence) is present, exactly the
  frames first..last are expected and a missing one is reported. Option `modality=rgb|tir`
  (default rgb; VOT-TIR/LTIR sequences are `modality=tir`).
Root is a sequence folder or a folder of sequences.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cmd_core.datasets.adapters.common import child_dirs, opt_choice, optional_boxes
from cmd_core.datasets.listing import frame_number, list_images, pair_by_number, place_by_number
from cmd_core.datasets.parsers import read_frame_labels
from cmd_core.datasets.spec import Issue, SequenceSpec


def _tags(seq: SequenceSpec, seq_dir: Path) -> None:
    names = []
    for p in sorted([*seq_dir.glob("*.tag"), *seq_dir.glob("*.label")]):
        lab = read_frame_labels(p)
        if lab.errors:
            row, line, reason = lab.errors[0]
            seq.issues.append(Issue(str(p), reason, line=line))
            continue
        if np.nansum(lab.values) > 0:
            names.append(p.stem)
        if p.stem == "occlusion":
            seq.occlusion = lab
    seq.attributes = ",".join(dict.fromkeys(names)) if names else None


def _channel_files(seq_dir: Path, pattern: str) -> tuple[Path, list[str]]:
    """Files matching a printf-style channel pattern such as `color/%08d.jpg`."""
    rel = Path(pattern)
    folder = seq_dir / rel.parent
    rx = re.compile("^" + re.sub(r"%0?(\d*)d", lambda m: r"(\d+)", re.escape(rel.name).replace(r"\%", "%")) + "$")
    if not folder.is_dir():
        return folder, []
    return folder, [p for p in list_images(folder) if rx.match(Path(p).name)]


def _read_sequence_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def vot_rgbt(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    seqs = []
    for d in child_dirs(root, lambda p: (p / "sequence").is_file()):
        seq = SequenceSpec(name=d.name, split=split)
        meta = _read_sequence_file(d / "sequence")
        color = meta.get("channels.color") or meta.get("channels.rgb")
        ir = meta.get("channels.ir") or meta.get("channels.infrared")
        if not color or not ir:
            raise ValueError(f"{d / 'sequence'}: needs channels.color and channels.ir entries")
        (cdir, cfiles), (idir, ifiles) = _channel_files(d, color), _channel_files(d, ir)
        seq.rgb, seq.tir, issues = pair_by_number(cfiles, ifiles, str(cdir), str(idir))
        seq.issues.extend(issues)
        seq.gt_rgb = seq.gt_tir = optional_boxes(d / "groundtruth.txt", "auto")
        _tags(seq, d)
        seqs.append(seq)
    return seqs


def _frame_range(seq_dir: Path) -> tuple[Path, int, int] | None:
    for p in sorted(seq_dir.glob("*frames.txt")):
        toks = [t for t in re.split(r"[,\s]+", p.read_text().strip()) if t]
        try:
            first, last = int(toks[0]), int(toks[1])
        except (ValueError, IndexError):
            raise ValueError(f"{p}:1: frame list must be 'first,last'") from None
        return p, first, last
    return None


def _vot_frames(seq: SequenceSpec, d: Path) -> list[str | None]:
    img_dir = next((d / s for s in ("color", "imgs", "img") if (d / s).is_dir()), d)
    files = list_images(img_dir)
    rng = _frame_range(d)
    if rng is None:
        slots, issues = place_by_number(files, str(img_dir))
        seq.issues.extend(issues)
        return slots
    listfile, first, last = rng
    by_num = {frame_number(p): p for p in files}
    template = files[0] if files else None
    out: list[str | None] = []
    for i, n in enumerate(range(first, last + 1)):
        p = by_num.get(n)
        if p is None:
            ext = Path(template).suffix if template else ".jpg"
            width = len(Path(template).stem) if template else 8
            missing = img_dir / f"{n:0{width}d}{ext}"
            seq.issues.append(Issue(str(missing), f"frame {n} listed in {listfile.name} is missing",
                                    frame=i, missing=True))
        out.append(p)
    extra = sorted(set(by_num) - set(range(first, last + 1)), key=lambda x: (x is None, x))
    if extra:
        seq.issues.append(Issue(str(img_dir), f"{len(extra)} image(s) outside the range {first}..{last} "
                                f"of {listfile.name}"))
    return out


def vot(root: Path, split: str, options: dict) -> list[SequenceSpec]:
    modality = opt_choice(options, "modality", ("rgb", "tir"), "rgb")
    seqs = []
    for d in child_dirs(root, lambda p: (p / "groundtruth.txt").is_file()):
        seq = SequenceSpec(name=d.name, split=split)
        frames = _vot_frames(seq, d)
        gt = optional_boxes(d / "groundtruth.txt", "auto")
        if modality == "rgb":
            seq.rgb, seq.gt_rgb = frames, gt
        else:
            seq.tir, seq.gt_tir = frames, gt
        _tags(seq, d)
        seqs.append(seq)
    return seqs


__all__ = ["vot", "vot_rgbt"]
