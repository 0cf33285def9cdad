"""Logging set-up shared by the CLI and the workflow's scripts.

Workflow jobs send everything — log records, warnings, tqdm progress bars, tracebacks — to the
rule's `log:` file, so `results/logs/` holds the whole story of each job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def job_logging(log_path: str | os.PathLike | None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Route logging and stderr of a workflow job into its log file; log the traceback on error."""
    logger = logging.getLogger("cmd_core")
    if log_path is None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        yield logger
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8", buffering=1) as fh:
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        old_stderr = sys.stderr
        sys.stderr = fh
        try:
            yield logger
        except BaseException:
            fh.write(traceback.format_exc())
            raise
        finally:
            sys.stderr = old_stderr
            root.removeHandler(handler)
