"""TIR evaluation benchmarks: LSOTB-TIR evaluation set and PTB-TIR (modality "tir").

- lsotb_eval: `sequences/<seq>/img/0001.jpg`, GT `anno/<seq>.txt` (x,y,w,h integers), attributes
  `anno/att/<seq>.txt` (16 flags, names below); `sequences.txt` (when present) fixes the list.
  Also the tool layout `<seq>/img/*.jpg` + `groundtruth_rect.txt`.
- ptb_tir: `tirsequences/<seq>/img/%08d.jpg`, GT `tiranno/<seq>.txt`, attributes
  `tiranno/att/<seq>.txt` (10 flags); or one OTB-style sequence folder `img/` +
  `groundtruth_rect.txt` (or a folder of them), as in the real PTB-TIR airplane sequence; a
  folder with `img/` but no GT file is reported, not left out.
The toolkits treat these boxes as MATLAB 1-based pixel coordinates, but the formats document does
not ask for a conversion, so the values are kept as written.
"""

from __future__ import annotations

from pathlib import Path

from cmd_core.datasets.adapters.common import child_dirs, tir_sequence
from cmd_core.datasets.spec import Issue, SequenceSpec

LSOTB_ATTRIBUTES = ("deformation", "occlusion", "distractor", "background_clutter", "out_of_view",
                    "scale_variation", "fast_motion", "motion_blur", "thermal_crossover",
                    "intensity_variation", "low_resolution", "aspect_ratio_variation", "vehicle_mounted",
                    "drone_mounted", "surveillance", "hand_held")
PTB_ATTRIBUTES = ("deformation", "occlusion", "scale_variation", "background_clutter", "low_resolution",
                  "fast_motion", "motion_blur", "out_of_view", "intensity_variation", "thermal_crossover")


def _otb_folders(root: Path, split: str, names: tuple[str, ...]) -> list[SequenceSpec]:
    # a folder with img/ is a sequence even when its groundtruth_rect.txt is lost (reported then)
    dirs = child_dirs(root, lambda p: (p / "img").is_dir())
    return [tir_sequence(d.name, split, d / "img", d / "groundtruth_rect.txt") for d in dirs]


def _benchmark(root: Path, split: str, seq_root: str, anno_root: str, names: tuple[str, ...]) -> list[SequenceSpec]:
    seq_dir, anno = root / seq_root, root / anno_root
    listing = root / "sequences.txt"
    out = []
    if listing.is_file():
        seq_names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    else:
        seq_names = sorted(p.name for p in seq_dir.iterdir() if p.is_dir())
    for s in seq_names:
        seq = tir_sequence(s, split, seq_dir / s / "img", anno / f"{s}.txt", anno / "att" / f"{s}.txt", names)
        if not (anno / "att" / f"{s}.txt").is_file():
            seq.issues.append(Issue(str(anno / "att" / f"{s}.txt"), "attribute file does not exist", missing=True))
        out.append(seq)
    return out


def _tir_benchmark(seq_root: str, anno_root: str, names: tuple[str, ...], label: str):
    def adapter(root: Path, split: str, options: dict) -> list[SequenceSpec]:
        if (root / seq_root).is_dir():
            return _benchmark(root, split, seq_root, anno_root, names)
        seqs = _otb_folders(root, split, names)
        if not seqs:
            raise FileNotFoundError(f"{root}: neither a {label} benchmark folder ({seq_root}/, {anno_root}/) "
                                    "nor sequence folders with img/ and groundtruth_rect.txt")
        return seqs
    return adapter


lsotb_eval = _tir_benchmark("sequences", "anno", LSOTB_ATTRIBUTES, "LSOTB-TIR")
ptb_tir = _tir_benchmark("tirsequences", "tiranno", PTB_ATTRIBUTES, "PTB-TIR")
