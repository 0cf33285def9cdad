"""Hand-worked cases for each protocol rule (scores computed by hand in the comments)."""

import numpy as np
import pandas as pd
import pytest

from cmd_core.evaluation import (
    PRESETS,
    Track,
    evaluate_tracker,
    iou,
    read_ground_truth,
    read_manifest_gt,
    read_numbers,
    read_results,
    riemann_auc,
)
from cmd_core.tracking.results import write_pytracking_results

B = [10.0, 10.0, 10.0, 10.0]


def ev(pred, gt, protocol, gt2=None):
    g = Track(np.asarray(gt, float), "gt.txt", boxes2=None if gt2 is None else np.asarray(gt2, float))
    return evaluate_tracker("T", {"s": Track(np.asarray(pred, float), "res.txt")}, {"s": g}, protocol).scores()


def test_invalid_gt_frame():
    # frame 2 GT has w = 0: invalid for every OTB-style protocol
    gt = [B, [10, 10, 0, 10], B]
    s = ev(gt, gt, "lasher")
    # IoU 1, -1, 1: 2/3 pass each of the 20 thresholds < 1, none at 1 -> AUC = 20 * (2/3) / 21
    assert s["success"] == pytest.approx(40 / 63)
    assert s["precision"] == 1.0 and s["norm_precision"] == 1.0  # error -1 counts as success
    s = ev(gt, gt, "pytracking")  # centre error inf (failure), normalized -1 (success)
    assert s["precision"] == pytest.approx(2 / 3) and s["norm_precision"] == 1.0
    # x = 0 is invalid for LasHeR (any value <= 0) but valid for pytracking (only w, h tested)
    gt0 = [B, [0, 10, 10, 10], B]
    assert ev(gt0, gt0, "lasher")["success"] == pytest.approx(40 / 63)
    assert ev(gt0, gt0, "pytracking")["success"] == pytest.approx(20 / 21)


def test_nan_prediction():
    gt = [B, B, B]
    pred = [B, [np.nan] * 4, B]
    assert ev(pred, gt, "lasher")["success"] == pytest.approx(20 / 21)  # NaN -> previous box (exact)
    s = ev(pred, gt, "got10k-otb")  # no replacement: NaN fails every test
    assert s["success"] == pytest.approx(20 * (2 / 3) / 21) and s["precision"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="res.txt, line 2"):
        ev(pred, gt, "pytracking")


def test_zero_size_box():
    gt = [B, B, B]
    pred = [B, [12, 10, 0, 10], B]
    assert ev(pred, gt, "lasher")["success"] == pytest.approx(20 / 21)  # previous box
    assert ev(pred, gt, "pytracking")["success"] == pytest.approx(20 / 21)
    s = ev(pred, gt, "got10k-otb")  # IoU 0 (fails all), centre (11.5, 14.5) vs (14.5, 14.5): error 3
    assert s["success"] == pytest.approx(40 / 63) and s["precision"] == 1.0


def test_result_one_line_short_and_long():
    gt = [B, B, B]
    with pytest.raises(ValueError, match="2 result lines but the GT gt.txt has 3"):
        ev([B, B], gt, "lasher")
    assert ev([B, B, B, [0, 0, 1, 1]], gt, "lasher")["success"] == pytest.approx(20 / 21)  # cut
    # pytracking pads a zero box: frame 3 IoU 0, error sqrt(14.5^2 * 2)/... fails at 20 px
    s = ev([B, B], gt, "pytracking")
    assert s["success"] == pytest.approx(40 / 63) and s["precision"] == pytest.approx(2 / 3)
    assert ev([B, B], gt, "got10k-otb")["success"] == pytest.approx(20 / 21)  # GT cut to 2 frames


def test_pixel_inclusive_iou_edge():
    p = PRESETS["lasher"]
    a = np.array([[0.0, 0, 10, 10]] * 2)
    b = np.array([[10.0, 0, 10, 10], [9.0, 0, 10, 10]])
    # x2 = x + w - 1: columns 0..9 and 10..19 touch without sharing a pixel; 9..18 shares column 9
    np.testing.assert_allclose(iou(a, b, p), [0.0, 10 / 190])
    # got10k: continuous boxes with eps in the union; two zero-size boxes give 0, not NaN
    z = np.array([[5.0, 5, 0, 0]])
    assert iou(z, z, PRESETS["got10k-otb"])[0] == 0.0
    # the centre is x + (w-1)/2 for LasHeR: a 10-px box at x=0 has centre 4.5; shifting the result
    # by 20 px is still within 20 px (<=), by 21 it is not
    gt = [B, B]
    assert ev([B, [30, 10, 10, 10]], gt, "lasher")["precision"] == 1.0
    assert ev([B, [31, 10, 10, 10]], gt, "lasher")["precision"] == 0.5


def test_gtot_strict_5px_and_rounding():
    corners = [[0, 0, 10, 10], [0, 0, 10, 10]]
    gt = np.array([[0, 0, 10, 10]] * 2, float)  # x1, y1, x2 - x1, y2 - y1
    # frame 1: left 5 -> rect (5,0,10,10), centre (10,5) vs (5,5): error exactly 5 -> NOT < 5
    # frame 2: left 4.4, right 14.4 -> round -> (4,0,10,10), centre (9,5): error 4 -> counted
    pred = [[5, 0, 15, 0, 15, 10, 5, 10], [4.4, 0, 14.4, 0, 14.4, 10, 4.4, 10]]
    s = ev(pred, gt, "gtot", gt2=gt)
    assert corners  # GT given as converted corners
    assert s["precision"] == pytest.approx(0.5)
    # MSR from the pooled IoUs 1/3 (50/150) and 3/7 (60/140) on 0:0.02:1
    thr = np.array(PRESETS["gtot"].iou_thresholds)
    curve = ((np.array([1 / 3, 3 / 7])[:, None] > thr).sum(0)) / 2
    assert s["success"] == pytest.approx(riemann_auc(thr, curve))
    # half rounds away from zero (MATLAB), not to even: 4.5 -> 5 (error 5, not counted)
    s = ev([[4.5, 0, 14.5, 0, 14.5, 10, 4.5, 10]] * 2, gt, "gtot", gt2=gt)
    assert s["precision"] == 0.0
    # the max IoU / min error over the two GTs: a second GT that matches exactly wins
    gt2 = np.array([[5, 0, 10, 10], [4, 0, 10, 10]], float)
    assert ev(pred, gt, "gtot", gt2=gt2)["precision"] == 1.0


def test_riemann_auc_by_hand():
    # x2 = [0, .5, 1, 1], y2 = [1, .5, 0, 1], widths [0, .5, .5, 0]: upper .25, lower .75
    assert riemann_auc(np.array([0, 0.5, 1]), np.array([1, 0.5, 0])) == pytest.approx(0.5)


def test_first_frame_rule():
    gt = [B, B]
    pred = [[100, 100, 5, 5], B]
    assert ev(pred, gt, "lasher")["success"] == pytest.approx(20 / 21)  # frame 1 set to GT
    s = ev([[100, 100, 5, 5, 100, 100, 5, 5][:2] + [105, 100, 105, 105, 100, 105], [10, 10, 20, 10, 20, 20, 10, 20]],
           [[10, 10, 10, 10]] * 2, "gtot", gt2=[[10, 10, 10, 10]] * 2)
    assert s["precision"] == 0.5  # GTOT has no first-frame rule: frame 1 stays a miss


def test_lasot_drops_nan_gt_and_mean_norm():
    gt = [B, [np.nan] * 4, B]
    s = ev([B, B, B], gt, "got10k-lasot")
    assert s["success"] == pytest.approx(20 / 21) and s["norm_precision"] == 1.0


def test_readers_mixed_separators_and_errors(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1,2,3,4\n5\t6 7;8\n9 10,11\t12\n\n")
    np.testing.assert_array_equal(read_numbers(f), np.arange(1, 13, dtype=float).reshape(3, 4))
    f.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ValueError, match=r"a.txt, line 2: 3 values"):
        read_numbers(f)
    f.write_text("1,2,3,4\n\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"a.txt, line 2: blank line"):
        read_numbers(f)
    f.write_text("\n")
    with pytest.raises(ValueError, match="empty file"):
        read_numbers(f)
    g = tmp_path / "gt"
    g.mkdir()
    (g / "s.txt").write_text("1,2,3,4\nNaN,NaN,NaN,NaN\n")
    gt = read_ground_truth(g)
    assert np.isnan(gt["s"].boxes[1]).all()
    r = tmp_path / "r"
    r.mkdir()
    tracks, missing = read_results(r, ["s"], "T")
    assert missing == ["s"] and not tracks


def test_gtot_naming_and_writer_roundtrip(tmp_path):
    d = tmp_path / "T"
    write_pytracking_results(d, "seq", [[1.9, 2.2, 3.7, 4.0], [5, 6, 7, 8]], times=[0.1, 0.1], integer=True)
    assert (d / "seq.txt").read_text() == "1\t2\t3\t4\n5\t6\t7\t8\n"  # pytracking truncates to int
    (d / "T_other.txt").write_text("0 0 10 0 10 10 0 10\n")
    tracks, missing = read_results(d, ["seq", "other"], "T")
    assert not missing and tracks["seq"].times.tolist() == [0.1, 0.1]
    assert tracks["other"].boxes.shape == (1, 8)


def test_manifest_reader(tmp_path):
    df = pd.DataFrame({"sequence": ["a", "a", "a", "b"], "frame": [0, 1, 3, 0],
                       "gt_tir_x": [1.0, None, 3, 4], "gt_tir_y": [1.0, None, 3, 4],
                       "gt_tir_w": [2.0, None, 2, 2], "gt_tir_h": [2.0, None, 2, 2]})
    p = tmp_path / "frames.parquet"
    df.to_parquet(p)
    gt = read_manifest_gt(p, column_prefix="gt_tir_")
    assert gt["a"].boxes.shape == (4, 4) and np.isnan(gt["a"].boxes[1:3]).all()
    with pytest.raises(ValueError, match="lacks columns"):
        read_manifest_gt(p)


def test_speed_rules_by_hand():
    """FPS as each toolkit computes it: frames / total time per sequence (default), the mean of 1/t
    per sequence (got10k ExperimentOTB), the mean of 1/t over all frames (ExperimentGOT10k); zero
    and NaN times are left out."""
    from cmd_core.evaluation.engine import speed

    runs = {"a": Track(np.zeros((3, 4)), times=np.array([0.5, 0.25, 0.0])),
            "b": Track(np.zeros((2, 4)), times=np.array([0.1, np.nan])), "c": Track(np.zeros((2, 4)))}
    assert speed(runs, ["a", "b", "c"]) == pytest.approx((2 / 0.75 + 10) / 2)
    assert speed(runs, ["a", "b", "c"], "mean_inverse") == pytest.approx((3 + 10) / 2)
    assert speed(runs, ["a", "b", "c"], "mean_inverse_pooled") == pytest.approx((2 + 4 + 10) / 3)
    assert speed(runs, ["c"], "mean_inverse_pooled") is None
    assert PRESETS["got10k-otb"].speed == "mean_inverse" and PRESETS["got10k"].speed == "mean_inverse_pooled"
