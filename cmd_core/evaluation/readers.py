"""Readers for tracker results and benchmark ground truth in the layouts people have.

Box files: one box per line, ``x,y,w,h`` with comma, tab, space or semicolon separators (mixed
within a file is fine), or 8-value polygons (x1 y1 ... x4 y4), or corners ``x1 y1 x2 y2`` when told.
Errors name the file and the line.
"""

from __future__ import annotations

import ast
import glob
import io
import logging
import re
from pathlib import Path

import numpy as np

from .engine import Track, corners_to_xywh, polygon_to_xywh

log = logging.getLogger(__name__)

_SEPARATORS = str.maketrans(",\t;\r", "    ")
_BLANK_INSIDE = re.compile(r"\n[ ]*\n")

LSOTB_ATTRIBUTES = (
    "deformation", "occlusion", "distractor", "background clutter", "out of view", "scale variation",
    "fast motion", "motion blur", "thermal crossover", "intensity variation", "low resolution",
    "aspect ratio variation", "vehicle-mounted", "drone-mounted", "surveillance", "hand-held",
)
PTB_ATTRIBUTES = (
    "deformation", "occlusion", "scale variation", "background clutter", "low resolution",
    "fast motion", "motion blur", "out of view", "intensity variation", "thermal crossover",
)
LASHER_ATTRIBUTES = (
    "NO", "PO", "TO", "HO", "MB", "LI", "HI", "AIV", "LR", "DEF", "BC", "SA", "CM", "TC", "FL", "OV",
    "FM", "SV", "ARC",
)
ATTRIBUTE_NAMES = {16: LSOTB_ATTRIBUTES, 10: PTB_ATTRIBUTES, 19: LASHER_ATTRIBUTES}

GT_FORMATS = ("flat", "lsotb", "ptb", "lasher", "rgbt234", "gtot", "got10k", "lasot", "vtuav", "manifest")


# ------------------------------------------------------------------------------------ box files
def read_numbers(path: str | Path, columns: tuple[int, ...] = (4, 8), allow_empty: bool = False) -> np.ndarray:
    """Read a numeric table (one row per line, any of , tab ; space as separators) as float64.

    Raises ValueError naming the file and line for a non-numeric value, a row with the wrong
    number of values, or a blank line between rows; FileNotFoundError if the file is missing.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    text = text.translate(_SEPARATORS).strip("\n ")
    if not text:
        if allow_empty:
            return np.zeros((0, columns[0]))
        raise ValueError(f"{path}: empty file")
    blank = _BLANK_INSIDE.search(text)
    if blank:
        raise ValueError(f"{path}, line {text.count(chr(10), 0, blank.start()) + 2}: blank line between boxes")
    try:
        arr = np.loadtxt(io.StringIO(text), ndmin=2, dtype=np.float64, comments=None)
    except ValueError:
        _locate_bad_line(path, text, columns)
        raise
    if arr.shape[1] not in columns:
        raise ValueError(f"{path}, line 1: {arr.shape[1]} values per line, expected {' or '.join(map(str, columns))}")
    return arr


def _locate_bad_line(path: Path, text: str, columns: tuple[int, ...]) -> None:
    """Slow path after a parse failure: raise with the exact line and what is wrong."""
    first = None
    for i, line in enumerate(text.split("\n"), 1):
        toks = line.split()
        try:
            [float(t) for t in toks]
        except ValueError:
            raise ValueError(f"{path}, line {i}: non-numeric value in {line.strip()!r}") from None
        first = len(toks) if first is None else first
        if len(toks) != first:
            raise ValueError(f"{path}, line {i}: {len(toks)} values, but line 1 has {first}")
    raise ValueError(f"{path}: cannot parse as a table of numbers")


def read_boxes(path: str | Path, box_format: str = "xywh", polygon: str | None = None) -> np.ndarray:
    """Read boxes as (N, 4) x,y,w,h, or keep (N, 8) polygons when ``polygon`` is None (the
    protocol converts them). ``box_format``: ``"xywh"`` or ``"corner"`` (x1 y1 x2 y2)."""
    arr = read_numbers(path)
    if arr.shape[1] == 8:
        return polygon_to_xywh(arr, polygon) if polygon else arr
    if box_format == "corner":
        return corners_to_xywh(arr)
    return arr


def read_times(path: str | Path) -> np.ndarray | None:
    """Per-frame seconds from a time file (one value per line, or several per line); None if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").translate(_SEPARATORS)
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError:
        _locate_bad_line(path, text.strip("\n "), (1,))
        raise


# ------------------------------------------------------------------------------------- results
def find_result_file(directory: Path, seq: str, tracker: str | None = None) -> Path | None:
    """The result file of ``seq`` in one of the known layouts, or None."""
    cands = [directory / f"{seq}.txt"]
    if tracker:
        cands.append(directory / f"{tracker}_{seq}.txt")  # GTOT / RGBT toolkits
    cands += [directory / seq / f"{seq}_001.txt", directory / f"{seq}_001.txt"]  # got10k GOT-10k / VOT
    return next((c for c in cands if c.is_file()), None)


def find_time_file(directory: Path, seq: str) -> Path | None:
    """pytracking / OTB ``<seq>_time.txt``, got10k-otb ``times/<seq>_time.txt`` or GOT-10k ``<seq>/<seq>_time.txt``."""
    cands = [directory / f"{seq}_time.txt", directory / "times" / f"{seq}_time.txt", directory / seq / f"{seq}_time.txt"]
    return next((c for c in cands if c.is_file()), None)


RESULT_LAYOUTS = (None, "got10k")


def got10k_result_files(directory: Path, seq: str) -> list[Path]:
    """Every repetition of ``seq`` in the GOT-10k layout, ``<seq>/<seq>_[0-9]*.txt`` (the toolkit's
    glob), sorted: ``<seq>_001.txt``, ``<seq>_002.txt`` ..."""
    d = directory / seq
    return sorted(d.glob(f"{glob.escape(seq)}_[0-9]*.txt")) if d.is_dir() else []


def got10k_missing_reason(directory: Path, seq: str, tracker: str | None = None) -> str:
    """Why ``seq`` has no GOT-10k results in ``directory``, naming the file looked for and any file of
    another layout found instead."""
    want = directory / seq / f"{seq}_001.txt"
    other = find_result_file(directory, seq, tracker)
    hint = ""
    if other is not None:
        hint = (f"; found {other}, another layout, which the GOT-10k toolkit does not read "
                "(write GOT-10k results with cmd-tir track --result-format got10k)")
    return f"sequence {seq}: no {want}{hint}"


def read_results(
    directory: str | Path, sequences: list[str], tracker: str | None = None, box_format: str = "xywh",
    layout: str | None = None,
) -> tuple[dict[str, Track], list[str]]:
    """Read one tracker's results for ``sequences``; returns (tracks, missing sequence names).

    Polygons (8 values) are kept and converted by the protocol; ``box_format="corner"`` reads
    x1 y1 x2 y2. ``layout=None`` finds each sequence in any known layout (one file per sequence);
    ``layout="got10k"`` reads only GOT-10k's ``<seq>/<seq>_NNN.txt`` (every repetition: the first in
    ``Track.boxes``, the others in ``Track.repeats``) and ``<seq>/<seq>_time.txt`` (``times`` is None
    when it is absent), exactly the files the GOT-10k toolkit reads.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: results folder not found")
    if layout not in RESULT_LAYOUTS:
        raise ValueError(f"unknown result layout {layout!r}; choose one of {RESULT_LAYOUTS}")
    tracks, missing = {}, []
    if layout == "got10k":
        for s in sequences:
            files = got10k_result_files(directory, s)
            if not files:
                missing.append(s)
                continue
            runs = [Track(read_boxes(f, box_format), source=str(f)) for f in files]
            tf = directory / s / f"{s}_time.txt"
            runs[0].times = read_times(tf)
            runs[0].repeats = runs[1:] or None
            tracks[s] = runs[0]
        return tracks, missing
    for s in sequences:
        f = find_result_file(directory, s, tracker)
        if f is None:
            missing.append(s)
            continue
        tf = find_time_file(directory, s)
        tracks[s] = Track(read_boxes(f, box_format), source=str(f), times=read_times(tf) if tf else None)
    return tracks, missing


# -------------------------------------------------------------------------------- ground truth
def read_sequence_list(path: str | Path) -> list[str]:
    """Sequence names, one per line (blank lines and # comments ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: sequence list not found")
    names = [ln.split("#")[0].strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"{path}: no sequence names")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{path}: duplicate sequences {dup}")
    return names


def detect_gt_format(root: str | Path) -> str:
    """Guess the ground-truth layout of ``root`` (see :func:`read_ground_truth`)."""
    root = Path(root)
    if root.is_file() and root.suffix == ".parquet":
        return "manifest"
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: ground-truth folder not found")
    if (root / "anno").is_dir():
        return "lsotb"
    if (root / "tiranno").is_dir():
        return "ptb"
    if (root / "gt").is_dir():
        return "gtot" if any((root / "gt").glob("*/groundTruth_v.txt")) else "lasher"
    if any(root.glob("*/groundTruth_v.txt")):
        return "gtot"
    if any(root.glob("*/infrared.txt")):
        return "rgbt234"
    if any(root.glob("*/rgb.txt")) and any(root.glob("*/ir.txt")):
        return "vtuav"
    if any(root.glob("*/groundtruth.txt")):
        return "got10k"
    if any(root.glob("*/*/groundtruth.txt")):
        return "lasot"
    if any(root.glob("*.txt")):
        return "flat"
    raise ValueError(f"{root}: cannot tell the ground-truth layout (give --gt-format)")


def _flat_dir(root: Path, fmt: str) -> Path:
    for sub in {"lsotb": ("anno",), "ptb": ("tiranno", "anno"), "lasher": ("gt",)}.get(fmt, ()):
        if (root / sub).is_dir():
            return root / sub
    return root


def read_ground_truth(
    root: str | Path,
    fmt: str = "auto",
    sequences: list[str] | None = None,
    modality: str = "infrared",
    column_prefix: str = "gt_",
) -> dict[str, Track]:
    """Read ground truth as {sequence: Track} (x, y, w, h per frame; NaN rows where absent).

    Formats: ``flat`` (``<seq>.txt``), ``lsotb`` (``anno/<seq>.txt``), ``ptb`` (``tiranno/`` or
    ``anno/``), ``lasher`` (``gt/<seq>.txt``, or the dataset layout ``<seq>/infrared.txt``),
    ``rgbt234`` (``<seq>/visible.txt``, ``infrared.txt``), ``gtot`` (``[gt/]<seq>/groundTruth_v.txt``
    and ``_i.txt``, corners), ``got10k`` (``<seq>/groundtruth.txt``, plus ``cover.label`` and the
    ``meta_info.ini`` resolution as ``Track.cover`` and ``Track.image_size`` where present; the
    split's ``list.txt`` gives the sequences when there is one), ``lasot``
    (``<class>/<seq>/groundtruth.txt``), ``vtuav`` (``<seq>/rgb.txt``, ``ir.txt``: line k + 1 is frame
    10 k, spread to one row per frame with NaN rows between, see :func:`spread_sparse`), ``manifest``
    (a Parquet frame manifest, see :func:`read_manifest_gt`). For RGB-T layouts ``modality`` picks
    ``infrared``, ``visible`` or ``both`` (visible in ``boxes``, infrared in ``boxes2``; GTOT always
    reads both; a frames manifest gives its ``gt_rgb_`` and ``gt_tir_`` boxes for ``both`` when it has
    no ``column_prefix`` columns).
    Without ``sequences`` all sequences found are read, in sorted order.
    """
    root = Path(root)
    fmt = detect_gt_format(root) if fmt == "auto" else fmt
    if fmt not in GT_FORMATS:
        raise ValueError(f"unknown ground-truth format {fmt!r}; choose one of {', '.join(GT_FORMATS)}")
    if fmt == "manifest":
        return read_manifest_gt(root, sequences, column_prefix, both=modality == "both")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: ground-truth folder not found")
    if fmt == "lasher" and not (root / "gt").is_dir() and any(root.glob("*/infrared.txt")):
        fmt = "rgbt234"  # the LasHeR dataset layout is the RGBT234 one
    if fmt == "gtot":
        base = root / "gt" if (root / "gt").is_dir() else root
        names = sequences or sorted(p.parent.name for p in base.glob("*/groundTruth_v.txt"))
        out = {}
        for s in names:
            fv, fi = base / s / "groundTruth_v.txt", base / s / "groundTruth_i.txt"
            out[s] = Track(corners_to_xywh(read_numbers(fv, (4,))), source=str(fv),
                           boxes2=corners_to_xywh(read_numbers(fi, (4,))))
        return out
    if fmt == "rgbt234":
        names = sequences or sorted(p.parent.name for p in root.glob("*/infrared.txt"))
        out = {}
        for s in names:
            fv, fi = root / s / "visible.txt", root / s / "infrared.txt"
            if modality == "both":
                out[s] = Track(read_boxes(fv, polygon="bbox"), source=str(fv), boxes2=read_boxes(fi, polygon="bbox"))
            else:
                f = fi if modality == "infrared" else fv
                out[s] = Track(read_boxes(f, polygon="bbox"), source=str(f))
        return out
    if fmt == "vtuav":
        from .protocols import VTUAV

        names = sequences or sorted(p.parent.name for p in root.glob("*/rgb.txt"))
        out = {}
        for s in names:
            fv, fi = root / s / "rgb.txt", root / s / "ir.txt"
            if modality == "both":
                boxes = spread_sparse(read_numbers(fv, (4,)), VTUAV.frame_step)
                out[s] = Track(boxes, source=str(fv), boxes2=spread_sparse(read_numbers(fi, (4,)), VTUAV.frame_step))
            else:
                f = fi if modality == "infrared" else fv
                out[s] = Track(spread_sparse(read_numbers(f, (4,)), VTUAV.frame_step), source=str(f))
        return out
    if fmt in ("got10k", "lasot"):
        files = {p.parent.name: p for p in root.glob("*/groundtruth.txt")}
        files.update({p.parent.name: p for p in root.glob("*/*/groundtruth.txt")})
        names = sequences
        if not names and fmt == "got10k" and (root / "list.txt").is_file():
            names = read_sequence_list(root / "list.txt")  # the split's own list, as the GOT-10k toolkit reads it
        names = names or sorted(files)
        out = {}
        for s in names:
            if s not in files:
                raise FileNotFoundError(f"{root}: no {s}/groundtruth.txt")
            out[s] = Track(read_boxes(files[s], polygon="bbox"), source=str(files[s]))
            if fmt == "got10k":
                out[s].cover, out[s].image_size = read_got10k_extras(files[s].parent, len(out[s].boxes))
        return out
    base = _flat_dir(root, fmt)
    names = sequences or sorted(p.stem for p in base.glob("*.txt"))
    return {s: Track(read_boxes(base / f"{s}.txt", polygon="bbox"), source=str(base / f"{s}.txt")) for s in names}


def read_meta_info(path: str | Path) -> dict[str, str]:
    """A GOT-10k ``meta_info.ini`` as {key: value}: a ``[METAINFO]`` line, then ``key: value`` lines
    (read as the GOT-10k toolkit does: each line after the first split at ': ')."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    out = {}
    for i, line in enumerate(lines[1:], 2):
        key, sep, value = line.partition(": ")
        if not sep:
            raise ValueError(f"{path}, line {i}: expected 'key: value', got {line!r}")
        out[key.strip()] = value.strip()
    return out


def read_resolution(path: str | Path) -> tuple[float, float]:
    """The ``resolution: (width, height)`` of a GOT-10k ``meta_info.ini``."""
    meta = read_meta_info(path)
    if "resolution" not in meta:
        raise ValueError(f"{path}: no 'resolution: (width, height)' line")
    try:
        w, h = (float(v) for v in ast.literal_eval(meta["resolution"]))
    except (ValueError, TypeError, SyntaxError):
        raise ValueError(f"{path}: resolution {meta['resolution']!r} is not '(width, height)'") from None
    if not (w > 0 and h > 0):
        raise ValueError(f"{path}: resolution {meta['resolution']!r} is not a positive width and height")
    return w, h


def read_got10k_extras(seq_dir: Path, n_frames: int) -> tuple[np.ndarray | None, tuple[float, float] | None]:
    """A GOT-10k sequence's ``cover.label`` (one value 0..8 per frame) and ``meta_info.ini``
    resolution, each None when its file is absent (the protocols that need them say so)."""
    cover = None
    f = seq_dir / "cover.label"
    if f.is_file():
        cover = read_numbers(f, columns=(1,)).ravel()
        if len(cover) != n_frames:
            raise ValueError(f"{f}: {len(cover)} labels but {seq_dir / 'groundtruth.txt'} has {n_frames} frames")
        if not np.isin(cover, np.arange(9)).all():
            bad = int(np.flatnonzero(~np.isin(cover, np.arange(9)))[0])
            raise ValueError(f"{f}, line {bad + 1}: cover label {cover[bad]:g} is not a whole number 0..8")
    meta = seq_dir / "meta_info.ini"
    return cover, (read_resolution(meta) if meta.is_file() else None)


def spread_sparse(boxes: np.ndarray, step: int) -> np.ndarray:
    """Boxes annotating frames 0, step, 2*step ... as one row per frame up to the last annotated one,
    NaN rows between (the readers' contract: one row per frame)."""
    out = np.full(((len(boxes) - 1) * step + 1 if len(boxes) else 0, boxes.shape[1]), np.nan)
    out[::step] = boxes
    return out


def _read_parquet(path: Path, columns: list[str] | None = None):
    """pandas.read_parquet with the file named when it is not Parquet (pyarrow does not name it)."""
    import pandas as pd
    import pyarrow as pa

    try:
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None


def read_manifest_gt(path: str | Path, sequences: list[str] | None = None, column_prefix: str = "gt_",
                     both: bool = False) -> dict[str, Track]:
    """Ground truth from a Parquet frame manifest: columns ``sequence``, ``frame`` (0-based) and
    ``{prefix}x, {prefix}y, {prefix}w, {prefix}h`` (0-based pixels, null where absent; the prefix
    is e.g. ``gt_``, ``gt_tir_`` or ``gt_rgb_``). Frames missing from the table become NaN rows.
    With ``both``, a manifest without ``{prefix}`` columns but with ``gt_rgb_`` and ``gt_tir_`` ones
    (a frames manifest) gives the RGB boxes in ``boxes`` and the TIR ones in ``boxes2``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: manifest not found")
    df = _read_parquet(path)
    prefixes = [column_prefix]
    if both and not _has_boxes(df, column_prefix) and _has_boxes(df, "gt_rgb_") and _has_boxes(df, "gt_tir_"):
        prefixes = ["gt_rgb_", "gt_tir_"]
    absent = [c for c in ["sequence", "frame", *(f"{prefixes[0]}{c}" for c in "xywh")] if c not in df.columns]
    if absent:
        raise ValueError(f"{path}: manifest lacks columns {absent} (column prefix {column_prefix!r})")
    out = {}
    groups = dict(tuple(df.groupby("sequence", sort=True)))
    for s in sequences or sorted(groups):
        if s not in groups:
            raise ValueError(f"{path}: no rows for sequence {s!r}")
        g = groups[s]
        frames = g["frame"].to_numpy(np.int64)
        if (frames < 0).any() or len(np.unique(frames)) != len(frames):
            raise ValueError(f"{path}: sequence {s!r} has negative or duplicate frame numbers")
        tracks = []
        for prefix in prefixes:
            boxes = np.full((int(frames.max()) + 1, 4), np.nan)
            boxes[frames] = g[[f"{prefix}{c}" for c in "xywh"]].to_numpy(np.float64, na_value=np.nan)
            tracks.append(boxes)
        out[s] = Track(tracks[0], source=f"{path}[{s}]", boxes2=tracks[1] if len(tracks) > 1 else None)
    return out


def _has_boxes(df, prefix: str) -> bool:
    return all(f"{prefix}{c}" in df.columns for c in "xywh")


def read_manifest_attributes(path: str | Path, sequences: list[str]):
    """Per-sequence attribute flags from a frame manifest's ``attributes`` column (comma-separated
    names per sequence, as the LSOTB-TIR / PTB-TIR adapters store them) as read_attributes returns
    them; None when the manifest carries no attributes."""
    import pandas as pd

    df = _read_parquet(path, columns=["sequence", "attributes"])
    per_seq = df.dropna(subset=["attributes"]).groupby("sequence")["attributes"].first()
    if per_seq.empty:
        return None
    names = sorted({a for text in per_seq for a in text.split(",") if a})
    flags = {s: [a in set(per_seq.get(s, "").split(",")) for a in names] for s in sequences}
    return pd.DataFrame.from_dict(flags, orient="index", columns=names).astype(bool)


def read_attributes(root: str | Path, sequences: list[str], names: tuple[str, ...] | None = None):
    """Per-sequence attribute flags as a DataFrame (index sequence, one bool column per attribute).

    Reads ``<seq>.txt`` in ``root`` (or ``root/att``, ``root/anno/att``, ``root/tiranno/att``): one
    line of 0/1 flags (LSOTB-TIR 16, PTB-TIR 10, LasHeR 19 named in their benchmark's order), or one
    line of flags per frame (a sequence has the attribute if any frame does).
    """
    import pandas as pd

    root = Path(root)
    for sub in ("", "att", "anno/att", "tiranno/att"):
        if (root / sub).is_dir() and any((root / sub).glob("*.txt")):
            root = root / sub
            break
    else:
        raise FileNotFoundError(f"{root}: no attribute files")
    rows = {}
    for s in sequences:
        f = root / f"{s}.txt"
        arr = read_numbers(f, columns=tuple(range(1, 64)))
        if len(arr) > 1 and arr.shape[1] == 4 and not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{f}, line 1: this holds boxes (x y w h per frame), not attribute flags")
        if not np.isin(arr, (0, 1)).all():
            bad = int(np.flatnonzero(~np.isin(arr, (0, 1)).all(1))[0]) + 1
            raise ValueError(f"{f}, line {bad}: attribute flags must be 0 or 1")
        rows[s] = arr.max(0) > 0
    widths = {len(v) for v in rows.values()}
    if len(widths) != 1:
        raise ValueError(f"{root}: attribute files disagree on the number of flags ({sorted(widths)})")
    k = widths.pop()
    names = tuple(names) if names else ATTRIBUTE_NAMES.get(k, tuple(f"att{i + 1}" for i in range(k)))
    if len(names) != k:
        raise ValueError(f"{root}: {k} flags per file but {len(names)} attribute names given")
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(names))
