"""Atomic file writing: a failed or killed job never leaves a partial output behind.

Every writer goes to a temporary file in the destination folder and is renamed into place only
after it succeeded, so readers see either the old file, the complete new one, or nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` if the block succeeds."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing that replaces `path` only when the block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_parquet(table: pa.Table, path: str | os.PathLike, schema: pa.Schema | None = None) -> None:
    """Write a Parquet file atomically; with `schema`, cast to it exactly (raises on mismatch)."""
    if schema is not None:
        if set(table.column_names) != set(schema.names):
            missing = sorted(set(schema.names) - set(table.column_names))
            extra = sorted(set(table.column_names) - set(schema.names))
            raise ValueError(f"{path}: table does not match schema (missing {missing}, unexpected {extra})")
        table = table.select(schema.names).cast(schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
