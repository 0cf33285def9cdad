"""Training loop: overfitting a fixed batch, resume == uninterrupted run, atomic checkpoints,
data-wait measurement, CSV log and loss plot."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from cmd_core.model import load_dimp_checkpoint, read_checkpoint
from cmd_core.training import trainer as trainer_mod
from cmd_core.training.actors import DiMPActor
from cmd_core.training.config import build_net, processing_settings, resolve_config
from cmd_core.training.dataset import TrackingSamplesDataset, stack_collate
from cmd_core.training.optim import build_optimizer
from cmd_core.training.sampler import SequenceSampler
from cmd_core.training.teacher import build_teacher_trainer

TINY = dict(net={"arch": "dimp18", "crop_size": 64}, num_train_frames=1, num_test_frames=1, samples_per_epoch=4,
            batch_size=2, epochs=2, max_gap=5, lr_step=1)


def _write_dataset(root: Path, n_seq=2, n_frames=8, size=(96, 112)) -> Path:
    """Moving textured rectangles as JPEG frames + a frames manifest."""
    rng = np.random.default_rng(0)
    rows = []
    for s in range(n_seq):
        tex = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
        bg = cv2.GaussianBlur(rng.integers(0, 255, (*size, 3), dtype=np.uint8), (0, 0), 3)
        for f in range(n_frames):
            img = bg.copy()
            x, y = 20 + 4 * f + 6 * s, 30 + 2 * f
            img[y:y + 24, x:x + 24] = tex
            path = root / f"seq{s}" / f"{f:04d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), img)
            rows.append(dict(dataset="toy", split="train", sequence=f"seq{s}", frame=f, packing="files",
                             rgb_path=str(path), tir_path=None, gt_rgb_x=float(x), gt_rgb_y=float(y),
                             gt_rgb_w=24.0, gt_rgb_h=24.0, gt_tir_x=np.nan, gt_tir_y=np.nan, gt_tir_w=np.nan,
                             gt_tir_h=np.nan, gt_rgb_valid=True, gt_tir_valid=False, absent=False))
    man = root / "toy.frames.parquet"
    pd.DataFrame(rows).to_parquet(man)
    return man


@pytest.fixture(scope="module")
def toy_manifest(tmp_path_factory) -> Path:
    return _write_dataset(tmp_path_factory.mktemp("toy"))


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["net"]


def test_overfits_a_fixed_batch(toy_manifest):
    torch.manual_seed(0)
    cfg = resolve_config("cpu_demo", **TINY)
    sampler = SequenceSampler(toy_manifest, "rgb", 1, 1, 5, seed=0)
    ds = TrackingSamplesDataset(sampler, processing_settings(cfg), 4)
    batch = stack_collate([ds[(0, i)] for i in range(2)])
    net = build_net(cfg)
    actor = DiMPActor(net, cfg["loss_weights"])
    opt = build_optimizer(net, cfg["lr_groups"], cfg["lr"])
    net.train()
    losses = []
    for _ in range(8):
        loss, stats = actor(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        assert set(stats) >= {"loss", "clf_init", "clf_iter", "clf_final", "iou"}
    assert min(losses[-3:]) < 0.6 * losses[0], losses


def _trainer(manifest, out, workers=0, **over):
    cfg = resolve_config("cpu_demo", **{**TINY, **over})
    return build_teacher_trainer(manifest, out, cfg, device="cpu", threads=1, progress=False, num_workers=workers,
                                 keep_checkpoints=0)


def test_resume_after_stop_gives_the_same_weights(toy_manifest, tmp_path):
    full = _trainer(toy_manifest, tmp_path / "full")
    full.train(2, resume=False, final_path=tmp_path / "full" / "checkpoint.pth")

    first = _trainer(toy_manifest, tmp_path / "resumed")
    first.train(2, resume=True, stop_after_epoch=1)  # "killed" after epoch 1
    assert (tmp_path / "resumed" / "checkpoint_e001.pth").is_file()
    assert not (tmp_path / "resumed" / "checkpoint.pth").exists()
    torch.manual_seed(12345)  # a fresh process would have other global RNG states: resume restores them
    np.random.seed(99)
    second = _trainer(toy_manifest, tmp_path / "resumed", workers=1)  # worker count must not matter
    second.train(2, resume=True, final_path=tmp_path / "resumed" / "checkpoint.pth")
    assert second.epoch == 2

    a, b = _weights(tmp_path / "full" / "checkpoint.pth"), _weights(tmp_path / "resumed" / "checkpoint.pth")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    # the log of the resumed run has both epochs; the plot exists; the data-wait fraction is measured
    rows = list(csv.DictReader(open(tmp_path / "resumed" / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    for r in rows:
        assert 0.0 <= float(r["data_wait_fraction"]) <= 1.0 and float(r["samples_per_s"]) > 0
        assert float(r["lr_feature_extractor"]) > 0
    assert float(rows[1]["lr_feature_extractor"]) == pytest.approx(0.2 * float(rows[0]["lr_feature_extractor"]))
    assert (tmp_path / "resumed" / "loss.png").stat().st_size > 1000
    # final checkpoints load safely and rebuild the same network
    net, ckpt = load_dimp_checkpoint(tmp_path / "resumed" / "checkpoint.pth")
    assert ckpt["epoch"] == 2 and ckpt["final"] is True and net.crop_size == 64
    assert set(ckpt) >= {"optimizer", "scheduler", "rng", "sampler", "train_config", "history"}
    # the quick validation runs on the trained net
    from cmd_core.training.validate import validate_net

    v = validate_net(net, toy_manifest, ckpt["train_config"], samples=4, batch_size=4)
    assert 0.0 <= v["peak_acc"] <= 1.0 and 0.0 <= v["top_iou"] <= 1.0


def test_checkpoint_is_atomic(toy_manifest, tmp_path, monkeypatch):
    tr = _trainer(toy_manifest, tmp_path / "run")
    tr.train(1, resume=False)
    good = tmp_path / "run" / "checkpoint_e001.pth"
    before = good.read_bytes()

    def broken_save(obj, f, *a, **k):
        Path(f).write_bytes(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(trainer_mod.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        tr.save(good)
    with pytest.raises(OSError):
        tr.save(tmp_path / "run" / "checkpoint_e002.pth")
    assert good.read_bytes() == before
    assert not (tmp_path / "run" / "checkpoint_e002.pth").exists()
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint_e001.pth", "log.csv", "loss.png"]
    read_checkpoint(good)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="already holds checkpoints"):
        tr.train(2, resume=False)  # a fresh start must not mix with an earlier run's checkpoints


def test_data_wait_fraction_sees_a_slow_loader(toy_manifest, tmp_path, monkeypatch):
    import time

    tr = _trainer(toy_manifest, tmp_path / "slow")
    orig = TrackingSamplesDataset.__getitem__

    def slow(self, key):
        time.sleep(0.5)
        return orig(self, key)

    monkeypatch.setattr(TrackingSamplesDataset, "__getitem__", slow)
    row = tr.train_epoch(1)
    assert row["data_wait_fraction"] > 0.5, row
    assert row["samples"] == 4 and row["steps"] == 2


def test_bad_settings_are_clear_errors(toy_manifest, tmp_path):
    with pytest.raises(ValueError, match="unknown training preset"):
        resolve_config("nope")
    with pytest.raises(ValueError, match="unknown training setting"):
        resolve_config("cpu_demo", learning_rate=1)
    with pytest.raises(ValueError, match="samples_per_epoch"):
        resolve_config("cpu_demo", samples_per_epoch=2, batch_size=4)
    with pytest.raises(FileNotFoundError, match="backbone_weights"):
        resolve_config("cpu_demo", backbone_weights=str(tmp_path / "missing.pth"))
    for name in ("dimp18", "dimp50", "super_dimp"):
        cfg = resolve_config(name)
        assert cfg["lr_step"] == 15 and cfg["lr_gamma"] == 0.2 and cfg["epochs"] == 50
