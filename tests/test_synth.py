"""Tests of the embedded synthetic RGB-T benchmark (cmd_core.synth): determinism, layouts,
pixel alignment, the modality gap, attributes, atomicity and the CLI. Tiny sizes, a few seconds."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cmd_core.synth import LSOTB_ATTRIBUTES, SPLITS, SplitConfig, SynthConfig, generate_benchmark
from cmd_core.synth import generator as gen_mod
from cmd_core.synth.attributes import compute_attributes
from cmd_core.synth.generator import render_sequence
from cmd_core.synth.scene import sample_scene

W, H, FRAMES, SEQS = 128, 96, 8, 2

# A clean scene: no other traffic and no scenario unless a test asks for it.
QUIET = dict(colour_twin=False, thermal_twin=False, crossover=False, occlusion=False, camouflage=False,
             out_of_view=False, fast_motion=False, scale_change=False, agc_jump=False, n_objects=0)


def tiny(seed: int = 1) -> SynthConfig:
    return SynthConfig(seed=seed, width=W, height=H, jpeg_quality=90,
                       splits={s: SplitConfig(sequences=SEQS, frames=FRAMES) for s in SPLITS})


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "a"
    generate_benchmark(out, tiny(1), threads=1, progress=False)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _boxes(path: Path) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in path.read_text().splitlines()])


def _render(force: dict, seed: int = 0, frames: int = 10, split: str = "rgbt_eval", size=(160, 128)):
    scene = sample_scene(np.random.default_rng(seed), split, size[0], size[1], frames, {**QUIET, **force})
    return scene, render_sequence(scene, ("rgb", "tir"), keep_frames=True)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_parallel_or_not(bench, tmp_path):
    again = tmp_path / "b"
    generate_benchmark(again, tiny(1), threads=2, progress=False)
    a, b = _files(bench), _files(again)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_different_seed_differs(bench, tmp_path):
    other = tmp_path / "c"
    generate_benchmark(other, tiny(2), threads=1, progress=False)
    a, c = _files(bench), _files(other)
    jpgs = [k for k in a if k.endswith(".jpg") and k in c]
    differing = [k for k in jpgs if a[k] != c[k]]
    assert len(differing) > 0.9 * len(jpgs)


# ----------------------------------------------------------------------------- layouts


def _check_boxes(boxes: np.ndarray, present: np.ndarray | None = None) -> None:
    assert boxes.shape == (FRAMES, 4)
    ok = boxes[:, 2] > 0 if present is None else present
    assert ok[0], "the target must be visible in the first frame"
    b = boxes[ok]
    assert (b[:, 2] > 0).all() and (b[:, 3] > 0).all()
    assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
    assert (b[:, 0] + b[:, 2] <= W).all() and (b[:, 1] + b[:, 3] <= H).all()


def test_layouts(bench):
    summary = json.loads((bench / "synth.json").read_text())
    assert list(summary["splits"]) == list(SPLITS)
    for split in SPLITS:
        meta = json.loads((bench / split / "meta.json").read_text())
        assert meta["seed"] == 1 and len(meta["sequences"]) == SEQS
    # GOT-10k
    names = (bench / "rgb_train" / "list.txt").read_text().split()
    assert len(names) == SEQS
    for n in names:
        d = bench / "rgb_train" / n
        assert sorted(p.name for p in d.glob("*.jpg")) == [f"{i:08d}.jpg" for i in range(1, FRAMES + 1)]
        img = cv2.imread(str(d / "00000001.jpg"), cv2.IMREAD_UNCHANGED)
        assert img.shape == (H, W, 3)
        absence = np.array([int(v) for v in (d / "absence.label").read_text().split()])
        cover = np.array([int(v) for v in (d / "cover.label").read_text().split()])
        assert len(absence) == len(cover) == FRAMES and set(absence) <= {0, 1} and ((cover >= 0) & (cover <= 8)).all()
        assert ((absence == 1) == (cover == 0)).all()
        cut = np.array([int(v) for v in (d / "cut_by_image.label").read_text().split()])
        assert len(cut) == FRAMES and set(cut) <= {0, 1} and not (cut.astype(bool) & (absence == 1)).any()
        meta = (d / "meta_info.ini").read_text().splitlines()  # GOT-10k's keys in its order (pytracking reads by line)
        assert meta[0] == "[METAINFO]" and [m.split(": ")[0] for m in meta[1:]] == [
            "url", "begin", "end", "anno_fps", "object_class", "motion_class", "major_class", "root_class",
            "motion_adverb", "resolution"]
        assert meta[5] == f"object_class: {n.rsplit('_', 1)[1]}" and meta[10] == f"resolution: ({W}, {H})"
        lines = (d / "groundtruth.txt").read_text().splitlines()
        assert all(len(v.split(".")[-1]) <= 2 for line in lines for v in line.split(","))
        _check_boxes(_boxes(d / "groundtruth.txt"), present=absence == 0)
    # RGBT234 (both paired splits)
    for split in ("rgbt_train", "rgbt_eval"):
        for n in (bench / split / "list.txt").read_text().split():
            d = bench / split / n
            assert sorted(p.name for p in (d / "visible").glob("*.jpg")) == [f"{i:05d}v.jpg" for i in range(1, FRAMES + 1)]
            assert sorted(p.name for p in (d / "infrared").glob("*.jpg")) == [f"{i:05d}i.jpg" for i in range(1, FRAMES + 1)]
            assert cv2.imread(str(d / "visible" / "00001v.jpg"), cv2.IMREAD_UNCHANGED).shape == (H, W, 3)
            assert cv2.imread(str(d / "infrared" / "00001i.jpg"), cv2.IMREAD_UNCHANGED).shape == (H, W)
            vis = _boxes(d / "visible.txt")
            _check_boxes(vis)
            assert (d / "init.txt").read_text().strip() == (d / "visible.txt").read_text().splitlines()[0]
            rows = (d / "objects.csv").read_text().splitlines()
            assert rows[0] == "frame,object_id,kind,x,y,w,h,occlusion"
            frames = {int(r.split(",")[0]) for r in rows[1:]}
            assert frames == set(range(FRAMES))
    # LSOTB-TIR
    names = (bench / "tir_eval" / "sequences.txt").read_text().split()
    assert len(names) == SEQS
    for n in names:
        imgs = sorted((bench / "tir_eval" / "sequences" / n / "img").glob("*.jpg"))
        assert [p.name for p in imgs] == [f"{i:04d}.jpg" for i in range(1, FRAMES + 1)]
        assert cv2.imread(str(imgs[0]), cv2.IMREAD_UNCHANGED).shape == (H, W)
        anno = (bench / "tir_eval" / "anno" / f"{n}.txt").read_text().splitlines()
        assert all(v.lstrip("-").isdigit() for line in anno for v in line.split(","))
        _check_boxes(_boxes(bench / "tir_eval" / "anno" / f"{n}.txt"))
        att = (bench / "tir_eval" / "anno" / "att" / f"{n}.txt").read_text().strip().split(",")
        assert len(att) == 16 and set(att) <= {"0", "1"}
        assert sum(int(v) for v in att[12:]) == 1  # exactly one camera platform


def test_no_temporary_leftovers(bench):
    assert not [p for p in bench.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------------------- alignment


def test_rgb_and_tir_boxes_identical(bench):
    for split in ("rgbt_train", "rgbt_eval"):
        for n in (bench / split / "list.txt").read_text().split():
            d = bench / split / n
            assert (d / "visible.txt").read_bytes() == (d / "infrared.txt").read_bytes()
            rows = [r.split(",") for r in (d / "objects.csv").read_text().splitlines()[1:]]
            obj0 = np.array([[float(v) for v in r[3:7]] for r in rows if r[1] == "0"])
            assert np.array_equal(obj0, _boxes(d / "visible.txt"))


def test_mask_is_shared_between_modalities():
    scene, tr = _render({"kind": "vehicle", "camera": "static", "night": False}, seed=3)
    rgb, tir, owner = tr["frames"]["rgb"][0], tr["frames"]["tir"][0], tr["frames"]["owner"][0]
    m = owner == 1
    x, y, w, h = tr["box"][0].astype(int)
    ys, xs = np.nonzero(m)
    # the box covers the mask, and the mask produces an edge at the same place in both images
    assert xs.min() >= x and xs.max() < x + w and ys.min() >= y and ys.max() < y + h
    assert rgb.shape[:2] == tir.shape == owner.shape


# ----------------------------------------------------------------------------- modality gap


def test_colour_twin_same_colour_different_temperature():
    scene, tr = _render({"colour_twin": True, "kind": "person", "camera": "static", "night": False}, seed=5)
    tgt, twin = scene.objects[0], scene.objects[1]
    assert twin.role == "colour_twin"
    assert np.allclose(twin.colours, tgt.colours)
    assert float(np.mean(tgt.temps) - np.mean(twin.temps)) > 5.0
    # measured on the rendered pixels where both are well visible
    diffs_rgb, diffs_tir = [], []
    for rgb, tir, owner in zip(tr["frames"]["rgb"], tr["frames"]["tir"], tr["frames"]["owner"]):
        a, b = owner == 1, owner == twin.object_id + 1
        if a.sum() > 50 and b.sum() > 50:
            diffs_rgb.append(np.abs(rgb[a].mean(0) - rgb[b].mean(0)).max())
            diffs_tir.append(abs(float(tir[a].mean()) - float(tir[b].mean())))
    assert diffs_rgb, "target and twin never both visible"
    assert np.median(diffs_rgb) < 25
    assert np.median(diffs_tir) > 20


def test_thermal_twin_same_temperature_different_colour():
    scene, tr = _render({"thermal_twin": True, "kind": "person", "camera": "static", "night": False}, seed=6)
    tgt, twin = scene.objects[0], scene.objects[1]
    assert twin.role == "thermal_twin"
    assert np.allclose(twin.temps, tgt.temps)
    assert np.abs(twin.colours.mean(0) - tgt.colours.mean(0)).sum() > 60


def test_camouflaged_hot_target_is_weak_in_rgb_strong_in_tir():
    rgb_c, tir_c = [], []
    for seed in (7, 8, 9):  # a heterogeneous background limits camouflage in some scenes: average
        scene, tr = _render({"camouflage": True, "kind": "vehicle", "camera": "static", "night": True}, seed=seed)
        rgb_c.append(np.nanmean(np.abs(tr["rgb_contrast"])))
        tir_c.append(np.nanmean(np.abs(tr["tir_contrast"])))
    assert np.mean(tir_c) > 25 and np.mean(tir_c) > 2.5 * np.mean(rgb_c)


def test_contrast_sign_and_magnitude_differ_between_modalities():
    rgb, tir = [], []
    for seed in range(10):
        _, tr = _render({}, seed=100 + seed, frames=3, size=(96, 80))
        rgb.append(np.nanmean(tr["rgb_contrast"]))
        tir.append(np.nanmean(tr["tir_contrast"]))
    rgb, tir = np.array(rgb), np.array(tir)
    assert (np.sign(rgb) != np.sign(tir)).any()
    assert abs(np.corrcoef(rgb, tir)[0, 1]) < 0.9


def test_crossover_fades_the_target_in_tir_only():
    scene, tr = _render({"crossover": True, "kind": "person", "camera": "static"}, seed=8, frames=30)
    tc = np.abs(tr["tir_contrast"])
    cf = scene.crossover_frame
    assert tc[cf] < 0.5 * np.nanmax(tc)
    assert compute_attributes(scene, tr)["thermal_crossover"] == 1


# ----------------------------------------------------------------------------- attributes


@pytest.mark.parametrize("camera,flag", [("static", "surveillance"), ("pan", "vehicle_mounted"),
                                         ("drone", "drone_mounted"), ("handheld", "hand_held")])
def test_platform_attribute_from_camera(camera, flag):
    scene, tr = _render({"camera": camera}, seed=9, frames=4, size=(96, 80))
    att = compute_attributes(scene, tr)
    assert att[flag] == 1 and sum(att[f] for f in LSOTB_ATTRIBUTES[12:]) == 1


def test_scenario_attributes_are_consistent():
    scene, tr = _render({"fast_motion": True, "scale_change": True, "camera": "static", "kind": "person"},
                        seed=10, frames=30)
    att = compute_attributes(scene, tr)
    assert att["fast_motion"] == 1 and att["motion_blur"] == 1
    assert att["scale_variation"] == 1 and att["deformation"] == 1
    scene, tr = _render({"occlusion": True, "camera": "static", "kind": "person"}, seed=11, frames=30)
    assert tr["occlusion"].max() > 0.3 and compute_attributes(scene, tr)["occlusion"] == 1
    scene, tr = _render({"thermal_twin": True, "camera": "static", "kind": "animal"}, seed=12, frames=12)
    assert compute_attributes(scene, tr)["distractor"] == 1
    scene, tr = _render({"agc_jump": True, "camera": "static"}, seed=13, frames=30)
    assert compute_attributes(scene, tr)["intensity_variation"] == 1


def test_att_files_match_meta(bench):
    meta = json.loads((bench / "tir_eval" / "meta.json").read_text())
    assert meta["attribute_names"] == list(LSOTB_ATTRIBUTES)
    for seq in meta["sequences"]:
        line = (bench / "tir_eval" / "anno" / "att" / f"{seq['name']}.txt").read_text().strip()
        assert line == ",".join(str(seq["attributes"][a]) for a in LSOTB_ATTRIBUTES)


# ----------------------------------------------------------------------------- atomicity and CLI


def test_failed_generation_leaves_no_marker(tmp_path, monkeypatch):
    out = tmp_path / "f"
    cfg = SynthConfig(seed=3, width=64, height=48, splits={s: SplitConfig(1, 3) for s in SPLITS})
    generate_benchmark(out, cfg, progress=False)
    assert (out / "synth.json").exists()
    real = gen_mod.generate_sequence
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(gen_mod, "generate_sequence", flaky)
    with pytest.raises(RuntimeError):
        generate_benchmark(out, cfg, progress=False)
    assert not (out / "synth.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_cli_runs(tmp_path):
    from cmd_core.cli import main

    cfg = tmp_path / "config.yaml"
    cfg.write_text("synthetic:\n  seed: 7\n  width: 64\n  height: 48\n  splits:\n    rgb_train: {sequences: 1, frames: 3}\n")
    out = tmp_path / "cli"
    rc = main(["synth", "--out", str(out), "--config", str(cfg), "--sequences", "1", "--frames", "3",
               "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "synth.json").read_text())
    assert summary["seed"] == 7 and summary["config"]["width"] == 64
    assert all(v["sequences"] == 1 and v["frames"] == 3 for v in summary["splits"].values())
    assert main(["synth", "--out", str(out), "--config", str(tmp_path / "missing.yaml")]) == 2


def test_first_frame_shows_the_target():
    """The first frame initialises the tracker: every scene shows at least 90 % of its target there.
    Seed 7's rgbt_eval sequence 5 was drawn with 91 % of its target behind a bush before the redraw."""
    cfg = SynthConfig(seed=7, splits={"rgbt_eval": SplitConfig(16, 100), "tir_eval": SplitConfig(8, 100)})
    hidden = [gen_mod.first_frame_hidden(gen_mod.make_scene(cfg, split, i))
              for split, n in (("rgbt_eval", 16), ("tir_eval", 8)) for i in range(n)]
    assert max(hidden) <= gen_mod.MAX_FIRST_FRAME_HIDDEN
    original = sample_scene(np.random.default_rng([7, SPLITS.index("rgbt_eval"), 5]), "rgbt_eval", 320, 256, 100)
    assert gen_mod.first_frame_hidden(original) > 0.5  # the draw that is replaced
