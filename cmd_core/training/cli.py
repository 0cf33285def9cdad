"""`cmd-tir train`: supervised DiMP training (the RGB teacher) on a labelled frames manifest."""

from __future__ import annotations

import argparse
import json
import logging

from cmd_core.cli import positive_int

from .config import preset_names

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, help="labelled frames manifest (Parquet) to train on")
    parser.add_argument("--modality", choices=("rgb", "tir"), default="rgb", help="image and box columns to use")
    parser.add_argument("--config", default="cpu_demo", choices=preset_names(),
                        help="training preset (official dimp18 / dimp50 / super_dimp, or cpu_demo)")
    parser.add_argument("--out", required=True, help="output folder: per-epoch checkpoints, log.csv, checkpoint.pth")
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the preset's)")
    parser.add_argument("--samples-per-epoch", type=int, help="samples per epoch (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="sequences per batch (default: the preset's)")
    parser.add_argument("--seed", type=int, help="seed of the sample stream and the initial weights")
    parser.add_argument("--backbone-weights", help="local torchvision ResNet state dict for the backbone")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU cores for compute and data loading")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest checkpoint in --out (otherwise start fresh)")
    parser.add_argument("--plot", help="loss-curve PNG (default OUT/loss.png)")
    parser.add_argument("--final", help="final checkpoint path (default OUT/checkpoint.pth)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cmd_core.cli import report_error

    from .teacher import train_teacher

    if not Path(args.manifest).is_file():
        return report_error("train", FileNotFoundError(f"{args.manifest}: --manifest does not exist"
                                                       + (" (a folder, not a manifest file)"
                                                          if Path(args.manifest).is_dir() else "")))

    summary = train_teacher(args.manifest, args.out, preset=args.config, device=args.device, threads=args.threads,
                            resume=args.resume, plot_path=args.plot, final_path=args.final,
                            progress=not args.no_progress, modality=args.modality, epochs=args.epochs,
                            samples_per_epoch=args.samples_per_epoch, batch_size=args.batch_size, seed=args.seed,
                            backbone_weights=args.backbone_weights)
    print(json.dumps(summary, indent=2, default=str))
    return 0
