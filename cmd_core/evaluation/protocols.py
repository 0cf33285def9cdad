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
      (pytracking); ``"none"``: kept as they are, NaN compares as failure (got10k).
    - ``first_frame_gt``: the first prediction is replaced by the GT.
    - ``validity``: which GT frames are valid: ``"all_positive"`` (all four values > 0),
      ``"wh_positive"`` (w > 0 and h > 0), ``"not_nan"`` (LaSOT: NaN rows are dropped from the
      sequence), ``"none"``.
    - ``invalid_iou`` / ``invalid_center`` / ``invalid_norm``: value written for invalid frames
      (-1: failure for IoU '>' tests, success for error '<=' tests; ``inf``: failure).
    - ``pixel_inclusive``: IoU with right = x + w - 1 and widths + 1; else continuous boxes.
    - ``clip_iou`` / ``iou_eps``: got10k clips IoU to [0, 1] and adds eps to the union.
    - ``center``: ``"pixel"`` = x + (w-1)/2, ``"half"`` = x + w/2 (GTOT results).
    - ``norm``: ``"divide_centers"`` (both centres divided by GT w,h, then subtracted),
      ``"max1"`` (difference divided by max(1, GT w,h)), or ``None``.
    - thresholds, the comparison used on each curve, and how each score is read off the curve:
      ``success_score`` ``"mean"`` (mean of the points) or ``"riemann"`` (GTOT auc.m);
      ``precision_at`` the px threshold; ``norm_score`` ``"value"`` (at ``norm_at``) or ``"mean"``.
    - ``pooled``: frames pooled over all sequences (GTOT) instead of mean of per-sequence curves.
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
    validity: str = "all_positive"
    invalid_iou: float = -1.0
    invalid_center: float = -1.0
    invalid_norm: float = -1.0
    pixel_inclusive: bool = True
    clip_iou: bool = False
    iou_eps: float = 0.0
    center: str = "pixel"
    norm: str | None = "divide_centers"
    iou_thresholds: tuple = tuple(matlab_colon(0.0, 0.05, 1.0))
    center_thresholds: tuple = tuple(float(v) for v in range(51))
    norm_thresholds: tuple = tuple(arange_thresholds(50, 0.0, 100.0))
    precision_strict: bool = False
    success_score: str = "mean"
    precision_at: float = 20.0
    norm_score: str | None = "value"
    norm_at: float = 0.2
    pooled: bool = False
    dual_gt: bool = False
    polygon: str = "bbox"

    @property
    def has_norm_precision(self) -> bool:
        """Whether this protocol reports a normalized precision."""
        return self.norm is not None and self.norm_score is not None

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
    precision."""

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
GTOT = GtotProtocol()
VTUAV = VtuavProtocol()

PRESETS: dict[str, Protocol] = {p.name: p for p in (LSOTB, PTB, LASHER, PYTRACKING, GOT10K_OTB, GOT10K_LASOT, GTOT,
                                                    VTUAV)}


def get_protocol(name: str | Protocol) -> Protocol:
    """Look a preset up by name (a Protocol passes through)."""
    if isinstance(name, Protocol):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PRESETS)}") from None
