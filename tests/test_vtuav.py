"""VTUAV: sparse annotations (one line per 10th frame) ingested without dropping frames, and the
`vtuav` protocol scoring only the annotated frames, from the dataset folder and from a manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import dataset_fixtures as fx
from cmd_core.cli import main
from cmd_core.datasets.ingest import ingest_dataset
from cmd_core.evaluation import evaluate_results

LENGTHS = {"bike_001": 35, "car_002": 21}
ANNOTATED = {"bike_001": [0, 10, 20, 30], "car_002": [0, 10, 20]}
RGB_BOX = (10.0, 10.0, 10.0, 10.0)  # every annotated frame, both sequences
TIR_BOX = (12.0, 10.0, 10.0, 10.0)  # the thermal GT, 2 px to the right
FAR = (150.0, 150.0, 5.0, 5.0)  # written on every unannotated frame of the results


def _line(box) -> str:
    return " ".join(f"{v:g}" for v in box)


def make_vtuav(root: Path) -> Path:
    """Two sequences (35 and 21 frames, 000000.jpg ...) with GT for frames 0, 10, 20 (, 30)."""
    for seq, n in LENGTHS.items():
        for i in range(n):
            fx.write_img(root / seq / "rgb" / f"{i:06d}.jpg", seed=i)
            fx.write_img(root / seq / "ir" / f"{i:06d}.jpg", gray=True, seed=i)
        k = len(ANNOTATED[seq])
        fx.write_lines(root / seq / "rgb.txt", [_line(RGB_BOX)] * k)
        fx.write_lines(root / seq / "ir.txt", [_line(TIR_BOX)] * k)
    return root


@pytest.fixture
def vtuav_root(tmp_path):
    return make_vtuav(tmp_path / "VTUAV" / "test_ST")


def test_ingest_keeps_every_frame_and_flags_unannotated_ones(vtuav_root):
    r = ingest_dataset("vt", "vtuav", vtuav_root)
    rows = r.frames.to_pylist()
    assert r.summary["frames"] == 56 and r.summary["sequences"] == 2
    assert r.summary["invalid_gt"] == 0  # unannotated frames are not invalid GT
    assert r.summary["gt_coverage_rgb"] == pytest.approx(7 / 56)
    for seq, n in LENGTHS.items():
        frames = [x for x in rows if x["sequence"] == seq]
        assert [x["frame"] for x in frames] == list(range(n))
        assert frames[0]["rgb_path"].endswith(f"{seq}/rgb/000000.jpg") and frames[0]["tir_path"].endswith("ir/000000.jpg")
        for x in frames:
            if x["frame"] in ANNOTATED[seq]:
                assert (x["gt_rgb_x"], x["gt_rgb_y"], x["gt_rgb_w"], x["gt_rgb_h"]) == RGB_BOX
                assert (x["gt_tir_x"], x["gt_tir_y"], x["gt_tir_w"], x["gt_tir_h"]) == TIR_BOX
                assert x["gt_rgb_valid"] and x["gt_tir_valid"] and x["absent"] is False
            else:
                assert x["gt_rgb_x"] is None and x["gt_tir_h"] is None
                assert not x["gt_rgb_valid"] and not x["gt_tir_valid"] and x["absent"] is None


def test_annotated_line_without_a_box_is_absent(vtuav_root):
    fx.write_lines(vtuav_root / "car_002" / "rgb.txt", [_line(RGB_BOX), "0 0 0 0", _line(RGB_BOX)])
    fx.write_lines(vtuav_root / "car_002" / "ir.txt", [_line(TIR_BOX), "0 0 0 0", _line(TIR_BOX)])
    rows = {x["frame"]: x for x in ingest_dataset("vt", "vtuav", vtuav_root).frames.to_pylist()
            if x["sequence"] == "car_002"}
    assert rows[10]["absent"] is True and not rows[10]["gt_rgb_valid"]
    assert rows[0]["absent"] is False and rows[11]["absent"] is None


def test_more_lines_than_frames_allow_names_file_and_line(vtuav_root):
    gt = vtuav_root / "car_002" / "ir.txt"  # 21 frames allow lines for frames 0, 10, 20
    fx.write_lines(gt, [_line(TIR_BOX)] * 4)
    with pytest.raises(ValueError, match=rf"{gt}:4: 4 annotation lines but 21 frames allow at most 3 .*frame 30, "
                                         r"past the last frame 20"):
        ingest_dataset("vt", "vtuav", vtuav_root)
    r = ingest_dataset("vt", "vtuav", vtuav_root, on_error="skip")
    assert [(x["file"], x["line"], x["frame"]) for x in r.rejected.to_pylist()] == [(str(gt), 4, None)]
    assert r.summary["frames"] == 56  # the extra line is reported, no frame is lost


def test_line_that_is_not_four_numbers_names_file_and_line(vtuav_root):
    gt = vtuav_root / "bike_001" / "rgb.txt"
    fx.write_lines(gt, [_line(RGB_BOX), _line(RGB_BOX), "10 10 10", _line(RGB_BOX)])
    with pytest.raises(ValueError, match=rf"{gt}:3: expected 4 values x,y,w,h, got 3 \(frame 20\)"):
        ingest_dataset("vt", "vtuav", vtuav_root)
    fx.write_lines(gt, [_line(RGB_BOX), "10 ten 10 10", _line(RGB_BOX), _line(RGB_BOX)])
    r = ingest_dataset("vt", "vtuav", vtuav_root, on_error="skip")
    rej = r.rejected.to_pylist()
    assert [(x["file"], x["line"], x["frame"]) for x in rej] == [(str(gt), 2, 10)]
    assert "cannot parse" in rej[0]["reason"] and r.summary["frames"] == 55  # only frame 10 is rejected


# ------------------------------------------------------------------------------------ evaluation
# Results on the annotated frames (rest: FAR). Against RGB (10,10,10,10) and TIR (12,10,10,10):
PRED = {
    "bike_001": {0: RGB_BOX, 10: (10.0, 10.0, 8.0, 8.0), 20: (31.0, 10.0, 10.0, 10.0), 30: (15.0, 10.0, 10.0, 10.0)},
    "car_002": {0: (11.0, 10.0, 10.0, 10.0), 10: FAR, 20: (14.0, 10.0, 10.0, 10.0)},
}


def write_results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for seq, n in LENGTHS.items():
        fx.write_lines(folder / f"{seq}.txt", [",".join(f"{v:g}" for v in PRED[seq].get(i, FAR)) for i in range(n)])
    return folder


def _iou(a, b) -> float:
    """Pixel-inclusive IoU (right = x + w - 1), area w*h, as the VTUAV toolkit's calcRectInt."""
    iw = max(0.0, min(a[0] + a[2] - 1, b[0] + b[2] - 1) - max(a[0], b[0]) + 1)
    ih = max(0.0, min(a[1] + a[3] - 1, b[1] + b[3] - 1) - max(a[1], b[1]) + 1)
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)


def _centre_error(a, b) -> float:
    return float(np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2))


def expected_scores() -> tuple[float, float]:
    """Mean over sequences of (mean over 21 IoU thresholds of the share of annotated frames with
    max IoU > t) and of the share with min centre error <= 20 px."""
    succ, prec = [], []
    for seq in LENGTHS:
        ious = [max(_iou(p, RGB_BOX), _iou(p, TIR_BOX)) for p in PRED[seq].values()]
        errs = [min(_centre_error(p, RGB_BOX), _centre_error(p, TIR_BOX)) for p in PRED[seq].values()]
        succ.append(np.mean([np.mean([v > t for v in ious]) for t in np.linspace(0, 1, 21)]))
        prec.append(np.mean([e <= 20 for e in errs]))
    return float(np.mean(succ)), float(np.mean(prec))


def test_expected_numbers_by_hand():
    # bike: max IoU 1, 0.64 (RGB 64/100), 0, 0.538 (TIR 70/130) -> above 20, 13, 0, 11 of the 21
    #       thresholds; min centre error 0, 1.4, 19 (TIR; RGB 21), 3 -> all <= 20 px
    # car:  max IoU 0.818 (90/110), 0, 0.667 (TIR 80/120) -> 17, 0, 14; errors 1, 190, 2 -> 2 of 3
    succ, prec = expected_scores()
    assert succ == pytest.approx(((20 + 13 + 0 + 11) / 4 / 21 + (17 + 0 + 14) / 3 / 21) / 2)
    assert prec == pytest.approx((4 / 4 + 2 / 3) / 2)


def test_vtuav_protocol_scores_only_annotated_frames(vtuav_root, tmp_path):
    res = write_results(tmp_path / "T")
    succ, prec = expected_scores()
    evals, missing = evaluate_results("vtuav", vtuav_root, {"T": res})  # layout detected from the folder
    assert not missing and evals[0].n_frames.tolist() == [4.0, 3.0]
    s = evals[0].scores()
    assert s["success"] == pytest.approx(succ, abs=1e-12) and s["precision"] == pytest.approx(prec, abs=1e-12)
    assert np.isnan(s["norm_precision"])  # the VTUAV toolkit reports MSR and MPR only

    # the same numbers from the ingested manifest (gt_rgb_ and gt_tir_ boxes, nulls between)
    manifest = tmp_path / "vt.frames.parquet"
    pq.write_table(ingest_dataset("vt", "vtuav", vtuav_root).frames, manifest)
    m = evaluate_results("vtuav", manifest, {"T": res})[0][0]
    assert m.n_frames.tolist() == [4.0, 3.0]
    assert m.scores()["success"] == pytest.approx(succ, abs=1e-12)
    assert m.scores()["precision"] == pytest.approx(prec, abs=1e-12)


def test_vtuav_cli_and_wrong_protocol(vtuav_root, tmp_path):
    res = write_results(tmp_path / "T")
    assert main(["evaluate", "--protocol", "vtuav", "--gt", str(vtuav_root), "--gt-format", "vtuav",
                 "--results", f"T={res}", "--out", str(tmp_path / "o"), "--no-plots"]) == 0
    row = pd.read_csv(tmp_path / "o" / "scores.csv").set_index("tracker").loc["T"]
    succ, prec = expected_scores()
    assert row["success"] == pytest.approx(succ, abs=1e-6) and row["precision"] == pytest.approx(prec, abs=1e-6)
    with pytest.raises(ValueError, match="annotates every 10th frame only; the lasher protocol"):
        evaluate_results("lasher", vtuav_root, {"T": res})


def test_results_shorter_than_the_annotations_are_rejected(vtuav_root, tmp_path):
    res = write_results(tmp_path / "T")
    f = res / "car_002.txt"
    f.write_text("".join(f.read_text().splitlines(keepends=True)[:20]))  # frame 20 has no result
    with pytest.raises(ValueError, match=rf"{f}: 20 result lines give 2 scored frames .* annotates 3"):
        evaluate_results("vtuav", vtuav_root, {"T": res})
