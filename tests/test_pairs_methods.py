"""The three pair methods on tiny fixtures: boxes, determinism, roles, schema, CLI."""

from __future__ import annotations

import re
import itertools
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_pairs_helpers import H, W, fake_frames, make_dataset, target_box

from cmd_core.pairs import cli
from cmd_core.pairs.boxes import box_iou, central_boxes, frame_rng, random_boxes
from cmd_core.pairs.detectors import HogPeople, MotionRegions, ThermalRegions
from cmd_core.pairs.generate import generate_pairs, read_frames, write_pairs
from cmd_core.pairs.schema import PAIRS_SCHEMA, validate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("tiny"))


THERMAL_ONLY = {"detector": {"builtin": [{"name": "thermal"}]}}


def test_central_box_is_centred():
    b = central_boxes([640], [512], (0.25, 0.5))[0]
    assert b.tolist() == [240.0, 128.0, 160.0, 256.0]


def test_central_method(tiny):
    r = generate_pairs(tiny, "central", {"central": {"scale": [0.5, 0.5]}})
    df = r.pairs.to_pandas()
    assert len(df) == len(tiny) and (df["template_x"] == W / 4).all() and (df["template_h"] == H / 2).all()
    assert (df["template_modality"] == "rgb").all() and (df["search_modality"] == "tir").all()
    assert (df["time_gap"] == 0).all() and not df["fallback"].any() and df["confidence"].isna().all()


def test_random_boxes_inside_and_separated():
    for f in range(200):
        b = random_boxes(frame_rng(3, "s", f), 320, 256, 4, (0.1, 0.3), (0.5, 2.0), 0.3)
        assert 1 <= len(b) <= 4
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
        assert (b[:, 0] + b[:, 2] <= 320 + 1e-9).all() and (b[:, 1] + b[:, 3] <= 256 + 1e-9).all()
        c = b[:, :2] + b[:, 2:] / 2
        for i, j in itertools.combinations(range(len(b)), 2):
            assert np.hypot(*(c[i] - c[j])) >= 0.3 * 256


def test_random_method_deterministic_and_thread_independent():
    frames = fake_frames(6, 20)
    a = generate_pairs(frames, "random", {"seed": 5}, threads=1).pairs
    b = generate_pairs(frames, "random", {"seed": 5}, threads=3).pairs
    c = generate_pairs(frames, "random", {"seed": 6}, threads=1).pairs
    assert a.equals(b)
    assert not a.equals(c)
    assert a.num_rows == 6 * 20 * 3
    assert a.column("pair_id").to_pylist() == list(range(a.num_rows))


def test_thermal_detector_finds_hot_blob():
    img = np.full((64, 80), 40, np.uint8)
    img[20:34, 30:44] = 210
    boxes, conf, labels = ThermalRegions().detect(img)
    assert boxes.tolist() == [[30.0, 20.0, 14.0, 14.0]]
    assert 0 < conf[0] <= 1 and labels == ["hot_region"]
    cold = img.copy()
    cold[:] = 200
    cold[5:15, 5:17] = 30
    b, _, lab = ThermalRegions(polarity="cold").detect(cold)
    assert len(b) == 1 and box_iou(b, [[5, 5, 12, 10]])[0, 0] > 0.7 and lab == ["cold_region"]
    assert len(ThermalRegions().detect(np.full((64, 80), 90, np.uint8))[0]) == 0


def test_thermal_detector_16bit():
    img = np.full((64, 80), 3000, np.uint16)
    img[10:30, 40:60] = 9000
    b, _, _ = ThermalRegions().detect(img)
    assert b.tolist() == [[40.0, 10.0, 20.0, 20.0]]


def test_motion_detector_sees_moving_square():
    det = MotionRegions(warmup=3, min_area=10)
    found = None
    for f in range(12):
        img = np.full((64, 80, 3), 120, np.uint8)
        img[20:34, 5 + 5 * f:19 + 5 * f] = (30, 30, 220)
        found = det.detect(img)
    boxes = found[0]
    assert len(boxes) >= 1
    assert box_iou(boxes, [[60, 20, 14, 14]]).max() > 0.5


def test_hog_detector_runs():
    boxes, conf, labels = HogPeople(min_side=128).detect(np.full((64, 80, 3), 100, np.uint8))
    assert boxes.shape[1] == 4 and len(conf) == len(labels)


def test_detector_method_on_fixture(tiny):
    r = generate_pairs(tiny, "detector", THERMAL_ONLY)
    df = r.pairs.to_pandas()
    assert len(df) == len(tiny)
    for row in df.itertuples():
        assert (row.template_x, row.template_y, row.template_w, row.template_h) == target_box(row.template_frame)
    assert (df["source"] == "thermal_hot").all() and not df["fallback"].any()
    assert r.summary["frames_with_own_boxes"] == len(tiny)


def test_detector_fallback_is_counted(tiny):
    cfg = {"detector": {"builtin": [{"name": "thermal", "offset": 250}]}}
    r = generate_pairs(tiny, "detector", cfg)
    df = r.pairs.to_pandas()
    assert df["fallback"].all() and (df["source"] == "random").all()
    assert r.summary["fallback_frames"] == len(tiny)
    cfg["detector"]["fallback"] = "none"
    r = generate_pairs(tiny, "detector", cfg)
    assert r.pairs.num_rows == 0
    assert r.summary["frames_without_pairs"] == {"no usable detection (fallback off)": len(tiny)}


def test_temporal_pairs_respect_max_gap(tiny):
    cfg = {"seed": 1, "detector": {"builtin": [{"name": "thermal"}],
                                   "temporal": {"enabled": True, "max_gap": 2, "min_iou": 0.3}}}
    r = generate_pairs(tiny, "detector", cfg)
    df = r.pairs.to_pandas()
    assert df["tracklet_id"].notna().all()
    assert df.groupby("sequence")["tracklet_id"].nunique().tolist() == [1, 1]
    assert ((df["time_gap"] >= 0) & (df["time_gap"] <= 2)).all() and (df["time_gap"] > 0).any()
    assert (df["search_frame"] == df["template_frame"] + df["time_gap"]).all()
    for row in df.itertuples():
        assert (row.search_x, row.search_y) == target_box(row.search_frame)[:2]
    last = df[df["template_frame"] == df["template_frame"].max()]
    assert (last["time_gap"] == 0).all()
    assert r.summary["tracklets"] == 2


@pytest.mark.parametrize("roles,expect", [("tir_to_rgb", {("tir", "rgb")}), ("both", {("rgb", "tir"), ("tir", "rgb")}),
                                          ("random", {("rgb", "tir"), ("tir", "rgb")})])
def test_swapped_roles(roles, expect):
    frames = fake_frames(2, 30)
    df = generate_pairs(frames, "central", {"roles": roles}).pairs.to_pandas()
    got = set(zip(df["template_modality"], df["search_modality"]))
    assert got == expect
    assert len(df) == (120 if roles == "both" else 60)


def test_schema_enforced_on_write(tmp_path):
    r = generate_pairs(fake_frames(1, 3), "central")
    out = tmp_path / "p.parquet"
    write_pairs(r, out, tmp_path / "b.parquet", tmp_path / "s.json")
    schema = pq.read_schema(out)
    assert schema.metadata[b"cmd_pairs_version"] == b"1" and schema.metadata[b"cmd_pairs_method"] == b"central"
    assert pq.read_table(out).schema.equals(PAIRS_SCHEMA, check_metadata=False)
    bad = r.pairs.drop_columns(["fallback"])
    with pytest.raises(ValueError, match="missing"):
        validate(bad, PAIRS_SCHEMA)
    wrong = r.pairs.set_column(r.pairs.schema.get_field_index("template_frame"), "template_frame",
                               pa.array([0, 1, 2], pa.int64()))
    with pytest.raises(ValueError, match="type"):
        validate(wrong, PAIRS_SCHEMA)
    vocab = r.pairs.set_column(r.pairs.schema.get_field_index("search_modality"), "search_modality",
                               pa.array(["ir"] * 3))
    with pytest.raises(ValueError, match="allowed"):
        validate(vocab, PAIRS_SCHEMA)


def test_generator_never_reads_ground_truth(tiny, tmp_path):
    import pyarrow as pa

    from cmd_core.datasets.schema import FRAMES_SCHEMA
    path = tmp_path / "f.frames.parquet"
    pq.write_table(pa.Table.from_pandas(tiny, schema=FRAMES_SCHEMA, preserve_index=False), path)
    frames = read_frames(path)
    assert not [c for c in frames.columns if c.startswith("gt_")]


def test_cli_generate_quality_sheet(tiny, tmp_path):
    import argparse

    import pyarrow as pa

    from cmd_core.datasets.schema import FRAMES_SCHEMA
    fpath = tmp_path / "tiny.frames.parquet"
    pq.write_table(pa.Table.from_pandas(tiny, schema=FRAMES_SCHEMA, preserve_index=False), fpath)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("pairs:\n  detector:\n    builtin: [{name: thermal}]\n")

    def call(*argv):
        p = argparse.ArgumentParser()
        cli.add_arguments(p)
        return cli.run(p.parse_args([str(a) for a in argv]))

    out = tmp_path / "pairs" / "detector.parquet"
    assert call("generate", fpath, "--method", "detector", "--config", cfg, "--out", out, "--threads", 2) == 0
    summary = json.loads((tmp_path / "pairs" / "detector.summary.json").read_text())
    assert summary["pairs"] == len(tiny)
    assert call("quality", "--run", f"{out}::{fpath}", "--csv", tmp_path / "q.csv", "--md", tmp_path / "q.md") == 0
    assert "| tiny | detector |" in re.sub(r" {2,}", " ", (tmp_path / "q.md").read_text())
    assert call("sheet", out, "--frames", fpath, "--out", tmp_path / "s.png", "--n", 4) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown pairs method"):
        call("generate", fpath, "--method", "nope", "--out", tmp_path / "x.parquet")
