"""Runner, CLI and result files of the tracking stage, on a tiny synthetic sequence (a bright
square moving on a dark background) written as a frames manifest. Also hosts the helpers the
other tracking tests import."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from cmd_core.evaluation import read_boxes, read_times
from cmd_core.tracking.api import track

H, W, SIDE = 120, 160, 32


def square_frames(n: int = 8, step=(4, 2), start=(30, 40), colour: bool = False, size=(H, W)):
    """Frames (list of HxW or HxWx3 uint8) and GT boxes (n, 4) of a bright square (with a darker
    centre) moving by ``step`` (dx, dy) per frame over a dim textured, noisy background."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    background = 30 + 20 * np.sin(xx / 7.0) * np.cos(yy / 9.0)
    frames, boxes = [], []
    for i in range(n):
        x, y = start[0] + step[0] * i, start[1] + step[1] * i
        img = background + rng.normal(0, 2, size)
        img[y:y + SIDE, x:x + SIDE] = 220
        img[y + 8:y + SIDE - 8, x + 8:x + SIDE - 8] = 120
        img = np.clip(img, 0, 255).astype(np.uint8)
        if colour:
            img = np.stack([img, (img * 0.5).astype(np.uint8), 255 - img], axis=2)
        frames.append(img)
        boxes.append((x, y, SIDE, SIDE))
    return frames, np.array(boxes, dtype=np.float64)


def write_sequence(root: Path, name: str, frames, boxes, modality: str = "tir") -> pd.DataFrame:
    """Write frames as PNGs and return frames-manifest rows (only the columns the runner reads)."""
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (img, b) in enumerate(zip(frames, boxes)):
        path = d / f"{i:04d}.png"
        cv2.imwrite(str(path), img if img.ndim == 2 else img[:, :, ::-1])
        row = {"dataset": "t", "split": "test", "sequence": name, "frame": i, "packing": "files",
               "rgb_path": None, "tir_path": None}
        row[f"{modality}_path"] = str(path)
        for mod in ("rgb", "tir"):
            ok = mod == modality
            for k, v in zip("xywh", b):
                row[f"gt_{mod}_{k}"] = float(v) if ok else None
            row[f"gt_{mod}_valid"] = ok
        rows.append(row)
    return pd.DataFrame(rows)


def write_manifest(tmp_path: Path, seqs: dict[str, tuple], modality: str = "tir") -> Path:
    df = pd.concat([write_sequence(tmp_path / "frames", name, f, b, modality) for name, (f, b) in seqs.items()])
    path = tmp_path / "m.frames.parquet"
    df.to_parquet(path)
    return path


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[:, 0], b[:, 0])
    y0 = np.maximum(a[:, 1], b[:, 1])
    x1 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def test_static_runner_writes_pytracking_files(tmp_path):
    frames, boxes = square_frames(6)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes), "b": (frames[:3], boxes[:3])})
    out = tmp_path / "out"
    summary = track(str(manifest), "tir", "static", str(out), marker=str(tmp_path / "done.json"))
    assert summary["status"] == "done" and set(summary["sequences"]) == {"a", "b"}
    res = read_boxes(out / "a.txt")
    assert res.shape == (6, 4) and np.allclose(res, boxes[0])
    assert len(read_times(out / "a_time.txt")) == 6
    assert json.loads((tmp_path / "done.json").read_text())["frames"] == 9


def test_track_sets_loads_once_and_matches_one_set_at_a_time(tmp_path, monkeypatch):
    """One job per tracker: two sets tracked with the network loaded once give each set its own
    folder and summary, with the boxes of tracking each set in its own call."""
    frames, boxes = square_frames(5)
    first = write_manifest(tmp_path / "one", {"a": (frames, boxes)})
    second = write_manifest(tmp_path / "two", {"b": (frames[:4], boxes[:4]), "c": (frames, boxes)})
    from cmd_core.tracking import api, network

    loads = []
    real_load = network.load_network
    monkeypatch.setattr(network, "load_network", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    sets = [{"manifest": str(first), "out": str(tmp_path / "r" / "one"), "marker": str(tmp_path / "r" / "one.json")},
            {"manifest": str(second), "out": str(tmp_path / "r" / "two"), "marker": str(tmp_path / "r" / "two.json")}]
    summaries = api.track_sets(sets, "tir", "dimp", preset="cpu", allow_untrained=True, threads=1)
    assert len(loads) == 1
    assert [sorted(s["sequences"]) for s in summaries] == [["a"], ["b", "c"]]
    assert json.loads((tmp_path / "r" / "two.json").read_text())["frames"] == 9
    assert json.loads((tmp_path / "r" / "one.json").read_text())["manifest"] == str(first)
    alone = track(str(second), "tir", "dimp", str(tmp_path / "alone"), preset="cpu", allow_untrained=True, threads=1)
    assert alone["frames"] == 9
    for seq in ("b", "c"):
        assert np.array_equal(read_boxes(tmp_path / "r" / "two" / f"{seq}.txt"), read_boxes(tmp_path / "alone" / f"{seq}.txt"))
    with pytest.raises(ValueError, match="no evaluation sets"):
        api.track_sets([], "tir", "static")


def test_track_sets_stops_at_a_failing_set(tmp_path):
    """A set whose manifest lacks a requested sequence stops the job with the sequence named."""
    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    from cmd_core.tracking.api import track_sets

    sets = [{"manifest": str(manifest), "out": str(tmp_path / "o1")},
            {"manifest": str(manifest), "out": str(tmp_path / "o2"), "sequences": ["zz"]}]
    with pytest.raises(ValueError, match="zz"):
        track_sets(sets, "tir", "static")
    assert (tmp_path / "o1" / "a.txt").exists()


def test_unavailable_baseline_records_reason(tmp_path, monkeypatch):
    """An OpenCV without the contrib trackers (here: their factories hidden) gives a recorded reason."""
    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    import cv2 as _cv2

    kind = "kcf"
    monkeypatch.delattr(_cv2, "TrackerKCF_create", raising=False)
    if hasattr(_cv2, "legacy"):
        monkeypatch.delattr(_cv2.legacy, "TrackerKCF_create", raising=False)
    summary = track(str(manifest), "tir", kind, str(tmp_path / "o"), marker=str(tmp_path / "m.json"))
    assert summary["status"] == "unavailable" and "opencv-contrib" in summary["reason"]
    assert json.loads((tmp_path / "m.json").read_text())["status"] == "unavailable"


@pytest.mark.parametrize("colour", [False, True])
def test_dimp_untrained_end_to_end(tmp_path, colour):
    """Untrained CPU-preset DiMP runs through the runner on gray and colour frames and writes valid files."""
    frames, boxes = square_frames(5, colour=colour)
    modality = "rgb" if colour else "tir"
    manifest = write_manifest(tmp_path, {"s": (frames, boxes)}, modality)
    out = tmp_path / "res"
    summary = track(str(manifest), modality, "dimp", str(out), preset="cpu", allow_untrained=True, threads=2)
    assert summary["untrained"] and summary["frames"] == 5
    res = read_boxes(out / "s.txt")
    times = read_times(out / "s_time.txt")
    assert res.shape == (5, 4) and np.isfinite(res).all() and (res[:, 2:] > 0).all()
    assert np.allclose(res[0], boxes[0], atol=1e-3)
    assert len(times) == 5 and (times > 0).all()


def test_cli_refuses_untrained_and_reports(tmp_path, capsys):
    from cmd_core.cli import main

    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    with pytest.raises(SystemExit):
        main(["track", "--help"])
    capsys.readouterr()
    import argparse

    from cmd_core.tracking import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--manifest", str(manifest), "--modality", "tir", "--tracker", "dimp",
                              "--preset", "cpu", "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match="needs trained weights"):
        cli.run(args)
    args = parser.parse_args(["--manifest", str(manifest), "--modality", "tir", "--tracker", "static",
                              "--out", str(tmp_path / "o2"), "--sequences", "a", "--integer"])
    assert cli.run(args) == 0
    assert "tracked 1 sequence" in capsys.readouterr().out
    assert (tmp_path / "o2" / "a.txt").read_text().splitlines()[0] == "30\t40\t32\t32"


def test_cli_parameter_overrides(tmp_path, capsys):
    from cmd_core.cli import main
    from cmd_core.tracking.cli import parse_overrides

    assert parse_overrides(["use_iou_net=False", "net_opt_iter=10", "aug_rotate=[5, -5]",
                            "iou_net_min_init_corr=None", "border_mode=inside_major"]) == {
        "use_iou_net": False, "net_opt_iter": 10, "aug_rotate": (5, -5), "iou_net_min_init_corr": None,
        "border_mode": "inside_major"}
    frames, boxes = square_frames(3)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    marker = tmp_path / "done.json"
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu", "--allow-untrained",
                 "--set", "use_iou_net=False", "--set", "subcell_peak=False", "--out", str(tmp_path / "o"),
                 "--marker", str(marker)]) == 0
    params = json.loads(marker.read_text())["params"]
    assert params["use_iou_net"] is False and params["subcell_peak"] is False and params["image_sample_size"] == 160
    capsys.readouterr()
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu", "--allow-untrained",
                 "--set", "no_such_param=1", "--out", str(tmp_path / "o2")]) == 2
    assert "unknown tracker parameter(s) ['no_such_param']" in capsys.readouterr().err
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--tracker", "static",
                 "--set", "use_iou_net=False", "--out", str(tmp_path / "o3")]) == 2
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--preset", "cpu",
                 "--set", "use_iou_net", "--out", str(tmp_path / "o4")]) == 2
    assert "--set expects NAME=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize("integer", [False, True])
def test_result_formats_round_trip_with_the_toolkits_parsers(tmp_path, integer):
    """Each format read back with its toolkit's own rule: pytracking np.loadtxt (tab); GOT-10k
    np.loadtxt(delimiter=',') of <seq>/<seq>_001.txt with <seq>/<seq>_time.txt; the GOT-10k
    toolkit's OTB experiments the same parser with times/<seq>_time.txt; OTB MATLAB dlmread (comma,
    same origin)."""
    from cmd_core.evaluation import read_results
    from cmd_core.tracking.results import write_tracker_results

    boxes = np.array([[10.25, 20.5, 30.125, 40.0], [11.75, 21.0, 29.5, 41.875], [0.0, 1.0, 2.0, 3.0]])
    times = np.array([0.5, 0.0123456789, 0.25])
    expect = np.trunc(boxes) if integer else boxes
    pyt = write_tracker_results(tmp_path / "pyt", "s", boxes, times, integer=integer)
    assert "\t" in pyt.read_text() and np.array_equal(np.loadtxt(pyt, delimiter="\t"), expect)
    assert np.allclose(np.loadtxt(tmp_path / "pyt" / "s_time.txt"), times, atol=1e-6)
    got = write_tracker_results(tmp_path / "got", "s", boxes, times, integer=integer, result_format="got10k")
    assert got == tmp_path / "got" / "s" / "s_001.txt"
    assert "\t" not in got.read_text() and np.array_equal(np.loadtxt(got, delimiter=","), expect)
    assert np.allclose(np.loadtxt(tmp_path / "got" / "s" / "s_time.txt", delimiter=","), times, atol=1e-8)
    assert sorted(p.name for p in (tmp_path / "got").rglob("*")) == ["s", "s_001.txt", "s_time.txt"]
    gotb = write_tracker_results(tmp_path / "gotb", "s", boxes, times, integer=integer, result_format="got10k-otb")
    assert gotb == tmp_path / "gotb" / "s.txt" and np.array_equal(np.loadtxt(gotb, delimiter=","), expect)
    assert np.allclose(np.loadtxt(tmp_path / "gotb" / "times" / "s_time.txt"), times, atol=1e-8)
    assert not (tmp_path / "gotb" / "s_time.txt").exists()
    otb = write_tracker_results(tmp_path / "otb", "s", boxes, times, integer=integer, result_format="otb")
    assert np.array_equal(np.loadtxt(otb, delimiter=","), expect)  # no 1-offset: the GT's own origin
    for d in ("pyt", "got", "gotb", "otb"):  # and our own reader finds boxes and times in every layout
        tracks, missing = read_results(tmp_path / d, ["s"])
        assert not missing and np.array_equal(tracks["s"].boxes, expect) and len(tracks["s"].times) == 3
    tracks, missing = read_results(tmp_path / "got", ["s"], layout="got10k")  # the got10k protocol's reader
    assert not missing and np.array_equal(tracks["s"].boxes, expect) and len(tracks["s"].times) == 3
    assert read_results(tmp_path / "gotb", ["s"], layout="got10k") == ({}, ["s"])  # not GOT-10k's layout
    with pytest.raises(ValueError, match="unknown result format 'vot'"):
        write_tracker_results(tmp_path / "x", "s", boxes, result_format="vot")


def test_library_integer_default_matches_cli_and_schema(tmp_path):
    import inspect

    import yaml

    from cmd_core.tracking.results import write_pytracking_results, write_tracker_results
    from cmd_core.tracking.runner import track_manifest

    schema = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
    default = schema["properties"]["tracking"]["properties"]["integer_boxes"]["default"]
    for fn in (write_pytracking_results, write_tracker_results, track_manifest, track):
        assert inspect.signature(fn).parameters["integer"].default is default is False
    write_pytracking_results(tmp_path, "s", [[1.5, 2.25, 3.0, 4.0]])
    assert (tmp_path / "s.txt").read_text() == "1.500\t2.250\t3.000\t4.000\n"


def test_cli_result_format_got10k(tmp_path):
    from cmd_core.cli import main

    frames, boxes = square_frames(4)
    manifest = write_manifest(tmp_path, {"a": (frames, boxes)})
    out = tmp_path / "o"
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--tracker", "static",
                 "--result-format", "got10k", "--out", str(out)]) == 0
    assert np.allclose(np.loadtxt(out / "a" / "a_001.txt", delimiter=","), boxes[0])
    assert (out / "a" / "a_time.txt").is_file() and not (out / "a.txt").exists()
    assert main(["track", "--manifest", str(manifest), "--modality", "tir", "--tracker", "static",
                 "--result-format", "got10k-otb", "--out", str(tmp_path / "o2")]) == 0
    assert np.allclose(np.loadtxt(tmp_path / "o2" / "a.txt", delimiter=","), boxes[0])
    assert (tmp_path / "o2" / "times" / "a_time.txt").is_file()
