"""The supervised TIR upper bound: the RGB teacher fine-tuned on TIR *with ground-truth labels*.

Not a distillation strategy (it reads the TIR ground-truth boxes of a labelled manifest); it bounds
what the unsupervised strategies could reach with the same data and budget. It reuses the teacher
training wiring (:func:`cmd_core.training.teacher.build_teacher_trainer`, the ordinary
``DiMPActor``) with the teacher's weights as the starting point and its learning rates scaled.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from cmd_core.training.teacher import build_teacher_trainer

from .train import finalize, load_teacher, scaled_lr_groups, teacher_train_config

__all__ = ["train_supervised_tir"]


def train_supervised_tir(manifest: str | Path, teacher_checkpoint: str | Path, out_dir: str | Path, seed: int = 0,
                         epochs: int = 4, samples_per_epoch: int = 64, batch_size: int = 8, threads: int = 1,
                         device: str = "auto", lr_scale: float = 0.3, final_path: str | Path | None = None,
                         resume: bool = True, stop_after_epoch: int | None = None, progress: bool = True,
                         num_workers: int | None = None, keep_epoch_checkpoints: bool = True) -> dict[str, Any]:
    """Fine-tune the teacher on the TIR images and TIR ground-truth boxes of ``manifest``.

    Returns a summary like :func:`cmd_core.distill.train.distill`; the final checkpoint (loadable by
    ``cmd_core.tracking.network.load_network``) records ``uses_labels=True``.
    """
    from cmd_core.model import load_state_dict_checked

    teacher, ckpt = load_teacher(teacher_checkpoint)
    tcfg = teacher_train_config(ckpt)
    groups, lr = scaled_lr_groups(tcfg, lr_scale)
    over = {k: v for k, v in tcfg.items() if k != "preset"}
    over.update(modality="tir", epochs=int(epochs), samples_per_epoch=int(samples_per_epoch),
                batch_size=int(batch_size), seed=int(seed), lr=lr, lr_groups=groups, lr_step=max(1, int(epochs)),
                net={**tcfg["net"], "crop_size": int(teacher.crop_size)}, backbone_weights=None)
    from cmd_core.training.config import resolve_config

    config = resolve_config(tcfg["preset"], **over)
    config["supervised_tir"] = {"uses_labels": True, "teacher_checkpoint": str(teacher_checkpoint),
                                "lr_scale": float(lr_scale)}
    out_dir = Path(out_dir)
    final_path = Path(final_path) if final_path else out_dir / "checkpoint.pth"
    trainer = build_teacher_trainer(manifest, out_dir, config, device=device, threads=threads, progress=progress,
                                    num_workers=num_workers, keep_checkpoints=1)
    # start from the teacher (a resume below overrides this with the newest epoch checkpoint)
    load_state_dict_checked(trainer.actor.net, teacher.state_dict(), source=str(teacher_checkpoint))
    trainer.plot_title = f"supervised TIR upper bound (uses TIR labels, seed {seed})"
    t0 = time.perf_counter()
    try:
        history = trainer.train(int(epochs), resume=resume, stop_after_epoch=stop_after_epoch)
    except torch.cuda.OutOfMemoryError as exc:
        from .train import DistillOOMError

        raise DistillOOMError(f"CUDA out of memory with batch size {batch_size} (supervised TIR, seed {seed}): rerun "
                              "with a smaller --batch-size; the workflow halves it on each retry. "
                              f"({exc})") from exc
    summary = {"model": "supervised_tir", "uses_labels": True, "seed": int(seed), "epochs": trainer.epoch,
               "wall_s": time.perf_counter() - t0, "last": history[-1] if history else None,
               "log": str(trainer.log_path), "plot": str(trainer.plot_path), "final": None}
    if trainer.epoch >= int(epochs):
        summary["final"] = str(finalize(trainer, final_path, out_dir, config, keep_epoch_checkpoints,
                                        uses_labels=True))
    return summary
