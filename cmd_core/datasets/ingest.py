"""The ingest engine: adapter descriptions -> verified frame, object and rejected manifests.

`ingest_dataset` runs one dataset: the adapter for `fmt` describes its sequences (see
`cmd_core.datasets.adapters`), then the engine, identically for every dataset,
1. checks structure: frames missing in one modality, unparseable GT lines, GT / label files with
   fewer or more lines than frames;
2. verifies every image (or video) in parallel (`threads`; `verify` = decode | header | none,
   see `cmd_core.datasets.imagecheck`), then checks that RGB and TIR sizes match;
3. builds the manifests. GT boxes that are NaN, have w or h <= 0 (this includes all-zero rows)
   or lie wholly outside the image become nulls with `gt_*_valid = False` and are counted as
   invalid GT, never dropped (frames a sparse format leaves unannotated, VTUAV's, are null too
   but not counted as invalid).
Frames, GT lines and the two modalities are joined by frame number (see
`cmd_core.datasets.listing`): frame index i is the file numbered first + i and meets GT line
i + 1, so a missing frame is rejected alone and never shifts what follows. In unlabelled pairs a
number missing on both sides is a gap, not a frame: it is left out and the frames keep their numbers.

Error policy: on_error="fail" raises at the first problem (FileNotFoundError for missing files,
ValueError otherwise; the message names the file, and the line where there is one).
on_error="skip" drops the affected frame and writes one `rejected` row per problem with the reason;
sequence-level problems (e.g. extra GT lines) get a rejected row with a null frame; a sequence
that cannot be used at all (no frames, a missing GT file or modality folder) is dropped whole
with one rejected row per problem and counted in the summary's `rejected_sequences`. Invalid object
boxes (multi-object annotations) are never written as boxes: they always go to `rejected` with
reason "invalid object box" while their frame is kept.

`write_result` writes the four outputs together: each to a temporary file, renamed into place
only when all four were written, so a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from cmd_core.datasets import imagecheck
from cmd_core.datasets.adapters import get_adapter
from cmd_core.datasets.schema import MANIFEST_VERSION, empty_table, schema_for, validate_table
from cmd_core.datasets.spec import FrameLabels, GtTrack, Issue, SequenceSpec
from cmd_core.io import atomic_path, ensure_folder, write_parquet

log = logging.getLogger(__name__)

ON_ERROR = ("fail", "skip")
MAX_LISTED_SIZES = 6  # a summary lists up to this many distinct image sizes, else a count and the range


@dataclass
class IngestResult:
    """The three manifests of one dataset plus its summary (see `summarize`)."""

    frames: pa.Table
    objects: pa.Table
    rejected: pa.Table
    summary: dict[str, Any]


class _Policy:
    """Applies on_error: raise at once, or record a rejected row and remember the frame."""

    def __init__(self, on_error: str, dataset: str):
        self.on_error, self.dataset = on_error, dataset
        self.rows: list[dict] = []
        self.bad: dict[int, set[int]] = {}  # id(spec) -> rejected frame indices
        self.dropped: set[int] = set()  # id(spec) of sequences rejected as a whole

    def report(self, seq: SequenceSpec, issue: Issue, *, reject_frame: bool = True) -> None:
        if self.on_error == "fail" and reject_frame:
            exc = FileNotFoundError if issue.missing else ValueError
            raise exc(f"{issue.message()} [sequence {seq.name}]")
        self.rows.append({"dataset": self.dataset, "sequence": seq.name, "frame": issue.frame,
                          "file": str(issue.file), "line": issue.line, "reason": issue.reason})
        if reject_frame and issue.frame is not None:
            self.bad.setdefault(id(seq), set()).add(issue.frame)
        if reject_frame and issue.whole_sequence:
            self.dropped.add(id(seq))

    def rejected(self, seq: SequenceSpec, frame: int) -> bool:
        return id(seq) in self.dropped or frame in self.bad.get(id(seq), ())


def _n_frames(seq: SequenceSpec) -> int:
    if seq.n_frames is not None:
        return seq.n_frames
    return max(len(seq.rgb or ()), len(seq.tir or ()))


def _check_track(policy: _Policy, seq: SequenceSpec, track: GtTrack | FrameLabels | None, n: int,
                 what: str) -> None:
    """Unparseable rows and a row count different from the frame count."""
    if track is None:
        return
    for row, line, reason in track.errors:
        policy.report(seq, Issue(track.file, reason, frame=row if row < n else None, line=line))
    rows = len(track.boxes) if isinstance(track, GtTrack) else len(track.values)
    if isinstance(track, GtTrack) and track.init_only and rows >= 1:
        rows_needed = 1
        if rows == rows_needed or rows == n:
            return
    if rows < n:
        for f in range(rows, n):
            policy.report(seq, Issue(track.file, f"{what} file has {rows} lines for {n} frames: no line for this frame",
                                     frame=f))
    elif rows > n:
        lines = getattr(track, "lines", None)
        line = int(lines[n]) if lines is not None and len(lines) > n else n + 1
        policy.report(seq, Issue(track.file, f"{what} file has {rows} lines for {n} frames", line=line))


def _structure(policy: _Policy, seqs: list[SequenceSpec]) -> None:
    for seq in seqs:
        for issue in seq.issues:
            policy.report(seq, issue)
        if seq.packing == "video" or id(seq) in policy.dropped:
            continue  # video: frame count known only after it is opened; dropped: nothing more to check
        if _n_frames(seq) == 0 and not seq.issues:  # never left out without a word
            policy.report(seq, Issue(seq.name, "sequence has no frames", whole_sequence=True))
        _check_structure_tracks(policy, seq)


def _check_structure_tracks(policy: _Policy, seq: SequenceSpec) -> None:
    n = _n_frames(seq)
    _check_track(policy, seq, seq.gt_rgb, n, "RGB ground-truth")
    _check_track(policy, seq, seq.gt_tir, n, "TIR ground-truth")
    _check_track(policy, seq, seq.absent, n, "absence label")
    _check_track(policy, seq, seq.occlusion, n, "occlusion label")


def _verify(policy: _Policy, seqs: list[SequenceSpec], verify: str, threads: int,
            progress: Callable[[int], None] | None, allow_size_mismatch: bool) -> dict[int, dict]:
    """Verify all files; returns per sequence the per-frame (rgb, tir) sizes."""
    paths: list[str] = []
    for seq in seqs:
        if seq.packing == "video":
            continue
        for lst in (seq.rgb, seq.tir):
            for f, p in enumerate(lst or ()):
                if p is not None and not policy.rejected(seq, f):
                    paths.append(p)
    unique = list(dict.fromkeys(paths))
    results = dict(zip(unique, imagecheck.check_images(unique, verify, threads, progress)))

    sizes: dict[int, dict] = {}
    for seq in seqs:
        if seq.packing == "video":
            sizes[id(seq)] = _verify_video(policy, seq, verify, progress)
            continue
        n = _n_frames(seq)
        rgb_sz: list = [None] * n
        tir_sz: list = [None] * n
        for f in range(n):
            if policy.rejected(seq, f):
                continue
            ok = True
            for lst, out in ((seq.rgb, rgb_sz), (seq.tir, tir_sz)):
                p = lst[f] if lst is not None else None
                if p is None:
                    continue
                r = results.get(p)
                if isinstance(r, str):
                    policy.report(seq, Issue(p, r, frame=f, missing=r == "missing file"))
                    ok = False
                else:
                    out[f] = r
            if not ok:
                continue
            if seq.packing == "side_by_side" and rgb_sz[f] is not None:
                w, h = rgb_sz[f]
                if w % 2:
                    policy.report(seq, Issue(seq.rgb[f], f"side-by-side image has odd width {w}", frame=f))
                    continue
                rgb_sz[f] = tir_sz[f] = (w // 2, h)
            elif (rgb_sz[f] is not None and tir_sz[f] is not None and rgb_sz[f] != tir_sz[f]
                  and not allow_size_mismatch):
                policy.report(seq, Issue(seq.tir[f], "resolution mismatch between modalities: RGB "
                                         f"{rgb_sz[f][0]}x{rgb_sz[f][1]}, TIR {tir_sz[f][0]}x{tir_sz[f][1]} "
                                         f"({seq.rgb[f]})", frame=f))
        sizes[id(seq)] = {"rgb": rgb_sz, "tir": tir_sz}
    return sizes


def _verify_video(policy: _Policy, seq: SequenceSpec, verify: str, progress) -> dict:
    info = {}
    for key, lst in (("rgb", seq.rgb), ("tir", seq.tir)):
        if lst:
            r = imagecheck.check_video(lst[0], verify)
            if isinstance(r, str):
                policy.report(seq, Issue(lst[0], r, missing=r == "missing file"))
                r = "bad"
            info[key] = r
            if progress:
                progress(1)
    if "bad" in info.values():
        seq.n_frames = 0
        return {"rgb": [], "tir": []}
    counts = {k: v[2] for k, v in info.items() if v is not None}
    if not counts:
        raise ValueError(f"{seq.rgb and seq.rgb[0]}: verify='none' cannot count the frames of a video; "
                         "use verify='header' or 'decode'")
    n = max(counts.values())
    if len(set(counts.values())) > 1:
        shortest = min(counts, key=counts.get)
        for f in range(counts[shortest], n):
            policy.report(seq, Issue((seq.rgb if shortest == "rgb" else seq.tir)[0],
                                     f"different frame counts: RGB video has {counts.get('rgb')} frames, "
                                     f"TIR video has {counts.get('tir')}", frame=f))
    seq.n_frames = n
    _check_structure_tracks(policy, seq)
    sz = {k: (tuple(v[:2]) if v is not None else None) for k, v in info.items()}
    rgb, tir = sz.get("rgb"), sz.get("tir")
    if rgb and tir and rgb != tir:
        for f in range(n):
            policy.report(seq, Issue(seq.tir[0], f"resolution mismatch between modalities: RGB {rgb[0]}x{rgb[1]}, "
                                     f"TIR {tir[0]}x{tir[1]}", frame=f))
    return {"rgb": [rgb] * n, "tir": [tir] * n}


def _gt_columns(track: GtTrack | None, n: int, sizes: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 4) boxes, validity, and 'provided but invalid' flags for one modality.

    Invalid: NaN, w or h <= 0, or (where the (n, 2) image `sizes` are known, -1 otherwise) a box
    with no pixel inside the image. Rows a sparse format does not annotate (`track.annotated`) are
    null but not 'provided but invalid'."""
    boxes = np.full((n, 4), np.nan)
    provided = np.zeros(n, bool)
    if track is not None:
        m = min(n, len(track.boxes))
        boxes[:m] = track.boxes[:m]
        provided[:m] = True if track.annotated is None else track.annotated[:m]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        if sizes is not None:
            w, h = sizes[:, 0], sizes[:, 1]
            known = w > 0
            outside = ((boxes[:, 0] >= w) | (boxes[:, 1] >= h) | (boxes[:, 0] + boxes[:, 2] <= 0)
                       | (boxes[:, 1] + boxes[:, 3] <= 0))
            valid &= ~(known & outside)
    return boxes, valid, provided & ~valid


def _labels(lab: FrameLabels | None, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    if lab is not None:
        m = min(n, len(lab.values))
        out[:m] = lab.values[:m]
    return out


def _sizes_full(sz: list) -> np.ndarray:
    """(n, 2) width, height per frame, -1 where unknown."""
    return np.array([s if s is not None else (-1, -1) for s in sz], dtype=np.int64).reshape(-1, 2)


def _has_file(seq: SequenceSpec, n: int) -> np.ndarray:
    """Per frame slot: does any modality have a file? (False for gaps in unlabelled numbering.)"""
    have = np.zeros(n, bool)
    for lst in (seq.rgb, seq.tir):
        if lst is not None:
            have[:len(lst)] |= np.array([p is not None for p in lst], bool)
    return have


def _frames_table(name: str, seqs: list[SequenceSpec], policy: _Policy, sizes: dict) -> tuple[pa.Table, dict]:
    cols: dict[str, list] = {k: [] for k in schema_for("frames").names}
    stats = Counter()
    for seq in seqs:
        n = _n_frames(seq)
        bad = policy.bad.get(id(seq), set())
        if id(seq) in policy.dropped:
            continue
        keep = np.ones(n, bool)
        if bad:
            keep[[b for b in bad if 0 <= b < n]] = False
        if seq.packing == "files":  # a numbering gap (no file on any side, no issue) is not a frame
            keep &= _has_file(seq, n)
        k = int(keep.sum())
        if k == 0:
            continue
        idx = np.arange(n, dtype=np.int32)[keep]
        cols["dataset"].append(pa.array([name] * k, pa.string()))
        cols["split"].append(pa.array([seq.split] * k, pa.string()))
        cols["sequence"].append(pa.array([seq.name] * k, pa.string()))
        cols["frame"].append(pa.array(idx, pa.int32()))
        cols["packing"].append(pa.array([seq.packing] * k, pa.string()))
        if seq.packing == "video":
            rgb_paths = [seq.rgb[0] if seq.rgb else None] * k
            tir_paths = [seq.tir[0] if seq.tir else None] * k
        elif seq.packing == "side_by_side":
            rgb_paths = [seq.rgb[i] for i in idx]
            tir_paths = rgb_paths
        else:
            rgb_paths = [seq.rgb[i] for i in idx] if seq.rgb is not None else [None] * k
            tir_paths = [seq.tir[i] for i in idx] if seq.tir is not None else [None] * k
        cols["rgb_path"].append(pa.array(rgb_paths, pa.string()))
        cols["tir_path"].append(pa.array(tir_paths, pa.string()))
        for mod in ("rgb", "tir"):
            full = _sizes_full(sizes[id(seq)][mod] or [None] * n)
            arr = full[keep]
            null = arr[:, 0] < 0
            cols[f"{mod}_width"].append(pa.array(arr[:, 0].astype(np.int32), pa.int32(), mask=null))
            cols[f"{mod}_height"].append(pa.array(arr[:, 1].astype(np.int32), pa.int32(), mask=null))
            boxes, valid, invalid = _gt_columns(getattr(seq, f"gt_{mod}"), n, full)
            boxes, valid, invalid = boxes[keep], valid[keep], invalid[keep]
            for j, c in enumerate("xywh"):
                cols[f"gt_{mod}_{c}"].append(pa.array(boxes[:, j], pa.float64(), mask=~valid))
            cols[f"gt_{mod}_valid"].append(pa.array(valid, pa.bool_()))
            stats[f"invalid_{mod}"] += int(invalid.sum())
            stats[f"valid_{mod}"] += int(valid.sum())
            if mod == "rgb":
                inv_any = invalid
            else:
                stats["invalid_any"] += int((inv_any | invalid).sum())
        absent = _labels(seq.absent, n)[keep]
        cols["absent"].append(pa.array(absent > 0, pa.bool_(), mask=np.isnan(absent)))
        occ = _labels(seq.occlusion, n)[keep]
        cols["occlusion"].append(pa.array(occ.astype(np.float32), pa.float32(), mask=np.isnan(occ)))
        cols["attributes"].append(pa.array([seq.attributes] * k, pa.string()))
    schema = schema_for("frames")
    if not cols["frame"]:
        return empty_table("frames"), stats
    table = pa.table({c: pa.chunked_array(v, schema.field(c).type) for c, v in cols.items()})
    return table.combine_chunks(), stats


def _objects_table(name: str, seqs: list[SequenceSpec], policy: _Policy) -> pa.Table:
    rows = {k: [] for k in schema_for("objects").names}
    for seq in seqs:
        for o in seq.objects:
            if policy.rejected(seq, o.frame):
                continue
            if not (np.isfinite([o.x, o.y, o.w, o.h]).all() and o.w > 0 and o.h > 0):
                policy.report(seq, Issue(o.file or seq.name, f"invalid object box x={o.x} y={o.y} w={o.w} h={o.h} "
                                         f"(object {o.object_id or o.label} dropped, frame kept)", frame=o.frame,
                                         line=o.line),
                              reject_frame=False)
                continue
            for k, v in (("dataset", name), ("split", seq.split), ("sequence", seq.name), ("frame", o.frame),
                         ("object_id", o.object_id), ("label", o.label), ("modality", o.modality),
                         ("x", o.x), ("y", o.y), ("w", o.w), ("h", o.h), ("occluded", o.occluded),
                         ("ignore", bool(o.ignore))):
                rows[k].append(v)
    schema = schema_for("objects")
    return pa.table({k: pa.array(v, schema.field(k).type) for k, v in rows.items()})


def _resolutions(frames: pa.Table, mod: str) -> str:
    if frames.num_rows == 0 or frames.column(f"{mod}_path").null_count == frames.num_rows:
        return "none"
    w = frames.column(f"{mod}_width").to_numpy(zero_copy_only=False)
    h = frames.column(f"{mod}_height").to_numpy(zero_copy_only=False)
    ok = ~(np.isnan(w.astype(float)) | np.isnan(h.astype(float)))
    if not ok.any():
        return "unknown"
    pairs = np.unique(np.stack([w[ok], h[ok]], axis=1).astype(np.int64), axis=0)
    names = [f"{a}x{b}" for a, b in pairs]
    if len(names) > MAX_LISTED_SIZES:  # e.g. a folder of stills, each its own size: keep the table readable
        area = pairs[:, 0] * pairs[:, 1]
        return (f"mixed: {len(names)} sizes from {names[int(area.argmin())]} to {names[int(area.argmax())]}")
    return names[0] if len(names) == 1 else "mixed: " + ",".join(names)


def summarize(name: str, fmt: str, root: Path, split: str, verify: str, frames: pa.Table, objects: pa.Table,
              rejected: pa.Table, stats: Counter) -> dict[str, Any]:
    """The summary dict written next to the manifests (one line of datasets.csv)."""
    n = frames.num_rows
    # A dropped object box keeps its frame: only the other rejected rows count as rejected frames.
    reasons = rejected.column("reason").to_pylist()
    object_drop = [r.startswith("invalid object box") for r in reasons]
    distinct = {(s, f) for s, f, drop in zip(rejected.column("sequence").to_pylist(),
                                             rejected.column("frame").to_pylist(), object_drop)
                if f is not None and not drop}
    invalid_obj = sum(object_drop)
    return {
        "manifest_version": MANIFEST_VERSION,
        "dataset": name, "split": split, "format": fmt, "root": str(root), "verify": verify,
        "sequences": len(set(frames.column("sequence").to_pylist())) if n else 0,
        "frames": n,
        "rgb_resolution": _resolutions(frames, "rgb"),
        "tir_resolution": _resolutions(frames, "tir"),
        # coverage is undefined (null) for a modality the dataset does not have
        "gt_coverage_rgb": round(stats["valid_rgb"] / n, 6) if _resolutions(frames, "rgb") != "none" else None,
        "gt_coverage_tir": round(stats["valid_tir"] / n, 6) if _resolutions(frames, "tir") != "none" else None,
        "invalid_gt": int(stats["invalid_any"]),
        "invalid_gt_rgb": int(stats["invalid_rgb"]),
        "invalid_gt_tir": int(stats["invalid_tir"]),
        "rejected_frames": len(distinct),
        "rejected_rows": rejected.num_rows,
        # sequences with rejections that left no frame at all in the manifest (e.g. no frames, no GT file)
        "rejected_sequences": len(set(rejected.column("sequence").to_pylist())
                                  - set(frames.column("sequence").to_pylist())),
        "invalid_objects": invalid_obj,
        "objects": objects.num_rows,
    }


def ingest_dataset(name: str, fmt: str, root: str | os.PathLike, *, split: str = "all",
                   options: dict[str, str] | None = None, on_error: str = "fail", threads: int = 1,
                   verify: str = "decode", progress: Callable[[int], Any] | None = None) -> IngestResult:
    """Read dataset `name` laid out as `fmt` under `root` into manifests (see the module docstring).

    `options` are adapter-specific key=value strings (documented per adapter), plus the engine's
    `allow_size_mismatch=true` (accept different RGB and TIR sizes). `progress(total)` is called
    once with the number of files to verify and must return a callable taking increments (a tqdm
    bar's `update` works, see the CLI).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    if verify not in imagecheck.VERIFY_MODES:
        raise ValueError(f"verify must be one of {imagecheck.VERIFY_MODES}, got {verify!r}")
    threads = max(1, int(threads))
    options = dict(options or {})
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{root}: dataset root does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: dataset root is a file, not a folder")
    root = root.resolve()
    adapter = get_adapter(fmt)
    allow_mismatch = str(options.pop("allow_size_mismatch", "false")).lower() in ("1", "true", "yes")
    seqs = list(adapter(root, split, options))
    if not seqs:
        raise ValueError(f"{root}: no sequences found for format {fmt!r} (split {split!r})")
    names = Counter(s.name for s in seqs)
    dups = [n for n, c in names.items() if c > 1]
    if dups:
        raise ValueError(f"{root}: duplicate sequence names {dups[:5]}")

    policy = _Policy(on_error, name)
    _structure(policy, seqs)
    tick = None
    if progress is not None:
        total = sum(len(s.rgb or ()) + len(s.tir or ()) for s in seqs)
        tick = progress(total)
    sizes = _verify(policy, seqs, verify, threads, tick, allow_mismatch)
    frames, stats = _frames_table(name, seqs, policy, sizes)
    objects = _objects_table(name, seqs, policy)
    rej = policy.rows
    rschema = schema_for("rejected")
    rejected = pa.table({k: pa.array([r[k] for r in rej], rschema.field(k).type) for k in rschema.names})
    frames, objects, rejected = (validate_table(frames, "frames"), validate_table(objects, "objects"),
                                 validate_table(rejected, "rejected"))
    split_label = seqs[0].split if len({s.split for s in seqs}) == 1 else split
    summary = summarize(name, fmt, root, split_label, verify, frames, objects, rejected, stats)
    if rejected.num_rows:
        log.warning("%s: %d rejected row(s), %d rejected frame(s); see %s.rejected.parquet",
                    name, rejected.num_rows, summary["rejected_frames"], name)
    return IngestResult(frames=frames, objects=objects, rejected=rejected, summary=summary)


def output_paths(out_dir: str | os.PathLike, name: str) -> dict[str, Path]:
    """The four files `write_result` writes for dataset `name`."""
    out = Path(out_dir)
    return {"frames": out / f"{name}.frames.parquet", "objects": out / f"{name}.objects.parquet",
            "rejected": out / f"{name}.rejected.parquet", "summary": out / f"{name}.summary.json"}


def write_result(result: IngestResult, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the manifests and summary; all four appear together or none does."""
    paths = output_paths(ensure_folder(out_dir), result.summary["dataset"])
    tables = {"frames": result.frames, "objects": result.objects, "rejected": result.rejected}
    for kind, table in tables.items():  # validate everything before touching the disk
        tables[kind] = validate_table(table, kind)
    with contextlib.ExitStack() as stack:
        tmp = {k: stack.enter_context(atomic_path(p)) for k, p in paths.items()}
        for kind, table in tables.items():
            write_parquet(table, tmp[kind], schema=schema_for(kind))
        with open(tmp["summary"], "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, sort_keys=False)
            fh.write("\n")
    return paths
