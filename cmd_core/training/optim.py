"""Optimizer and schedule: Adam with per-module learning rates, StepLR (official: step 15, gamma 0.2).

Learning-rate groups are ``[(module prefix, lr or None for the default), ...]``; a parameter joins the
first group whose prefix matches its name. Parameters matched by no group are not optimised (as in
the official settings, e.g. Super DiMP trains only layer3 of the backbone); frozen parameters
(``requires_grad=False``) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["param_groups", "build_optimizer", "build_scheduler"]


def param_groups(net: nn.Module, groups: Sequence[Sequence], default_lr: float) -> list[dict]:
    """Adam parameter groups ``{'params', 'lr', 'name'}`` for module-prefix groups."""
    buckets: list[list[nn.Parameter]] = [[] for _ in groups]
    for name, p in net.named_parameters():
        if not p.requires_grad:
            continue
        for i, (prefix, _lr) in enumerate(groups):
            if name == prefix or name.startswith(prefix + "."):
                buckets[i].append(p)
                break
    out = []
    for (prefix, lr), params in zip(groups, buckets):
        if params:
            out.append({"params": params, "lr": float(default_lr if lr is None else lr), "name": str(prefix)})
    if not out:
        raise ValueError("no trainable parameter matches the learning-rate groups "
                         f"{[g[0] for g in groups]}")
    return out


def build_optimizer(net: nn.Module, groups: Sequence[Sequence], default_lr: float = 2e-4,
                    weight_decay: float = 0.0) -> torch.optim.Adam:
    """Adam over the per-module groups (official DiMP: no weight decay)."""
    return torch.optim.Adam(param_groups(net, groups, default_lr), lr=default_lr, weight_decay=weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, step_size: int = 15, gamma: float = 0.2):
    """StepLR stepped once per epoch."""
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(step_size), gamma=float(gamma))
