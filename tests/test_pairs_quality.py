"""The quality report on hand-made cases, and the config fragment agreeing with the defaults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from test_pairs_helpers import fake_frames

from cmd_core.datasets.schema import OBJECTS_SCHEMA
from cmd_core.pairs.config import DEFAULTS, load_config
from cmd_core.pairs.generate import generate_pairs, write_pairs
from cmd_core.pairs.quality import best_iou, quality_report, tracking_metrics

ROOT = Path(__file__).resolve().parents[1]


def objects_table(rows) -> pa.Table:
    df = pd.DataFrame([{"dataset": "fake", "split": "all", "sequence": s, "frame": f, "object_id": o, "label": "person",
                        "modality": "both", "x": x, "y": y, "w": w, "h": h, "occluded": False, "ignore": False}
                       for s, f, o, x, y, w, h in rows])
    return pa.Table.from_pandas(df, schema=OBJECTS_SCHEMA, preserve_index=False)


def test_pair_exactly_on_gt_box_covers(tmp_path):
    frames = fake_frames(1, 4, w=100, h=100)
    r = generate_pairs(frames, "central", {"central": {"scale": [0.2, 0.4]}})
    # GT object exactly where the central box is (40, 30, 20, 40) in frames 0-1, elsewhere later
    rows = [("s000", f, "a", 40, 30, 20, 40) if f < 2 else ("s000", f, "a", 0, 0, 10, 10) for f in range(4)]
    obj = tmp_path / "fake.objects.parquet"
    pq.write_table(objects_table(rows), obj)
    write_pairs(r, tmp_path / "central.parquet", tmp_path / "central.boxes.parquet", tmp_path / "central.summary.json")
    df = quality_report([{"pairs": tmp_path / "central.parquet", "boxes": tmp_path / "central.boxes.parquet",
                          "summary": tmp_path / "central.summary.json", "objects": obj, "frames": None}],
                        tmp_path / "q.csv", tmp_path / "q.md")
    row = df.iloc[0]
    assert row["coverage"] == 0.5 and row["mean_best_iou"] == 0.5 and row["boxes_per_frame"] == 1.0
    assert row["fallback_rate"] == 0.0
    assert pd.read_csv(tmp_path / "q.csv").shape == (1, len(df.columns))
    pairs = r.pairs.to_pandas()
    truth = pq.read_table(obj).to_pandas()
    assert best_iou(pairs, truth).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_coverage_respects_modality():
    pairs = pd.DataFrame({"sequence": ["s"], "template_frame": [0], "template_modality": ["rgb"],
                          **{f"template_{k}": [v] for k, v in zip("xywh", (0, 0, 10, 10))}})
    truth = pd.DataFrame({"sequence": ["s"], "frame": [0], "modality": ["tir"], "object_id": ["a"],
                          "x": [0.0], "y": [0.0], "w": [10.0], "h": [10.0]})
    assert best_iou(pairs, truth).tolist() == [0.0]
    assert best_iou(pairs, truth.assign(modality="rgb")).tolist() == [1.0]


def test_motmetrics_mota_simple_case():
    # two GT objects over 3 frames; tracklet 7 follows a, tracklet 8 follows b then is lost, and
    # tracklet 9 takes b over in frame 2 (one ID switch); 6 GT boxes, 0 FP, 0 misses -> MOTA 5/6
    truth = pd.DataFrame([("s", f, "both", o, x, 0.0, 10.0, 10.0) for f in range(3)
                          for o, x in (("a", 0.0), ("b", 50.0))],
                         columns=["sequence", "frame", "modality", "object_id", "x", "y", "w", "h"])
    hyp = pd.DataFrame([("s", 0, 7, 0.0), ("s", 0, 8, 50.0), ("s", 1, 7, 0.0), ("s", 1, 8, 50.0),
                        ("s", 2, 7, 0.0), ("s", 2, 9, 51.0)], columns=["sequence", "frame", "tracklet_id", "x"])
    hyp = hyp.assign(y=0.0, w=10.0, h=10.0)
    m = tracking_metrics(hyp, truth, {"s": [0, 1, 2]})
    assert m["id_switches"] == 1
    assert m["mota"] == pytest.approx(1 - 1 / 6)
    assert 0 < m["idf1"] < 1


def _schema_defaults(node):
    """The defaults of a JSON-schema object, nested objects filled from their own properties."""
    out = {}
    for key, sub in node.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:
            val = dict(sub.get("default") or {})
            val.update(_schema_defaults(sub))
            out[key] = val
        else:
            out[key] = sub["default"]
    return out


def test_config_fragment_matches_library_defaults():
    frag = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    pairs = frag["properties"]["pairs"]
    assert _schema_defaults(pairs) == DEFAULTS
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(frag)
    jsonschema.validate({"pairs": DEFAULTS}, frag)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"pairs": {"roles": "sideways"}}, frag)
    assert load_config({"pairs": {}}) == DEFAULTS


def test_summary_accounts_every_frame(tmp_path):
    frames = fake_frames(3, 7)
    r = generate_pairs(frames, "random", {"frame_step": 2})
    s = r.summary
    assert s["frames"] == 3 * 4 and s["frames_with_pairs"] + s["frames_without_pairs_total"] == s["frames"]
    assert set(r.pairs.column("template_frame").to_pylist()) == {0, 2, 4, 6}
    json.dumps(s)
    assert np.isfinite(s["seconds"])
