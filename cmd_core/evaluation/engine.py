"""The one vectorised scoring engine, parameterised by a :class:`Protocol`.

All sequences of a tracker are concatenated into one frame array; every protocol rule (length,
replacement of bad boxes, first frame, validity, IoU, centre errors) is applied to that array at
once, and per-sequence curves come from a single histogram (`np.bincount`) over
(sequence, threshold bin), so the cost is a few passes over the frames whatever the thresholds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .protocols import Protocol, get_protocol

log = logging.getLogger(__name__)

CURVES = ("success", "precision", "norm_precision")


@dataclass
class Track:
    """Boxes of one sequence (x, y, w, h per frame, float) and where they came from.

    ``boxes2`` holds a second GT (GTOT / RGB-T: the other modality) when the protocol uses both.
    ``times`` holds per-frame seconds from a time file, when there is one.
    Ground truth in the GOT-10k layout also carries ``cover`` (``cover.label``: visible eighths of
    the target per frame) and ``image_size`` (width, height from ``meta_info.ini``). Results with
    several repetitions (GOT-10k ``<seq>_001.txt``, ``<seq>_002.txt`` ...) hold the first in
    ``boxes`` and the others in ``repeats``; protocols score every repetition.
    """

    boxes: np.ndarray
    source: str = "<memory>"
    boxes2: np.ndarray | None = None
    times: np.ndarray | None = None
    cover: np.ndarray | None = None
    image_size: tuple[float, float] | None = None
    repeats: list["Track"] | None = None


@dataclass
class TrackerEvaluation:
    """Per-sequence counts and curves of one tracker under one protocol.

    ``counts[kind]`` is (n_sequences, n_thresholds) of frames passing each threshold,
    ``n_frames`` the per-sequence denominators; curves = counts / n_frames. ``iou_sum`` is the
    per-sequence sum of the scored frames' IoU (the average overlap's numerator).
    """

    tracker: str
    protocol: Protocol
    sequences: list[str]
    counts: dict[str, np.ndarray]
    n_frames: np.ndarray
    fps: float | None = None
    notes: list[str] = field(default_factory=list)
    iou_sum: np.ndarray | None = None

    def curves(self, kind: str) -> np.ndarray:
        """Per-sequence curve (n_sequences, n_thresholds) for ``kind`` (NaN for a sequence without
        a scored frame, which only a pooled protocol allows)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts[kind] / self.n_frames[:, None]

    def scores(self, subset: np.ndarray | None = None) -> dict[str, float]:
        """Success, precision, normalized precision (NaN where the protocol has none) and the
        protocol's success rates over all sequences or a boolean/integer ``subset`` of them."""
        sel = slice(None) if subset is None else subset
        mean_iou = None
        if self.protocol.pooled:
            total = self.n_frames[sel].sum()
            curves = {k: c[sel].sum(0) / total for k, c in self.counts.items()}
            if self.iou_sum is not None:
                mean_iou = float(self.iou_sum[sel].sum() / total)
        else:
            curves = {k: self.curves(k)[sel].mean(0) for k in self.counts}
            if self.iou_sum is not None:
                mean_iou = float((self.iou_sum / self.n_frames)[sel].mean())
        return scores_from_average_curves(curves, self.protocol, mean_iou)


def _index_of(thresholds: np.ndarray, value: float, what: str) -> int:
    hits = np.flatnonzero(np.isclose(thresholds, value, rtol=0, atol=1e-9))
    if not len(hits):
        raise ValueError(f"{what} threshold {value} is not on the protocol's threshold grid")
    return int(hits[0])


def riemann_auc(x: np.ndarray, y: np.ndarray) -> float:
    """GTOT's auc.m: mean of upper and lower Riemann sums of (x, y) with the point (1, 1) appended."""
    order = np.argsort(x, kind="stable")
    x2 = np.append(np.asarray(x, float)[order], 1.0)
    y2 = np.append(np.asarray(y, float)[order], 1.0)
    dx = np.diff(x2, prepend=0.0)  # first width is x2[0] itself
    upper = float(np.sum(y2 * dx))
    lower = float(np.sum(np.concatenate(([0.0], y2[:-1])) * dx))
    return (upper + lower) / 2


def scores_from_average_curves(curves: dict[str, np.ndarray], protocol: Protocol | str,
                               mean_iou: float | None = None) -> dict[str, float]:
    """Read the reported numbers off already averaged (or pooled) curves, as the protocol does
    (``mean_iou``: the average overlap, for a protocol that reports it instead of a curve's mean)."""
    p = get_protocol(protocol)
    succ = np.asarray(curves["success"], float)
    if p.success_score == "riemann":
        success = riemann_auc(p.thresholds("success"), succ)
    elif p.success_score == "mean_iou":
        if mean_iou is None:
            raise ValueError(f"the {p.name} protocol reports the mean IoU of the frames, which its curves do not hold")
        success = float(mean_iou)
    else:
        success = float(succ.mean())
    precision = float("nan")
    if p.has_precision and curves.get("precision") is not None:
        prec = np.asarray(curves["precision"], float)
        precision = float(prec[_index_of(p.thresholds("precision"), p.precision_at, "precision")])
    rates = {k: float(succ[_index_of(p.thresholds("success"), t, "success rate")]) for k, t in p.rate_keys().items()}
    norm = float("nan")
    if p.has_norm_precision and curves.get("norm_precision") is not None:
        nc = np.asarray(curves["norm_precision"], float)
        if p.norm_score == "mean":
            norm = float(nc.mean())
        else:
            norm = float(nc[_index_of(p.thresholds("norm_precision"), p.norm_at, "normalized precision")])
    return {"success": success, "precision": precision, "norm_precision": norm, **rates}


def scores_from_curves(
    success: np.ndarray, precision: np.ndarray, norm_precision: np.ndarray | None, protocol: Protocol | str
) -> dict[str, float]:
    """Report per the protocol from per-sequence curves (n_sequences, n_thresholds), e.g. the
    curves a MATLAB toolkit saved: average over sequences, then read the scores off."""
    curves = {"success": np.asarray(success, float).mean(0), "precision": np.asarray(precision, float).mean(0)}
    if norm_precision is not None:
        curves["norm_precision"] = np.asarray(norm_precision, float).mean(0)
    return scores_from_average_curves(curves, protocol)


# ----------------------------------------------------------------------------------- box helpers
def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB round(): half away from zero (numpy rounds half to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def polygon_to_xywh(poly: np.ndarray, rule: str) -> np.ndarray:
    """8-value polygons (x1 y1 ... x4 y4) to x, y, w, h: ``"gtot"`` takes values 1, 2, 3, 6 as
    left, top, right, bottom and rounds (corner2rect.m); ``"bbox"`` takes the axis-aligned hull."""
    poly = np.asarray(poly, float)
    if rule == "gtot":
        return matlab_round(np.stack([poly[:, 0], poly[:, 1], poly[:, 2] - poly[:, 0], poly[:, 5] - poly[:, 1]], 1))
    xs, ys = poly[:, 0::2], poly[:, 1::2]
    x0, y0 = xs.min(1), ys.min(1)
    return np.stack([x0, y0, xs.max(1) - x0, ys.max(1) - y0], 1)


def corners_to_xywh(c: np.ndarray) -> np.ndarray:
    """x1 y1 x2 y2 to x1, y1, x2 - x1, y2 - y1 (unrounded, as the GTOT toolkit does)."""
    c = np.asarray(c, float)
    return np.stack([c[:, 0], c[:, 1], c[:, 2] - c[:, 0], c[:, 3] - c[:, 1]], 1)


def iou(a: np.ndarray, b: np.ndarray, protocol: Protocol) -> np.ndarray:
    """Row-wise IoU of (F, 4) x,y,w,h boxes, pixel-inclusive or continuous per the protocol."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if protocol.pixel_inclusive:
            left = np.maximum(a[:, 0], b[:, 0])
            right = np.minimum(a[:, 0] + a[:, 2] - 1, b[:, 0] + b[:, 2] - 1)
            top = np.maximum(a[:, 1], b[:, 1])
            bottom = np.minimum(a[:, 1] + a[:, 3] - 1, b[:, 1] + b[:, 3] - 1)
            inter = np.maximum(0, right - left + 1) * np.maximum(0, bottom - top + 1)
        else:
            iw = np.maximum(np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0)
            ih = np.maximum(np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0)
            inter = iw * ih
        out = inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter + protocol.iou_eps)
    if protocol.clip_iou:
        out = np.clip(out, 0.0, 1.0)
    return out


def clip_to_image(boxes: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Boxes bounded by the image as got10k's ``rect_iou(bound=(W, H))`` does: x to [0, W], then w
    to [0, W - x] (with the clipped x), the same for y and h. ``size`` is (F, 2) width, height."""
    out = np.array(boxes, dtype=np.float64)
    out[:, 0] = np.clip(out[:, 0], 0, size[:, 0])
    out[:, 1] = np.clip(out[:, 1], 0, size[:, 1])
    out[:, 2] = np.clip(out[:, 2], 0, size[:, 0] - out[:, 0])
    out[:, 3] = np.clip(out[:, 3], 0, size[:, 1] - out[:, 1])
    return out


def centers(boxes: np.ndarray, protocol: Protocol) -> np.ndarray:
    """Box centres: x + (w-1)/2 (OTB/pytracking/got10k) or x + w/2 (GTOT)."""
    off = (boxes[:, 2:] - 1) / 2 if protocol.center == "pixel" else boxes[:, 2:] / 2
    return boxes[:, :2] + off


def _distance(d: np.ndarray) -> np.ndarray:
    return np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])


# ---------------------------------------------------------------------------------- alignment
def _align(pred: Track, gt: Track, protocol: Protocol, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sample every ``frame_step``-th frame, then apply the protocol's length rule to one sequence;
    returns pred, gt, gt2 of equal length."""
    p, g, g2 = pred.boxes, gt.boxes, gt.boxes2
    n_p, n_g = len(p), len(g)
    if n_p == 0:
        raise ValueError(f"{pred.source}: empty results file ({where}; the GT {gt.source} has {n_g} frames)")
    step = protocol.frame_step
    counts = f"{n_p} result lines but the GT {gt.source} has {n_g} frames"
    if step > 1:  # only frames 0, step, 2*step ... are annotated and scored
        p, g, g2 = p[::step], g[::step], None if g2 is None else g2[::step]
        counts = (f"{n_p} result lines give {len(p)} scored frames (every {step}th from frame 0) but the GT "
                  f"{gt.source} annotates {len(g)}")
        n_p, n_g = len(p), len(g)
    if n_p != n_g:
        rule = protocol.length_rule
        msg = f"{pred.source}: {counts} ({where})"
        if rule == "strict" or (rule == "truncate" and n_p < n_g):
            raise ValueError(msg + f"; the {protocol.name} protocol cannot score "
                             + ("fewer results than GT frames" if n_p < n_g else "a length mismatch"))
        if n_p > n_g:
            # the protocol's documented cut, but never silent: a truncated GT file looks like this
            p = p[:n_g]
            log.warning("%s: %s (%s): the last %d %s are not scored (%s protocol); check the GT file if it "
                        "should have more lines", pred.source, counts, where, n_p - n_g,
                        "result lines" if step == 1 else "scored frames", protocol.name)
        elif rule == "pad_zeros":
            p = np.vstack([p, np.zeros((n_g - n_p, 4))])
            log.warning("%s: %d frames short of the GT; padded with zero boxes (pytracking rule)", pred.source, n_g - n_p)
        elif rule == "min":
            g = g[:n_p]
            g2 = None if g2 is None else g2[:n_p]
            log.warning("%s: %d frames short of the GT; GT cut to match (got10k rule)", pred.source, n_g - n_p)
    if protocol.dual_gt and g2 is not None and len(g2) != len(g):
        raise ValueError(f"{gt.source}: the two ground truths differ in length ({len(g)} vs {len(g2)})")
    return p, g, g2


# ------------------------------------------------------------------------------------- engine
def frame_errors(
    pred: np.ndarray, gt: np.ndarray, starts: np.ndarray, protocol: Protocol, gt2: np.ndarray | None = None,
    sources: list[str] | None = None, padded: np.ndarray | None = None, cover: np.ndarray | None = None,
    image_size: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Per-frame IoU, centre error and normalized centre error for concatenated sequences.

    ``starts`` are the first-frame indices of the sequences in the (F, 4) arrays. Returns
    (iou, center_error, norm_error or None, keep) where ``keep`` marks frames that stay in the
    sequence (False only for rows the protocol drops, e.g. LaSOT's NaN GT rows, GOT-10k's first
    frames and frames with cover 0). ``padded`` marks zero boxes added for missing result lines
    (pytracking pads after its repair step, so those stay). ``cover`` (F,) and ``image_size``
    (F, 2) are the GT's per-frame cover label and image width, height where the protocol uses them.
    """
    p = protocol
    pred = np.array(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    n = len(pred)
    first = np.zeros(n, bool)
    first[starts] = True
    gt_nan = np.isnan(gt).any(1)

    if p.pred_fix == "previous_zero":
        bad = np.isnan(pred).any(1) | (pred[:, 2:] < 0).any(1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(_where(i, starts, sources) + f": invalid result box {pred[i].tolist()} "
                             f"(NaN or negative size; the {p.name} protocol rejects it)")
        if gt_nan.any():
            i = int(np.flatnonzero(gt_nan)[0])
            raise ValueError(_where(i, starts, sources, gt=True) + ": NaN in the ground truth (the pytracking protocol rejects it)")
        fix = (pred[:, 2:] == 0).any(1)
    elif p.pred_fix == "reject_nan":
        bad = ~np.isfinite(pred).all(1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(_where(i, starts, sources) + f": invalid result box {pred[i].tolist()} (NaN or inf; "
                             f"the {p.name} toolkit's average overlap would be NaN)")
        fix = np.zeros(n, bool)
    elif p.pred_fix == "previous":
        with np.errstate(invalid="ignore"):
            fix = np.isnan(pred).any(1) | (pred[:, 2] <= 0) | (pred[:, 3] <= 0)
    else:
        fix = np.zeros(n, bool)
    fix &= ~first & ~gt_nan
    if padded is not None:
        fix &= ~padded
    if fix.any():  # replace by the previous (already replaced) box = forward fill
        idx = np.where(fix, 0, np.arange(n))
        np.maximum.accumulate(idx, out=idx)
        pred = pred[idx]
    if p.first_frame_gt:
        pred[starts] = gt[starts]

    keep = ~gt_nan if p.validity == "not_nan" else np.ones(n, bool)
    if p.validity == "cover":
        if cover is None:
            raise ValueError(f"the {p.name} protocol needs the GT's cover labels")
        keep = np.asarray(cover) > 0
    if p.drop_first_frame:
        keep[starts] = False
    if p.clip_to_image:
        if image_size is None:
            raise ValueError(f"the {p.name} protocol needs the GT's image size")
        pred, gt = clip_to_image(pred, image_size), clip_to_image(gt, image_size)
    with np.errstate(invalid="ignore"):
        if p.validity == "all_positive":
            valid = (gt > 0).all(1)
        elif p.validity == "wh_positive":
            valid = (gt[:, 2:] > 0).all(1)
        else:
            valid = np.ones(n, bool)

    ov = iou(pred, gt, p)
    cp = centers(pred, p)
    cg = centers(gt, p)
    err = _distance(cp - cg)
    if p.dual_gt and gt2 is not None:
        gt2 = np.asarray(gt2, dtype=np.float64)
        # MATLAB's max/min skip NaN: fmax/fmin do the same
        ov = np.fmax(ov, iou(pred, gt2, p))
        err = np.fmin(err, _distance(cp - centers(gt2, p)))
    nerr = None
    if p.norm is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            if p.norm == "divide_centers":
                nerr = _distance(cp / gt[:, 2:] - cg / gt[:, 2:])
            else:  # "max1"
                nerr = _distance((cp - cg) / np.maximum(1.0, gt[:, 2:]))
    inv = ~valid
    if inv.any():
        ov[inv] = p.invalid_iou
        err[inv] = p.invalid_center
        if nerr is not None:
            nerr[inv] = p.invalid_norm
    return ov, err, nerr, keep


def _where(i: int, starts: np.ndarray, sources: list[str] | None, gt: bool = False) -> str:
    s = int(np.searchsorted(starts, i, side="right") - 1)
    src = sources[s] if sources else f"sequence #{s}"
    if gt and sources:
        return f"GT of {src}, frame {i - starts[s] + 1}"
    return f"{src}, line {i - starts[s] + 1}"


def _bin_counts(values: np.ndarray, seq: np.ndarray, n_seq: int, thr: np.ndarray, mode: str) -> np.ndarray:
    """Per-sequence number of frames passing each threshold, from one histogram.

    ``mode``: ``">"`` (IoU success), ``"<="`` (OTB precision) or ``"<"`` (GTOT precision). NaN
    values fail every test.
    """
    t = len(thr)
    v = values.copy()
    nan = np.isnan(v)
    if mode == ">":
        v[nan] = -np.inf
        b = np.searchsorted(thr, v, side="left")  # passes thr_k iff k < b
    else:
        v[nan] = np.inf
        b = np.searchsorted(thr, v, side="left" if mode == "<=" else "right")  # passes iff b <= k
    hist = np.bincount(seq * (t + 1) + b, minlength=n_seq * (t + 1)).reshape(n_seq, t + 1)
    if mode == ">":
        return np.cumsum(hist[:, ::-1], 1)[:, ::-1][:, 1:]
    return np.cumsum(hist, 1)[:, :t]


def evaluate_tracker(
    tracker: str,
    results: dict[str, Track],
    ground_truth: dict[str, Track],
    protocol: Protocol | str,
    sequences: list[str] | None = None,
) -> TrackerEvaluation:
    """Score one tracker's results on ``sequences`` (default: all GT sequences, sorted order kept).

    Every sequence must have a result; a missing one raises (the CLI lists and reports those
    before calling this). Length mismatches follow the protocol's ``length_rule``. Each repetition
    of a sequence (``Track.repeats``) is scored as one more run of it, pooled into its counts.
    """
    p = get_protocol(protocol)
    seqs = list(ground_truth) if sequences is None else list(sequences)
    preds, gts, gts2, lengths, sources, pads, owners, covers, sizes = [], [], [], [], [], [], [], [], []
    for k, s in enumerate(seqs):
        if s not in results:
            raise FileNotFoundError(f"{tracker}: no result for sequence {s!r}")
        gt = ground_truth[s]
        _check_gt_extras(gt, p, s)
        for run in [results[s], *(results[s].repeats or [])]:
            a, g, g2 = _align(run, gt, p, f"tracker {tracker}, sequence {s}")
            pad = np.zeros(len(g), bool)
            pad[-(-len(run.boxes) // p.frame_step):] = True  # rows past the (sampled) results
            if a.shape[1] == 8:
                a = polygon_to_xywh(a, p.polygon)
            preds.append(a)
            gts.append(g)
            gts2.append(g2 if g2 is not None else g)
            lengths.append(len(g))
            sources.append(run.source)
            pads.append(pad)
            owners.append(k)
            if p.validity == "cover":
                covers.append(np.asarray(gt.cover)[::p.frame_step][:len(g)])
            if p.clip_to_image:
                sizes.append(np.broadcast_to(np.asarray(gt.image_size, dtype=np.float64), (len(g), 2)))
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    pred = np.concatenate(preds) if preds else np.zeros((0, 4))
    gt = np.concatenate(gts) if gts else np.zeros((0, 4))
    gt2 = np.concatenate(gts2) if (p.dual_gt and gts2) else None
    padded = np.concatenate(pads) if pads else np.zeros(0, bool)
    ov, err, nerr, keep = frame_errors(pred, gt, starts, p, gt2, sources, padded if padded.any() else None,
                                       cover=np.concatenate(covers) if covers else None,
                                       image_size=np.concatenate(sizes) if sizes else None)
    seq_id = np.repeat(np.asarray(owners, dtype=np.int64), lengths)
    if not keep.all():
        ov, err, seq_id = ov[keep], err[keep], seq_id[keep]
        nerr = None if nerr is None else nerr[keep]
    n_frames = np.bincount(seq_id, minlength=len(seqs)).astype(np.float64)
    empty = np.flatnonzero(n_frames == 0)
    if len(empty) and not (p.pooled and n_frames.sum() > 0):  # a pooled score only needs frames somewhere
        s = seqs[int(empty[0])]
        raise ValueError(f"{ground_truth[s].source}: no valid ground-truth frame in sequence {s}")
    err_mode = "<" if p.precision_strict else "<="
    counts = {"success": _bin_counts(ov, seq_id, len(seqs), p.thresholds("success"), ">")}
    if p.has_precision:
        counts["precision"] = _bin_counts(err, seq_id, len(seqs), p.thresholds("precision"), err_mode)
    if nerr is not None:
        counts["norm_precision"] = _bin_counts(nerr, seq_id, len(seqs), p.thresholds("norm_precision"), "<=")
    iou_sum = np.bincount(seq_id, weights=ov, minlength=len(seqs)) if p.success_score == "mean_iou" else None
    return TrackerEvaluation(tracker, p, seqs, counts, n_frames, fps=speed(results, seqs, p.speed), iou_sum=iou_sum)


def _check_gt_extras(gt: Track, p: Protocol, seq: str) -> None:
    """The GOT-10k protocol's per-sequence GT files, with what to do when they are absent."""
    layout = "GOT-10k layout: <seq>/groundtruth.txt, cover.label, meta_info.ini"
    if p.validity == "cover" and gt.cover is None:
        test = ("; a one-line groundtruth.txt is GOT-10k's test split, whose ground truth is withheld: submit the "
                "results folder to the GOT-10k server") if len(gt.boxes) == 1 else ""
        raise ValueError(f"{gt.source}: no cover.label beside it (sequence {seq}); the {p.name} protocol leaves out "
                         f"the frames whose cover is 0 ({layout}){test}")
    if p.clip_to_image and gt.image_size is None:
        raise ValueError(f"{gt.source}: no meta_info.ini with a resolution beside it (sequence {seq}); the {p.name} "
                         f"protocol clips boxes to the image ({layout}; a synthetic split from generator 1.2.0 or "
                         "older lacks it: regenerate it with cmd-tir synth)")


SPEED_RULES = ("frames_over_time", "mean_inverse", "mean_inverse_pooled")


def speed(results: dict[str, Track], seqs: list[str], rule: str = "frames_over_time") -> float | None:
    """Frames per second from the time files (None where no sequence has a positive time).

    ``frames_over_time``: per sequence frames / total seconds (finite positive times), mean over
    sequences; ``mean_inverse`` (got10k ExperimentOTB): per sequence the mean of 1/t over its
    positive times, mean over the sequences that have one; ``mean_inverse_pooled``
    (ExperimentGOT10k): the mean of 1/t over the positive times of all sequences together (a time
    file with one column per repetition counts every column).
    """
    if rule not in SPEED_RULES:
        raise ValueError(f"unknown speed rule {rule!r}; choose one of {', '.join(SPEED_RULES)}")
    per_seq, pooled = [], []
    for s in seqs:
        t = results[s].times
        if t is None:
            continue
        t = np.asarray(t, float).ravel()
        if rule == "frames_over_time":
            t = t[np.isfinite(t) & (t > 0)]
            if len(t):
                per_seq.append(len(t) / t.sum())
            continue
        t = t[t > 0]  # NaN compares false, as in the toolkit
        if rule == "mean_inverse_pooled":
            pooled.append(t)
        elif len(t):
            per_seq.append(float(np.mean(1.0 / t)))
    if rule == "mean_inverse_pooled":
        t = np.concatenate(pooled) if pooled else np.zeros(0)
        return float(np.mean(1.0 / t)) if len(t) else None
    return float(np.mean(per_seq)) if per_seq else None
