"""Classic baselines: the static box and OpenCV MIL on a moving square; KCF / CSRT availability."""

import numpy as np
import pytest
from test_tracking_runner import iou, square_frames

from cmd_core.tracking import StaticTracker, TrackerUnavailable, baseline_availability, make_baseline


def _run(tracker, frames, boxes):
    tracker.initialize(frames[0], boxes[0])
    return np.array([boxes[0]] + [tracker.track(f) for f in frames[1:]])


def test_static_repeats_first_box():
    frames, boxes = square_frames(5)
    pred = _run(StaticTracker(), frames, boxes)
    assert np.allclose(pred, boxes[0])


@pytest.mark.parametrize("colour", [False, True])
def test_mil_follows_square(colour):
    frames, boxes = square_frames(12, step=(4, 2), colour=colour)
    pred = _run(make_baseline("mil"), frames, boxes)
    ious = iou(pred, boxes)
    assert (ious > 0.5).mean() >= 0.8, ious
    assert iou(np.repeat(boxes[:1], 12, 0), boxes)[-1] < 0.5  # the static box does lose it


def test_kcf_csrt_availability_is_explained():
    avail = baseline_availability()
    assert avail["mil"] is None and avail["static"] is None
    for kind in ("kcf", "csrt"):
        if avail[kind] is None:
            make_baseline(kind)
        else:
            with pytest.raises(TrackerUnavailable, match=kind.upper()):
                make_baseline(kind)
