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


@pytest.mark.parametrize("kind", ["kcf", "csrt"])
def test_kcf_and_csrt_of_the_pinned_contrib_build_track(kind):
    """The project pins opencv-contrib-python-headless: KCF and CSRT must be there and follow a square."""
    assert baseline_availability()[kind] is None
    frames, boxes = square_frames(12, step=(3, 2), colour=True)
    ious = iou(_run(make_baseline(kind), frames, boxes), boxes)
    assert (ious > 0.5).mean() >= 0.8, ious


@pytest.mark.parametrize("kind", ["kcf", "csrt"])
def test_an_opencv_without_the_contrib_trackers_is_explained(kind, monkeypatch):
    import cv2

    name = f"Tracker{kind.upper()}_create"
    monkeypatch.delattr(cv2, name, raising=False)
    if hasattr(cv2, "legacy"):
        monkeypatch.delattr(cv2.legacy, name, raising=False)
    reason = baseline_availability()[kind]
    assert reason is not None and kind.upper() in reason and "opencv-contrib" in reason
    with pytest.raises(TrackerUnavailable, match=kind.upper()):
        make_baseline(kind)
    assert baseline_availability()["mil"] is None  # the others are untouched
