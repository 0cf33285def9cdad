"""Pair generation for one dataset and one method: frames manifest -> pairs, boxes and summary.

Only the image columns of the frames manifest are read (`read_frames`): the generator never sees
ground truth. Sequences are processed in parallel (`threads`), each independently with its own
seeded generators (`boxes.frame_rng`), and concatenated in sorted sequence order, so the rows and
their order depend only on the manifest, the settings and the seed.

Every used frame is accounted for in the summary: it gave pairs (from its own boxes or from the
random fallback, counted), or it is counted under `frames_without_pairs` with the reason.

A pair box is one pixel box in both modalities, so a frame whose RGB and TIR images differ in size
gives no pairs: on_error "fail" stops with an error naming both sizes and files, "skip" counts it
under "RGB/TIR size mismatch" (the same rule as `cmd_core.distill.pair_dataset`). Temporal pairs
and tracklets never leave their sequence: a still ingested as a one-frame sequence
(`generic_pairs` with `stills=true`) only gives same-instant pairs.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from cmd_core.datasets.frames import load_frame_pair
from cmd_core.datasets.schema import read_manifest
from cmd_core.pairs import detections as det
from cmd_core.pairs.boxes import central_boxes, frame_rng, random_boxes
from cmd_core.pairs.config import config_json, load_config, method_settings
from cmd_core.pairs.detectors import make_detector
from cmd_core.pairs.fusion import FrameBoxes, fuse
from cmd_core.pairs.schema import BOXES_SCHEMA, PAIRS_SCHEMA, pairs_metadata, validate
from cmd_core.pairs.tracklets import link_tracklets, temporal_partners

log = logging.getLogger(__name__)

# The only columns of a frames manifest the generator reads (no ground truth).
FRAME_COLUMNS = ["dataset", "split", "sequence", "frame", "packing", "rgb_path", "tir_path",
                 "rgb_width", "rgb_height", "tir_width", "tir_height"]


def read_frames(path: str | Path) -> pd.DataFrame:
    """The image columns of a frames manifest (refuses other manifest kinds)."""
    return read_manifest(path, "frames", FRAME_COLUMNS)


@dataclass
class PairsResult:
    """The pair manifest, the kept boxes per frame and the accounting summary of one run."""

    pairs: pa.Table
    boxes: pa.Table
    summary: dict


@dataclass
class _Seq:
    """Per-sequence accumulator (one per worker, merged in sequence order)."""

    name: str
    frame: list = field(default_factory=list)
    modality: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    source: list = field(default_factory=list)
    label: list = field(default_factory=list)
    conf: list = field(default_factory=list)
    fallback: list = field(default_factory=list)
    tracklet: np.ndarray | None = None
    frames_used: int = 0
    frames_with_boxes: int = 0
    fallback_frames: int = 0
    no_pairs: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)

    def add(self, frame: int, fb: FrameBoxes, fallback: bool) -> None:
        n = len(fb)
        self.frame += [frame] * n
        self.modality += list(fb.modality)
        self.boxes.append(np.asarray(fb.boxes, np.float64).reshape(-1, 4))
        self.source += list(fb.source)
        self.label += list(fb.labels)
        self.conf += list(fb.conf)
        self.fallback += [fallback] * n


def _size(v) -> int | None:
    return None if v is None or v != v else int(v)


def _frame_ok(row, policy: det.Policy, acc: _Seq) -> tuple[int, int] | None:
    """(W, H) of an aligned frame pair, or None (counted) if it cannot give pairs."""
    if not isinstance(row.rgb_path, str) or not isinstance(row.tir_path, str):
        if row.packing != "side_by_side":
            acc.no_pairs["a modality is missing"] += 1
            return None
    rgb = (_size(row.rgb_width), _size(row.rgb_height))
    tir = (_size(row.tir_width), _size(row.tir_height))
    if None in rgb or None in tir:
        acc.no_pairs["image size unknown"] += 1
        return None
    if rgb != tir:
        msg = (f"{row.tir_path}: image size differs between RGB {rgb[0]}x{rgb[1]} ({row.rgb_path}) and TIR "
               f"{tir[0]}x{tir[1]} [sequence {row.sequence}, frame {row.frame}]")
        if policy.on_error == "fail":
            raise ValueError(msg)
        acc.no_pairs["RGB/TIR size mismatch"] += 1
        return None
    return rgb


def _random_fb(s: dict, seed: int, seq: str, frame: int, W: int, H: int, acc: _Seq, source="random") -> FrameBoxes:
    r = s["random"] if "random" in s and s["type"] == "detector" else s
    k = int(r["boxes_per_frame"])
    b = random_boxes(frame_rng(seed, seq, frame), W, H, k, tuple(r["size"]), tuple(r["aspect"]),
                     float(r["min_separation"]))
    if len(b) < k:
        acc.notes["random: fewer boxes than asked (no room)"] += 1
    n = len(b)
    return FrameBoxes(b, np.full(n, np.nan), [None] * n, ["both"] * n, [source] * n)


def _file_detections(s: dict, dataset: str, seq: str, rows: pd.DataFrame, policy: det.Policy,
                     acc: _Seq) -> dict[int, FrameBoxes]:
    """Detections of all configured files for one sequence, by frame index."""
    sizes = {int(r.frame): ((_size(r.rgb_width), _size(r.rgb_height)), (_size(r.tir_width), _size(r.tir_height)))
             for r in rows.itertuples()}
    n_frames = int(rows["frame"].max()) + 1
    out = det.Detections()
    for spec in s["files"]:
        fmt, modality = spec["format"], spec.get("modality", "both")
        source = spec.get("name") or f"file:{fmt}"
        if fmt == "mot":
            path = det.format_path(spec["path"], dataset=dataset, sequence=seq)
            if not path.is_file():
                if policy.on_error == "fail":
                    raise FileNotFoundError(f"{path}: detection file of sequence {seq} does not exist")
                acc.notes["missing detection file"] += 1
                continue
            out.extend(det.read_mot(path, n_frames, sizes.get, policy, modality=modality,
                                    label=spec.get("label", "person"), source=source))
            continue
        for r in rows.itertuples():
            f = int(r.frame)
            rgb_stem = Path(r.rgb_path).stem if isinstance(r.rgb_path, str) else ""
            tir_stem = Path(r.tir_path).stem if isinstance(r.tir_path, str) else ""
            stem = tir_stem if modality == "tir" else rgb_stem
            path = det.format_path(spec["path"], dataset=dataset, sequence=seq, frame=f, frame1=f + 1,
                                   stem=stem, rgb_stem=rgb_stem, tir_stem=tir_stem)
            if fmt == "yolo":
                got = det.read_yolo(path, f, sizes[f], policy, modality=modality, names=spec.get("names"),
                                    source=source)
            else:
                got = det.read_corners(path, f, sizes[f], policy, source=source)
            if got is None:
                acc.notes["image without a detection file"] += 1
            else:
                out.extend(got)
    by_frame: dict[int, list[int]] = {}
    for i, f in enumerate(out.frame):
        by_frame.setdefault(f, []).append(i)
    result = {}
    for f, idx in by_frame.items():
        result[f] = FrameBoxes(np.asarray([out.boxes[i] for i in idx], np.float64).reshape(-1, 4),
                               np.asarray([out.conf[i] for i in idx], np.float64), [out.label[i] for i in idx],
                               [out.modality[i] for i in idx], [out.source[i] for i in idx])
    return result


def _builtin_detections(detectors: list, row) -> FrameBoxes:
    need = {d.modality for d in detectors}
    r = {"packing": row.packing, "frame": row.frame,
         "rgb_path": row.rgb_path if "rgb" in need or row.packing == "side_by_side" else None,
         "tir_path": row.tir_path if "tir" in need else None}
    rgb, tir = load_frame_pair(r)
    parts = []
    for d in detectors:
        img = rgb if d.modality == "rgb" else tir
        if img is None:
            continue
        b, c, labels = d.detect(img)
        n = len(c)
        parts.append(FrameBoxes(np.asarray(b, np.float64).reshape(-1, 4), np.asarray(c, np.float64), list(labels),
                                [d.modality] * n, [d.name] * n))
    return FrameBoxes.concat(parts)


def _run_sequence(seq: str, rows: pd.DataFrame, s: dict, dataset: str, tick) -> _Seq:
    acc = _Seq(seq)
    policy = det.Policy(s["on_error"])
    seed = int(s["seed"])
    rows = rows.sort_values("frame", kind="stable")
    used = rows[rows["frame"] % int(s["frame_step"]) == 0]
    typ = s["type"]
    if typ == "detector":
        files = _file_detections(s, dataset, seq, rows, policy, acc) if s["files"] else {}
        detectors = [make_detector(spec) for spec in s["builtin"]]
        for d in detectors:
            d.reset()
    for row in used.itertuples():
        acc.frames_used += 1
        f = int(row.frame)
        wh = _frame_ok(row, policy, acc)
        if wh is None:
            tick(1)
            continue
        W, H = wh
        if typ == "central":
            b = central_boxes([W], [H], s["scale"])
            acc.add(f, FrameBoxes(b, np.full(1, np.nan), [None], ["both"], ["central"]), False)
            acc.frames_with_boxes += 1
        elif typ == "random":
            fb = _random_fb(s, seed, seq, f, W, H, acc)
            if len(fb):
                acc.add(f, fb, False)
                acc.frames_with_boxes += 1
            else:
                acc.no_pairs["random: no box fits"] += 1
        else:
            parts = [files.get(f, FrameBoxes.empty())]
            if detectors:
                parts.append(_builtin_detections(detectors, row))
            fb = fuse(FrameBoxes.concat(parts), W, H, s, policy.dropped)
            if len(fb):
                acc.add(f, fb, False)
                acc.frames_with_boxes += 1
            elif s["fallback"] == "random":
                fbr = _random_fb(s, seed, seq, f, W, H, acc)
                acc.add(f, fbr, True)
                acc.fallback_frames += 1
                if not len(fbr):
                    acc.no_pairs["random: no box fits"] += 1
            else:
                acc.no_pairs["no usable detection (fallback off)"] += 1
        tick(1)
    acc.dropped.update(policy.dropped)
    if typ == "detector" and s["temporal"]["enabled"]:
        _link(acc, s)
    return acc


def _link(acc: _Seq, s: dict) -> None:
    """Tracklet ids for the detector boxes of a sequence (fallback boxes get none)."""
    t = s["temporal"]
    frames = np.asarray(acc.frame, np.int64)
    boxes = np.concatenate(acc.boxes) if acc.boxes else np.zeros((0, 4))
    fallback = np.asarray(acc.fallback, bool)
    tracklet = np.full(len(frames), -1, np.int64)
    det_idx = np.flatnonzero(~fallback)
    uniq = np.unique(frames[det_idx])
    groups = [det_idx[frames[det_idx] == f] for f in uniq]
    ids = link_tracklets(list(uniq), [boxes[g] for g in groups], float(t["min_iou"]), int(t["max_age"]))
    for g, i in zip(groups, ids):
        tracklet[g] = i
    acc.tracklet = tracklet


def _roles(s: dict, seq: str, n: int) -> list[tuple[str, str, int]]:
    """(template modality, search modality, box index) for `n` boxes under the roles setting."""
    mode = s["roles"]
    if mode == "rgb_to_tir":
        return [("rgb", "tir", i) for i in range(n)]
    if mode == "tir_to_rgb":
        return [("tir", "rgb", i) for i in range(n)]
    if mode == "both":
        return [r for i in range(n) for r in (("rgb", "tir", i), ("tir", "rgb", i))]
    flips = frame_rng(int(s["seed"]), seq, 0, salt=77_777).random(n) < 0.5
    return [("tir", "rgb", i) if flip else ("rgb", "tir", i) for i, flip in enumerate(flips)]


def _assemble(accs: list[_Seq], s: dict, dataset: str) -> tuple[pa.Table, pa.Table, Counter]:
    temporal = s["type"] == "detector" and s["temporal"]["enabled"]
    pair_cols: dict[str, list] = {k: [] for k in PAIRS_SCHEMA.names}
    box_cols: dict[str, list] = {k: [] for k in BOXES_SCHEMA.names}
    notes: Counter = Counter()
    for acc in accs:
        n = len(acc.frame)
        if not n:
            continue
        frames = np.asarray(acc.frame, np.int64)
        boxes = np.concatenate(acc.boxes)
        conf = np.asarray(acc.conf, np.float64)
        tr = acc.tracklet if acc.tracklet is not None else np.full(n, -1)
        box_cols["sequence"].append(np.full(n, acc.name, dtype=object))
        box_cols["frame"].append(frames)
        box_cols["modality"].append(np.asarray(acc.modality, dtype=object))
        for j, k in enumerate("xywh"):
            box_cols[k].append(boxes[:, j])
        box_cols["source"].append(np.asarray(acc.source, dtype=object))
        box_cols["label"].append(np.asarray(acc.label, dtype=object))
        box_cols["confidence"].append(conf)
        box_cols["tracklet_id"].append(tr)
        box_cols["fallback"].append(np.asarray(acc.fallback, bool))

        partner = np.full(n, -1)
        if temporal:
            has = tr >= 0
            p = temporal_partners(frames[has], tr[has], int(s["temporal"]["max_gap"]), int(s["seed"]), acc.name)
            idx = np.flatnonzero(has)
            partner[idx] = np.where(p >= 0, idx[np.maximum(p, 0)], -1)
            notes["temporal: box without a later box in its tracklet (same-instant pair)"] += int(
                (has & (partner < 0)).sum())
        roles = _roles(s, acc.name, n)
        ti = np.asarray([r[2] for r in roles], np.int64)
        si = np.where(partner[ti] >= 0, partner[ti], ti)
        m = len(ti)
        pair_cols["sequence"].append(np.full(m, acc.name, dtype=object))
        pair_cols["template_frame"].append(frames[ti])
        pair_cols["template_modality"].append(np.asarray([r[0] for r in roles], dtype=object))
        pair_cols["search_frame"].append(frames[si])
        pair_cols["search_modality"].append(np.asarray([r[1] for r in roles], dtype=object))
        for j, k in enumerate("xywh"):
            pair_cols[f"template_{k}"].append(boxes[ti, j])
            pair_cols[f"search_{k}"].append(boxes[si, j])
        pair_cols["source"].append(np.asarray(acc.source, dtype=object)[ti])
        pair_cols["label"].append(np.asarray(acc.label, dtype=object)[ti])
        pair_cols["confidence"].append(conf[ti])
        pair_cols["tracklet_id"].append(tr[ti])
        pair_cols["time_gap"].append(frames[si] - frames[ti])
        pair_cols["fallback"].append(np.asarray(acc.fallback, bool)[ti])

    def cat(v, dtype=None):
        return np.concatenate(v) if v else np.zeros(0, dtype=dtype or object)

    def table(cols: dict, schema: pa.Schema, n_key: str) -> pa.Table:
        n = sum(len(a) for a in cols[n_key])
        arrays = []
        for fld in schema:
            name = fld.name
            if name == "pair_id":
                arr = pa.array(np.arange(n, dtype=np.int64))
            elif name == "dataset":
                arr = pa.array([dataset] * n, pa.string())
            elif name == "method":
                arr = pa.array([s["name"]] * n, pa.string())
            elif name == "tracklet_id":
                v = cat(cols[name], np.int64)
                arr = pa.array(v.astype(np.int32), mask=v < 0)
            elif name == "confidence":
                v = cat(cols[name], np.float64)
                arr = pa.array(v.astype(np.float32), mask=np.isnan(v))
            elif name == "label":
                arr = pa.array(list(cat(cols[name])), pa.string())
            elif fld.type == pa.string():
                arr = pa.array(list(cat(cols[name])), pa.string())
            else:
                arr = pa.array(cat(cols[name], fld.type.to_pandas_dtype())).cast(fld.type)
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=schema)

    return table(pair_cols, PAIRS_SCHEMA, "sequence"), table(box_cols, BOXES_SCHEMA, "sequence"), notes


def generate_pairs(frames: pd.DataFrame, method: str, config: dict | str | Path | None = None, *,
                   dataset: str | None = None, threads: int = 1, progress: bool = False) -> PairsResult:
    """Pairs of method `method` (a name in config `methods`) for the frames of one dataset.

    `frames`: a frames manifest as a DataFrame (only `FRAME_COLUMNS` are used). `config`: the
    pairs config (see `config.load_config`). Raises ValueError / FileNotFoundError for bad input
    under on_error="fail" (the message names the file and line).
    """
    t0 = time.perf_counter()
    cfg = load_config(config)
    s = method_settings(cfg, method)
    frames = frames[[c for c in FRAME_COLUMNS if c in frames.columns]]
    if dataset is None:
        names = frames["dataset"].unique() if len(frames) else []
        if len(names) > 1:
            raise ValueError(f"frames manifest holds several datasets {sorted(names)}; pass dataset=")
        dataset = str(names[0]) if len(names) else "unknown"
    else:
        frames = frames[frames["dataset"] == dataset] if "dataset" in frames else frames
    groups = {name: g for name, g in frames.groupby("sequence", sort=True)}
    names = sorted(groups)
    bar = tqdm(total=len(frames), unit="frame", desc=f"pairs {dataset}/{method}", disable=not progress,
               mininterval=2.0)

    def work(name: str) -> _Seq:
        return _run_sequence(name, groups[name], s, dataset, bar.update)

    try:
        if threads > 1 and len(names) > 1:
            with ThreadPoolExecutor(max_workers=int(threads)) as pool:
                accs = list(pool.map(work, names))
        else:
            accs = [work(n) for n in names]
    finally:
        bar.close()
    pairs, boxes, notes = _assemble(accs, s, dataset)
    meta = {"method": method, "type": s["type"], "seed": s["seed"], "config": config_json(s), "dataset": dataset}
    pairs = validate(pairs, pairs_metadata(PAIRS_SCHEMA, meta))
    boxes = validate(boxes, pairs_metadata(BOXES_SCHEMA, meta))
    summary = _summary(accs, s, dataset, pairs, boxes, notes, time.perf_counter() - t0)
    return PairsResult(pairs, boxes, summary)


def _summary(accs, s, dataset, pairs, boxes, notes, seconds) -> dict:
    def total(attr) -> Counter:
        c: Counter = Counter()
        for a in accs:
            c.update(getattr(a, attr))
        return +c

    notes = total("notes") + notes
    frames_used = sum(a.frames_used for a in accs)
    no_pairs = total("no_pairs")
    tracklets = None
    if s["type"] == "detector" and s["temporal"]["enabled"]:
        tracklets = int(sum(len(np.unique(a.tracklet[a.tracklet >= 0])) for a in accs if a.tracklet is not None))
    return {
        "dataset": dataset, "method": s["name"], "type": s["type"], "seed": int(s["seed"]),
        "roles": s["roles"], "on_error": s["on_error"],
        "sequences": len(accs), "frames": frames_used,
        "frames_with_own_boxes": sum(a.frames_with_boxes for a in accs),
        "fallback_frames": sum(a.fallback_frames for a in accs),
        "frames_without_pairs": dict(sorted(no_pairs.items())),
        "frames_without_pairs_total": int(sum(no_pairs.values())),
        "frames_with_pairs": int(frames_used - sum(no_pairs.values())),
        "boxes": boxes.num_rows, "pairs": pairs.num_rows,
        "dropped_boxes": dict(sorted(total("dropped").items())),
        "dropped_boxes_total": int(sum(total("dropped").values())),
        "notes": dict(sorted(notes.items())),
        "tracklets": tracklets,
        "seconds": round(seconds, 3),
    }


def write_pairs(result: PairsResult, pairs_path: str | Path, boxes_path: str | Path | None = None,
                summary_path: str | Path | None = None) -> None:
    """Write the pair manifest (schema enforced), and optionally the boxes table and summary JSON."""
    import json

    from cmd_core.io import write_parquet, write_text

    write_parquet(result.pairs, pairs_path, result.pairs.schema)
    if boxes_path is not None:
        write_parquet(result.boxes, boxes_path, result.boxes.schema)
    if summary_path is not None:
        write_text(summary_path, json.dumps(result.summary, indent=2, sort_keys=True) + "\n")
