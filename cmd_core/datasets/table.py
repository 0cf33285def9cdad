"""The datasets table: one row per ingested dataset, from the ingest summaries.

    cmd-tir datasets-table OUT/a.summary.json OUT/b.summary.json --csv datasets.csv --md datasets.md
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from cmd_core.io import markdown_table, write_text

COLUMNS = ("dataset", "split", "format", "sequences", "frames", "rgb_resolution", "tir_resolution",
           "gt_coverage_rgb", "gt_coverage_tir", "invalid_gt", "rejected_frames", "rejected_sequences", "objects", "invalid_objects")
# columns older summaries may lack (read as 0)
OPTIONAL = {"rejected_sequences": 0}


def datasets_table(summary_json_paths: list[str | os.PathLike]) -> pd.DataFrame:
    """One row per summary file, columns COLUMNS (ValueError naming a file that lacks one)."""
    rows = []
    for p in summary_json_paths:
        with open(p, encoding="utf-8") as fh:
            s = json.load(fh)
        missing = [c for c in COLUMNS if c not in s and c not in OPTIONAL]
        if missing:
            raise ValueError(f"{p}: summary lacks {missing}")
        rows.append({c: s.get(c, OPTIONAL.get(c)) for c in COLUMNS})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _markdown(df: pd.DataFrame) -> str:
    def cell(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    rows = [[cell(v) for v in row] for row in df.itertuples(index=False)]
    return markdown_table(rows, [str(c) for c in df.columns]) + "\n"


def write_datasets_table(summary_paths: list[str | os.PathLike], out_csv: str | os.PathLike,
                         out_md: str | os.PathLike) -> pd.DataFrame:
    """Write datasets.csv and datasets.md (atomically) and return the table."""
    df = datasets_table(summary_paths)
    write_text(out_csv, df.to_csv(index=False))
    write_text(out_md, _markdown(df))
    return df


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("summaries", nargs="+", help="<name>.summary.json files from cmd-tir ingest")
    parser.add_argument("--csv", required=True, help="output CSV")
    parser.add_argument("--md", required=True, help="output Markdown")


def run(args: argparse.Namespace) -> int:
    write_datasets_table([Path(p) for p in args.summaries], args.csv, args.md)
    return 0
