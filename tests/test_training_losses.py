"""Loss functions and their official weights."""

from __future__ import annotations

import math

import pytest
import torch

from cmd_core.training.losses import classification_losses, hinge_mse, iou_mse, iterate_weights, kl_regression


def test_iterate_weights_official():
    # 5 optimizer iterations -> 6 score maps: 100 initial, 400 over 4 intermediates, 100 final
    assert iterate_weights(6) == [100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    assert iterate_weights(4) == pytest.approx([100.0, 200.0, 200.0, 100.0])
    assert sum(iterate_weights(11)[1:-1]) == pytest.approx(400.0)
    assert iterate_weights(2) == [100.0, 100.0] and iterate_weights(1) == [100.0]


def test_hinge_mse():
    label = torch.tensor([0.0, 0.01, 0.5, 1.0])
    scores = torch.tensor([-1.0, 0.2, 0.5, 0.0])
    # negatives: relu(-1)=0 -> 0, relu(0.2)=0.2 -> 0.04; positives: 0, 1
    assert hinge_mse(scores, label).item() == pytest.approx((0 + 0.04 + 0 + 1.0) / 4)


def test_classification_losses_weighting():
    torch.manual_seed(0)
    label = torch.rand(2, 3, 5, 5)
    scores = [torch.randn(2, 3, 5, 5) for _ in range(6)]
    total, terms = classification_losses(scores, label)
    per = [hinge_mse(s, label) for s in scores]
    expected = 100 * per[0].item() + 100 * sum(p.item() for p in per[1:5]) + 100 * per[5].item()
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert terms["clf_final"].item() == pytest.approx(per[-1].item())
    assert terms["clf_iter"].item() == pytest.approx(sum(p.item() for p in per[1:5]) / 4, rel=1e-6)
    total2, _ = classification_losses(scores, label, {"test_init_clf": 0.0, "test_iter_clf": 0.0, "test_clf": 1.0})
    assert total2.item() == pytest.approx(per[-1].item())


def test_iou_mse_targets():
    iou = torch.tensor([[0.5, 1.0, 0.0]])
    assert iou_mse(torch.tensor([[0.0, 1.0, -1.0]]), iou).item() == pytest.approx(0.0)


def test_kl_regression_prefers_the_target_density():
    torch.manual_seed(0)
    q = torch.rand(4, 64) + 0.5
    p = torch.rand(4, 64)
    good = kl_regression(torch.log(p + 1e-3), q, p)
    bad = kl_regression(torch.zeros(4, 64), q, p)
    assert math.isfinite(good.item()) and good.item() < bad.item()
