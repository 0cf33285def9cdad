"""`cmd-tir distill`: train one distillation strategy (or the supervised TIR upper bound).

    cmd-tir distill run --strategy full --pairs P.parquet --frames F.parquet --teacher T.pth --out DIR
    cmd-tir distill run ... --pairs A/central.parquet B/central.parquet --frames A.frames.parquet B.frames.parquet
    cmd-tir distill supervised --manifest F.parquet --teacher T.pth --out DIR   # uses TIR labels
    cmd-tir distill list [--config config.yaml]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cmd_core.cli import positive_int


def _strategies(path: str | None) -> tuple[dict | None, list | None]:
    """Strategies (and configured pair methods) from a workflow config file, else the defaults."""
    if not path:
        return None, None
    import yaml

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: config file does not exist")
    cfg = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    d = cfg.get("distill", cfg) or {}
    methods = list(((cfg.get("pairs") or {}).get("methods") or {}) or []) or None
    return d.get("strategies"), methods


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="distill_command", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="train one strategy with one seed")
    r.add_argument("--strategy", required=True, help="strategy name (defaults or --config's distill.strategies)")
    r.add_argument("--config", help="workflow config YAML holding distill.strategies (and pairs.methods)")
    r.add_argument("--pairs", required=True, nargs="+",
                   help="pair manifest(s) of the strategy's pair method (Parquet); several (one per dataset) are pooled")
    r.add_argument("--frames", required=True, nargs="+",
                   help="frames manifest(s) of the paired dataset(s) (images only are read)")
    r.add_argument("--teacher", required=True, help="RGB teacher checkpoint")
    r.add_argument("--out", required=True, help="output folder: per-epoch checkpoints, log.csv, loss.png")
    r.add_argument("--final", help="final checkpoint (default OUT/checkpoint.pth)")
    s = sub.add_parser("supervised", help="supervised TIR upper bound: fine-tune the teacher WITH TIR labels")
    s.add_argument("--manifest", required=True, help="labelled frames manifest with TIR ground truth")
    s.add_argument("--teacher", required=True, help="RGB teacher checkpoint")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--final", help="final checkpoint (default OUT/checkpoint.pth)")
    s.add_argument("--lr-scale", type=float, default=0.3, help="scale of the teacher preset's learning rates")
    for p in (r, s):
        p.add_argument("--seed", type=int, default=0, help="seed of the sample stream")
        p.add_argument("--epochs", type=int, default=4, help="epochs")
        p.add_argument("--samples-per-epoch", type=int, default=64, help="samples per epoch")
        p.add_argument("--batch-size", type=int, default=8, help="samples per batch (halve after CUDA OOM)")
        p.add_argument("--threads", type=positive_int, default=1, help="CPU cores for compute and data loading")
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to train")
        p.add_argument("--no-resume", action="store_true", help="start fresh even if OUT has checkpoints")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    ls = sub.add_parser("list", help="print the resolved strategies as JSON")
    ls.add_argument("--config", help="workflow config YAML holding distill.strategies")


def run(args: argparse.Namespace) -> int:
    if args.distill_command == "list":
        from .strategies import resolve_strategies

        table, methods = _strategies(args.config)
        print(json.dumps(resolve_strategies(table, methods), indent=2))
        return 0
    try:
        return _train(args)
    except Exception as exc:
        # a checkpoint problem whose message lacks the teacher's path (e.g. an unsupported
        # constructor) gets it in front, so the one CLI handler can name the file
        from cmd_core.model import CheckpointError

        if isinstance(exc, CheckpointError) and str(args.teacher) not in str(exc):
            raise CheckpointError(f"{args.teacher}: {exc}") from exc
        raise


def _train(args: argparse.Namespace) -> int:
    """`run` / `supervised`: train, print the summary."""
    common = dict(seed=args.seed, epochs=args.epochs, samples_per_epoch=args.samples_per_epoch,
                  batch_size=args.batch_size, threads=args.threads, device=args.device, final_path=args.final,
                  resume=not args.no_resume)
    if args.distill_command == "supervised":
        from .supervised import train_supervised_tir

        summary = train_supervised_tir(args.manifest, args.teacher, args.out, lr_scale=args.lr_scale,
                                       progress=not args.no_progress, **common)
    else:
        from .train import distill

        table, methods = _strategies(args.config)
        summary = distill(args.strategy, args.pairs, args.frames, args.teacher, args.out, strategies=table,
                          pair_methods=methods, progress=not args.no_progress, **common)
    print(json.dumps(summary, indent=2, default=str))
    return 0
