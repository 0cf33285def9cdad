"""Tracker evaluation that reproduces the benchmarks' own metrics (LSOTB-TIR, PTB-TIR, LasHeR,
pytracking, the GOT-10k toolkit's OTB / LaSOT / GOT-10k experiments, GTOT, VTUAV), with readers for
their file layouts and report writers."""

from .api import evaluate_results
from .engine import (
    Track,
    TrackerEvaluation,
    evaluate_tracker,
    frame_errors,
    iou,
    polygon_to_xywh,
    riemann_auc,
    scores_from_average_curves,
    scores_from_curves,
)
from .perfmat import read_perfmat, scores_from_perfmat
from .protocols import PRESETS, Protocol, get_protocol
from .readers import (
    ATTRIBUTE_NAMES,
    detect_gt_format,
    read_attributes,
    read_boxes,
    read_ground_truth,
    read_manifest_attributes,
    read_manifest_gt,
    read_numbers,
    read_results,
    read_sequence_list,
    read_times,
)
from .report import write_report

__all__ = [
    "ATTRIBUTE_NAMES", "PRESETS", "Protocol", "Track", "TrackerEvaluation", "detect_gt_format",
    "evaluate_results", "evaluate_tracker", "frame_errors", "get_protocol", "iou", "polygon_to_xywh",
    "read_attributes", "read_boxes", "read_ground_truth", "read_manifest_attributes", "read_manifest_gt", "read_numbers",
    "read_perfmat", "read_results", "read_sequence_list", "read_times", "riemann_auc",
    "scores_from_average_curves", "scores_from_curves", "scores_from_perfmat",
    "write_report",
]
