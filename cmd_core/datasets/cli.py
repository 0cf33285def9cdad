"""`cmd-tir ingest`: read one dataset in its native layout into Parquet manifests.

    cmd-tir ingest --format F --root DIR --name NAME [--split S] --out-dir DIR
                   [--on-error fail|skip] [--threads N] [--verify decode|header|none]
                   [--option key=value ...]

Writes <out-dir>/<name>.{frames,objects,rejected}.parquet and <name>.summary.json (all or none).
--verify header reads only image headers (sizes; fast, for huge datasets, no truncation check),
--verify none touches no image (sizes unknown).
"""

from __future__ import annotations

import argparse
import json
import os

from tqdm import tqdm

from cmd_core.cli import positive_int
from cmd_core.datasets.adapters import ADAPTERS
from cmd_core.datasets.imagecheck import VERIFY_MODES
from cmd_core.datasets.ingest import ON_ERROR, ingest_dataset, write_result


def parse_options(items: list[str] | None) -> dict[str, str]:
    """`key=value` strings -> dict (ValueError on an item without '=')."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--option {item!r}: expected key=value")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=sorted(ADAPTERS), help="dataset layout")
    parser.add_argument("--root", required=True, help="dataset folder")
    parser.add_argument("--name", required=True, help="dataset name (output file prefix)")
    parser.add_argument("--split", default="all", help="split to read (default: all)")
    parser.add_argument("--out-dir", required=True, help="output folder")
    parser.add_argument("--on-error", default="fail", choices=ON_ERROR,
                        help="fail: stop at the first bad input; skip: reject bad frames into <name>.rejected.parquet")
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1, help="image verification threads")
    parser.add_argument("--verify", default="decode", choices=VERIFY_MODES,
                        help="decode: full check (default); header: sizes only; none: no image access")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="adapter option (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    bars = []

    def progress(total: int):
        bar = tqdm(total=total, unit="file", desc=f"ingest {args.name}", disable=args.no_progress)
        bars.append(bar)
        return bar.update

    try:
        result = ingest_dataset(args.name, args.format, args.root, split=args.split,
                                options=parse_options(args.option), on_error=args.on_error,
                                threads=args.threads, verify=args.verify, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    paths = write_result(result, args.out_dir)
    print(json.dumps(result.summary, indent=2))
    print(f"wrote {paths['frames']}")
    return 0
