"""Real aligned RGB-T data end to end (issue 20 item 1): RoadScene stills and two TNO sequences
(../shared/data/real, skipped when absent) through ingest, the three pair methods, a pooled
distillation and the DiMP tracker; plus the rules they needed, on tiny hand-made folders (always
run): numbering gaps on both sides, stills paired by name, the RGB/TIR size rule, and
`distill.dataset` as a list."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import dataset_fixtures as fx
from conftest import PROJECT_ROOT, SHARED_DATA
from test_distill_fixtures import write_pairs_table

from cmd_core.cli import main as cli_main
from cmd_core.config_schema import ConfigError, purpose_datasets, validate_config
from cmd_core.datasets.frames import load_frame_pair
from cmd_core.datasets.ingest import ingest_dataset, write_result
from cmd_core.distill.pair_dataset import FrameSizeError, PairDataset
from cmd_core.distill.train import distill
from cmd_core.model import dimp18, read_checkpoint, save_checkpoint
from cmd_core.pairs.generate import generate_pairs, read_frames, write_pairs
from cmd_core.tracking.dimp_tracker import DiMPTracker
from cmd_core.tracking.network import load_network
from cmd_core.tracking.params import get_preset
from cmd_core.training.processing import ProcessingSettings

REAL = SHARED_DATA / "real"
TNO_SEQUENCES = {"Nato_camp": 32, "Duine": 23}
# same-instant pairs for stills, temporal pairs (tracklets) where the TNO frames are a video
PAIR_CONFIG = {"roles": "both", "detector": {"temporal": {"enabled": True}}}


def _need_real() -> Path:
    for sub in ("roadscene", "tno-fel"):
        if not (REAL / sub).is_dir():
            pytest.skip(f"real test data {REAL / sub} not present (only in developer checkouts / CI, not in a "
                        "user's clone)")
    return REAL


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict:
    """Both real sets ingested with the command line a new user would type (`cmd-tir ingest`)."""
    root = _need_real()
    out = tmp_path_factory.mktemp("real_pairs")
    for name, sub, opts in (("roadscene", "roadscene", ["--option", "stills=true"]), ("tno", "tno-fel", [])):
        rc = cli_main(["ingest", "--format", "generic_pairs", "--root", str(root / sub), "--name", name,
                       "--out-dir", str(out / "manifests"), "--verify", "header", "--threads", "1", "--no-progress",
                       *opts])
        assert rc == 0
    return {"out": out, **{n: out / "manifests" / f"{n}.frames.parquet" for n in ("roadscene", "tno")}}


def _summary(real: dict, name: str) -> dict:
    return json.loads((real["out"] / "manifests" / f"{name}.summary.json").read_text())


# ----------------------------------------------------------------------------- ingest
def test_roadscene_stills_ingest(real):
    s = _summary(real, "roadscene")
    assert (s["frames"], s["sequences"], s["rejected_rows"], s["rejected_sequences"]) == (221, 221, 0, 0)
    assert s["rgb_resolution"].startswith("mixed: 218 sizes from ") and s["tir_resolution"] == s["rgb_resolution"]
    df = read_frames(real["roadscene"])
    # every still is a one-frame sequence named after its file, paired with the file of the same name
    assert (df["frame"] == 0).all() and df["sequence"].is_unique
    assert [Path(p).stem for p in df["rgb_path"]] == df["sequence"].tolist()
    assert [Path(p).name for p in df["rgb_path"]] == [Path(p).name for p in df["tir_path"]]
    assert (df["rgb_width"] == df["tir_width"]).all() and (df["rgb_height"] == df["tir_height"]).all()
    first = df.set_index("sequence").loc["FLIR_00006"]
    assert (first["rgb_width"], first["rgb_height"]) == (500, 329)
    assert {"FLIR_04215", "FLIR_video_04215"} <= set(df["sequence"])  # one number, two stills
    rgb, tir = load_frame_pair(first.to_dict() | {"frame": 0})
    assert rgb.shape == (329, 500, 3) and tir.shape == (329, 500)


def test_roadscene_as_video_frames_points_to_stills():
    """Without stills=true, FLIR_04215 and FLIR_video_04215 hold one frame number: the error names
    both files and the option."""
    root = _need_real() / "roadscene"
    with pytest.raises(ValueError, match=r"two files for frame number 4215: FLIR_04215\.jpg and "
                                         r"FLIR_video_04215\.jpg .*option stills=true"):
        ingest_dataset("rs", "generic_pairs", root, verify="none")


def test_tno_sequences_ingest(real):
    s = _summary(real, "tno")
    assert (s["frames"], s["sequences"], s["rejected_rows"]) == (55, 2, 0)
    assert s["rgb_resolution"] == s["tir_resolution"] == "360x270"
    df = read_frames(real["tno"])
    for seq, n in TNO_SEQUENCES.items():
        d = df[df["sequence"] == seq].sort_values("frame")
        assert d["frame"].tolist() == list(range(n))
        assert [Path(p).name[:-5] for p in d["rgb_path"]] == [Path(p).name[:-5] for p in d["tir_path"]]
    first = df[(df["sequence"] == "Nato_camp") & (df["frame"] == 0)].iloc[0]
    assert Path(first["rgb_path"]).name == "1800v.bmp" and Path(first["tir_path"]).name == "1800i.bmp"


# ----------------------------------------------------------------------------- pairs
def _boxes_inside(pairs: pd.DataFrame, frames: pd.DataFrame) -> None:
    sz = frames.set_index(["sequence", "frame"])[["tir_width", "tir_height"]]
    for role in ("template", "search"):
        wh = sz.loc[list(zip(pairs["sequence"], pairs[f"{role}_frame"]))].to_numpy(float)
        b = pairs[[f"{role}_{k}" for k in "xywh"]].to_numpy(float)
        assert np.isfinite(b).all() and (b[:, 2:] > 0).all()
        assert (b[:, :2] >= -1e-6).all() and (b[:, :2] + b[:, 2:] <= wh + 1e-6).all()


@pytest.mark.parametrize("method", ["central", "random", "detector"])
def test_pairs_on_real_sets(real, method):
    per_frame = {"central": 1, "random": 3}  # random: boxes_per_frame 3, all fit in these frames
    for name, n_frames in (("roadscene", 221), ("tno", 55)):
        frames = read_frames(real[name])
        r = generate_pairs(frames, method, PAIR_CONFIG)
        s, pairs = r.summary, r.pairs.to_pandas()
        assert s["frames"] == s["frames_with_pairs"] == n_frames and s["frames_without_pairs_total"] == 0
        assert len(pairs) == 2 * s["boxes"]  # roles both: rgb->tir and tir->rgb per box
        if method in per_frame:
            assert s["boxes"] == per_frame[method] * n_frames
        else:  # every frame gives at least one box (own detections or the counted random fallback)
            assert s["frames_with_own_boxes"] + s["fallback_frames"] == n_frames and s["boxes"] >= n_frames
            assert s["frames_with_own_boxes"] > 0
        _boxes_inside(pairs, frames)
        if name == "roadscene":  # stills: only same-instant pairs, never across two stills
            assert (pairs["time_gap"] == 0).all() and (pairs["template_frame"] == 0).all()
        elif method == "detector":  # a video: tracklets give temporal pairs within a sequence
            assert (pairs["time_gap"] > 0).any() and (pairs["time_gap"] >= 0).all()


# ----------------------------------------------------------------------------- distil + track
STRATEGY = {"pairs": "central", "mode": "distill", "backbone": "trainable", "components": ["classifier"],
            "lr_scale": 5.0, "losses": {"feature": 1.0, "response": 0.0, "iou": 0.0}}


def test_distill_pooled_real_sets_then_track(real, tmp_path, torch_one_thread):
    """A tiny random DiMP-18 teacher (64 px crops) distilled into a TIR student on the pooled
    RoadScene + TNO central pairs: the feature loss falls, the checkpoint loads with the safe
    loader, and the student tracks a few TIR frames of Nato_camp."""
    pair_paths = []
    for name in ("roadscene", "tno"):
        p = tmp_path / "pairs" / name / "central.parquet"
        write_pairs(generate_pairs(read_frames(real[name]), "central", {"roles": "both"}), p)
        pair_paths.append(p)
    frame_paths = [real["roadscene"], real["tno"]]
    pooled = PairDataset(pair_paths, frame_paths, ProcessingSettings(crop_size=64), samples_per_epoch=1)
    assert pooled.pairs["dataset"].value_counts().to_dict() == {"roadscene": 442, "tno": 110}
    assert pooled._load("roadscene", "FLIR_00006", 0)[1].shape == (329, 500)
    assert pooled._load("tno", "Duine", 22)[1].shape == (270, 360)

    torch.manual_seed(0)
    teacher = tmp_path / "teacher.pth"
    save_checkpoint(teacher, dimp18(crop_size=64))
    out = tmp_path / "student"
    s = distill(STRATEGY, pair_paths, frame_paths, teacher, out, epochs=4, samples_per_epoch=8, batch_size=4,
                threads=1, device="cpu", num_workers=0, progress=False)
    losses = [float(r["feature"]) for r in csv.DictReader(open(out / "log.csv"))]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < 0.9 * losses[0], losses
    ck = read_checkpoint(s["final"])
    assert ck["final"] is True and ck["train_config"]["pairs"] == ", ".join(map(str, pair_paths))

    params = get_preset("cpu")
    tracker = DiMPTracker(load_network(s["final"], params), params)
    frames = read_frames(real["tno"])
    rows = frames[frames["sequence"] == "Nato_camp"].sort_values("frame").head(5).to_dict("records")
    init = generate_pairs(frames[frames["sequence"] == "Nato_camp"], "detector").boxes.to_pandas()
    init = init[init["frame"] == 0].iloc[0]
    tir0 = load_frame_pair(rows[0])[1]
    tracker.initialize(tir0, np.array([init[k] for k in "xywh"], float))
    H, W = tir0.shape
    for row in rows[1:]:
        box = tracker.track(load_frame_pair(row)[1])
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        assert np.isfinite(box).all() and box[2] > 0 and box[3] > 0
        assert 0 <= cx <= W and 0 <= cy <= H, box


# ----------------------------------------------------------------------------- rules on tiny folders
def test_gap_on_both_sides_keeps_numbers(tmp_path):
    """Unlabelled pairs: a number missing on both sides is no error and the frames keep their
    numbers; a frame on one side only is still rejected alone."""
    root = fx.make_generic_pairs(tmp_path / "g", n=6)
    (root / "clip" / "rgb" / "a_2.jpg").unlink()
    (root / "clip" / "tir" / "b_2.jpg").unlink()
    r = ingest_dataset("g", "generic_pairs", root)
    assert r.frames.column("frame").to_pylist() == [0, 1, 3, 4, 5] and r.rejected.num_rows == 0
    assert r.frames.column("rgb_path").null_count == r.frames.column("tir_path").null_count == 0
    (root / "clip" / "tir" / "b_4.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing TIR frame matching a_4\.jpg.*\(frame 4\)"):
        ingest_dataset("g", "generic_pairs", root)
    r = ingest_dataset("g", "generic_pairs", root, on_error="skip")
    assert r.frames.column("frame").to_pylist() == [0, 1, 3, 5]
    assert [(x["frame"], "missing TIR frame" in x["reason"]) for x in r.rejected.to_pylist()] == [(4, True)]


def _stills(root: Path, names=("x_1", "x_2", "y_1")) -> Path:
    for i, n in enumerate(names):
        fx.write_img(root / "visible" / f"{n}.jpg", seed=i)
        fx.write_img(root / "infrared" / f"{n}.jpg", gray=True, seed=i)
    return root


def test_stills_are_paired_by_name(tmp_path):
    root = _stills(tmp_path / "s")
    (root / "infrared" / "x_2.jpg").unlink()
    fx.write_img(root / "infrared" / "z_9.jpg", gray=True)
    with pytest.raises(FileNotFoundError, match=r"infrared: missing still matching x_2\.jpg .*\[sequence x_2\]"):
        ingest_dataset("s", "generic_pairs", root, options={"stills": "true"})
    r = ingest_dataset("s", "generic_pairs", root, options={"stills": "true"}, on_error="skip")
    df = r.frames.to_pandas()
    assert df["sequence"].tolist() == ["x_1", "y_1"] and (df["frame"] == 0).all()
    assert sorted((x["sequence"], x["frame"]) for x in r.rejected.to_pylist()) == [("x_2", 0), ("z_9", 0)]
    assert r.summary["rejected_sequences"] == 2
    # a root holding several still folders: sequences are <folder>-<stem>
    _stills(tmp_path / "many" / "day", ("a",))
    _stills(tmp_path / "many" / "night", ("a",))
    r = ingest_dataset("m", "generic_pairs", tmp_path / "many", options={"stills": "yes"})
    assert r.frames.column("sequence").to_pylist() == ["day-a", "night-a"]
    with pytest.raises(ValueError, match=r"option stills='maybe': expected true or false"):
        ingest_dataset("s", "generic_pairs", root, options={"stills": "maybe"})
    video = fx.make_generic_pairs(tmp_path / "v", video=True)
    with pytest.raises(ValueError, match=r"clip: option stills=true needs two image folders, found rgb.avi and tir.avi"):
        ingest_dataset("v", "generic_pairs", video, options={"stills": "true"})


def test_size_mismatch_is_refused_naming_both_sizes(tmp_path):
    """The size rule: a pair box is one pixel box in both modalities, so a frame whose RGB and TIR
    sizes differ is refused - by pair generation and by the distillation dataset (from the
    manifest up front, and from the decoded images) - with both sizes in the message."""
    root = _stills(tmp_path / "s", ("a", "b"))
    fx.write_img(root / "infrared" / "b.jpg", w=64, h=48, gray=True)  # RGB b.jpg is 32x24
    frames = ingest_dataset("s", "generic_pairs", root, options={"stills": "true", "allow_size_mismatch": "true"})
    man = write_result(frames, tmp_path / "m")["frames"]
    df = read_frames(man)
    with pytest.raises(ValueError, match=r"b\.jpg: image size differs between RGB 32x24 .* and TIR 64x48"):
        generate_pairs(df, "central")
    r = generate_pairs(df, "central", {"on_error": "skip"})
    assert r.summary["frames_without_pairs"] == {"RGB/TIR size mismatch": 1} and r.pairs.num_rows == 1

    box = {"template_x": 4.0, "template_y": 4.0, "template_w": 10.0, "template_h": 8.0, "search_x": 4.0,
           "search_y": 4.0, "search_w": 10.0, "search_h": 8.0, "template_modality": "rgb", "search_modality": "tir"}
    pairs = write_pairs_table([{"dataset": "s", "sequence": seq, "template_frame": 0, "search_frame": 0, **box}
                               for seq in ("a", "b")], tmp_path / "p.parquet")
    st = ProcessingSettings(crop_size=32)
    with pytest.raises(FrameSizeError, match=r"b\.jpg: TIR image is 64x48 but its RGB image .*b\.jpg is 32x24 "
                                             r"\(dataset s sequence b frame 0"):
        PairDataset(pairs, man, st, mode="distill")
    ok = write_pairs_table([{"dataset": "s", "sequence": "a", "template_frame": 0, "search_frame": 0, **box}],
                           tmp_path / "ok.parquet")
    ds = PairDataset(ok, man, st, mode="distill", samples_per_epoch=1)
    fx.write_img(root / "infrared" / "a.jpg", w=40, h=24, gray=True)  # changed after ingest
    with pytest.raises(FrameSizeError, match=r"TIR image is 40x24 but its RGB image .* is 32x24 .*as decoded"):
        ds.sample(0, 0)


# ----------------------------------------------------------------------------- distill.dataset list
def test_distill_dataset_list_in_config():
    ds = {"a": {"purpose": "distill"}, "b": {"purpose": "distill"}, "t": {"purpose": "teacher_train"}}
    assert purpose_datasets(ds, "distill", "a", "distill.dataset") == ["a"]  # a single name stays valid
    assert purpose_datasets(ds, "distill", ["b", "a"], "distill.dataset") == ["b", "a"]
    assert purpose_datasets(ds, "teacher_train", None, "k") == ["t"]
    assert purpose_datasets(ds, "eval_tir", None, "k") is None
    with pytest.raises(ConfigError, match=r"config distill.dataset\[1\]: unknown dataset 'zz'"):
        purpose_datasets(ds, "distill", ["a", "zz"], "distill.dataset")
    with pytest.raises(ConfigError, match=r"set it to the dataset to use"):
        purpose_datasets(ds, "distill", None, "distill.dataset")
    for value in ("a", ["a", "b"], None):
        assert validate_config({"distill": {"dataset": value}})["distill"]["dataset"] == value
    for bad in ([], ["a", "a"], 3):
        with pytest.raises(ConfigError, match="distill.dataset"):
            validate_config({"distill": {"dataset": bad}})


def test_workflow_pools_the_distill_datasets(tmp_path):
    """Dry run with the real folders configured and distill.dataset a list: each distillation job
    reads the pair manifest and the frames manifest of both datasets."""
    root = _need_real()
    cfg = {"results": str(tmp_path / "results"),
           "synthetic": {"splits": {"rgb_train": {"sequences": 2, "frames": 4}, "rgbt_train": {"sequences": 1, "frames": 4},
                                    "tir_eval": {"sequences": 1, "frames": 4}, "rgbt_eval": {"sequences": 1, "frames": 4}}},
           "datasets": {"roadscene": {"format": "generic_pairs", "root": str(root / "roadscene"), "purpose": "distill",
                                      "options": {"stills": "true"}},
                        "tno": {"format": "generic_pairs", "root": str(root / "tno-fel"), "purpose": "distill"}},
           "distill": {"dataset": ["roadscene", "tno"], "seeds": [0]},
           "supervised_tir": {"enabled": False}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "1",
                           f"--configfile={path}", "--", "all"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = [block.split("\n\n")[0] for block in proc.stdout.split("rule distill:")[1:]]
    assert jobs, proc.stdout
    for job in jobs:
        method = job.split("pairs/roadscene/")[1].split(".parquet")[0]
        for d in ("roadscene", "tno"):
            assert f"pairs/{d}/{method}.parquet" in job and f"manifests/{d}.frames.parquet" in job, job
