"""Tiny RGB-T world for the distillation tests (helpers imported by the other test_distill_* files),
plus the checks of the world itself: a 2-sequence RGBT234 folder made with cv2, ingested with
``cmd_core.datasets.ingest``, its pairs made with ``cmd_core.pairs.generate``, and a tiny random
DiMP-18 "teacher" at 64 px crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from cmd_core.datasets.ingest import ingest_dataset, write_result
from cmd_core.model import dimp18, save_checkpoint
from cmd_core.pairs.generate import generate_pairs, read_frames, write_pairs
from cmd_core.pairs.schema import PAIRS_SCHEMA
from test_pairs_helpers import write_rgbt234_sequence

W, H = 96, 80
CROP = 64


def make_rgbt(root: Path, seqs=("seqA", "seqB"), n: int = 5) -> Path:
    """RGBT234 layout: a textured object moving over a blurred background; hot in TIR."""
    rng = np.random.default_rng(1)
    for k, s in enumerate(seqs):
        bg = cv2.GaussianBlur(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), (0, 0), 2)
        tex = rng.integers(0, 255, (16, 20, 3), dtype=np.uint8)
        frames = []
        for i in range(1, n + 1):
            x, y = 20 + 4 * i + 8 * k, 24 + 2 * i
            rgb = bg.copy()
            rgb[y:y + 16, x:x + 20] = tex
            tir = (cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY) // 3).astype(np.uint8)
            tir[y:y + 16, x:x + 20] = 200 + (tex[..., 0] // 5)
            frames.append((rgb, tir, (x, y, 20, 16)))
        write_rgbt234_sequence(root / s, frames, "jpg")
    return root


def make_world(base: Path) -> dict[str, Path]:
    """Frames manifest, central / random pair manifests and a teacher checkpoint under ``base``."""
    root = make_rgbt(base / "data")
    res = ingest_dataset("tiny", "rgbt234", root)
    paths = write_result(res, base / "manifests")
    frames = Path(paths["frames"])
    out = {"frames": frames, "root": root}
    for method in ("central", "random"):
        r = generate_pairs(read_frames(frames), method, {"roles": "both"}, dataset="tiny")
        p = base / "pairs" / f"{method}.parquet"
        write_pairs(r, p)
        out[method] = p
    torch.manual_seed(0)
    net = dimp18(crop_size=CROP)
    out["teacher"] = base / "teacher.pth"
    save_checkpoint(out["teacher"], net)
    return out


def write_pairs_table(rows: list[dict], path: Path) -> Path:
    """A hand-made pair manifest (PAIRS_SCHEMA) from a few dict rows."""
    base = {"dataset": "tiny", "method": "central", "source": "hand", "label": None, "confidence": None,
            "tracklet_id": None, "fallback": False}
    full = []
    for i, r in enumerate(rows):
        d = {**base, "pair_id": i, **r}
        d["time_gap"] = int(d["search_frame"] - d["template_frame"])
        full.append(d)
    cols = {f.name: [d[f.name] for d in full] for f in PAIRS_SCHEMA}
    table = pa.Table.from_pydict(cols, schema=PAIRS_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def nan_gt_frames(frames: Path, out: Path) -> Path:
    """A copy of a frames manifest with every gt_* column set to NaN / False (no ground truth)."""
    table = pq.read_table(frames)
    df = table.to_pandas()
    for c in df.columns:
        if c.startswith("gt_"):
            df[c] = False if c.endswith("_valid") else np.nan
    pq.write_table(pa.Table.from_pandas(df, schema=table.schema, preserve_index=False), out)
    return out


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, Path]:
    return make_world(tmp_path_factory.mktemp("distill_world"))


def test_world_is_consistent(world):
    frames = read_frames(world["frames"])
    assert set(frames["sequence"]) == {"seqA", "seqB"}
    pairs = pd.read_parquet(world["central"])
    assert len(pairs) > 0 and set(pairs["template_modality"]) == {"rgb", "tir"}
