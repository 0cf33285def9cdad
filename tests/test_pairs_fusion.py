"""Fusion rules and tracklet linking on hand-made cases."""

from __future__ import annotations

from collections import Counter

import numpy as np

from cmd_core.pairs.boxes import box_iou
from cmd_core.pairs.config import DEFAULTS
from cmd_core.pairs.fusion import FrameBoxes, fuse
from cmd_core.pairs.tracklets import link_tracklets, temporal_partners

S = dict(DEFAULTS["detector"])


def fb(rows):
    """rows: (x, y, w, h, conf, label, modality)."""
    return FrameBoxes(np.array([r[:4] for r in rows], float), np.array([r[4] for r in rows], float),
                      [r[5] for r in rows], [r[6] for r in rows], ["test"] * len(rows))


def test_box_iou():
    iou = box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    assert np.allclose(iou, [[1.0, 50 / 150, 0.0]])
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_rgb_tir_duplicates_keep_higher_confidence():
    d = Counter()
    out = fuse(fb([(10, 10, 20, 20, 0.6, "person", "rgb"), (11, 10, 20, 20, 0.9, "person", "tir"),
                   (50, 10, 20, 20, 0.5, "person", "rgb"), (56, 10, 20, 20, 0.4, "person", "tir")]), 100, 80, S, d)
    # IoU of the first two = 0.905 > 0.8: one object, the TIR box (0.9) kept as seen in both
    # IoU of the last two = 0.54: two objects
    assert out.boxes.tolist() == [[11, 10, 20, 20], [50, 10, 20, 20], [56, 10, 20, 20]]
    assert out.modality == ["both", "rgb", "tir"]
    assert d == {"duplicate rgb/tir": 1}


def test_min_size_border_and_large():
    d = Counter()
    out = fuse(fb([(10, 10, 4, 20, 0.9, "person", "rgb"),      # too narrow
                   (-10, 10, 20, 20, 0.9, "person", "rgb"),    # half outside -> border
                   (-2, 10, 20, 20, 0.9, "person", "rgb"),     # 10 % outside -> clipped
                   (0, 0, 90, 70, 0.9, "person", "rgb")]), 100, 80, S, d)
    assert out.boxes.tolist() == [[0, 10, 18, 20]]
    assert d == {"small": 1, "border": 1, "large": 1}


def test_class_balance_caps_non_person_boxes():
    s = dict(S, min_other=1, other_per_person=1.0)
    rows = [(10 * i, 0, 8, 8, 0.9 - 0.01 * i, "car", "rgb") for i in range(5)]
    d = Counter()
    out = fuse(fb(rows + [(0, 40, 8, 8, 0.3, "person", "rgb"), (20, 40, 8, 8, 0.2, "Pedestrian", "tir")]), 100, 80, s, d)
    assert sorted(out.labels) == ["Pedestrian", "car", "car", "person"]
    assert d == {"class balance": 3}
    d = Counter()
    out = fuse(fb(rows), 100, 80, s, d)
    assert out.labels == ["car"] and out.conf.tolist() == [0.9]


def test_max_boxes_and_order():
    rows = [(10 * i, 0, 8, 8, 0.1 * i, "person", "rgb") for i in range(1, 10)]
    d = Counter()
    out = fuse(fb(rows), 100, 80, dict(S, max_boxes_per_frame=3), d)
    assert np.allclose(out.conf, [0.9, 0.8, 0.7]) and d == {"max boxes": 6}


def test_hungarian_linking():
    # Greedy by best IoU would give box B's tracklet to the new box 0; the optimal assignment
    # (max total IoU) links 0 -> A and 1 -> B.
    f0 = np.array([[0, 0, 10, 10], [6, 0, 10, 10]], float)            # A, B
    f1 = np.array([[3, 0, 10, 10], [10, 0, 10, 10]], float)
    f2 = np.array([[60, 60, 10, 10]], float)                         # far away: new tracklet
    ids = link_tracklets([0, 1, 2], [f0, f1, f2], min_iou=0.2, max_age=1)
    assert ids[0].tolist() == [0, 1] and ids[1].tolist() == [0, 1] and ids[2].tolist() == [2]
    iou = box_iou(f0, f1)
    assert iou[0, 0] + iou[1, 1] > iou[1, 0] + iou[0, 1]


def test_tracklet_survives_a_missed_frame_within_max_age():
    b = np.array([[0, 0, 10, 10]], float)
    assert [i.tolist() for i in link_tracklets([0, 2], [b, b], max_age=2)] == [[0], [0]]
    assert [i.tolist() for i in link_tracklets([0, 3], [b, b], max_age=2)] == [[0], [1]]


def test_temporal_partners_within_max_gap():
    frames = np.array([0, 1, 2, 3, 4, 10, 11])
    tracklet = np.array([0, 0, 0, 0, 0, 0, 1])
    p = temporal_partners(frames, tracklet, max_gap=2, seed=0, sequence="s")
    for i, j in enumerate(p):
        if j >= 0:
            assert tracklet[j] == tracklet[i] and 1 <= frames[j] - frames[i] <= 2
    assert p[4] == -1 and p[5] == -1 and p[6] == -1  # 4 -> 10 is beyond max_gap; 11 is another tracklet
    assert (p[:4] >= 0).all()
    assert np.array_equal(p, temporal_partners(frames, tracklet, 2, 0, "s"))
