"""The real sequences in ../shared/data/real (skipped when that folder is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmd_core.datasets.frames import load_frame_pair
from cmd_core.datasets.ingest import ingest_dataset

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def _need(name: str) -> Path:
    p = REAL / name
    if not p.is_dir():
        pytest.skip(f"real test data {p} not present (only in developer checkouts / CI, not in a user's clone)")
    return p


def test_ptb_tir_airplane():
    r = ingest_dataset("ptb-airplane", "ptb_tir", _need("ptb-tir-airplane"), threads=2)
    f = r.frames.to_pylist()
    assert r.summary["frames"] == 380 and r.summary["tir_resolution"] == "473x356"
    assert r.summary["gt_coverage_tir"] == 1.0 and r.rejected.num_rows == 0
    assert (f[0]["gt_tir_x"], f[0]["gt_tir_y"], f[0]["gt_tir_w"], f[0]["gt_tir_h"]) == (420, 136, 53, 130)
    assert f[-1]["frame"] == 379 and f[-1]["tir_path"].endswith("img/00000380.jpg")
    _, tir = load_frame_pair(f[0])
    assert tir.shape == (356, 473)


def test_vot15_ball1():
    r = ingest_dataset("vot-ball1", "vot", _need("vot15-ball1"), threads=2, verify="header")
    f = r.frames.to_pylist()
    assert r.summary["frames"] == 105 and r.summary["rgb_resolution"] == "1280x720"
    # first polygon 492,463,539,463,539,417,492,417 -> min/max box
    assert (f[0]["gt_rgb_x"], f[0]["gt_rgb_y"], f[0]["gt_rgb_w"], f[0]["gt_rgb_h"]) == (492, 417, 47, 46)
    assert f[1]["gt_rgb_x"] == pytest.approx(492.76) and f[1]["gt_rgb_w"] == pytest.approx(539.792 - 492.76)
