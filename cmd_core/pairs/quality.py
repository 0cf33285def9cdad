"""The pair quality report: how often generated boxes hold a real object, per dataset and method.

This module is the only part of the package that reads ground truth (the objects manifest, or the
frames manifest's GT columns when a dataset has no object annotations). Per (dataset, method):
- coverage: share of pairs whose template box has IoU >= 0.5 with some GT box of its frame
  (GT of the template's modality or of both); `search_coverage` the same for the search box;
- mean_best_iou: mean over pairs of the template box's best IoU with the GT;
- boxes_per_frame, pairs_per_frame, fallback_rate (fallback frames / frames), frames without
  pairs and dropped boxes (from the generator's summary);
- for tracklets (detector method with temporal pairs): MOTA, IDF1 and ID switches from motmetrics,
  fed with our own distance matrices (1 - IoU, NaN below IoU 0.5), because motmetrics 1.4's
  distance helpers use np.asfarray, which NumPy 2 removed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cmd_core.io import markdown_table, write_text
from cmd_core.pairs.boxes import box_iou

COVER_IOU = 0.5
COLUMNS = ["dataset", "method", "type", "frames", "pairs", "pairs_per_frame", "boxes_per_frame", "coverage",
           "search_coverage", "mean_best_iou", "fallback_rate", "frames_without_pairs", "dropped_boxes",
           "tracklets", "mota", "idf1", "id_switches"]


def load_truth(objects_path: str | Path | None, frames_path: str | Path | None = None) -> pd.DataFrame:
    """GT boxes (sequence, frame, modality, object_id, x, y, w, h): the objects manifest without
    ignored boxes, or, when it is absent or empty, the single-target GT of the frames manifest."""
    cols = ["sequence", "frame", "modality", "object_id", "x", "y", "w", "h"]
    if objects_path is not None and Path(objects_path).is_file():
        obj = pq.read_table(objects_path).to_pandas()
        if len(obj):
            obj = obj[~obj["ignore"].astype(bool)]
            obj = obj.assign(object_id=obj["object_id"].fillna("").astype(str))
            return obj[cols].reset_index(drop=True)
    if frames_path is None or not Path(frames_path).is_file():
        return pd.DataFrame(columns=cols)
    fr = pq.read_table(frames_path).to_pandas()
    use_tir = fr["gt_tir_valid"].astype(bool)
    use_rgb = ~use_tir & fr["gt_rgb_valid"].astype(bool)
    parts = []
    for mask, m in ((use_tir, "tir"), (use_rgb, "rgb")):
        sub = fr[mask]
        parts.append(pd.DataFrame({"sequence": sub["sequence"], "frame": sub["frame"], "modality": "both",
                                   "object_id": "target", **{k: sub[f"gt_{m}_{k}"] for k in "xywh"}}))
    return pd.concat(parts, ignore_index=True)[cols]


def _truth_index(truth: pd.DataFrame) -> dict:
    out = {}
    for (seq, frame), g in truth.groupby(["sequence", "frame"], sort=False):
        out[(seq, int(frame))] = (g["modality"].to_numpy(), g[["x", "y", "w", "h"]].to_numpy(np.float64),
                                  g["object_id"].to_numpy())
    return out


def best_iou(pairs: pd.DataFrame, truth: pd.DataFrame, which: str = "template") -> np.ndarray:
    """Best IoU of each pair's `which` box (template or search) with the GT boxes of its frame."""
    index = _truth_index(truth)
    out = np.zeros(len(pairs))
    keys = pairs[["sequence", f"{which}_frame", f"{which}_modality"]].to_numpy()
    boxes = pairs[[f"{which}_{k}" for k in "xywh"]].to_numpy(np.float64)
    groups: dict = {}
    for i, (seq, frame, mod) in enumerate(keys):
        groups.setdefault((seq, int(frame), mod), []).append(i)
    for (seq, frame, mod), idx in groups.items():
        t = index.get((seq, frame))
        if t is None:
            continue
        sel = (t[0] == mod) | (t[0] == "both")
        if sel.any():
            out[idx] = box_iou(boxes[idx], t[1][sel]).max(axis=1)
    return out


def tracking_metrics(boxes: pd.DataFrame, truth: pd.DataFrame, frames: dict[str, list[int]]) -> dict:
    """MOTA, IDF1 and ID switches of the tracklets in `boxes` against the GT, over `frames` (per
    sequence, the frames the generator used). Distances are computed here (see module docstring)."""
    import motmetrics as mm

    index = _truth_index(truth[truth["modality"].isin(["both", "tir"])])
    hyp = boxes[boxes["tracklet_id"].notna()]
    hyp_index = {k: g for k, g in hyp.groupby(["sequence", "frame"], sort=False)}
    accs, names = [], []
    for seq in sorted(frames):
        acc = mm.MOTAccumulator(auto_id=False)
        codes: dict = {}  # motmetrics stores object ids as floats: map GT ids to integers
        for f in frames[seq]:
            t = index.get((seq, f))
            gt_ids = [codes.setdefault(o, len(codes)) for o in t[2]] if t is not None else []
            gt_boxes = t[1] if t is not None else np.zeros((0, 4))
            h = hyp_index.get((seq, f))
            hyp_ids = [int(v) for v in h["tracklet_id"]] if h is not None else []
            hyp_boxes = h[["x", "y", "w", "h"]].to_numpy(np.float64) if h is not None else np.zeros((0, 4))
            iou = box_iou(gt_boxes, hyp_boxes)
            dist = np.where(iou >= COVER_IOU, 1.0 - iou, np.nan)
            acc.update(gt_ids, hyp_ids, dist, frameid=int(f))
        accs.append(acc)
        names.append(seq)
    if not accs:
        return {"mota": math.nan, "idf1": math.nan, "id_switches": math.nan}
    mh = mm.metrics.create()
    res = mh.compute_many(accs, metrics=["mota", "idf1", "num_switches"], names=names, generate_overall=True)
    row = res.loc["OVERALL"]
    return {"mota": float(row["mota"]), "idf1": float(row["idf1"]), "id_switches": int(row["num_switches"])}


def method_quality(pairs_path: str | Path, boxes_path: str | Path, summary_path: str | Path,
                   truth: pd.DataFrame) -> dict:
    """One report row for the outputs of one (dataset, method) run."""
    summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    pairs = pq.read_table(pairs_path).to_pandas()
    boxes = pq.read_table(boxes_path).to_pandas()
    frames = max(int(summary["frames"]), 1)
    have_truth = len(truth) > 0
    best = best_iou(pairs, truth, "template") if have_truth and len(pairs) else np.zeros(0)
    best_s = best_iou(pairs, truth, "search") if have_truth and len(pairs) else np.zeros(0)
    row = {
        "dataset": summary["dataset"], "method": summary["method"], "type": summary["type"],
        "frames": int(summary["frames"]), "pairs": len(pairs),
        "pairs_per_frame": len(pairs) / frames, "boxes_per_frame": len(boxes) / frames,
        "coverage": float(np.mean(best >= COVER_IOU)) if len(best) else math.nan,
        "search_coverage": float(np.mean(best_s >= COVER_IOU)) if len(best_s) else math.nan,
        "mean_best_iou": float(best.mean()) if len(best) else math.nan,
        "fallback_rate": int(summary["fallback_frames"]) / frames,
        "frames_without_pairs": int(summary["frames_without_pairs_total"]),
        "dropped_boxes": int(summary["dropped_boxes_total"]),
        "tracklets": summary.get("tracklets"),
        "mota": math.nan, "idf1": math.nan, "id_switches": math.nan,
    }
    if summary.get("tracklets") is not None and have_truth:
        step = int(json.loads(pq.read_schema(pairs_path).metadata[b"cmd_pairs_config"]).get("frame_step", 1))
        used = {}
        for seq, g in truth.groupby("sequence"):
            fr = sorted(int(f) for f in g["frame"].unique() if int(f) % step == 0)
            used[seq] = fr
        for seq, g in boxes.groupby("sequence"):
            used[seq] = sorted(set(used.get(seq, [])) | set(int(f) for f in g["frame"]))
        row.update(tracking_metrics(boxes, truth, used))
    return row


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of the report."""
    rows = [[_fmt(v) for v in row] for row in df.itertuples(index=False)]
    return markdown_table(rows, [str(c) for c in df.columns]) + "\n"


def quality_report(runs: list[dict], out_csv: str | Path, out_md: str | Path) -> pd.DataFrame:
    """Write the report of `runs` ({pairs, boxes, summary, objects, frames} paths; one per dataset
    and method) to CSV and Markdown; returns the table."""
    truths: dict = {}
    rows = []
    for run in runs:
        key = (run.get("objects"), run.get("frames"))
        if key not in truths:
            truths[key] = load_truth(*key)
        rows.append(method_quality(run["pairs"], run["boxes"], run["summary"], truths[key]))
    df = pd.DataFrame(rows, columns=COLUMNS)
    write_text(out_csv, df.to_csv(index=False, float_format="%.6g"))
    note = ("Pair quality per dataset and method. coverage: share of pairs whose template box has IoU >= 0.5 "
            "with a ground-truth object; mean_best_iou: mean best IoU of the template box; fallback_rate: share "
            "of frames whose pairs came from the random fallback; mota / idf1 / id_switches: tracklets "
            "(detector method with temporal pairs) against the ground truth (motmetrics).\n\n")
    write_text(out_md, note + to_markdown(df))
    return df
