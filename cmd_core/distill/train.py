"""One distillation job: teacher checkpoint + pair manifest + strategy -> student checkpoint.

Wires :class:`.pair_dataset.PairDataset`, an actor of :mod:`.actors` and the training package's
:class:`~cmd_core.training.trainer.Trainer` (AMP on CUDA, seeding, CSV log, loss curve, atomic
per-epoch checkpoints, resume after a kill). The final checkpoint is a ``save_checkpoint``-style
file (``net`` + ``config`` + the strategy and history), written atomically, that
``cmd_core.tracking.network.load_network`` reads.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cmd_core.training.config import PRESETS, processing_settings, resolve_config
from cmd_core.training.dataset import loader_workers, make_loader
from cmd_core.training.optim import build_optimizer, build_scheduler
from cmd_core.training.processing import ProcessingSettings
from cmd_core.training.trainer import Trainer, choose_device, find_checkpoints, save_training_checkpoint, seed_everything

from .actors import DistillActor, OfficialCMDActor
from .pair_dataset import CMD_JITTER, PairDataset
from .strategies import resolve_strategy

__all__ = ["distill", "DistillJob", "build_distill_trainer", "load_teacher", "DistillOOMError", "teacher_train_config",
           "scaled_lr_groups"]

log = logging.getLogger(__name__)


class DistillOOMError(RuntimeError):
    """CUDA ran out of memory; rerun with a smaller batch (the workflow halves it per attempt)."""


def load_teacher(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """(teacher DiMPNet in eval mode, its checkpoint dict); clear error if the file is missing."""
    from cmd_core.model import load_dimp_checkpoint

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: teacher checkpoint does not exist (train the RGB teacher first: "
                                "rule train_teacher / cmd-tir train)")
    net, ckpt = load_dimp_checkpoint(path)
    net.eval()
    return net, ckpt


def teacher_train_config(ckpt: dict[str, Any], preset: str | None = None) -> dict[str, Any]:
    """The teacher's resolved training config (from its checkpoint), else ``preset``'s, else the
    preset matching its network (official files: dimp18 / dimp50 / super_dimp; else cpu_demo)."""
    cfg = ckpt.get("train_config") if isinstance(ckpt, dict) else None
    if isinstance(cfg, dict) and cfg.get("preset") in PRESETS:
        try:
            return resolve_config({k: v for k, v in cfg.items() if k in PRESETS[cfg["preset"]] or k == "preset"})
        except (ValueError, FileNotFoundError) as exc:  # e.g. a backbone_weights file no longer present
            log.warning("teacher train_config not reusable (%s); using its preset %s", exc, cfg["preset"])
            return resolve_config(cfg["preset"])
    if preset is None:
        net_cfg = ckpt.get("config") if isinstance(ckpt, dict) else None
        name = (net_cfg or {}).get("name") if isinstance(net_cfg, dict) else None
        ctor = getattr(ckpt.get("constructor"), "fun_name", None) if isinstance(ckpt, dict) else None
        ctor = {"dimpnet50": "dimp50", "dimpnet18": "dimp18"}.get(ctor, ctor)
        preset = next((n for n in (name, ctor) if n in PRESETS), "cpu_demo")
    return resolve_config(preset)


def scaled_lr_groups(cfg: dict[str, Any], scale: float) -> tuple[list[list], float]:
    """The preset's per-module learning rates times ``scale`` (and the scaled default rate)."""
    base = float(cfg["lr"])
    groups = [[prefix, (base if lr is None else float(lr)) * scale] for prefix, lr in cfg["lr_groups"]]
    return groups, base * scale


def _settings(cfg: dict[str, Any], net: torch.nn.Module, overrides: dict[str, Any] | None) -> ProcessingSettings:
    st = processing_settings(cfg)
    d = {k: getattr(st, k) for k in st.__dataclass_fields__}
    d.update(copy.deepcopy(CMD_JITTER))
    d["crop_size"] = int(getattr(net, "crop_size", d["crop_size"]))
    d.update(overrides or {})
    return ProcessingSettings.from_dict(d)


@dataclass
class DistillJob:
    """One distillation job, as the command line and the workflow describe it: what it learns (the
    strategy, looked up in ``strategies`` with ``pair_methods``), from what (pairs, frames, teacher),
    where it writes (``out_dir``, ``plot_path``), how long and how (``seed`` .. ``grad_clip``; the
    teacher's recipe where None) and on what (``threads`` .. ``amp``)."""

    strategy: str | dict[str, Any]
    pairs_path: str | Path | list  # several (one per dataset): pooled, see pair_dataset.read_pooled_pairs
    frames_path: str | Path | list  # the frames manifest of every pooled dataset
    teacher_checkpoint: str | Path
    out_dir: str | Path
    seed: int = 0
    epochs: int = 4
    samples_per_epoch: int = 64
    batch_size: int = 8
    strategies: dict[str, dict] | None = None
    pair_methods: list[str] | None = None
    processing: dict[str, Any] | None = None  # overrides of the teacher's crop settings
    num_template_crops: int = 1
    num_search_crops: int = 1
    lr_step: int | None = None  # StepLR step (default: the number of epochs, i.e. no decay)
    lr_gamma: float = 0.2
    grad_clip: float | None = None
    threads: int = 1
    device: str | torch.device = "auto"
    num_workers: int | None = None
    amp: bool = True
    progress: bool = True
    plot_path: str | Path | None = None
    keep_checkpoints: int = 1


def build_distill_trainer(job: DistillJob) -> tuple[Trainer, dict[str, Any]]:
    """A ready Trainer for one job and the job's JSON-able config (stored in every checkpoint)."""
    strat = resolve_strategy(job.strategy, pair_methods=job.pair_methods, strategies=job.strategies)
    seed, epochs, samples, batch = int(job.seed), int(job.epochs), int(job.samples_per_epoch), int(job.batch_size)
    teacher, ckpt = load_teacher(job.teacher_checkpoint)
    dev = choose_device(str(job.device))
    torch.set_num_threads(max(1, int(job.threads)))
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    seed_everything(seed)
    tcfg = teacher_train_config(ckpt)
    settings = _settings(tcfg, teacher, job.processing)
    dataset = PairDataset(job.pairs_path, job.frames_path, settings, mode=strat["mode"], samples_per_epoch=samples,
                          seed=seed, cache_frames=int(tcfg.get("cache_frames", 256)),
                          num_template_crops=job.num_template_crops, num_search_crops=job.num_search_crops)
    loader = make_loader(dataset, batch, samples, threads=job.threads, device=dev, seed=seed,
                         num_workers=job.num_workers)
    student = copy.deepcopy(teacher)
    common = dict(components=strat["components"], backbone=strat["backbone"], batchnorm=strat["batchnorm"],
                  loss_weights=tcfg["loss_weights"],
                  iou_loss=tcfg["iou_loss"], hinge_threshold=tcfg["hinge_threshold"])
    if strat["mode"] == "official":
        actor = OfficialCMDActor(student, clf_scale=strat["losses"]["clf"], iou_scale=strat["losses"]["iou"], **common)
    else:
        actor = DistillActor(student, teacher, strat["losses"], **common)
    groups, lr = scaled_lr_groups(tcfg, strat["lr_scale"])
    optimizer = build_optimizer(student, groups, lr, float(tcfg.get("weight_decay", 0.0)))
    lr_step = int(job.lr_step or max(1, epochs))
    scheduler = build_scheduler(optimizer, lr_step, job.lr_gamma)
    config = {"kind": "distill", "strategy": strat, "seed": seed, "epochs": epochs,
              "samples_per_epoch": samples, "batch_size": batch,
              "teacher_checkpoint": str(job.teacher_checkpoint), "pairs": dataset.pairs_path,
              "frames": dataset.frames_path, "teacher_preset": tcfg["preset"],
              "processing": {k: getattr(settings, k) for k in ("crop_size", "search_area_factor", "center_jitter",
                                                               "scale_jitter", "proposal_mode", "num_proposals")},
              "lr_groups": groups, "lr_step": lr_step, "lr_gamma": float(job.lr_gamma)}
    per_dataset = dataset.pairs["dataset"].value_counts().sort_index()
    log.info("distilling strategy %s (%s, pairs %s, %d pairs: %s) seed %d on %s: %d thread(s), %d loader worker(s)",
             strat["name"], strat["mode"], dataset.pairs_path, len(dataset.pairs),
             ", ".join(f"{d} {n}" for d, n in per_dataset.items()), seed, dev, job.threads, loader.num_workers)
    # the teacher's recipe unless given (cpu_demo clips: its from-scratch training spiked without)
    grad_clip = tcfg.get("grad_clip") if job.grad_clip is None else job.grad_clip
    config["grad_clip"] = grad_clip
    trainer = Trainer(actor, loader, optimizer, scheduler, job.out_dir, device=dev, train_config=config,
                      sampler_state=dataset.state_dict(), plot_path=job.plot_path, amp=job.amp, grad_clip=grad_clip,
                      keep_checkpoints=job.keep_checkpoints, progress=job.progress,
                      plot_title=f"distillation {strat['name']} (seed {seed})", batch_size=batch)
    return trainer, config


def distill(strategy: str | dict[str, Any], pairs_path: str | Path | list, frames_path: str | Path | list,
            teacher_checkpoint: str | Path, out_dir: str | Path, seed: int = 0, epochs: int = 4,
            samples_per_epoch: int = 64, batch_size: int = 8, threads: int = 1, device: str | torch.device = "auto",
            final_path: str | Path | None = None, resume: bool = True, stop_after_epoch: int | None = None,
            keep_epoch_checkpoints: bool = True, **kwargs) -> dict[str, Any]:
    """Train one strategy with one seed; returns a summary (final checkpoint, wall time, last log row).

    ``pairs_path`` / ``frames_path``: one manifest each, or lists (one per dataset) whose pairs are
    pooled, each keeping its ``dataset`` (``distill.dataset`` as a list in the workflow).

    ``out_dir`` holds the per-epoch checkpoints (a rerun resumes from the newest), ``log.csv`` and
    ``loss.png``; ``final_path`` (default ``out_dir/checkpoint.pth``) gets the student weights once
    all epochs are done. ``keep_epoch_checkpoints=False`` deletes the per-epoch files after that.
    A CUDA out-of-memory error becomes :class:`DistillOOMError` naming the batch size.
    ``kwargs``: the other fields of :class:`DistillJob` (strategies, pair_methods, processing, ...).
    """
    out_dir = Path(out_dir)
    final_path = Path(final_path) if final_path else out_dir / "checkpoint.pth"
    t0 = time.perf_counter()
    try:
        trainer, job = build_distill_trainer(DistillJob(
            strategy, pairs_path, frames_path, teacher_checkpoint, out_dir, seed=seed, epochs=epochs,
            samples_per_epoch=samples_per_epoch, batch_size=batch_size, threads=threads, device=device, **kwargs))
        history = trainer.train(int(epochs), resume=resume, stop_after_epoch=stop_after_epoch)
    except torch.cuda.OutOfMemoryError as exc:
        raise DistillOOMError(f"CUDA out of memory with batch size {batch_size} (strategy {strategy if isinstance(strategy, str) else strategy.get('name')}, "
                              f"seed {seed}): rerun with a smaller --batch-size; the workflow's distill rule "
                              f"halves it on each retry. ({exc})") from exc
    summary = {"strategy": job["strategy"]["name"], "seed": int(seed), "epochs": trainer.epoch,
               "wall_s": time.perf_counter() - t0, "last": history[-1] if history else None,
               "log": str(trainer.log_path), "plot": str(trainer.plot_path), "final": None,
               "workers": loader_workers(threads, trainer.device), "device": str(trainer.device)}
    if trainer.epoch >= int(epochs):
        summary["final"] = str(finalize(trainer, final_path, out_dir, job, keep_epoch_checkpoints))
    return summary


def finalize(trainer, final_path, out_dir, train_config: dict, keep_epoch_checkpoints: bool, **extra) -> Path:
    """Write the final checkpoint (loadable by the tracker) atomically; then, unless kept, delete the
    per-epoch checkpoints (only after success, so a killed job can still resume)."""
    net = trainer.actor.net
    save_training_checkpoint(final_path, {
        "net": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "config": dict(getattr(net, "config", {}) or {}), "net_type": type(net).__name__,
        "epoch": trainer.epoch, "final": True, "train_config": train_config, "history": trainer.history, **extra})
    if not keep_epoch_checkpoints:
        for _, p in find_checkpoints(out_dir):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    return Path(final_path)
