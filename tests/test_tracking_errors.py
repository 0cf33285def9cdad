"""Bad input to the tracking stage fails fast with errors naming the sequence or file."""

import numpy as np
import pandas as pd
import pytest
import torch
from test_tracking_runner import square_frames, write_manifest, write_sequence

from cmd_core.model import CheckpointError, dimp18, save_checkpoint
from cmd_core.tracking import StaticTracker, UntrainedModelError, get_preset, load_network, track_manifest
from cmd_core.tracking.api import track
from cmd_core.tracking.runner import run_sequence, sequence_rows


def _static():
    return StaticTracker()


def test_empty_and_one_frame_sequences(tmp_path):
    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"one": (frames[:1], boxes[:1]), "ok": (frames, boxes)})
    with pytest.raises(ValueError, match="sequence one: only one frame"):
        track_manifest(manifest, tmp_path / "o", _static, "tir")
    with pytest.raises(ValueError, match=r"not in the manifest: \['ghost'\]"):
        track_manifest(manifest, tmp_path / "o", _static, "tir", sequences=["ghost"])
    df = pd.read_parquet(manifest)
    with pytest.raises(ValueError, match="sequence ghost: no frames"):
        sequence_rows(df, "ghost", "tir")
    with pytest.raises(ValueError, match="no RGB images"):
        sequence_rows(df, "ok", "rgb")
    with pytest.raises(ValueError, match="sequence e: no frames"):
        run_sequence(_static(), [], "tir", "e")
    with pytest.raises(ValueError, match="has no sequences"):
        track_manifest(df.iloc[:0], tmp_path / "o", _static, "tir")


@pytest.mark.parametrize("box,message", [((30, 40, 0, 32), "zero or negative size"),
                                         ((500, 40, 32, 32), "outside"),
                                         ((-50, -50, 20, 20), "outside")])
def test_bad_first_box(tmp_path, box, message):
    frames, boxes = square_frames(3)
    boxes[0] = box
    manifest = write_manifest(tmp_path, {"bad": (frames, boxes)})
    for tracker in ("static", "mil"):
        with pytest.raises(ValueError, match=f"sequence bad, frame 0: .*{message}"):
            track(str(manifest), "tir", tracker, str(tmp_path / tracker))


def test_invalid_first_gt(tmp_path):
    frames, boxes = square_frames(3)
    df = write_sequence(tmp_path, "s", frames, boxes)
    df.loc[0, "gt_tir_valid"] = False
    with pytest.raises(ValueError, match="sequence s: the first frame has no valid TIR"):
        track_manifest(df, tmp_path / "o", _static, "tir")


def test_varying_frame_size(tmp_path):
    frames, boxes = square_frames(4)
    frames[2] = np.zeros((60, 80), np.uint8)
    manifest = write_manifest(tmp_path, {"v": (frames, boxes)})
    with pytest.raises(ValueError, match="sequence v, frame 2: frame size 80x60 differs"):
        track_manifest(manifest, tmp_path / "o", _static, "tir")


def test_missing_frame_file(tmp_path):
    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"m": (frames, boxes)})
    (tmp_path / "frames" / "m" / "0001.png").unlink()
    with pytest.raises((FileNotFoundError, ValueError), match="sequence m, frame 1"):
        track_manifest(manifest, tmp_path / "o", _static, "tir")


@pytest.fixture(scope="module")
def own_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "dimp18_small.pth"
    save_checkpoint(path, dimp18(crop_size=160), epoch=1)
    return path


def test_checkpoints(own_checkpoint, tmp_path):
    net = load_network(own_checkpoint, get_preset("cpu"))
    assert net.config["backbone"] == "resnet18"
    load_network(own_checkpoint, get_preset("dimp18"))
    with pytest.raises(CheckpointError, match="holds a resnet18 DiMP, but preset 'dimp50' expects resnet50"):
        load_network(own_checkpoint, get_preset("dimp50"))
    # a bare state dict of another architecture: the error names missing and unexpected keys
    wrong = tmp_path / "wrong.pth"
    torch.save({"feature_extractor.conv1.weight": torch.zeros(64, 3, 7, 7), "head.weight": torch.zeros(2)}, wrong)
    with pytest.raises(CheckpointError, match=r"wrong\.pth.*missing key.*unexpected key\(s\) \[head\.weight\]"):
        load_network(wrong, get_preset("dimp18"))
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(own_checkpoint.read_bytes()[:4096])
    with pytest.raises(CheckpointError, match="truncated"):
        load_network(truncated, get_preset("cpu"))
    with pytest.raises(CheckpointError, match="not found"):
        load_network(tmp_path / "nope.pth", get_preset("cpu"))
    with pytest.raises(UntrainedModelError, match="--allow-untrained"):
        load_network(None, get_preset("cpu"))


def test_cli_checkpoint_error_exit_code(own_checkpoint, tmp_path, capsys):
    import argparse

    from cmd_core.tracking import cli

    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    truncated = tmp_path / "t.pth"
    truncated.write_bytes(own_checkpoint.read_bytes()[:1000])
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--manifest", str(manifest), "--modality", "tir", "--preset", "cpu",
                              "--checkpoint", str(truncated), "--out", str(tmp_path / "o")])
    assert cli.run(args) == 2
    assert "t.pth" in capsys.readouterr().err
