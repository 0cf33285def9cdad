"""Training plots: the loss-curve PNG the :class:`~cmd_core.training.trainer.Trainer` rewrites
after every epoch."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from cmd_core.io import atomic_open

__all__ = ["plot_history"]


def plot_history(history: list[dict[str, Any]], step_losses: list[float], path: str | Path,
                 title: str = "training loss") -> None:
    """Loss curve PNG: total loss per step (with a running mean) and per-epoch loss terms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    if step_losses:
        x = np.arange(1, len(step_losses) + 1)
        y = np.asarray(step_losses, dtype=float)
        ax.plot(x, y, color="0.75", lw=0.8, label="per step")
        k = max(1, len(y) // 30)
        if len(y) >= k:
            run = np.convolve(y, np.ones(k) / k, mode="valid")
            ax.plot(x[k - 1:], run, color="C0", lw=1.8, label=f"running mean ({k})")
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("total loss")
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax = axes[1]
    if history:
        ep = [h["epoch"] for h in history]
        keys = [k for k in history[0] if k.startswith(("loss", "clf_", "iou", "bb_ce"))]
        for key in keys:
            vals = [h.get(key) for h in history]
            if all(v is not None and v == v and v > 0 for v in vals):
                ax.plot(ep, vals, marker="o", ms=3, label=key)
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title("per-epoch mean loss terms")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    with atomic_open(path, "wb") as fh:
        fh.write(buf.getvalue())
