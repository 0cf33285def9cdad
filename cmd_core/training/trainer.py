"""The training loop shared by teacher training and distillation.

:class:`Trainer` runs an :class:`~cmd_core.training.actors.Actor` over a DataLoader of
``(epoch, index)`` keys (see :mod:`cmd_core.training.dataset`): device choice, AMP on CUDA,
deterministic seeding, a tqdm bar with loss and samples/s, a per-epoch CSV log (loss terms, learning
rates, samples/s, data-wait fraction = time blocked on the next batch / step time), a loss-curve
PNG (:mod:`.plots`), an atomic checkpoint every epoch, and resume from the newest readable checkpoint.

Checkpoints are ``save_checkpoint``-compatible dicts (``net``, ``config``, plus ``epoch``,
``optimizer``, ``scheduler``, ``scaler``, ``rng``, ``sampler``, ``train_config``, ``history``)
holding only tensors and plain data, so ``torch.load(weights_only=True)`` and
``cmd_core.model.load_dimp_checkpoint`` read them. On CPU a resumed run gives the same weights as
an uninterrupted one: samples depend only on (seed, epoch, index) and every RNG state is restored.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import math
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cmd_core.io import atomic_open, atomic_path, remove_stale_temporaries

from .actors import Actor
from .plots import plot_history

__all__ = ["Trainer", "seed_everything", "choose_device", "rng_state", "set_rng_state", "save_training_checkpoint",
           "find_checkpoints", "CHECKPOINT_PATTERN"]

log = logging.getLogger(__name__)

CHECKPOINT_PATTERN = "checkpoint_e{epoch:03d}.pth"
_CKPT_RE = re.compile(r"^checkpoint_e(\d+)\.pth$")


# ------------------------------------------------------------------------------------ determinism
def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def choose_device(device: str = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda' without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available (use --device cpu or auto)")
    return dev


def rng_state() -> dict[str, Any]:
    """All global RNG states as tensors / plain data (weights_only-loadable)."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p[0], tuple(p[1]), p[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


# ------------------------------------------------------------------------------------ checkpoints
def save_training_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint atomically: a temporary file in the same folder renamed into place, so
    an exception or kill mid-save leaves the previous file (or nothing), never a partial one."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def find_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """Per-epoch checkpoints in ``folder`` as (epoch, path), newest first."""
    folder = Path(folder)
    found = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _CKPT_RE.match(p.name)
            if m and p.is_file():
                found.append((int(m.group(1)), p))
    return sorted(found, reverse=True)


# Settings that may change on resume: the epoch target (to extend a run) and pure bookkeeping.
RESUME_MAY_DIFFER = ("epochs", "cache_frames", "description")


def settings_differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two JSON-like settings (missing keys count)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            key = f"{prefix}{k}"
            if not prefix and k in RESUME_MAY_DIFFER:
                continue
            if k not in old or k not in new:
                out.append(key)
            else:
                out.extend(settings_differences(old[k], new[k], key + "."))
        return out
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in settings_differences(a, b, f"{prefix}{i}.")]
    return [] if old == new else [prefix.rstrip(".") or "<settings>"]


def _lookup(settings: Any, dotted: str) -> Any:
    """The value at a dotted key of `settings_differences` (None where absent)."""
    for part in dotted.split("."):
        if isinstance(settings, dict):
            settings = settings.get(part)
        elif isinstance(settings, (list, tuple)) and part.isdigit() and int(part) < len(settings):
            settings = settings[int(part)]
        else:
            return None
    return settings


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _to_float(v) -> float:
    return float(v.item()) if isinstance(v, torch.Tensor) else float(v)


# ---------------------------------------------------------------------------------------- trainer
class Trainer:
    """Epoch loop with logging, checkpoints and resume.

    args:
        actor: computes ``(loss, stats)`` from a batch; ``actor.net`` is saved.
        loader: DataLoader whose ``batch_sampler`` has ``set_epoch`` (see ``make_loader``).
        optimizer, scheduler: the optimizer updates the parameters in its groups (e.g.
            :func:`~cmd_core.training.optim.build_optimizer` over ``actor.net``); the scheduler is
            stepped once per epoch.
        out_dir: per-epoch checkpoints ``checkpoint_eNNN.pth`` and ``log.csv``.
        device: a torch device (see :func:`choose_device`).
        train_config: JSON-able settings stored in checkpoints (seed, presets ...).
        sampler_state: stored in checkpoints (reproducibility record of the sample stream).
        plot_path: loss-curve PNG (default ``out_dir/loss.png``).
        amp: mixed precision on CUDA (bfloat16 where supported, else float16 with a GradScaler).
        grad_clip: optional max gradient norm.
        keep_checkpoints: newest per-epoch checkpoints kept (older ones deleted); 0 keeps all.
        progress: show the tqdm bar.
    """

    def __init__(self, actor: Actor, loader, optimizer: torch.optim.Optimizer, scheduler, out_dir: str | Path,
                 device: torch.device | str = "cpu", train_config: dict[str, Any] | None = None,
                 sampler_state: dict[str, Any] | None = None, plot_path: str | Path | None = None,
                 amp: bool = True, grad_clip: float | None = None, keep_checkpoints: int = 3,
                 progress: bool = True, log_name: str = "log.csv", plot_title: str = "training loss",
                 batch_size: int | None = None):
        self.actor = actor
        self.loader = loader
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.out_dir = Path(out_dir)
        self.device = torch.device(device)
        self.train_config = dict(train_config or {})
        self.sampler_state = dict(sampler_state or {})
        self.plot_path = Path(plot_path) if plot_path else self.out_dir / "loss.png"
        self.log_path = self.out_dir / log_name
        self.plot_title = plot_title
        self.grad_clip = grad_clip
        self.keep_checkpoints = int(keep_checkpoints)
        self.progress = progress
        self.batch_size = batch_size or getattr(getattr(loader, "batch_sampler", None), "batch_size", None) or 1
        self.use_amp = bool(amp) and self.device.type == "cuda"
        self.amp_dtype = (torch.bfloat16 if self.use_amp and torch.cuda.is_bf16_supported() else torch.float16)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.step_losses: list[float] = []
        self.actor.to(self.device)

    # -------------------------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        net = self.actor.net
        return {
            "net": net.state_dict(),
            "config": dict(getattr(net, "config", {}) or {}),
            "net_type": type(net).__name__,
            "epoch": self.epoch,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "rng": rng_state(),
            "sampler": self.sampler_state,
            "train_config": self.train_config,
            "history": self.history,
            "step_losses": self.step_losses,
        }

    def load_state(self, ckpt: dict[str, Any]) -> None:
        from cmd_core.model import load_state_dict_checked

        load_state_dict_checked(self.actor.net, ckpt["net"], source="training checkpoint")
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt.get("scheduler") is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt.get("scaler") is not None and self.scaler.is_enabled():
            self.scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        self.epoch = int(ckpt["epoch"])
        self.history = list(ckpt.get("history") or [])
        self.step_losses = [float(x) for x in (ckpt.get("step_losses") or [])]
        old = ckpt.get("sampler") or {}
        if old and self.sampler_state and old.get("seed") != self.sampler_state.get("seed"):
            log.warning("resuming with sampler seed %s, the checkpoint used %s", self.sampler_state.get("seed"),
                        old.get("seed"))

    def resume(self) -> int:
        """Load the newest readable per-epoch checkpoint of ``out_dir``; returns its epoch (0 if none)."""
        from cmd_core.model import CheckpointError, read_checkpoint

        for epoch, path in find_checkpoints(self.out_dir):
            try:
                ckpt = read_checkpoint(path, map_location="cpu")
            except CheckpointError as exc:
                log.warning("skipping unreadable checkpoint %s: %s", path, exc)
                continue
            old = ckpt.get("train_config") if isinstance(ckpt, dict) else None
            diff = settings_differences(old, self.train_config) if old is not None and self.train_config else []
            if diff:
                shown = ", ".join(f"{k} (checkpoint {_short(_lookup(old, k))}, now {_short(_lookup(self.train_config, k))})"
                                  for k in diff)
                raise ValueError(f"{path}: cannot resume: the run's settings differ from the checkpoint's in "
                                 f"{len(diff)} key(s): {shown}; use the checkpoint's settings or another "
                                 "output folder")
            self.load_state(ckpt)
            log.info("resumed from %s (epoch %d)", path, epoch)
            return self.epoch
        return 0

    def checkpoint_path(self, epoch: int) -> Path:
        return self.out_dir / CHECKPOINT_PATTERN.format(epoch=epoch)

    def save(self, path: str | Path | None = None, **extra) -> Path:
        path = Path(path) if path else self.checkpoint_path(self.epoch)
        save_training_checkpoint(path, {**self.state(), **extra})
        return path

    def _prune(self) -> None:
        if self.keep_checkpoints <= 0:
            return
        for _, p in find_checkpoints(self.out_dir)[self.keep_checkpoints:]:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    # -------------------------------------------------------------------------------- loop
    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        nb = self.device.type == "cuda"
        return {k: v.to(self.device, non_blocking=nb) for k, v in batch.items()}

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        """One epoch; returns its log row."""
        from tqdm import tqdm

        bs = getattr(self.loader, "batch_sampler", None)
        if hasattr(bs, "set_epoch"):
            bs.set_epoch(epoch)
        self.actor.train(True)
        sums: dict[str, float] = {}
        steps = samples = 0
        wait_total = step_total = 0.0
        cuda = self.device.type == "cuda"
        total_steps = len(self.loader) if hasattr(self.loader, "__len__") else None
        bar = tqdm(total=total_steps, desc=f"epoch {epoch}", disable=not self.progress, mininterval=2.0,
                   dynamic_ncols=True, leave=True)
        epoch_start = time.perf_counter()
        it = iter(self.loader)
        t_prev = time.perf_counter()
        trainable = [p for g in self.optimizer.param_groups for p in g["params"]]
        while True:
            try:
                batch = next(it)
            except StopIteration:
                break
            t_data = time.perf_counter()
            batch = self._to_device(batch)
            n = next(iter(batch.values())).shape[1] if batch else self.batch_size
            with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype, enabled=self.use_amp):
                loss, stats = self.actor(batch)
            if not torch.isfinite(loss.detach()):
                raise FloatingPointError(f"non-finite loss {loss.item()} at epoch {epoch} step {steps + 1}")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if self.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(trainable, float(self.grad_clip))
            self.scaler.step(self.optimizer)
            self.scaler.update()
            vals = {k: _to_float(v) for k, v in stats.items()}  # syncs CUDA: step time is real
            if cuda:
                torch.cuda.synchronize(self.device)
            t_end = time.perf_counter()
            wait_total += t_data - t_prev
            step_total += t_end - t_prev
            t_prev = t_end
            steps += 1
            samples += n
            for k, v in vals.items():
                sums[k] = sums.get(k, 0.0) + v
            self.step_losses.append(vals.get("loss", float(loss.detach())))
            bar.update(1)
            bar.set_postfix(loss=f"{sums.get('loss', 0.0) / steps:.4f}", sps=f"{samples / max(step_total, 1e-9):.1f}",
                            wait=f"{wait_total / max(step_total, 1e-9):.0%}", refresh=False)
        bar.close()
        if steps == 0:
            raise RuntimeError("the data loader produced no batch (samples_per_epoch < batch_size?)")
        row: dict[str, Any] = {"epoch": epoch}
        row.update({k: v / steps for k, v in sums.items()})
        for g in self.optimizer.param_groups:
            row[f"lr_{g.get('name', 'group')}"] = g["lr"]
        row.update(steps=steps, samples=samples, epoch_time_s=time.perf_counter() - epoch_start,
                   samples_per_s=samples / max(step_total, 1e-9),
                   data_wait_fraction=wait_total / max(step_total, 1e-9))
        return row

    def write_log(self) -> None:
        """Rewrite the CSV log (from the history kept in checkpoints, so a resumed run has it all)."""
        keys: list[str] = []
        for row in self.history:
            keys += [k for k in row if k not in keys]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys)
        w.writeheader()
        for row in self.history:
            w.writerow({k: row.get(k, "") for k in keys})
        with atomic_open(self.log_path, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())

    def train(self, epochs: int, resume: bool = True, stop_after_epoch: int | None = None,
              final_path: str | Path | None = None,
              on_epoch_end: Callable[["Trainer", dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Train up to ``epochs`` (resuming from ``out_dir`` first if ``resume``).

        ``stop_after_epoch`` ends the run early (as a kill would, but cleanly); ``final_path`` gets a
        copy of the last checkpoint (``final=True``) once all epochs are done. Returns the history.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for stale in remove_stale_temporaries(self.out_dir, r"checkpoint(?:_e\d+)?\.pth"):
            log.info("removed %s, left by a checkpoint write that was killed", stale)
        if resume:
            self.resume()
        elif find_checkpoints(self.out_dir):
            raise ValueError(f"{self.out_dir} already holds checkpoints of an earlier run: resume it (--resume) "
                             "or choose an empty output folder")
        if self.epoch > epochs:
            log.warning("checkpoint is at epoch %d, beyond the requested %d epochs", self.epoch, epochs)
        while self.epoch < epochs:
            epoch = self.epoch + 1
            row = self.train_epoch(epoch)
            if self.scheduler is not None:
                self.scheduler.step()
            self.epoch = epoch
            self.history.append(row)
            path = self.save()
            self._prune()
            self.write_log()
            plot_history(self.history, self.step_losses, self.plot_path, self.plot_title)
            log.info("epoch %d: loss %.4f, %.1f samples/s, data wait %.1f%% -> %s", epoch, row.get("loss", math.nan),
                     row["samples_per_s"], 100 * row["data_wait_fraction"], path.name)
            if on_epoch_end is not None:
                on_epoch_end(self, row)
            if stop_after_epoch is not None and epoch >= stop_after_epoch:
                return self.history
        if not self.history:
            raise RuntimeError("nothing trained: no epoch in the history")
        self.write_log()
        plot_history(self.history, self.step_losses, self.plot_path, self.plot_title)
        if final_path is not None:
            self.save(final_path, final=True)
        return self.history
