"""Checkpoint loading: official legacy layout via the restricted unpickler, refusals, clear errors."""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import types

import pytest
import torch

from cmd_core.model import (
    CheckpointError,
    LegacyNetConstructor,
    UnsafeCheckpointError,
    dimp18,
    dimp50,
    load_dimp_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from cmd_core.model.safe_load import RestrictedUnpickler


pytestmark = pytest.mark.usefixtures("torch_one_thread")

# Constructor keywords as stored in the official dimp18.pth (ltr/train_settings/dimp/dimp18.py).
DIMP18_KWDS = dict(filter_size=4, backbone_pretrained=True, optim_iter=5, clf_feat_norm=True, final_conv=True,
                   optim_init_step=0.9, optim_init_reg=0.1, init_gauss_sigma=0.9, num_dist_bins=100,
                   bin_displacement=0.1, mask_init_factor=3.0, target_mask_act="sigmoid", score_act="relu")

CONSTRUCTED = []  # a fake class records here if the loader ever instantiated it


@contextlib.contextmanager
def fake_pytracking_module(module_name: str):
    """Create module `module_name` (and parents) holding a NetConstructor class, like pytracking's."""

    class NetConstructor:
        def __init__(self, fun_name, fun_module, args, kwds):
            self.fun_name, self.fun_module, self.args, self.kwds = fun_name, fun_module, args, kwds

        def __setstate__(self, state):  # would only run if the real class were used on load
            CONSTRUCTED.append(state)
            self.__dict__.update(state)

    NetConstructor.__module__ = module_name
    NetConstructor.__qualname__ = "NetConstructor"
    parts = module_name.split(".")
    added = []
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            added.append(name)
    sys.modules[module_name].NetConstructor = NetConstructor
    try:
        yield NetConstructor
    finally:
        for name in added:
            del sys.modules[name]


@pytest.fixture(scope="module")
def net18():
    torch.manual_seed(0)
    return dimp18(crop_size=128)


def _write_legacy(path, net, module_name, fun_module, zip_format=True):
    with fake_pytracking_module(module_name) as NetConstructor:
        ckpt = {"epoch": 50, "actor_type": "DiMPActor", "net_type": "DiMPnet", "net": net.state_dict(),
                "net_info": None, "constructor": NetConstructor("dimpnet18", fun_module, (), dict(DIMP18_KWDS))}
        torch.save(ckpt, path, _use_new_zipfile_serialization=zip_format)


@pytest.mark.parametrize("module_name,fun_module,zip_format", [
    ("ltr.admin.model_constructor", "ltr.models.tracking.dimpnet", True),
    ("ltr.admin.model_constructor", "ltr.models.tracking.dimpnet", False),  # pre-1.6 torch file format
    ("dlframework.common.utils.model_constructor", "dlframework.models.tracking.dimpnet", False),
])
def test_legacy_checkpoint_loads_strict(tmp_path, net18, module_name, fun_module, zip_format):
    path = tmp_path / "dimp18.pth"
    _write_legacy(path, net18, module_name, fun_module, zip_format)
    assert module_name not in sys.modules
    with pytest.raises(pickle.UnpicklingError):  # plain weights_only refuses the constructor
        torch.load(path, weights_only=True)
    CONSTRUCTED.clear()
    model, ckpt = load_dimp_checkpoint(path)  # builds from the constructor, strict=True
    assert CONSTRUCTED == []
    assert isinstance(ckpt["constructor"], LegacyNetConstructor)
    assert ckpt["constructor"].fun_name == "dimpnet18" and ckpt["constructor"].kwds["num_dist_bins"] == 100
    assert ckpt["epoch"] == 50
    ref = net18.state_dict()
    got = model.state_dict()
    assert list(got) == list(ref)
    assert all(torch.equal(got[k], ref[k]) for k in ref)
    assert model.classifier.filter_optimizer.num_dist_bins == 100

    fresh = dimp18(crop_size=128)
    load_dimp_checkpoint(path, model=fresh)  # into a given model
    assert torch.equal(fresh.state_dict()["bb_regressor.iou_predictor.weight"], ref["bb_regressor.iou_predictor.weight"])


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path, net18):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"net": {}, "constructor": _Evil(marker)}, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_dimp_checkpoint(path)
    msg = str(err.value)
    assert str(path) in msg and "system" in msg
    assert not marker.exists()

    raw = tmp_path / "evil.pkl"  # a bare pickle, not a torch file
    raw.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(UnsafeCheckpointError, match="refused"):
        read_checkpoint(raw)
    assert not marker.exists()


def test_restricted_unpickler_refuses_builtins_eval():
    payload = b"cbuiltins\neval\n(S'1+1'\ntR."
    import io

    with pytest.raises(UnsafeCheckpointError, match="builtins.eval"):
        RestrictedUnpickler(io.BytesIO(payload)).load()


def test_wrong_architecture_names_keys(tmp_path, net18):
    path = tmp_path / "dimp18_as_50.pth"
    save_checkpoint(path, net18)
    net50 = dimp50(crop_size=64)
    with pytest.raises(CheckpointError) as err:
        load_dimp_checkpoint(path, model=net50)
    msg = str(err.value)
    assert str(path) in msg and "missing key" in msg and "unexpected key" in msg
    assert "feature_extractor.layer1.0.conv3.weight" in msg  # a ResNet-50 key absent from DiMP-18
    assert "shape mismatch" in msg


def test_truncated_files_give_clear_error(tmp_path, net18):
    good = tmp_path / "good.pth"
    save_checkpoint(good, net18)
    data = good.read_bytes()
    for name, blob in [("cut.pth", data[: len(data) // 2]), ("empty.pth", b"")]:
        p = tmp_path / name
        p.write_bytes(blob)
        with pytest.raises(CheckpointError, match="truncated"):
            load_dimp_checkpoint(p, model=net18)
    legacy = tmp_path / "legacy.pth"
    _write_legacy(legacy, net18, "ltr.admin.model_constructor", "ltr.models.tracking.dimpnet", zip_format=False)
    cut = tmp_path / "legacy_cut.pth"
    cut.write_bytes(legacy.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="truncated"):
        load_dimp_checkpoint(cut)
    with pytest.raises(CheckpointError, match="not found"):
        load_dimp_checkpoint(tmp_path / "nope.pth")


def test_own_checkpoint_roundtrip_weights_only(tmp_path, net18):
    path = tmp_path / "own.pth"
    save_checkpoint(path, net18, epoch=3)
    raw = torch.load(path, weights_only=True)  # our format needs no unpickler exceptions
    assert raw["epoch"] == 3 and raw["config"]["backbone"] == "resnet18"
    model, _ = load_dimp_checkpoint(path)
    assert model.crop_size == 128
    assert torch.equal(model.state_dict()["classifier.filter_optimizer.filter_reg"],
                       net18.state_dict()["classifier.filter_optimizer.filter_reg"])


def test_backbone_weights_from_local_file(tmp_path):
    import torchvision

    ref = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(ref.state_dict(), path)
    net = dimp18(crop_size=64, backbone_weights=str(path))
    assert torch.equal(net.feature_extractor.conv1.weight, ref.conv1.weight)
    with pytest.raises(FileNotFoundError):
        dimp18(crop_size=64, backbone_weights=str(tmp_path / "missing.pth"))
