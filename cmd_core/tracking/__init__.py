"""Online tracking: the DiMP tracker (pure PyTorch, CPU or GPU), classic baselines (OpenCV MIL,
KCF / CSRT where available, a static box), and a runner that tracks every sequence of a frames
manifest (one after the other, or ``--batch`` sequences together through
:class:`BatchedDiMPTracker`, which gives the same boxes) and writes result files (pytracking, got10k or OTB-toolkit layout; :mod:`.results`).
Parameters and the table of our deviations from the reference procedure:
:mod:`cmd_core.tracking.params`.
Command: ``cmd-tir track``; rule: ``track``."""

from .batched import BatchedDiMPTracker
from .baselines import OpenCVTracker, StaticTracker, TrackerUnavailable, baseline_availability, make_baseline
from .dimp_tracker import DiMPTracker, check_init_box
from .network import UntrainedModelError, load_network
from .params import PRESETS, DiMPParams, get_preset, preset_names
from .results import RESULT_FORMATS, write_pytracking_results, write_tracker_results
from .runner import (SequencesFailed, read_frames_manifest, run_sequence, set_threads, track_manifest,
                     track_manifest_batched)

__all__ = [
    "BatchedDiMPTracker", "DiMPParams", "DiMPTracker", "OpenCVTracker", "PRESETS", "RESULT_FORMATS", "StaticTracker", "TrackerUnavailable",
    "UntrainedModelError", "baseline_availability", "check_init_box", "get_preset", "load_network",
    "make_baseline", "preset_names", "read_frames_manifest", "run_sequence", "SequencesFailed", "set_threads",
    "track_manifest", "track_manifest_batched",
    "write_pytracking_results", "write_tracker_results",
]
