"""Supervised DiMP training on a labelled frames manifest (the RGB teacher): wiring of sampler,
processing, dataset, actor, optimizer and trainer from a preset."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch

from .actors import DiMPActor
from .config import build_net, lr_groups, processing_settings, resolve_config
from .dataset import TrackingSamplesDataset, loader_workers, make_loader
from .optim import build_optimizer, build_scheduler
from .sampler import SequenceSampler
from .trainer import Trainer, choose_device, seed_everything

__all__ = ["build_teacher_trainer", "train_teacher"]

log = logging.getLogger(__name__)


def build_teacher_trainer(manifest: str | Path, out_dir: str | Path, config: dict[str, Any], device: str = "auto",
                          threads: int = 1, plot_path: str | Path | None = None, progress: bool = True,
                          num_workers: int | None = None, keep_checkpoints: int = 3) -> Trainer:
    """A ready :class:`Trainer` for a resolved config (see :func:`resolve_config`)."""
    dev = choose_device(device)
    torch.set_num_threads(max(1, int(threads)))
    if dev.type == "cpu":
        torch.set_flush_denormal(True)  # denormal floats can slow CPU kernels several-fold
    seed = int(config["seed"])
    seed_everything(seed)
    sampler = SequenceSampler(manifest, config["modality"], config["num_train_frames"], config["num_test_frames"],
                              config["max_gap"], seed)
    dataset = TrackingSamplesDataset(sampler, processing_settings(config), config["samples_per_epoch"],
                                     cache_frames=config["cache_frames"])
    loader = make_loader(dataset, config["batch_size"], config["samples_per_epoch"], threads=threads, device=dev,
                         seed=seed, num_workers=num_workers)
    net = build_net(config)
    actor = DiMPActor(net, config["loss_weights"], config["iou_loss"], config["hinge_threshold"])
    optimizer = build_optimizer(net, lr_groups(config), config["lr"], config["weight_decay"])
    scheduler = build_scheduler(optimizer, config["lr_step"], config["lr_gamma"])
    log.info("training %s on %s (%s, %d sequences) on %s, %d thread(s), %d loader worker(s)", config["preset"],
             manifest, config["modality"], len(sampler), dev, threads,
             loader.num_workers if num_workers is None else num_workers)
    return Trainer(actor, loader, optimizer, scheduler, out_dir, device=dev, train_config=config,
                   sampler_state=sampler.state_dict(), plot_path=plot_path, amp=config["amp"],
                   grad_clip=config["grad_clip"], keep_checkpoints=keep_checkpoints, progress=progress,
                   plot_title=f"{config['preset']} training loss", batch_size=config["batch_size"])


def train_teacher(manifest: str | Path, out_dir: str | Path, preset: str = "cpu_demo", device: str = "auto",
                  threads: int = 1, resume: bool = True, plot_path: str | Path | None = None,
                  final_path: str | Path | None = None, progress: bool = True, **overrides) -> dict[str, Any]:
    """Train a DiMP teacher; returns a summary (final checkpoint path, time, last epoch's log row).

    ``overrides`` are config keys (epochs, samples_per_epoch, batch_size, seed, backbone_weights ...).
    """
    config = resolve_config(preset, **overrides)
    out_dir = Path(out_dir)
    final_path = Path(final_path) if final_path else out_dir / "checkpoint.pth"
    trainer = build_teacher_trainer(manifest, out_dir, config, device=device, threads=threads, plot_path=plot_path,
                                    progress=progress)
    t0 = time.perf_counter()
    history = trainer.train(int(config["epochs"]), resume=resume, final_path=final_path)
    return {"checkpoint": str(final_path), "wall_s": time.perf_counter() - t0, "epochs": trainer.epoch,
            "last": history[-1], "log": str(trainer.log_path), "plot": str(trainer.plot_path),
            "workers": loader_workers(threads, trainer.device)}
