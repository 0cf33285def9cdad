"""`cmd-tir synth`: generate the synthetic benchmark from config.yaml's `synthetic:` section and flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .config import SynthConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output directory (gets the four splits and synth.json)")
    parser.add_argument("--config", help="YAML file; its `synthetic:` section is read (flags override it)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--jpeg-quality", type=int, dest="jpeg_quality")
    parser.add_argument("--sequences", type=int, help="sequences per split (all splits)")
    parser.add_argument("--frames", type=int, help="frames per sequence (all splits)")
    parser.add_argument("--threads", type=int, default=1, help="worker processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def load_config(path: str | None) -> SynthConfig:
    """SynthConfig from the `synthetic:` section of a YAML file (defaults without a file)."""
    if not path:
        return SynthConfig()
    import yaml

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: config file not found")
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    section = data.get("synthetic") or {}
    try:
        return SynthConfig.from_mapping(section)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{p}: synthetic: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    from .generator import generate_benchmark

    config = load_config(args.config).with_overrides(
        seed=args.seed, width=args.width, height=args.height, jpeg_quality=args.jpeg_quality,
        sequences=args.sequences, frames=args.frames)
    summary = generate_benchmark(args.out, config, threads=max(1, int(args.threads)), progress=not args.no_progress)
    print(json.dumps({s: v["sequences"] for s, v in summary["splits"].items()}))
    return 0
