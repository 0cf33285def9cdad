"""The batched DiMP tracker gives the boxes of the unbatched one (the reference) for every preset, on
synthetic sequences of different lengths and frame sizes sharing a batch (slots refilled as
sequences end) and on real frames; the batched runner's refill, failure reporting and --batch checks."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from test_tracking_runner import square_frames, write_manifest

from cmd_core.evaluation import read_boxes
from cmd_core.model import dimp18, dimp_mobilenet
from cmd_core.tracking import DiMPTracker, get_preset
from cmd_core.tracking.api import track
from cmd_core.tracking.batched import BatchedDiMPTracker
from cmd_core.tracking.runner import SequencesFailed, track_manifest_batched

TOL = 1e-3  # px


@pytest.fixture(scope="module")
def r18():
    torch.manual_seed(0)
    return dimp18(crop_size=160)


@pytest.fixture(scope="module")
def mobilenet():
    torch.manual_seed(0)
    return dimp_mobilenet(backbone_weights=None, crop_size=160)


def _synthetic():
    """Three sequences of different lengths and frame sizes (one in colour)."""
    spec = ((9, (4, 2), (120, 160), False), (5, (-2, 3), (140, 180), True), (7, (3, -1), (100, 150), False))
    return [square_frames(n, step=step, start=(60, 40), size=size, colour=colour) for n, step, size, colour in spec]


def track_alone(net, params, seqs):
    out = []
    for frames, boxes in seqs:
        t = DiMPTracker(net, params)
        t.initialize(frames[0], boxes[0])
        out.append(np.array([boxes[0]] + [t.track(f) for f in frames[1:]]))
    return out


def track_together(net, params, seqs, batch: int):
    """Slots of ``batch`` sequences advancing together; a finished sequence's slot takes the next one."""
    bt = BatchedDiMPTracker(net, params)
    todo = list(range(len(seqs)))
    slots: list[list] = []  # [sequence index, state, next frame]
    out: list[list] = [[] for _ in seqs]
    while todo or slots:
        while todo and len(slots) < batch:
            slots.append([todo.pop(0), bt.new_state(), 0])
        new = [s for s in slots if s[2] == 0]
        if new:
            res = bt.initialize([s[1] for s in new], [seqs[s[0]][0][0] for s in new], [seqs[s[0]][1][0] for s in new])
            assert all(r is None for r in res)
            for s in new:
                out[s[0]].append(seqs[s[0]][1][0])
                s[2] = 1
        # sequences just initialised advance in the next step (as the runner does)
        going = [s for s in slots if s[2] >= 1 and s not in new]
        if going:
            res = bt.track([s[1] for s in going], [seqs[s[0]][0][s[2]] for s in going])
            for s, r in zip(going, res):
                assert not isinstance(r, Exception), r
                out[s[0]].append(r)
                s[2] += 1
        slots = [s for s in slots if s[2] < len(seqs[s[0]][0])]
    return [np.array(o) for o in out]


# every preset's procedure, at a small crop (speed); "lost" never declared, so every frame takes the
# full path (refinement, memory update, hard negatives); the cpu presets also with box refinement forced
CASES = {
    "dimp18": dict(),
    "dimp50": dict(),
    "super_dimp": dict(image_sample_size=176),
    "cpu": dict(),
    "cpu_refine": dict(iou_net_min_init_corr=None),
    "cpu_mobilenet": dict(iou_net_min_init_corr=None),
    "cpu_pyramid": dict(use_iou_net=False, scale_factors=(0.95, 1.0, 1.05)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_batched_equals_unbatched_synthetic(case, r18, mobilenet):
    preset = {"cpu_refine": "cpu", "cpu_pyramid": "cpu"}.get(case, case)
    extra = {"image_sample_size": 160, **CASES[case]}
    params = get_preset(preset, target_not_found_threshold=-1e9, **extra)
    net = mobilenet if preset == "cpu_mobilenet" else r18
    seqs = _synthetic()
    ref = track_alone(net, params, seqs)
    got = track_together(net, params, seqs, batch=2)  # 3 sequences in 2 slots: one refill
    for a, b in zip(ref, got):
        assert a.shape == b.shape
        assert np.abs(a - b).max() < TOL


def _real_frames(root: Path, name: str, n: int):
    if name == "ptb-tir-airplane":
        d = root / "real" / name
        gt = np.loadtxt(d / "groundtruth_rect.txt", delimiter=",")[:n]
        files = sorted((d / "img").iterdir())[:n]
        frames = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
    else:
        d = root / "real" / name
        poly = np.loadtxt(d / "groundtruth.txt", delimiter=",")[:n].reshape(-1, 4, 2)
        lo, hi = poly.min(axis=1), poly.max(axis=1)
        gt = np.concatenate((lo, hi - lo), axis=1)
        files = sorted((d / "imgs").iterdir())[:n]
        frames = [cv2.imread(str(f))[:, :, ::-1] for f in files]
    return frames, gt


@pytest.mark.parametrize("preset", ["cpu_mobilenet", "dimp18"])
def test_batched_equals_unbatched_real(shared_data, preset, r18, mobilenet):
    names = ("ptb-tir-airplane", "vot15-ball1")
    if not all((shared_data / "real" / n).is_dir() for n in names):
        pytest.skip(f"real sequences {names} not in {shared_data / 'real'}")
    seqs = [_real_frames(shared_data, n, 20) for n in names]
    params = get_preset(preset, image_sample_size=160, iou_net_min_init_corr=None)
    net = mobilenet if preset == "cpu_mobilenet" else r18
    ref = track_alone(net, params, seqs)
    got = track_together(net, params, seqs, batch=2)
    for a, b in zip(ref, got):
        assert np.abs(a - b).max() < TOL


# ---- runner ------------------------------------------------------------------------------------
def _manifest(tmp_path):
    seqs = {name: square_frames(n, step=step, start=(60, 40)) for name, n, step in
            (("a", 6, (4, 2)), ("b", 3, (-2, 3)), ("c", 5, (3, -1)), ("d", 4, (1, 1)))}
    return write_manifest(tmp_path, seqs), seqs


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_runner_refills_slots_and_writes_every_sequence(tmp_path, r18, batch):
    manifest, seqs = _manifest(tmp_path)
    params = get_preset("cpu", image_sample_size=160, target_not_found_threshold=-1e9, iou_net_min_init_corr=None)
    out = tmp_path / f"out{batch}"
    summary = track_manifest_batched(manifest, out, BatchedDiMPTracker(r18, params), "tir", batch)
    assert sorted(summary["sequences"]) == sorted(seqs) and summary["batch"] == batch
    for name, (frames, _) in seqs.items():
        boxes = read_boxes(out / f"{name}.txt")
        assert boxes.shape == (len(frames), 4)
        assert (out / f"{name}_time.txt").is_file()
    ref = track_alone(r18, params, [seqs["a"]])[0]
    assert np.abs(read_boxes(out / "a.txt") - ref).max() < 1e-3 + 5e-4  # files hold 3 decimals


class _OutOfMemoryAbove(BatchedDiMPTracker):
    """A device that runs out of memory on a tracking step of more than ``limit`` sequences."""

    limit = 2
    raised = 0

    def track(self, states, images):
        if len(states) > self.limit:
            type(self).raised += 1
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return super().track(states, images)


def test_out_of_memory_halves_the_batch_and_carries_on(tmp_path, r18, caplog):
    """Out of memory at batch 4: the batch halves (a warning says so), the sequences in flight start
    again, and every sequence gets the boxes of the run that never ran out of memory."""
    manifest, seqs = _manifest(tmp_path)
    params = get_preset("cpu", image_sample_size=160, target_not_found_threshold=-1e9, iou_net_min_init_corr=None)
    with caplog.at_level("WARNING"):
        summary = track_manifest_batched(manifest, tmp_path / "oom", _OutOfMemoryAbove(r18, params), "tir", 4)
    assert _OutOfMemoryAbove.raised == 1 and summary["batch_reduced_to"] == 2
    assert "batch halved to 2" in caplog.text
    track_manifest_batched(manifest, tmp_path / "ok", BatchedDiMPTracker(r18, params), "tir", 2)
    for name in seqs:
        assert np.array_equal(read_boxes(tmp_path / "oom" / f"{name}.txt"), read_boxes(tmp_path / "ok" / f"{name}.txt"))
    _OutOfMemoryAbove.limit = 0  # out of memory even for one sequence: the error is raised
    with pytest.raises(torch.OutOfMemoryError):
        track_manifest_batched(manifest, tmp_path / "oom1", _OutOfMemoryAbove(r18, params), "tir", 1)


def test_runner_corrupt_and_missing_frames_fail_alone(tmp_path, r18):
    manifest, seqs = _manifest(tmp_path)
    df = pd.read_parquet(manifest)
    corrupt = df[(df.sequence == "b") & (df.frame == 1)].tir_path.iloc[0]
    Path(corrupt).write_bytes(b"not an image")
    missing = df[(df.sequence == "c") & (df.frame == 2)].tir_path.iloc[0]
    Path(missing).unlink()
    params = get_preset("cpu", image_sample_size=160)
    out = tmp_path / "out"
    with pytest.raises(SequencesFailed) as err:
        track_manifest_batched(manifest, out, BatchedDiMPTracker(r18, params), "tir", 2)
    failed = {name: (file, frame) for name, file, frame, _ in err.value.failures}
    assert failed == {"b": (corrupt, 1), "c": (missing, 2)}
    text = str(err.value)
    assert "b, frame 1" in text and "c, frame 2" in text and corrupt in text and missing in text
    assert sorted(err.value.summary["sequences"]) == ["a", "d"]
    assert (out / "a.txt").is_file() and (out / "d.txt").is_file()
    assert not (out / "b.txt").exists() and not (out / "c.txt").exists()


def test_bad_first_box_and_frame_size_fail_alone(r18):
    params = get_preset("cpu", image_sample_size=160)
    bt = BatchedDiMPTracker(r18, params)
    (f1, b1), (f2, _) = square_frames(3), square_frames(3, size=(100, 140))
    states = [bt.new_state(), bt.new_state()]
    res = bt.initialize(states, [f1[0], f2[0]], [b1[0], (10, 10, 0, 5)])  # the second box has no width
    assert res[0] is None and isinstance(res[1], ValueError) and "zero or negative size" in str(res[1])
    other = bt.new_state()
    assert bt.initialize([other], [f1[0]], [b1[0]]) == [None]
    res = bt.track([states[0], other], [f2[1], f1[1]])  # the first one's frame size changed
    assert isinstance(res[0], ValueError) and "differs" in str(res[0])
    assert np.isfinite(res[1]).all() and res[1].shape == (4,)  # the other one goes on


def test_batch_must_be_positive(tmp_path, r18):
    manifest, _ = _manifest(tmp_path)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="batch must be a whole number >= 1"):
            track(str(manifest), "tir", "dimp", str(tmp_path / "o"), preset="cpu", allow_untrained=True, batch=bad)
        with pytest.raises(ValueError, match="batch must be a whole number >= 1"):
            track_manifest_batched(manifest, tmp_path / "o", BatchedDiMPTracker(r18, get_preset("cpu")), "tir", bad)
    with pytest.raises(ValueError, match="DiMP tracker"):
        track(str(manifest), "tir", "static", str(tmp_path / "o"), batch=2)


def test_cli_batch(tmp_path, capsys):
    from cmd_core.cli import main

    manifest, seqs = _manifest(tmp_path)
    base = ["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu", "--allow-untrained",
            "--set", "image_sample_size=160", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exc:
        main(base + ["--batch", "0"])
    assert exc.value.code == 2 and "--batch" in capsys.readouterr().err
    assert main(base + ["--batch", "16"]) == 0  # more slots than sequences
    assert all((tmp_path / "out" / f"{n}.txt").is_file() for n in seqs)
    df = pd.read_parquet(manifest)
    Path(df[(df.sequence == "d") & (df.frame == 3)].tir_path.iloc[0]).unlink()
    assert main(base + ["--batch", "2", "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert "1 sequence(s) failed" in err and "d, frame 3" in err


def test_auto_batch_follows_the_device(tmp_path, monkeypatch):
    """--batch auto: none on a CPU (one sequence at a time), by GPU memory on a GPU (8 per 10 GiB, at
    most 128); the summary records what ran."""
    from cmd_core.cli import main
    from cmd_core.tracking.api import auto_batch

    assert auto_batch("cpu") is None

    class _Props:
        total_memory = 80 * 2 ** 30

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: _Props())
    assert auto_batch("cuda:0") == 64
    _Props.total_memory = 4 * 2 ** 30
    assert auto_batch("cuda") == 3
    _Props.total_memory = 400 * 2 ** 30
    assert auto_batch("cuda") == 128
    manifest, seqs = _manifest(tmp_path)
    marker = tmp_path / "done.json"
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--tracker", "static", "--batch", "auto",
                 "--out", str(tmp_path / "o"), "--marker", str(marker)]) == 0  # a baseline: auto means none
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu", "--allow-untrained",
                 "--set", "image_sample_size=160", "--batch", "auto", "--out", str(tmp_path / "o2"),
                 "--marker", str(marker)]) == 0
    assert "batch" not in json.loads(marker.read_text())  # CPU: the unbatched runner
