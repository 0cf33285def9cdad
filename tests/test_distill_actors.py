"""Distillation actors: finite losses that drop when overfitting a fixed batch, frozen parts stay
bitwise unchanged, trainable ones move, zero distillation losses for identical inputs."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import ablation_strategies
from test_distill_fixtures import CROP, world  # noqa: F401  (fixture)

from cmd_core.distill.actors import (DistillActor, OfficialCMDActor, feature_mimic_loss, response_kl, response_mse,
                                     run_dimp)
from cmd_core.distill.pair_dataset import PairDataset
from cmd_core.distill.strategies import resolve_strategy
from cmd_core.model import dimp18
from cmd_core.training.dataset import stack_collate
from cmd_core.training.optim import build_optimizer
from cmd_core.training.processing import ProcessingSettings

torch.set_num_threads(1)  # 2 threads on 2 busy cores can be 10x slower (OpenMP spin-waits)

# The one-head ablations are not default strategies: they come with config/ablations.yaml.
ABLATION_STRATEGIES = ablation_strategies()


def _batch(world, mode, n=2):
    st = ProcessingSettings(crop_size=CROP, num_proposals=4)
    ds = PairDataset(world["central"], world["frames"], st, mode=mode, samples_per_epoch=n, seed=1)
    return stack_collate([ds[(0, i)] for i in range(n)])


@pytest.fixture(scope="module")
def teacher(world):
    """A random tiny DiMP-18 whose BatchNorm running statistics are those of its activations on the
    world's RGB crops (as a trained teacher's are of its training crops, not the initial 0 / 1)."""
    torch.manual_seed(0)
    net = dimp18(crop_size=CROP)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.momentum = None  # cumulative average over the calibration pass
    b = _batch(world, "distill", n=4)
    with torch.no_grad():
        run_dimp(net.train(), b["train_images"], b["test_images"], b["train_anno"], b["test_proposals"])
    for m in bns:
        m.momentum = 0.1
    return net.eval()


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def _steps(actor, batch, n=6, lr=1e-3):
    # the optimizer as the trainers build it: Adam over the trainable parameters of actor.net
    opt = build_optimizer(actor.net, [(name, None) for name, _ in actor.net.named_children()], lr)
    losses = []
    actor.train(True)
    for _ in range(n):
        loss, stats = actor(batch)
        assert torch.isfinite(loss) and all(torch.isfinite(torch.as_tensor(v)) for v in stats.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def test_official_actor_overfits_and_keeps_backbone_frozen(world, teacher):
    net = copy.deepcopy(teacher)
    # batch statistics: 8 steps at lr 1e-3 from random heads diverge with frozen BatchNorm
    actor = OfficialCMDActor(net, components=("classifier", "iou"), backbone="frozen", batchnorm="train")
    before = {p: _state(getattr(net, p)) for p in ("feature_extractor", "classifier", "bb_regressor")}
    losses = _steps(actor, _batch(world, "official"), n=8)
    assert losses[-1] < losses[0]
    assert _same(before["feature_extractor"], _state(net.feature_extractor))  # incl. BN running stats
    assert not _same(before["classifier"], _state(net.classifier))
    assert not _same(before["bb_regressor"], _state(net.bb_regressor))


@pytest.mark.parametrize("name, frozen, moved", [
    ("full", [], ["feature_extractor", "classifier", "bb_regressor"]),
    ("full_clf_only", ["feature_extractor", "bb_regressor"], ["classifier"]),
    ("full_iou_only", ["feature_extractor", "classifier"], ["bb_regressor"]),
])
def test_distill_actor_components(world, teacher, name, frozen, moved):
    s = resolve_strategy(name, pair_methods=["central", "random", "detector"], strategies=ABLATION_STRATEGIES)
    student = copy.deepcopy(teacher)
    actor = DistillActor(student, teacher, s["losses"], s["components"], s["backbone"])
    before = {p: _state(getattr(student, p)) for p in ("feature_extractor", "classifier", "bb_regressor")}
    t_before = _state(actor.teacher)
    losses = _steps(actor, _batch(world, "distill"), n=6 if name == "full" else 3)
    if name == "full":
        assert losses[-1] < losses[0]
    for p in frozen:
        assert _same(before[p], _state(getattr(student, p))), p
    for p in moved:
        assert not _same(before[p], _state(getattr(student, p))), p
    assert _same(t_before, _state(actor.teacher))  # the teacher never changes


def test_distill_losses_are_zero_for_identical_inputs(world, teacher):
    batch = _batch(world, "distill")
    batch["train_images_student"] = batch["train_images"].clone()
    batch["test_images_student"] = batch["test_images"].clone()
    s = resolve_strategy("full")
    actor = DistillActor(copy.deepcopy(teacher), teacher, s["losses"], s["components"], s["backbone"])
    actor.train(False)  # same batch-norm mode as the teacher
    with torch.no_grad():
        loss, stats = actor(batch)
    assert float(stats["feature"]) == pytest.approx(0.0, abs=1e-6)
    assert float(stats["response"]) == pytest.approx(0.0, abs=1e-6)
    assert float(stats["iou_distill"]) == pytest.approx(0.0, abs=1e-8)
    assert float(loss) == pytest.approx(0.0, abs=1e-5)


def test_loss_functions():
    torch.manual_seed(0)
    a = torch.randn(2, 3, 9, 9)
    assert float(response_kl(a, a, 0.1)) == pytest.approx(0.0, abs=1e-6)
    assert float(response_kl(a, torch.randn_like(a), 0.1)) > 0
    assert float(response_mse(a, a)) == 0.0
    f = torch.randn(2, 8, 4, 4)
    assert float(feature_mimic_loss(f, f)) == pytest.approx(0.0, abs=1e-6)
    assert float(feature_mimic_loss(f, 3 * f)) == pytest.approx(0.0, abs=1e-6)  # scale-free after normalisation
    assert 0 < float(feature_mimic_loss(f, -f)) <= 4.0 + 1e-5


@pytest.mark.parametrize("batchnorm", [None, "train"])
def test_default_strategy_keeps_batchnorm_statistics_of_a_trainable_backbone(world, teacher, batchnorm):
    """The default strategy full (trainable backbone, both heads) keeps the teacher's BatchNorm running
    statistics in the ResNet backbone and the heads while their weights train (batchnorm: frozen);
    with batchnorm: train the statistics move to the pair batches."""
    s = resolve_strategy("full" if batchnorm is None else {**resolve_strategy("full"), "batchnorm": batchnorm})
    student = copy.deepcopy(teacher)
    actor = DistillActor(student, teacher, s["losses"], s["components"], s["backbone"], batchnorm=s["batchnorm"])
    stats = {k: v.clone() for k, v in student.state_dict().items() if "running" in k}
    parts = {"feature_extractor", "classifier", "bb_regressor"}
    assert {k.split(".")[0] for k in stats} == parts
    convs = {k: student.state_dict()[k].clone() for k in ("feature_extractor.layer3.0.conv1.weight",
                                                          "classifier.feature_extractor.0.conv1.weight",
                                                          "bb_regressor.conv3_1r.0.weight")}
    _steps(actor, _batch(world, "distill"), n=2)
    after = student.state_dict()
    assert all(not torch.equal(v, after[k]) for k, v in convs.items())  # the backbone and heads train
    moved = [k for k, v in stats.items() if not torch.equal(v, after[k])]
    if batchnorm is None:
        assert moved == []
    else:
        assert {k.split(".")[0] for k in moved} == parts


def test_frozen_batchnorm_keeps_running_statistics(world, teacher):
    net = copy.deepcopy(teacher)
    actor = OfficialCMDActor(net, components=("classifier", "iou"), backbone="frozen", batchnorm="frozen")
    stats_before = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    w_before = _state(net.bb_regressor)
    _steps(actor, _batch(world, "official"), n=2)
    after = net.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in stats_before.items())
    assert not _same(w_before, _state(net.bb_regressor))  # affine / conv weights still train
