"""Named metric protocols: each preset reproduces one benchmark toolkit's scoring rules exactly.

The benchmarks' toolkits differ in small ways that move published numbers by more than their
rounding (validity of GT frames, what an invalid frame counts as, pixel-inclusive or continuous IoU,
the centre definition, how the normalised precision is reported, how thresholds are computed in
floating point). Each :class:`Protocol` spells those rules out as data; one shared engine
(:mod:`cmd_core.evaluation.engine`) applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """MATLAB's ``start:step:stop`` bit for bit: first half counted up from start, second half down
    from stop (so ``0:0.05:1`` ends exactly at 1 and its values differ from ``k*0.05`` by an ulp)."""
    n = int(np.floor((stop - start) / step + 1e-10))
    k = np.arange(n + 1, dtype=np.float64)
    out = np.where(k <= n / 2, start + k * step, (start + n * step) - (n - k) * step)
    if abs(start + n * step - stop) < 1e-10:  # stop is on the grid: count down from it exactly
        out = np.where(k <= n / 2, start + k * step, stop - (n - k) * step)
        if n % 2 == 0:
            out[n // 2] = (start + stop) / 2
    return out


def arange_thresholds(stop_index: int, step: float, divisor: float | None = None) -> np.ndarray:
    """``k*step`` (numpy/torch arange, np.linspace from 0) or ``k/divisor`` for k = 0..stop_index."""
    k = np.arange(stop_index + 1, dtype=np.float64)
    return k / divisor if divisor else k * step


@dataclass(frozen=True)
class Protocol:
    """One benchmark's scoring rules (see each preset's docstring for the rules in words).

    Fields, in the order the engine applies them:

    - ``frame_step``: score only frames 0, step, 2*step ... of results and GT (a benchmark that
      annotates every step-th frame, VTUAV: 10); 1 scores every frame.
    - ``length_rule``: results longer/shorter than the GT. ``"truncate"`` cuts longer results and
      rejects shorter ones (MATLAB toolkits would crash); ``"pad_zeros"`` cuts longer and pads
      shorter ones with zero boxes (pytracking); ``"min"`` cuts both to the shorter (got10k);
      ``"strict"`` rejects any mismatch.
    - ``pred_fix``: invalid predictions. ``"previous"``: a box with NaN or w/h <= 0 is replaced by
      the previous (already fixed) box unless its GT row holds a NaN (OTB MATLAB code);
      ``"previous_zero"``: only w or h == 0 is replaced, NaN or negative sizes are an error
      (pytracking); ``"none"``: kept as they are, NaN compares as failure (got10k OTB);
      ``"reject_nan"``: kept as they are, but NaN or inf is an error (GOT-10k, whose average overlap
      would turn NaN).
    - ``first_frame_gt``: the first prediction is replaced by the GT; ``drop_first_frame``: the
      first frame (the tracker's initialisation) is left out of the scores (GOT-10k).
    - ``validity``: which GT frames are valid: ``"all_positive"`` (all four values > 0),
      ``"wh_positive"`` (w > 0 and h > 0), ``"not_nan"`` (LaSOT: NaN rows are dropped from the
      sequence), ``"cover"`` (GOT-10k: frames whose ``cover.label`` is 0 are dropped), ``"none"``.
    - ``invalid_iou`` / ``invalid_center`` / ``invalid_norm``: value written for invalid frames
      (-1: failure for IoU '>' tests, success for error '<=' tests; ``inf``: failure).
    - ``pixel_inclusive``: IoU with right = x + w - 1 and widths + 1; else continuous boxes.
    - ``clip_iou`` / ``iou_eps``: got10k clips IoU to [0, 1] and adds eps to the union.
    - ``clip_to_image``: before the IoU, result and GT boxes are clipped to the image (the GT's
      ``image_size``) as got10k's ``rect_iou(bound=...)`` does: x to [0, W], then w to [0, W - x]
      (so a box left of the image is moved, not cut), the same for y and h.
    - ``center``: ``"pixel"`` = x + (w-1)/2, ``"half"`` = x + w/2 (GTOT results).
    - ``norm``: ``"divide_centers"`` (both centres divided by GT w,h, then subtracted),
      ``"max1"`` (difference divided by max(1, GT w,h)), or ``None``.
    - thresholds, the comparison used on each curve, and how each score is read off the curve:
      ``success_score`` ``"mean"`` (mean of the points), ``"riemann"`` (GTOT auc.m) or
      ``"mean_iou"`` (GOT-10k's average overlap: the mean IoU of the scored frames, no curve);
      ``precision_at`` the px threshold (None: no centre-error precision); ``norm_score``
      ``"value"`` (at ``norm_at``) or ``"mean"``; ``success_rates``: IoU thresholds whose value on
      the success curve is reported as a success rate (scores ``sr50``, ``sr75`` ...).
    - ``pooled``: frames pooled over all sequences (GTOT, GOT-10k) instead of mean of per-sequence
      curves.
    - ``speed``: the FPS column: ``"frames_over_time"`` (per sequence frames / total seconds, mean
      over sequences), ``"mean_inverse"`` (got10k ExperimentOTB: per sequence the mean of 1/t over
      its positive times, mean over sequences that have one) or ``"mean_inverse_pooled"``
      (ExperimentGOT10k: the mean of 1/t over the positive times of all sequences together).
    - ``result_layout``: ``None`` (any layout :func:`~cmd_core.evaluation.readers.read_results`
      knows) or ``"got10k"`` (only ``<seq>/<seq>_NNN.txt``, every repetition, and
      ``<seq>/<seq>_time.txt``, as the GOT-10k toolkit and server read them);
      ``require_complete``: a sequence without results (or without its time file) is an error
      rather than left out and listed (``evaluate_results(allow_missing=True)`` relaxes it).
    - ``score_labels``: column names of the scores in reports where they differ from Success /
      Precision / Norm. precision (GTOT: MSR, MPR; GOT-10k: AO, SR@0.5, SR@0.75).
    - ``dual_gt``: IoU is the max and centre error the min over two GTs (GTOT visible/thermal).
    - ``polygon``: 8-value result boxes become ``"bbox"`` (axis-aligned hull of the 4 points) or
      ``"gtot"`` (values 1, 2, 3, 6 as left, top, right, bottom, rounded half away from zero).
    """

    name: str = "custom"
    benchmark: str = "custom"
    frame_step: int = 1
    length_rule: str = "truncate"
    pred_fix: str = "previous"
    first_frame_gt: bool = True
    drop_first_frame: bool = False
    validity: str = "all_positive"
    invalid_iou: float = -1.0
    invalid_center: float = -1.0
    invalid_norm: float = -1.0
    pixel_inclusive: bool = True
    clip_iou: bool = False
    iou_eps: float = 0.0
    clip_to_image: bool = False
    center: str = "pixel"
    norm: str | None = "divide_centers"
    iou_thresholds: tuple = tuple(matlab_colon(0.0, 0.05, 1.0))
    center_thresholds: tuple = tuple(float(v) for v in range(51))
    norm_thresholds: tuple = tuple(arange_thresholds(50, 0.0, 100.0))
    precision_strict: bool = False
    success_score: str = "mean"
    precision_at: float | None = 20.0
    norm_score: str | None = "value"
    norm_at: float = 0.2
    success_rates: tuple = ()
    pooled: bool = False
    dual_gt: bool = False
    polygon: str = "bbox"
    speed: str = "frames_over_time"
    result_layout: str | None = None
    require_complete: bool = False
    score_labels: tuple = ()

    @property
    def has_norm_precision(self) -> bool:
        """Whether this protocol reports a normalized precision."""
        return self.norm is not None and self.norm_score is not None

    @property
    def has_precision(self) -> bool:
        """Whether this protocol reports a centre-error precision."""
        return self.precision_at is not None

    def rate_keys(self) -> dict[str, float]:
        """Score name -> IoU threshold of each reported success rate (``{"sr50": 0.5, ...}``)."""
        return {f"sr{round(t * 100):d}": float(t) for t in self.success_rates}

    def thresholds(self, kind: str) -> np.ndarray:
        """Threshold array for curve ``kind`` in {'success', 'precision', 'norm_precision'}."""
        return np.asarray({"success": self.iou_thresholds, "precision": self.center_thresholds,
                           "norm_precision": self.norm_thresholds}[kind], dtype=np.float64)


@dataclass(frozen=True)
class LsotbProtocol(Protocol):
    """LSOTB-TIR MATLAB toolkit (OTB code). Success = mean of the 21-point curve over IoU 0:0.05:1
    ('>'); precision = curve at 20 px of 0:50 ('<='); normalized precision = MEAN of the curve over
    0:0.01:0.5 (centres divided by GT w,h). A GT frame is valid iff all four values > 0; invalid
    frames: IoU -1 (failure), centre errors -1 (success); all frames count in the denominator. NaN or
    w/h <= 0 predictions take the previous box (unless the GT row has a NaN); first frame = GT;
    results longer than the GT are cut, shorter ones rejected. Pixel-inclusive IoU, centre
    x + (w-1)/2. Sequence curves are averaged over sequences."""

    name: str = "lsotb"
    benchmark: str = "LSOTB-TIR"
    norm_thresholds: tuple = tuple(matlab_colon(0.0, 0.01, 0.5))
    norm_score: str | None = "mean"


@dataclass(frozen=True)
class PtbProtocol(LsotbProtocol):
    """PTB-TIR toolkit: the same OTB code and rules as LSOTB-TIR, reporting success and precision
    only (no normalized precision)."""

    name: str = "ptb"
    benchmark: str = "PTB-TIR"
    norm: str | None = None
    norm_score: str | None = None


@dataclass(frozen=True)
class LasherProtocol(Protocol):
    """LasHeR toolkit (OTB code): as LSOTB-TIR but normalized precision = VALUE at 0.20 of the curve
    over (0:50)/100. Pixel-inclusive IoU (x2 = x + w - 1), centre x + (w-1)/2; first frame = GT; NaN
    or w/h <= 0 predictions take the previous box; a GT frame with any value <= 0 is invalid (IoU -1:
    failure, centre errors -1: success) and still counts in the denominator; longer results are cut,
    shorter ones rejected (the MATLAB code would crash)."""

    name: str = "lasher"
    benchmark: str = "LasHeR"


@dataclass(frozen=True)
class PytrackingProtocol(Protocol):
    """pytracking analysis (extract_results.calc_seq_err_robust). Success = mean of the curve over
    arange(0, 1.05, 0.05) ('>'); precision at 20 px; normalized precision = value at 0.20. A GT frame
    is valid iff w > 0 and h > 0 (what the code tests; the project doc says 'any value <= 0');
    invalid frames: IoU -1 (failure), centre error inf (failure), normalized error -1 (success). NaN
    or negative predicted sizes are an error; zero sizes take the previous box; first frame = GT;
    longer results are cut, shorter ones padded with zero boxes (failures). Pixel-inclusive IoU,
    centre x + (w-1)/2. pytracking stores boxes as truncated integers
    (see ``cmd_core.tracking.results.write_pytracking_results``)."""

    name: str = "pytracking"
    benchmark: str = "pytracking"
    length_rule: str = "pad_zeros"
    pred_fix: str = "previous_zero"
    validity: str = "wh_positive"
    invalid_center: float = float("inf")
    iou_thresholds: tuple = tuple(arange_thresholds(20, 0.05))
    norm_thresholds: tuple = tuple(arange_thresholds(50, 0.01))


@dataclass(frozen=True)
class Got10kOtbProtocol(Protocol):
    """got10k-toolkit ExperimentOTB. Success = mean of the curve over linspace(0, 1, 21) ('>');
    precision at 20 px. No validity mask; continuous IoU (x2 = x + w) with eps added to the union,
    clipped to [0, 1]; centre x + (w-1)/2; NaN predictions are failures (no replacement); first frame
    = GT; results and GT are cut to the shorter of the two (the toolkit only warns). No normalized
    precision. FPS: per sequence the mean of 1/t over its positive times, then the mean over the
    sequences that have one. Reads the ``got10k-otb`` result layout (``<seq>.txt``,
    ``times/<seq>_time.txt``) among others."""

    name: str = "got10k-otb"
    benchmark: str = "OTB"
    length_rule: str = "min"
    pred_fix: str = "none"
    validity: str = "none"
    pixel_inclusive: bool = False
    clip_iou: bool = True
    iou_eps: float = float(np.finfo(float).eps)
    norm: str | None = None
    norm_score: str | None = None
    iou_thresholds: tuple = tuple(arange_thresholds(20, 0.05))
    speed: str = "mean_inverse"


@dataclass(frozen=True)
class Got10kLasotProtocol(Got10kOtbProtocol):
    """got10k-toolkit ExperimentLaSOT: as got10k-otb, but GT rows holding a NaN are dropped (also
    from the denominator), and normalized precision = MEAN over linspace(0, 0.5, 51) of the curve of
    the centre error divided by max(1, GT w,h)."""

    name: str = "got10k-lasot"
    benchmark: str = "LaSOT"
    validity: str = "not_nan"
    norm: str | None = "max1"
    norm_score: str | None = "mean"
    norm_thresholds: tuple = tuple(arange_thresholds(50, 0.01))


@dataclass(frozen=True)
class Got10kProtocol(Protocol):
    """GOT-10k toolkit ExperimentGOT10k (val split; the test server applies the same rules).
    Average overlap AO = mean IoU of the scored frames; SR@0.5 and SR@0.75 = share of scored frames
    with IoU > 0.5, > 0.75 (the success curve over linspace(0, 1, 101), '>'). Scored frames: every
    frame but the first (the initialisation, left out rather than set to the GT) whose
    ``cover.label`` is > 0; frames are pooled over all sequences and all repetitions
    (``<seq>_001.txt``, ``<seq>_002.txt`` ...), not averaged per sequence. Result and GT boxes are
    clipped to the image (``meta_info.ini`` resolution) before a continuous IoU (x2 = x + w) with eps
    in the union, clipped to [0, 1]. Results must have as many lines as the GT (the toolkit asserts
    it); a NaN box is an error (it would make AO NaN). No centre-error precision. FPS = mean of 1/t
    over all positive times. Reads only the GOT-10k result layout, and a sequence without results or
    without its time file stops the evaluation (``--allow-missing`` leaves it out and lists it)."""

    name: str = "got10k"
    benchmark: str = "GOT-10k"
    length_rule: str = "strict"
    pred_fix: str = "reject_nan"
    first_frame_gt: bool = False
    drop_first_frame: bool = True
    validity: str = "cover"
    pixel_inclusive: bool = False
    clip_iou: bool = True
    iou_eps: float = float(np.finfo(float).eps)
    clip_to_image: bool = True
    norm: str | None = None
    norm_score: str | None = None
    iou_thresholds: tuple = tuple(np.linspace(0, 1, 101))
    precision_at: float | None = None
    success_score: str = "mean_iou"
    success_rates: tuple = (0.5, 0.75)
    pooled: bool = True
    speed: str = "mean_inverse_pooled"
    result_layout: str | None = "got10k"
    require_complete: bool = True
    score_labels: tuple = (("success", "AO"), ("sr50", "SR@0.5"), ("sr75", "SR@0.75"))


@dataclass(frozen=True)
class GtotProtocol(Protocol):
    """GTOT toolkit (calcPlotErr.m, corner2rect.m, auc.m). Frames are pooled over all sequences.
    Result polygons become round([v1, v2, v3-v1, v6-v2]) (MATLAB round: half away from zero); GT
    corners become x1, y1, x2-x1, y2-y1 unrounded. Pixel-inclusive IoU, the max over the visible and
    thermal GT; centre error = the min over the two of |(x + w/2, y + h/2) - ((x1+x2)/2, (y1+y2)/2)|.
    Precision (MPR) = share of frames with error < 5 px (strict; curve over 0:0.5:25); success (MSR)
    = mean of the upper and lower Riemann sums of the curve over 0:0.02:1 ('>') with the point (1, 1)
    appended. No first-frame rule, no validity mask, no replacement of bad boxes (NaN = failure);
    results longer than the GT are cut, shorter ones rejected."""

    name: str = "gtot"
    benchmark: str = "GTOT"
    pred_fix: str = "none"
    first_frame_gt: bool = False
    validity: str = "none"
    center: str = "half"
    norm: str | None = None
    norm_score: str | None = None
    iou_thresholds: tuple = tuple(matlab_colon(0.0, 0.02, 1.0))
    center_thresholds: tuple = tuple(matlab_colon(0.0, 0.5, 25.0))
    precision_strict: bool = True
    precision_at: float = 5.0
    success_score: str = "riemann"
    pooled: bool = True
    dual_gt: bool = True
    polygon: str = "gtot"
    score_labels: tuple = (("success", "MSR"), ("precision", "MPR"))


@dataclass(frozen=True)
class VtuavProtocol(Protocol):
    """VTUAV toolkit (DUT-VTUAV calcPlotErr_TPR.m, calcRectInt.m, plot_ST.m; the LT subset runs the
    same code). Only the annotated frames are scored: result rows 0, 10, 20 ... (``res(1:10:end)``)
    against the annotation lines of rgb.txt and ir.txt. Pixel-inclusive IoU (right = x + w - 1, area
    w*h), the max over the RGB and TIR GT; centre error = the min over the two of the distance between
    centres x + w/2 (the toolkit reads the GT as corners x, y, x + w, y + h and takes their mean).
    Success (MSR) = mean of the 21 points of the sequence-averaged curve over 0:0.05:1 ('>');
    precision (MPR) = curve at 20 px of 0:1:50 ('<='), averaged over sequences. No normalized
    precision, no first-frame rule, no validity mask, no replacement of bad boxes (NaN = failure);
    8-value results become round([v1, v2, v3-v1, v6-v2]) (corner2rect.m); more sampled results than
    annotation lines are cut, fewer rejected (the MATLAB code would crash)."""

    name: str = "vtuav"
    benchmark: str = "VTUAV"
    frame_step: int = 10
    pred_fix: str = "none"
    first_frame_gt: bool = False
    validity: str = "none"
    center: str = "half"
    norm: str | None = None
    norm_score: str | None = None
    dual_gt: bool = True
    polygon: str = "gtot"


LSOTB = LsotbProtocol()
PTB = PtbProtocol()
LASHER = LasherProtocol()
PYTRACKING = PytrackingProtocol()
GOT10K_OTB = Got10kOtbProtocol()
GOT10K_LASOT = Got10kLasotProtocol()
GOT10K = Got10kProtocol()
GTOT = GtotProtocol()
VTUAV = VtuavProtocol()

PRESETS: dict[str, Protocol] = {p.name: p for p in (LSOTB, PTB, LASHER, PYTRACKING, GOT10K_OTB, GOT10K_LASOT, GOT10K,
                                                    GTOT, VTUAV)}


def get_protocol(name: str | Protocol) -> Protocol:
    """Look a preset up by name (a Protocol passes through)."""
    if isinstance(name, Protocol):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PRESETS)}") from None
