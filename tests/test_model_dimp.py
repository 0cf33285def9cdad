"""DiMP network: configurations, forward shapes, official state-dict naming, classifier maths."""

from __future__ import annotations

import math

import pytest
import torch

from cmd_core.model import (
    AtomIoUNet,
    DiMPSteepestDescentGN,
    apply_filter,
    apply_filter_transpose,
    build_dimp,
    count_parameters,
    dimp18,
    dimp50,
    super_dimp,
)
from cmd_core.model.classifier import InstanceL2Norm, distance_bins


pytestmark = pytest.mark.usefixtures("torch_one_thread")

# Expected state-dict key prefixes of the official checkpoints (dimp-reference.md, "Checkpoints").
OPTIMIZER_KEYS = ["classifier.filter_optimizer.log_step_length", "classifier.filter_optimizer.filter_reg",
                  "classifier.filter_optimizer.label_map_predictor.weight",
                  "classifier.filter_optimizer.target_mask_predictor.0.weight",
                  "classifier.filter_optimizer.spatial_weight_predictor.weight"]
IOU_CONV_BLOCKS = ["conv3_1r", "conv3_1t", "conv3_2t", "fc3_1r", "conv4_1r", "conv4_1t", "conv4_2t",
                   "fc34_3r", "fc34_4r"]
BN = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
EXPECTED_KEYS = (
    OPTIMIZER_KEYS
    + ["classifier.filter_initializer.filter_conv.weight", "classifier.filter_initializer.filter_conv.bias"]
    + [f"bb_regressor.{b}.0.{p}" for b in IOU_CONV_BLOCKS for p in ("weight", "bias")]
    + [f"bb_regressor.{b}.1.{p}" for b in IOU_CONV_BLOCKS for p in BN]
    + [f"bb_regressor.{b}.linear.{p}" for b in ("fc3_rt", "fc4_rt") for p in ("weight", "bias")]
    + [f"bb_regressor.{b}.bn.{p}" for b in ("fc3_rt", "fc4_rt") for p in BN]
    + ["bb_regressor.iou_predictor.weight", "bb_regressor.iou_predictor.bias"]
)
ALLOWED_PREFIXES = ("feature_extractor.", "classifier.feature_extractor.", "classifier.filter_initializer.filter_conv.",
                    "classifier.filter_optimizer.", "bb_regressor.")


@pytest.fixture(scope="module")
def net18():
    torch.manual_seed(0)
    return dimp18(crop_size=128)


@pytest.fixture(scope="module")
def net50():
    torch.manual_seed(0)
    return dimp50(crop_size=64)


def _check_official_naming(sd, n_keys, backbone_keys):
    keys = list(sd)
    assert len(keys) == n_keys
    assert all(k.startswith(ALLOWED_PREFIXES) for k in keys)
    missing = [k for k in EXPECTED_KEYS if k not in sd]
    assert not missing, missing
    backbone = {k[len("feature_extractor."):] for k in keys if k.startswith("feature_extractor.")}
    assert backbone == set(backbone_keys)  # torchvision ResNet names one to one, incl. layer4 and fc


def test_dimp18_state_dict_names(net18):
    import torchvision

    sd = net18.state_dict()
    _check_official_naming(sd, 221, torchvision.models.resnet18().state_dict().keys())
    head = [k for k in sd if k.startswith("classifier.feature_extractor.")]
    assert "classifier.feature_extractor.0.conv1.weight" in head  # BasicBlock(256, 256)
    assert "classifier.feature_extractor.1.weight" in head  # Conv3x3 256->256, no bias
    assert sd["classifier.feature_extractor.1.weight"].shape == (256, 256, 3, 3)
    assert sd["classifier.filter_optimizer.label_map_predictor.weight"].shape == (1, 100, 1, 1)
    assert sd["bb_regressor.conv3_1r.0.weight"].shape == (128, 128, 3, 3)
    assert sd["bb_regressor.fc3_rt.linear.weight"].shape == (256, 256 * 25)


def test_dimp50_state_dict_names_and_size(net50):
    import torchvision

    sd = net50.state_dict()
    _check_official_naming(sd, 407, torchvision.models.resnet50().state_dict().keys())
    assert [k for k in sd if k.startswith("classifier.feature_extractor.")] == ["classifier.feature_extractor.0.weight"]
    assert sd["classifier.feature_extractor.0.weight"].shape == (512, 1024, 3, 3)
    assert sd["bb_regressor.conv3_1t.0.weight"].shape == (256, 512, 3, 3)
    assert sd["bb_regressor.conv4_1r.0.weight"].shape == (256, 1024, 3, 3)
    assert abs(count_parameters(net50) / 1e6 - 43.1) < 0.05


def test_dimp18_training_forward_shapes_and_backward(net18):
    net18.train()
    torch.manual_seed(1)
    train = torch.randn(2, 2, 3, 128, 128)
    test = torch.randn(1, 2, 3, 128, 128)
    bb = torch.tensor([40.0, 44.0, 48.0, 36.0]).expand(2, 2, 4).clone()
    props = bb[:1, :, None, :].expand(1, 2, 4, 4) + torch.randn(1, 2, 4, 4)
    scores, iou = net18(train, test, bb, props)
    assert len(scores) == 6  # initial filter + 5 iterations
    assert all(s.shape == (1, 2, 9, 9) for s in scores)  # 8x8 features, 4x4 filter -> 9x9
    assert iou.shape == (1, 2, 4)
    (sum(s.square().mean() for s in scores) + iou.square().mean()).backward()
    assert net18.classifier.filter_optimizer.log_step_length.grad is not None
    assert net18.bb_regressor.iou_predictor.weight.grad is not None


def test_dimp50_tiny_forward(net50):
    net50.eval()
    with torch.no_grad():
        scores, iou = net50(torch.randn(1, 1, 3, 64, 64), torch.randn(1, 1, 3, 64, 64),
                            torch.tensor([[[16.0, 16.0, 32.0, 32.0]]]), torch.tensor([[[[16.0, 16.0, 30.0, 34.0]]]]))
    assert scores[-1].shape == (1, 1, 5, 5) and iou.shape == (1, 1, 1)
    assert torch.isfinite(scores[-1]).all() and torch.isfinite(iou).all()


def test_super_dimp_configuration():
    net = super_dimp(crop_size=64)
    assert len(net.state_dict()) == 407
    assert net.config["search_area_factor"] == 6.0
    assert net.feature_size == 4
    assert not any(p.requires_grad for p in net.feature_extractor.layer2.parameters())
    assert all(p.requires_grad for p in net.feature_extractor.layer3.parameters())
    net.train()
    assert not net.feature_extractor.layer1.training and net.feature_extractor.layer3.training
    # Default crop 352 -> 22 features, label sigma (1/4)/6*22
    assert math.isclose(super_dimp().config["init_gauss_sigma"], 0.25 / 6 * 22)


def test_tracking_api_box_gradient(net18):
    """The parts the tracker calls; IoU is differentiable w.r.t. the proposal boxes."""
    net18.eval()
    im = torch.randn(1, 3, 128, 128)
    feat = net18.extract_backbone_features(im)
    assert feat["layer2"].shape == (1, 128, 16, 16) and feat["layer3"].shape == (1, 256, 8, 8)
    clf = net18.extract_classification_feat(feat)
    bb = torch.tensor([[[40.0, 40.0, 40.0, 40.0]]])
    filt, iters, losses = net18.classifier.get_filter(clf.reshape(1, 1, *clf.shape[-3:]), bb, num_iter=3)
    assert filt.shape == (1, 256, 4, 4) and len(iters) == 4 and len(losses) == 4
    mod = net18.bb_regressor.get_modulation(net18.get_backbone_bbreg_feat(feat), bb[0])
    iou_feat = net18.bb_regressor.get_iou_feat(net18.get_backbone_bbreg_feat(feat))
    props = torch.tensor([[[38.0, 42.0, 44.0, 36.0], [30.0, 30.0, 50.0, 50.0]]], requires_grad=True)
    iou = net18.bb_regressor.predict_iou(mod, iou_feat, props)
    assert iou.shape == (1, 2)
    iou.sum().backward()
    assert torch.isfinite(props.grad).all() and props.grad.abs().sum() > 0


def test_filter_transpose_is_adjoint():
    torch.manual_seed(2)
    feat = torch.randn(3, 2, 5, 7, 6, dtype=torch.float64)
    for fs in (1, 3, 4):
        f = torch.randn(2, 5, fs, fs, dtype=torch.float64, requires_grad=True)
        scores = apply_filter(feat, f)
        maps = torch.randn_like(scores)
        (g,) = torch.autograd.grad((scores * maps).sum(), f)
        assert torch.allclose(apply_filter_transpose(feat, maps, (fs, fs)), g, atol=1e-10)


def test_optimizer_initialisation_and_descent():
    opt = DiMPSteepestDescentGN(num_iter=5, init_step_length=0.9, init_filter_reg=0.1, init_gauss_sigma=0.9,
                                num_dist_bins=100, bin_displacement=0.1, mask_init_factor=3.0)
    d = torch.arange(100) * 0.1
    y = torch.exp(-0.5 * (d / 0.9) ** 2)
    assert torch.allclose(opt.label_map_predictor.weight.flatten(), y - y.min())
    assert torch.allclose(opt.target_mask_predictor[0].weight.flatten(), 3.0 * torch.tanh(2.0 - d))
    assert torch.all(opt.spatial_weight_predictor.weight == 1)
    assert math.isclose(opt.log_step_length.item(), math.log(0.9), rel_tol=1e-6)
    torch.manual_seed(3)
    feat = InstanceL2Norm(scale=math.sqrt(1 / (16 * 16)))(torch.randn(6, 16, 8, 8)).reshape(3, 2, 16, 8, 8)
    bb = torch.tensor([[40.0, 50.0, 30.0, 20.0], [60.0, 30.0, 20.0, 40.0]]).expand(3, 2, 4)
    with torch.no_grad():
        _, iters, losses = opt(torch.zeros(2, 16, 4, 4), feat, bb, num_iter=8)
    assert len(iters) == 9 and len(losses) == 9
    assert losses[-1] < losses[0] and all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))


def test_distance_bins():
    bins = distance_bins(torch.tensor([[2.0, 3.0]]), (5, 6), num_bins=4, bin_width=1.0)
    assert bins.shape == (1, 4, 5, 6)
    assert bins[0, 0, 2, 3] == 1 and bins[0, 1:, 2, 3].sum() == 0
    assert torch.allclose(bins.sum(dim=1), torch.ones(5, 6))  # triangular bins + saturating last bin
    assert bins[0, 3, 4, 0] == 1  # far away -> last bin


def test_instance_l2_norm():
    x = torch.randn(2, 3, 4, 4) * 7
    y = InstanceL2Norm(scale=0.5)(x)
    assert torch.allclose(y.square().mean(dim=(1, 2, 3)), torch.full((2,), 0.25), rtol=1e-4)


def test_iou_net_standalone_shapes():
    net = AtomIoUNet(input_dim=(8, 16), pred_input_dim=(32, 32), pred_inter_dim=(16, 16)).eval()
    f1 = [torch.randn(2, 1, 8, 16, 16), torch.randn(2, 1, 16, 8, 8)]
    f2 = [torch.randn(1, 1, 8, 16, 16), torch.randn(1, 1, 16, 8, 8)]
    bb = torch.tensor([[[30.0, 30.0, 40.0, 40.0]]]).expand(2, 1, 4)
    out = net(f1, f2, bb, torch.tensor([[[[30.0, 30.0, 40.0, 40.0], [20.0, 25.0, 60.0, 50.0]]]]))
    assert out.shape == (1, 1, 2)


def test_bad_options():
    with pytest.raises(ValueError):
        build_dimp("resnet34")
    with pytest.raises(ValueError):
        dimp18(crop_size=100)
