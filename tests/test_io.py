"""Atomic writers: a failure inside the block leaves neither a partial file nor a temp file."""

from __future__ import annotations

import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmd_core.io import atomic_open, remove_stale_temporaries, write_parquet, write_text


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


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_outputs_follow_the_umask(tmp_path, umask, mode):
    """Issue 14: outputs were 0600 whatever the umask (the temporary file's private mode)."""
    old = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
        write_parquet(pa.table({"a": [1]}), tmp_path / "b.parquet")
        with atomic_open(tmp_path / "c.bin", "wb") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {
        "a.txt": mode, "b.parquet": mode, "c.bin": mode}


def test_stale_temporaries_are_removed(tmp_path):
    """What a killed `atomic_path` / `<name>.tmp` writer leaves is removed; nothing else."""
    for name in (".checkpoint_e002.pth.k3j_x9a.tmp", "checkpoint.pth.tmp", "checkpoint_e001.pth",
                 ".log.csv.abc.tmp", "notes.tmp"):
        (tmp_path / name).write_text("x")
    removed = remove_stale_temporaries(tmp_path, r"checkpoint(?:_e\d+)?\.pth")
    assert sorted(p.name for p in removed) == [".checkpoint_e002.pth.k3j_x9a.tmp", "checkpoint.pth.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".log.csv.abc.tmp", "checkpoint_e001.pth", "notes.tmp"]


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"out: output folder is an existing file, not a folder"):
        write_text(tmp_path / "out" / "sub" / "a.txt", "x")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(IsADirectoryError, match=r"dir\.txt: output file is an existing folder"):
        write_text(tmp_path / "dir.txt", "x")
