"""Schema enforcement, atomic writing, the datasets table and the CLI."""

from __future__ import annotations

import re
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import dataset_fixtures as fx
from cmd_core.cli import main
from cmd_core.datasets import ingest as ingest_mod
from cmd_core.datasets.ingest import ingest_dataset, output_paths, write_result
from cmd_core.datasets.schema import FRAMES_SCHEMA, MANIFEST_VERSION, empty_table, validate_table
from cmd_core.datasets.table import datasets_table


@pytest.fixture
def result(tmp_path):
    return ingest_dataset("rgbt", "rgbt234", fx.make_rgbt234(tmp_path / "ds"))


def test_schema_metadata_and_column_order(result, tmp_path):
    assert result.frames.column_names == FRAMES_SCHEMA.names
    paths = write_result(result, tmp_path / "out")
    t = pq.read_table(paths["frames"])
    meta = t.schema.metadata
    assert meta[b"cmd_manifest_kind"] == b"frames" and meta[b"cmd_manifest_version"] == MANIFEST_VERSION.encode()
    assert t.schema.field("frame").type == pa.int32() and not t.schema.field("gt_rgb_valid").nullable
    assert pq.read_table(paths["objects"]).num_rows == 0  # always written
    assert pq.read_table(paths["rejected"]).schema.metadata[b"cmd_manifest_kind"] == b"rejected"


def test_missing_extra_and_wrong_type_columns_refused(result):
    t = result.frames
    with pytest.raises(ValueError, match=r"missing column\(s\) \['occlusion'\]"):
        validate_table(t.drop(["occlusion"]), "frames")
    with pytest.raises(ValueError, match=r"unexpected column\(s\) \['extra'\]"):
        validate_table(t.append_column("extra", pa.array([1] * t.num_rows)), "frames")
    i = t.column_names.index("frame")
    with pytest.raises(ValueError, match="column 'frame' has type int64, expected int32"):
        validate_table(t.set_column(i, "frame", t.column("frame").cast(pa.int64())), "frames")
    i = t.column_names.index("sequence")
    with pytest.raises(ValueError, match="column 'sequence' has 1 null"):
        validate_table(t.set_column(i, "sequence", pa.array([None] + ["s"] * (t.num_rows - 1), pa.string())), "frames")
    i = t.column_names.index("packing")
    with pytest.raises(ValueError, match="column 'packing' has value"):
        validate_table(t.set_column(i, "packing", pa.array(["zip"] * t.num_rows, pa.string())), "frames")
    with pytest.raises(ValueError, match="out of order"):
        validate_table(t.select(list(reversed(t.column_names))), "frames")
    validate_table(empty_table("objects"), "objects")


def test_write_result_refuses_bad_table_and_leaves_nothing(result, tmp_path):
    bad = ingest_mod.IngestResult(frames=result.frames.drop(["absent"]), objects=result.objects,
                                  rejected=result.rejected, summary=result.summary)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="absent"):
        write_result(bad, out)
    assert not out.exists() or not os.listdir(out)


def test_failure_midway_leaves_no_manifest(result, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = ingest_mod.write_parquet
    calls = []

    def flaky(table, path, schema=None):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        real(table, path, schema=schema)

    monkeypatch.setattr(ingest_mod, "write_parquet", flaky)
    with pytest.raises(OSError):
        write_result(result, out)
    assert os.listdir(out) == []


def test_failing_ingest_via_cli_leaves_no_manifest(tmp_path, capsys):
    root = fx.make_rgbt234(tmp_path / "ds")
    (root / "seqA" / "visible" / "00001v.jpg").write_bytes(b"")
    out = tmp_path / "out"
    rc = main(["ingest", "--format", "rgbt234", "--root", str(root), "--name", "x", "--out-dir", str(out),
               "--no-progress"])
    assert rc == 2 and "00001v.jpg: empty file" in capsys.readouterr().err
    assert not any(p.exists() for p in output_paths(out, "x").values())


def test_cli_ingest_and_datasets_table(tmp_path, capsys):
    fx.make_rgbt234(tmp_path / "a")
    fx.make_lsotb_eval(tmp_path / "b")
    out = tmp_path / "out"
    for name, fmt in (("a", "rgbt234"), ("b", "lsotb_eval")):
        rc = main(["ingest", "--format", fmt, "--root", str(tmp_path / name), "--name", name, "--out-dir", str(out),
                   "--threads", "2", "--verify", "decode", "--on-error", "skip", "--no-progress"])
        assert rc == 0
    summ = json.loads((out / "a.summary.json").read_text())
    assert summ["frames"] == 6 and summ["rgb_resolution"] == "32x24" and summ["format"] == "rgbt234"
    rc = main(["datasets-table", str(out / "a.summary.json"), str(out / "b.summary.json"),
               "--csv", str(out / "datasets.csv"), "--md", str(out / "datasets.md")])
    assert rc == 0
    df = datasets_table([out / "a.summary.json", out / "b.summary.json"])
    assert list(df.columns) == ["dataset", "split", "format", "sequences", "frames", "rgb_resolution",
                                "tir_resolution", "gt_coverage_rgb", "gt_coverage_tir", "invalid_gt",
                                "rejected_frames", "rejected_sequences", "objects", "invalid_objects"]
    assert df["frames"].tolist() == [6, 3]
    assert (out / "datasets.csv").read_text().startswith("dataset,split,format")
    md = (out / "datasets.md").read_text()
    assert "| b | all | lsotb_eval |" in re.sub(r" {2,}", " ", md)  # to_markdown pads the columns
    assert md.splitlines()[1].startswith("|:--")  # a header rule: a real Markdown table


def test_cli_options_and_verify_modes(tmp_path):
    out = tmp_path / "out"
    root = fx.make_vot(tmp_path / "v")
    rc = main(["ingest", "--format", "vot", "--root", str(root), "--name", "v", "--out-dir", str(out),
               "--option", "modality=tir", "--verify", "header", "--no-progress"])
    assert rc == 0
    t = pq.read_table(out / "v.frames.parquet").to_pylist()
    assert t[0]["tir_width"] == 32 and t[0]["rgb_path"] is None
    r = ingest_dataset("v", "vot", root, verify="none")
    assert r.frames.column("rgb_width").null_count == 3 and r.summary["rgb_resolution"] == "unknown"
