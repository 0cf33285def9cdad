"""Distillation jobs: checkpoints load in the tracker, kill-and-resume gives the same weights, no
ground truth is read, clear errors (missing teacher, CUDA OOM), the supervised upper bound, the CLI."""

from __future__ import annotations

import argparse
import csv
import json

import pytest
import torch
from test_distill_fixtures import nan_gt_frames, world  # noqa: F401  (fixture)

from cmd_core.distill import cli
from cmd_core.distill import train as train_mod
from cmd_core.distill.supervised import train_supervised_tir
from cmd_core.distill.train import DistillOOMError, distill
from cmd_core.model import read_checkpoint
from cmd_core.tracking.network import load_network
from cmd_core.tracking.params import get_preset

TINY = dict(samples_per_epoch=4, batch_size=2, threads=1, device="cpu", num_workers=0, progress=False)
FULL = {"pairs": "central", "mode": "distill", "backbone": "trainable", "losses": {"feature": 1, "response": 1, "iou": 1}}


def test_distill_checkpoint_loads_in_the_tracker(world, tmp_path):
    out = tmp_path / "full"
    s = distill(FULL, world["central"], world["frames"], world["teacher"], out, epochs=1, **TINY)
    assert s["final"] == str(out / "checkpoint.pth")
    net = load_network(out / "checkpoint.pth", get_preset("cpu"))
    assert net.crop_size == 64
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 1 and float(rows[0]["feature"]) > 0 and "data_wait_fraction" in rows[0]
    assert (out / "loss.png").is_file()
    ck = read_checkpoint(out / "checkpoint.pth")
    assert ck["train_config"]["strategy"]["mode"] == "distill" and ck["final"] is True


def test_kill_and_resume_gives_the_same_weights(world, tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    distill(FULL, world["random"], world["frames"], world["teacher"], a, epochs=2, seed=5, **TINY)
    first = distill(FULL, world["random"], world["frames"], world["teacher"], b, epochs=2, seed=5,
                    stop_after_epoch=1, **TINY)
    assert first["final"] is None and not (b / "checkpoint.pth").exists()  # "killed" after epoch 1
    distill(FULL, world["random"], world["frames"], world["teacher"], b, epochs=2, seed=5, **TINY)
    wa, wb = read_checkpoint(a / "checkpoint.pth")["net"], read_checkpoint(b / "checkpoint.pth")["net"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_no_ground_truth_is_needed(world, tmp_path):
    frames = nan_gt_frames(world["frames"], tmp_path / "nogt.frames.parquet")
    s = distill({"pairs": "central", "mode": "official"}, world["central"], frames, world["teacher"], tmp_path / "o",
                epochs=1, **TINY)
    assert s["final"] is not None and s["last"]["loss"] == s["last"]["loss"]  # finite, not NaN


def test_missing_teacher_and_bad_strategy(world, tmp_path):
    with pytest.raises(FileNotFoundError, match="teacher checkpoint does not exist"):
        distill(FULL, world["central"], world["frames"], tmp_path / "none.pth", tmp_path / "x", epochs=1, **TINY)
    with pytest.raises(ValueError, match="unknown pair method 'tracklets'"):
        distill({**FULL, "pairs": "tracklets"}, world["central"], world["frames"], world["teacher"], tmp_path / "x",
                epochs=1, **TINY)


def test_cuda_oom_becomes_a_clear_error(world, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(train_mod.Trainer, "train", boom)
    with pytest.raises(DistillOOMError, match="batch size 2 .*smaller --batch-size"):
        distill(FULL, world["central"], world["frames"], world["teacher"], tmp_path / "oom", epochs=1, **TINY)


def test_supervised_upper_bound_uses_labels_and_loads(world, tmp_path):
    s = train_supervised_tir(world["frames"], world["teacher"], tmp_path / "sup", epochs=1, samples_per_epoch=4,
                             batch_size=2, threads=1, device="cpu", num_workers=0, progress=False)
    assert s["uses_labels"] is True
    ck = read_checkpoint(tmp_path / "sup" / "checkpoint.pth")
    assert ck["uses_labels"] is True and ck["train_config"]["modality"] == "tir"
    load_network(tmp_path / "sup" / "checkpoint.pth", get_preset("cpu"))


def test_cli_list_and_run(world, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["list"])) == 0
    assert "full_random" in json.loads(capsys.readouterr().out)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("distill:\n  strategies:\n    mine: {pairs: central, mode: official, components: [iou]}\n")
    args = parser.parse_args(["run", "--strategy", "mine", "--config", str(cfg), "--pairs", str(world["central"]),
                              "--frames", str(world["frames"]), "--teacher", str(world["teacher"]),
                              "--out", str(tmp_path / "cli"), "--epochs", "1", "--samples-per-epoch", "2",
                              "--batch-size", "2", "--device", "cpu", "--no-progress"])
    assert cli.run(args) == 0
    assert json.loads(capsys.readouterr().out)["strategy"] == "mine"
