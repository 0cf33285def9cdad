"""Actors: run the network on a batch and compute the losses (pytracking's split).

The :class:`~cmd_core.training.trainer.Trainer` only knows the :class:`Actor` interface, so the
same loop trains the supervised teacher (:class:`DiMPActor`) and any distillation actor (a frozen
teacher + trainable student) that implements it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .losses import DEFAULT_LOSS_WEIGHTS, classification_losses, iou_mse, kl_regression

__all__ = ["Actor", "DiMPActor"]


class Actor:
    """Interface of a training actor.

    ``net`` is the trained module (its state dict and ``config`` go into checkpoints);
    ``__call__(batch)`` returns ``(loss, stats)`` with ``stats`` a dict of floats for logging;
    ``train(mode)`` switches train/eval (a distillation actor keeps its teacher in eval mode);
    ``to(device)`` moves every module it owns.
    """

    net: nn.Module

    def __call__(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:  # pragma: no cover
        raise NotImplementedError

    def train(self, mode: bool = True) -> "Actor":
        self.net.train(mode)
        return self

    def to(self, device: torch.device | str) -> "Actor":
        self.net.to(device)
        return self


class DiMPActor(Actor):
    """Supervised DiMP training: classification loss on every filter iterate + IoU-Net loss.

    args:
        net: a ``DiMPNet``.
        loss_weights: ``test_init_clf`` / ``test_iter_clf`` / ``test_clf`` (100 / 400 / 100) and
            ``iou`` (1, DiMP MSE) or ``bb_ce`` (0.01, Super DiMP KL regression).
        iou_loss: 'mse' (targets 2*IoU-1 from ``proposal_iou``) or 'kl' (``proposal_density`` /
            ``gt_density``).
        hinge_threshold: label value below which the hinge applies (0.05).
    """

    def __init__(self, net: nn.Module, loss_weights: dict[str, float] | None = None, iou_loss: str = "mse",
                 hinge_threshold: float = 0.05):
        if iou_loss not in ("mse", "kl"):
            raise ValueError(f"iou_loss must be 'mse' or 'kl', got {iou_loss!r}")
        self.net = net
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.iou_loss = iou_loss
        self.hinge_threshold = hinge_threshold

    def __call__(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        scores, iou_pred = self.net(batch["train_images"], batch["test_images"], batch["train_anno"],
                                    batch["test_proposals"])
        clf_loss, terms = classification_losses(scores, batch["test_label"], self.loss_weights, self.hinge_threshold)
        if self.iou_loss == "mse":
            bb_raw = iou_mse(iou_pred, batch["proposal_iou"])
            bb_loss = self.loss_weights["iou"] * bb_raw
            terms["iou"] = bb_raw
        else:
            bb_raw = kl_regression(iou_pred, batch["proposal_density"], batch["gt_density"], mc_dim=-1)
            bb_loss = self.loss_weights["bb_ce"] * bb_raw
            terms["bb_ce"] = bb_raw
        loss = clf_loss + bb_loss
        stats: dict[str, Any] = {"loss": loss.detach(), "loss_clf": clf_loss.detach(), "loss_bb": bb_loss.detach()}
        stats.update({k: v.detach() for k, v in terms.items()})
        return loss, stats
