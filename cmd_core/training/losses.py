"""DiMP training losses: hinge-MSE classification over filter iterates, IoU MSE, KL regression.

Official weights (DiMP and Super DiMP): 100 for the initial filter's scores, 400 spread evenly over
the intermediate iterates, 100 for the final one; IoU-Net MSE weight 1 (DiMP), KL regression
weight 0.01 (Super DiMP).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["hinge_mse", "iterate_weights", "classification_losses", "iou_mse", "kl_regression",
           "DEFAULT_LOSS_WEIGHTS"]

DEFAULT_LOSS_WEIGHTS = {"test_init_clf": 100.0, "test_iter_clf": 400.0, "test_clf": 100.0, "iou": 1.0,
                        "bb_ce": 0.01}


def hinge_mse(scores: Tensor, label: Tensor, threshold: float = 0.05) -> Tensor:
    """Hinge-MSE (LBHinge): where label < threshold the score passes through ReLU and is compared
    with 0, elsewhere with the label; mean over all elements."""
    neg = label < threshold
    pred = torch.where(neg, F.relu(scores), scores)
    target = torch.where(neg, torch.zeros_like(label), label)
    return F.mse_loss(pred, target)


def iterate_weights(num_iterates: int, w_init: float = 100.0, w_iter: float = 400.0,
                    w_final: float = 100.0) -> list[float]:
    """Weight of each iterate's classification loss: [w_init, w_iter/(n-2) ..., w_final].

    One iterate gets ``w_final``; two get ``[w_init, w_final]``."""
    if num_iterates < 1:
        raise ValueError("need at least one score map")
    if num_iterates == 1:
        return [w_final]
    inner = num_iterates - 2
    return [w_init] + ([w_iter / inner] * inner if inner else []) + [w_final]


def classification_losses(scores: Sequence[Tensor], label: Tensor, weights: dict[str, float] | None = None,
                          threshold: float = 0.05) -> tuple[Tensor, dict[str, Tensor]]:
    """Weighted sum of hinge-MSE over every iterate's scores; also returns the unweighted terms
    ``clf_init`` (iterate 0), ``clf_iter`` (mean of the intermediates) and ``clf_final``."""
    w = {**DEFAULT_LOSS_WEIGHTS, **(weights or {})}
    per = [hinge_mse(s.float(), label, threshold) for s in scores]
    ws = iterate_weights(len(per), w["test_init_clf"], w["test_iter_clf"], w["test_clf"])
    total = sum(wi * li for wi, li in zip(ws, per))
    terms = {"clf_final": per[-1]}
    if len(per) >= 2:
        terms["clf_init"] = per[0]
    if len(per) >= 3:
        terms["clf_iter"] = torch.stack(per[1:-1]).mean()
    return total, terms


def iou_mse(iou_pred: Tensor, proposal_iou: Tensor) -> Tensor:
    """IoU-Net loss of DiMP: MSE between the prediction and 2*IoU - 1."""
    return F.mse_loss(iou_pred.float(), 2.0 * proposal_iou - 1.0)


def kl_regression(scores: Tensor, proposal_density: Tensor, gt_density: Tensor, mc_dim: int = -1,
                  eps: float = 0.0) -> Tensor:
    """KL-divergence regression (PrDiMP / Super DiMP) by Monte-Carlo over sampled proposals:
    log(mean(exp(s)/q)) - mean(s * p/q), with q the proposal density and p the target density."""
    scores = scores.float()
    exp_val = scores - torch.log(proposal_density + eps)
    loss = (torch.logsumexp(exp_val, dim=mc_dim) - math.log(scores.shape[mc_dim])
            - torch.mean(scores * (gt_density / (proposal_density + eps)), dim=mc_dim))
    return loss.mean()
