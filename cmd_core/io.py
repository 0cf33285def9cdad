"""Atomic file writing: a failed or killed job never leaves a partial output behind.

Every writer goes to a temporary file in the destination folder and is renamed into place only
after it succeeded, so readers see either the old file, the complete new one, or nothing. The
renamed file gets the permissions the user's umask gives any new file (a temporary file is
created private, 0600, which would otherwise hide results from the user's group), and
`remove_stale_temporaries` clears the temporaries a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import IO, Iterator

import pyarrow as pa
import pyarrow.parquet as pq


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read from /proc where possible: setting it to read it races threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def ensure_folder(folder: str | os.PathLike, what: str = "output folder") -> Path:
    """Create `folder` (and parents); a clear error naming it when it is an existing file."""
    folder = Path(folder)
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise NotADirectoryError(f"{p}: {what} is an existing file, not a folder")
            break
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_stale_temporaries(folder: str | os.PathLike, pattern: str = r".*") -> list[Path]:
    """Delete temporaries left in `folder` by a killed atomic write of files whose name matches
    the regular expression `pattern`; returns the deleted paths. Call it only when no writer of
    those files can be running (e.g. when a job starts in its own output folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    rx = re.compile(rf"^(\.(?:{pattern})\.[A-Za-z0-9_]+\.tmp|(?:{pattern})\.tmp)$")
    removed = []
    for p in folder.iterdir():
        if p.is_file() and rx.match(p.name):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` if the block succeeds.

    The result gets mode 0666 & ~umask, like a file opened for writing the ordinary way."""
    dest = Path(path)
    ensure_folder(dest.parent)
    if dest.is_dir():
        raise IsADirectoryError(f"{dest}: output file is an existing folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~current_umask())
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


def markdown_table(rows: list[list[str]], head: list[str], n_text: int = 1) -> str:
    """A Markdown table of already formatted cells (``DataFrame.to_markdown``): the first ``n_text``
    columns left-aligned, the others (numbers) right-aligned; cells are kept as written."""
    import pandas as pd

    align = ["left"] * n_text + ["right"] * (len(head) - n_text)
    return pd.DataFrame(rows, columns=head).to_markdown(index=False, disable_numparse=True, colalign=align)

