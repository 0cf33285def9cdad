"""Each adapter on a tiny fixture in its dataset's exact on-disk layout."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dataset_fixtures as fx
from cmd_core.datasets.adapters import ADAPTERS
from cmd_core.datasets.frames import load_frame_pair
from cmd_core.datasets.ingest import ingest_dataset


def rows(result):
    return result.frames.to_pylist()


def test_registry_lists_every_format():
    assert set(ADAPTERS) == {"synthetic", "rgbt234", "lasher", "gtot", "kaist", "llvip", "vot_rgbt", "vot",
                             "cmd_side_by_side", "generic_pairs", "lsotb_eval", "lsotb_train", "ptb_tir",
                             "got10k", "lasot", "vtuav"}


def test_rgbt234(tmp_path):
    r = ingest_dataset("rgbt234", "rgbt234", fx.make_rgbt234(tmp_path))
    f = rows(r)
    assert len(f) == 6 and r.summary["sequences"] == 2
    assert f[0]["rgb_path"].endswith("seqA/visible/00001v.jpg") and f[0]["tir_path"].endswith("00001i.jpg")
    assert (f[1]["gt_rgb_x"], f[1]["gt_rgb_w"]) == (2.0, 10.0) and f[1]["gt_tir_valid"]
    assert r.summary["rgb_resolution"] == "32x24" == r.summary["tir_resolution"]
    assert r.summary["gt_coverage_rgb"] == 1.0 and r.objects.num_rows == 0
    rgb, tir = load_frame_pair(f[0])
    assert rgb.shape == (24, 32, 3) and tir.shape == (24, 32)


def test_lasher_zero_width_row_is_invalid_gt(tmp_path):
    r = ingest_dataset("lasher", "lasher", fx.make_lasher(tmp_path), split="testingset")
    f = rows(r)
    assert [x["frame"] for x in f] == [0, 1, 2] and f[0]["split"] == "testingset"
    assert f[1]["gt_rgb_valid"] is False and f[1]["gt_rgb_x"] is None and f[1]["gt_tir_valid"]
    assert r.summary["invalid_gt"] == 1 and r.summary["gt_coverage_rgb"] == pytest.approx(2 / 3)


def test_gtot_corners(tmp_path):
    f = rows(ingest_dataset("gtot", "gtot", fx.make_gtot(tmp_path)))
    assert len(f) == 3
    assert (f[0]["gt_rgb_x"], f[0]["gt_rgb_y"], f[0]["gt_rgb_w"], f[0]["gt_rgb_h"]) == (2, 3, 10, 10)
    assert f[2]["gt_tir_w"] == 12


def test_kaist_objects_and_splits(tmp_path):
    root = fx.make_kaist(tmp_path)
    r = ingest_dataset("kaist", "kaist", root)
    assert r.summary["sequences"] == 2 and r.summary["frames"] == 4
    assert not any(x["gt_rgb_valid"] for x in rows(r))
    o = r.objects.to_pylist()
    assert len(o) == 4 and r.summary["objects"] == 4
    p = [x for x in o if x["label"] == "people"][0]
    assert p["ignore"] and p["occluded"] and p["modality"] == "both" and p["sequence"] == "set00/V000"
    test = ingest_dataset("kaist", "kaist", root, split="test")
    assert {x["sequence"] for x in rows(test)} == {"set06/V000"}


def test_llvip_voc(tmp_path):
    r = ingest_dataset("llvip", "llvip", fx.make_llvip(tmp_path))
    assert {x["sequence"] for x in rows(r)} == {"train", "test"} and r.summary["frames"] == 4
    o = r.objects.to_pylist()[0]
    assert (o["x"], o["y"], o["w"], o["h"], o["label"], o["ignore"]) == (3, 4, 10, 16, "person", False)


def test_vot_rgbt_fills_both_modalities(tmp_path):
    r = ingest_dataset("votrgbt", "vot_rgbt", fx.make_vot_rgbt(tmp_path))
    f = rows(r)
    assert f[1]["gt_rgb_x"] == f[1]["gt_tir_x"] == 1 and f[1]["gt_rgb_w"] == 10 and f[1]["gt_rgb_h"] == 7
    assert f[2]["gt_rgb_valid"] is False and f[2]["gt_tir_valid"] is False
    assert f[0]["attributes"] == "occlusion" and f[1]["occlusion"] == 1.0
    assert r.summary["invalid_gt"] == 1


def test_vot_single_modality_polygon_and_frame_list(tmp_path):
    r = ingest_dataset("vot", "vot", fx.make_vot(tmp_path))
    f = rows(r)
    assert (f[0]["gt_rgb_x"], f[0]["gt_rgb_y"], f[0]["gt_rgb_w"], f[0]["gt_rgb_h"]) == (1, 2, 10, 7)
    assert f[0]["tir_path"] is None and f[2]["gt_rgb_valid"] is False
    t = rows(ingest_dataset("vot", "vot", tmp_path, options={"modality": "tir"}))
    assert t[0]["tir_path"].endswith("imgs/00000001.jpg") and t[0]["gt_tir_valid"]


def test_side_by_side(tmp_path):
    r = ingest_dataset("sbs", "cmd_side_by_side", fx.make_side_by_side(tmp_path))
    f = rows(r)
    assert f[0]["packing"] == "side_by_side" and f[0]["rgb_path"] == f[0]["tir_path"]
    assert (f[0]["rgb_width"], f[0]["tir_width"], f[0]["tir_height"]) == (32, 32, 24)
    rgb, tir = load_frame_pair(f[0])
    assert rgb.shape == (24, 32, 3) and tir.shape == (24, 32)


def test_generic_pairs_folders_and_videos(tmp_path):
    f = rows(ingest_dataset("gp", "generic_pairs", fx.make_generic_pairs(tmp_path / "a")))
    assert len(f) == 3 and f[2]["rgb_path"].endswith("a_2.jpg") and f[2]["tir_path"].endswith("b_2.jpg")
    v = rows(ingest_dataset("gpv", "generic_pairs", fx.make_generic_pairs(tmp_path / "b", video=True)))
    assert [x["frame"] for x in v] == [0, 1, 2] and v[0]["packing"] == "video"
    assert v[0]["rgb_path"].endswith("rgb.avi") and v[0]["tir_width"] == 32
    rgb, tir = load_frame_pair(v[2])
    assert rgb.shape == (24, 32, 3) and tir.shape == (24, 32) and abs(int(tir.mean()) - 80) < 10


def test_lsotb_eval_attributes(tmp_path):
    r = ingest_dataset("lsotb", "lsotb_eval", fx.make_lsotb_eval(tmp_path))
    f = rows(r)
    assert len(f) == 3 and f[0]["rgb_path"] is None and f[0]["tir_path"].endswith("img/0001.jpg")
    assert f[0]["attributes"] == "occlusion,out_of_view,hand_held" and f[2]["gt_tir_x"] == 3
    assert r.summary["rgb_resolution"] == "none"


def test_lsotb_train_objects_and_single_track_gt(tmp_path):
    r = ingest_dataset("lsotbtr", "lsotb_train", fx.make_lsotb_train(tmp_path))
    f = rows(r)
    o = r.objects.to_pylist()
    assert len(o) == 2 and o[1]["object_id"] == "0" and o[1]["occluded"] and o[0]["modality"] == "tir"
    assert (f[1]["gt_tir_x"], f[1]["gt_tir_w"]) == (4, 10) and f[2]["gt_tir_valid"] is False and f[2]["absent"]


def test_ptb_tir_benchmark_layout(tmp_path):
    f = rows(ingest_dataset("ptb", "ptb_tir", fx.make_ptb_tir(tmp_path)))
    assert len(f) == 3 and f[0]["attributes"] == "deformation,thermal_crossover" and f[0]["gt_tir_valid"]


def test_got10k_labels_and_test_split(tmp_path):
    fx.make_got10k(tmp_path, "train")
    fx.make_got10k(tmp_path, "test", seq="GOT-10k_Test_000001")
    f = rows(ingest_dataset("got", "got10k", tmp_path, split="train"))
    assert [x["absent"] for x in f] == [False, True, False]
    assert [x["occlusion"] for x in f] == [0.0, 1.0, 0.25]
    t = ingest_dataset("got", "got10k", tmp_path, split="test")
    assert [x["gt_rgb_valid"] for x in rows(t)] == [True, False, False] and t.summary["invalid_gt"] == 0
    assert ingest_dataset("got", "got10k", tmp_path).summary["sequences"] == 2


def test_lasot(tmp_path):
    r = ingest_dataset("lasot", "lasot", fx.make_lasot(tmp_path))
    f = rows(r)
    assert f[0]["sequence"] == "airplane-1" and f[2]["absent"] and f[2]["occlusion"] == 1.0
    assert f[2]["gt_rgb_valid"] is False and r.summary["invalid_gt"] == 1


@pytest.mark.parametrize("split,fmt_rows", [("rgb_train", 3), ("rgbt_train", 3), ("rgbt_eval", 3), ("tir_eval", 3)])
def test_synthetic_splits(tmp_path, split, fmt_rows):
    out = fx.make_synthetic(tmp_path / "synth")
    r = ingest_dataset("syn", "synthetic", out / split)
    assert r.summary["frames"] == fmt_rows and {x["split"] for x in rows(r)} == {split}
    if split.startswith("rgbt"):
        o = r.objects.to_pylist()
        assert len(o) == 6 and o[1]["label"] == "car" and o[1]["occluded"] and o[0]["occluded"] is False
    r2 = ingest_dataset("syn", "synthetic", out, options={"split": split})
    assert r2.frames.equals(r.frames)


def test_boxes_never_fake(tmp_path):
    """A null box always comes with valid=False and vice versa."""
    r = ingest_dataset("vot", "vot", fx.make_vot(tmp_path))
    for x in rows(r):
        assert (x["gt_rgb_x"] is None) == (not x["gt_rgb_valid"])
        if x["gt_rgb_x"] is not None:
            assert not math.isnan(x["gt_rgb_x"]) and x["gt_rgb_w"] > 0
    assert np.all(r.frames.column("frame").to_numpy() >= 0)
