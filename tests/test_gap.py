"""The modality-gap diagnostic: its image statistics on images whose answer is known, the feature gap
at its two ends (TIR = grey RGB, TIR unrelated), the outputs of `cmd-tir gap`, bad input, and the real
aligned sets of ../shared beside each other."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from cmd_core.datasets.ingest import ingest_dataset, write_result
from cmd_core.datasets.schema import FRAMES_SCHEMA
from cmd_core.gap import GapSettings, measure_frames, summarise
from cmd_core.gap.measures import gradient_correlation, high_frequency_share, noise_sigma, surround_contrast
from cmd_core.gap.report import calibration


def _textured(rng: np.random.Generator, h: int = 96, w: int = 128) -> np.ndarray:
    """A smooth random colour image (BGR uint8) with structure at several scales."""
    base = rng.uniform(0, 255, (h // 8, w // 8, 3)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    img += cv2.resize(rng.uniform(-40, 40, (h // 2, w // 2, 3)).astype(np.float32), (w, h))
    return np.clip(img, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- image statistics
def test_gradient_correlation_ends():
    rng = np.random.default_rng(0)
    a = cv2.cvtColor(_textured(rng), cv2.COLOR_BGR2GRAY).astype(np.float32)
    b = cv2.cvtColor(_textured(rng), cv2.COLOR_BGR2GRAY).astype(np.float32)
    assert gradient_correlation(a, a) == pytest.approx(1.0)
    assert gradient_correlation(a, 255 - a) == pytest.approx(1.0)  # polarity does not matter (white-hot / black-hot)
    assert abs(gradient_correlation(a, b)) < 0.2
    assert np.isnan(gradient_correlation(a, np.zeros_like(a)))
    with pytest.raises(ValueError, match="sizes differ"):
        gradient_correlation(a, a[:-1])


def test_high_frequency_share_and_noise_level():
    rng = np.random.default_rng(1)
    ramp = np.tile(np.linspace(0, 200, 160, dtype=np.float32), (120, 1))
    noise = rng.normal(0, 3.0, ramp.shape).astype(np.float32)
    assert high_frequency_share(ramp) < 0.01
    assert high_frequency_share(noise + 100) > 0.8
    assert noise_sigma(ramp) < 0.05  # the mask ignores linear ramps
    assert noise_sigma(ramp + noise) == pytest.approx(3.0, rel=0.08)
    assert np.isnan(high_frequency_share(np.full((20, 20), 7.0, np.float32)))
    with pytest.raises(ValueError, match="too small"):
        noise_sigma(np.zeros((2, 9), np.float32))


def test_surround_contrast():
    rng = np.random.default_rng(2)
    img = rng.normal(50, 10, (100, 100)).astype(np.float32)
    img[40:60, 40:60] += 50  # a target 5 surround standard deviations brighter
    assert surround_contrast(img, (40, 40, 20, 20)) == pytest.approx(5.0, rel=0.15)
    assert surround_contrast(img, (5, 80, 10, 10)) < 0.6  # background against background
    assert np.isnan(surround_contrast(img, (200, 200, 10, 10)))  # outside the image


# ----------------------------------------------------------------------------- feature gap
def _paired_manifest(tmp_path, tir_of, n_seq: int = 3, n_frames: int = 4, gt: bool = False) -> pd.DataFrame:
    """Frames manifest rows of paired images written to tmp_path; TIR = tir_of(bgr, rng)."""
    rng = np.random.default_rng(3)
    rows = []
    for s in range(n_seq):
        for f in range(n_frames):
            bgr = _textured(rng)
            rp, tp = tmp_path / f"s{s}_{f}_rgb.png", tmp_path / f"s{s}_{f}_tir.png"
            cv2.imwrite(str(rp), bgr)
            cv2.imwrite(str(tp), tir_of(bgr, rng))
            box = (30.0, 20.0, 40.0, 30.0) if gt else (None,) * 4
            rows.append({"dataset": "t", "split": "all", "sequence": f"s{s}", "frame": f, "packing": "files",
                         "rgb_path": str(rp), "tir_path": str(tp), **{f"gt_{m}_{k}": v for m in ("rgb", "tir")
                                                                        for k, v in zip("xywh", box)},
                         "gt_rgb_valid": gt, "gt_tir_valid": gt})
    return pd.DataFrame(rows)


def test_feature_gap_is_zero_for_grey_copies_and_near_one_for_unrelated_images(tmp_path):
    settings = GapSettings(frames=50, boxes_per_frame=3, seed=0)
    (tmp_path / "grey").mkdir()
    (tmp_path / "other").mkdir()
    grey = _paired_manifest(tmp_path / "grey", lambda bgr, rng: cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    other = _paired_manifest(tmp_path / "other", lambda bgr, rng: cv2.cvtColor(_textured(rng), cv2.COLOR_BGR2GRAY))
    merged = [measure_frames(grey, "grey", settings, progress=False), measure_frames(other, "other", settings, progress=False)]
    summary = summarise({k: pd.concat([m[k] for m in merged]) for k in merged[0]}).set_index("dataset")
    assert summary.loc["grey", "boxes"] == 36 and summary.loc["grey", "frames"] == 12
    assert summary.loc["grey", "feature_gap"] == pytest.approx(0.0, abs=1e-6)
    assert summary.loc["grey", "grad_corr"] == pytest.approx(1.0, abs=1e-6)
    assert 0.6 < summary.loc["other", "feature_gap"] < 1.4  # 36 boxes: the expected value 1, give or take sampling
    assert abs(summary.loc["other", "grad_corr"]) < 0.2
    assert summary.loc["grey", "tir_objects"] == 0 and np.isnan(summary.loc["grey", "tir_contrast"])


def test_object_statistics_where_ground_truth_exists(tmp_path):
    frames = _paired_manifest(tmp_path, lambda bgr, rng: cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), n_seq=2, gt=True)
    measured = measure_frames(frames, "t", GapSettings(frames=8), progress=False)
    assert len(measured["objects"]) == 16  # 8 frames x 2 modalities
    assert measured["objects"]["distractor_sim"].between(-1, 1).all()
    assert (measured["objects"]["contrast"] >= 0).all()


def test_rgb_only_manifest_is_refused(tmp_path):
    frames = _paired_manifest(tmp_path, lambda bgr, rng: cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), n_seq=1)
    frames["tir_path"] = None
    with pytest.raises(ValueError, match=r"^my/rgb\.parquet: no frame has a TIR image"):
        measure_frames(frames, "t", source="my/rgb.parquet", progress=False)


def test_calibration_checks_each_statistic_against_the_reference_range():
    summary = pd.DataFrame({"dataset": ["real_a", "real_b", "synth"], "feature_gap": [0.6, 0.7, 0.65],
                            "grad_corr": [0.1, 0.3, 0.35], "tir_hf_share": [0.04, 0.08, 0.02], "tir_noise": [1.0, 2.0, 1.5],
                            "tir_distractor_sim": [np.nan, np.nan, 0.5], "rgb_distractor_sim": [np.nan] * 3,
                            "tir_contrast": [np.nan] * 3, "rgb_contrast": [np.nan] * 3})
    calib = calibration(summary, ["real_a", "real_b"]).set_index("statistic")
    assert list(calib.index) == ["feature_gap", "grad_corr", "tir_hf_share", "tir_noise"]  # no reference: no row
    assert calib["within"].to_dict() == {"feature_gap": True, "grad_corr": False, "tir_hf_share": False, "tir_noise": True}
    assert calib.loc["grad_corr", "reference_max"] == pytest.approx(0.3)


# ----------------------------------------------------------------------------- command line
def _write_manifest(frames: pd.DataFrame, path):
    import pyarrow as pa

    from cmd_core.io import write_parquet

    full = frames.reindex(columns=FRAMES_SCHEMA.names)
    for col in ("rgb_width", "rgb_height", "tir_width", "tir_height", "absent", "occlusion", "attributes"):
        full[col] = None
    write_parquet(pa.Table.from_pandas(full, schema=FRAMES_SCHEMA, preserve_index=False), path, FRAMES_SCHEMA)


def test_cli_writes_every_output(tmp_path):
    frames = _paired_manifest(tmp_path, lambda bgr, rng: 255 - cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), n_seq=2)
    _write_manifest(frames, tmp_path / "a.frames.parquet")
    _write_manifest(frames.iloc[:4], tmp_path / "b.frames.parquet")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "cmd_core.cli", "gap", "--manifest", f"a={tmp_path / 'a.frames.parquet'}",
                           "--manifest", f"ref={tmp_path / 'b.frames.parquet'}", "--reference", "ref", "--out-dir", str(out),
                           "--frames", "6", "--threads", "1", "--no-progress"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ("gap.csv", "gap.md", "gap_sequences.csv", "gap_calibration.csv", "gap.png"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "gap.csv")
    assert list(table["dataset"]) == ["a", "ref"] and list(table["frames"]) == [6, 4]
    assert set(pd.read_csv(out / "gap_sequences.csv")["sequence"]) == {"s0", "s1"}
    assert "Calibration against ref" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "cmd_core.cli", "gap", "--manifest", f"a={tmp_path / 'a.frames.parquet'}",
                          "--reference", "zzz", "--out-dir", str(out)], capture_output=True, text=True)
    assert bad.returncode != 0 and "zzz" in bad.stderr


# ----------------------------------------------------------------------------- real aligned pairs
def _ingest(root, name, out, **options):
    result = ingest_dataset(name, "generic_pairs", root, options=options, threads=1)
    write_result(result, out)
    from cmd_core.datasets.schema import read_manifest

    return read_manifest(out / f"{name}.frames.parquet", "frames")


def test_real_aligned_pairs_have_a_real_modality_gap(tmp_path, shared_data):
    """TNO's two sequences (registered, 360x270, uncompressed): the figures the synthetic benchmark is
    calibrated against. Measured 0.70 / 0.60 feature gap, 0.17 / 0.10 gradient correlation, 2.8 / 2.5
    grey levels of noise; per sequence as in a set of their own (the unrelated reference is per frame)."""
    real = shared_data / "real" / "tno-fel"
    frames = _ingest(real, "tno", tmp_path, rgb="visual", tir="thermal")
    assert sorted(frames.groupby("sequence").size().to_dict().items()) == [("Duine", 23), ("Nato_camp", 32)]
    measured = measure_frames(frames, "tno", GapSettings(frames=60), progress=False)
    per_seq = summarise(measured, by=("dataset", "sequence")).set_index("sequence")
    for seq, gap, corr, noise in (("Nato_camp", 0.70, 0.17, 2.77), ("Duine", 0.60, 0.10, 2.46)):
        assert per_seq.loc[seq, "feature_gap"] == pytest.approx(gap, abs=0.05), seq
        assert per_seq.loc[seq, "grad_corr"] == pytest.approx(corr, abs=0.06), seq
        assert per_seq.loc[seq, "tir_noise"] == pytest.approx(noise, abs=0.3), seq
