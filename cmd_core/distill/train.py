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

__all__ = ["distill", "build_distill_trainer", "load_teacher", "DistillOOMError", "teacher_train_config",
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


def build_distill_trainer(strategy: str | dict[str, Any], pairs_path: str | Path, frames_path: str | Path,
                          teacher_checkpoint: str | Path, out_dir: str | Path, seed: int = 0, epochs: int = 4,
                          samples_per_epoch: int = 64, batch_size: int = 8, threads: int = 1,
                          device: str | torch.device = "auto", strategies: dict[str, dict] | None = None,
                          pair_methods: list[str] | None = None, processing: dict[str, Any] | None = None,
                          num_workers: int | None = None, progress: bool = True, plot_path: str | Path | None = None,
                          lr_step: int | None = None, lr_gamma: float = 0.2, grad_clip: float | None = None,
                          keep_checkpoints: int = 1, num_template_crops: int = 1, num_search_crops: int = 1,
                          amp: bool = True) -> tuple[Trainer, dict[str, Any]]:
    """A ready Trainer for one (strategy, seed) and the job's JSON-able config."""
    strat = resolve_strategy(strategy, pair_methods=pair_methods, strategies=strategies)
    teacher, ckpt = load_teacher(teacher_checkpoint)
    dev = choose_device(str(device))
    torch.set_num_threads(max(1, int(threads)))
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
    seed_everything(int(seed))
    tcfg = teacher_train_config(ckpt)
    settings = _settings(tcfg, teacher, processing)
    dataset = PairDataset(pairs_path, frames_path, settings, mode=strat["mode"], samples_per_epoch=samples_per_epoch,
                          seed=seed, cache_frames=int(tcfg.get("cache_frames", 256)),
                          num_template_crops=num_template_crops, num_search_crops=num_search_crops)
    loader = make_loader(dataset, int(batch_size), int(samples_per_epoch), threads=threads, device=dev, seed=seed,
                         num_workers=num_workers)
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
    scheduler = build_scheduler(optimizer, int(lr_step or max(1, epochs)), lr_gamma)
    job = {"kind": "distill", "strategy": strat, "seed": int(seed), "epochs": int(epochs),
           "samples_per_epoch": int(samples_per_epoch), "batch_size": int(batch_size),
           "teacher_checkpoint": str(teacher_checkpoint), "pairs": str(pairs_path), "frames": str(frames_path),
           "teacher_preset": tcfg["preset"], "processing": {k: getattr(settings, k) for k in
                                                            ("crop_size", "search_area_factor", "center_jitter",
                                                             "scale_jitter", "proposal_mode", "num_proposals")},
           "lr_groups": groups, "lr_step": int(lr_step or max(1, epochs)), "lr_gamma": float(lr_gamma)}
    log.info("distilling strategy %s (%s, pairs %s, %d pairs) seed %d on %s: %d thread(s), %d loader worker(s)",
             strat["name"], strat["mode"], pairs_path, len(dataset.pairs), seed, dev, threads,
             loader.num_workers)
    if grad_clip is None:  # the teacher's recipe (cpu_demo clips: its from-scratch training spiked without)
        grad_clip = tcfg.get("grad_clip")
    job["grad_clip"] = grad_clip
    trainer = Trainer(actor, loader, optimizer, scheduler, out_dir, device=dev, train_config=job,
                      sampler_state=dataset.state_dict(), plot_path=plot_path, amp=amp, grad_clip=grad_clip,
                      keep_checkpoints=keep_checkpoints, progress=progress,
                      plot_title=f"distillation {strat['name']} (seed {seed})", batch_size=int(batch_size))
    return trainer, job


def distill(strategy: str | dict[str, Any], pairs_path: str | Path, frames_path: str | Path,
            teacher_checkpoint: str | Path, out_dir: str | Path, seed: int = 0, epochs: int = 4,
            samples_per_epoch: int = 64, batch_size: int = 8, threads: int = 1, device: str | torch.device = "auto",
            final_path: str | Path | None = None, resume: bool = True, stop_after_epoch: int | None = None,
            keep_epoch_checkpoints: bool = True, **kwargs) -> dict[str, Any]:
    """Train one strategy with one seed; returns a summary (final checkpoint, wall time, last log row).

    ``out_dir`` holds the per-epoch checkpoints (a rerun resumes from the newest), ``log.csv`` and
    ``loss.png``; ``final_path`` (default ``out_dir/checkpoint.pth``) gets the student weights once
    all epochs are done. ``keep_epoch_checkpoints=False`` deletes the per-epoch files after that.
    A CUDA out-of-memory error becomes :class:`DistillOOMError` naming the batch size.
    ``kwargs``: see :func:`build_distill_trainer` (strategies, pair_methods, processing, ...).
    """
    out_dir = Path(out_dir)
    final_path = Path(final_path) if final_path else out_dir / "checkpoint.pth"
    t0 = time.perf_counter()
    try:
        trainer, job = build_distill_trainer(strategy, pairs_path, frames_path, teacher_checkpoint, out_dir, seed=seed,
                                             epochs=epochs, samples_per_epoch=samples_per_epoch,
                                             batch_size=batch_size, threads=threads, device=device, **kwargs)
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
