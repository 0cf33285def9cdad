"""Atomic writers: a failure inside the block leaves neither a partial file nor a temp file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmd_core.io import atomic_open, write_parquet, write_text


def test_write_text_replaces_atomically(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_text(target, "one")
    write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_failure_inside_block_keeps_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half written")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_write_parquet_enforces_schema_columns(tmp_path):
    schema = pa.schema([("a", pa.int32()), ("b", pa.string())])
    table = pa.table({"b": ["x"], "a": [1]})
    write_parquet(table, tmp_path / "t.parquet", schema)
    read = pq.read_table(tmp_path / "t.parquet")
    assert read.schema.names == ["a", "b"] and read.schema.field("a").type == pa.int32()
    with pytest.raises(ValueError, match=r"missing \['b'\].*unexpected \['c'\]"):
        write_parquet(pa.table({"a": [1], "c": [2]}), tmp_path / "bad.parquet", schema)
    assert not (tmp_path / "bad.parquet").exists()
