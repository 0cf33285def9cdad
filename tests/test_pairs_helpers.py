"""Tiny RGB-T fixtures for the pair-generator tests (no tests here).

`make_dataset` writes an RGBT234-layout folder of aligned 80x64 frames: a hot (bright) square
moving to the right in the TIR frames and a red square at the same place in the RGB frames, on
flat backgrounds, and ingests it with the real ingest engine.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from cmd_core.datasets.ingest import ingest_dataset

W, H = 80, 64
SIDE = 14


def target_box(frame: int) -> tuple[int, int, int, int]:
    """The true box (x, y, w, h) of the moving square in frame `frame` (0-based)."""
    return 10 + 4 * frame, 20, SIDE, SIDE


def write_rgbt234_sequence(folder: Path, frames, ext: str = "png") -> None:
    """One RGBT234-layout sequence: ``visible/00001v.<ext>``, ``infrared/00001i.<ext>``, ... and the
    same boxes in visible.txt, infrared.txt and init.txt; ``frames`` yields (rgb, tir, (x, y, w, h))."""
    (folder / "visible").mkdir(parents=True, exist_ok=True)
    (folder / "infrared").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (rgb, tir, (x, y, w, h)) in enumerate(frames, start=1):
        assert cv2.imwrite(str(folder / "visible" / f"{i:05d}v.{ext}"), rgb)
        assert cv2.imwrite(str(folder / "infrared" / f"{i:05d}i.{ext}"), tir)
        lines.append(f"{x},{y},{w},{h}")
    for name in ("visible.txt", "infrared.txt", "init.txt"):
        (folder / name).write_text("\n".join(lines) + "\n")


def make_dataset(root: Path, seqs=("seqA", "seqB"), n: int = 6, *, tir_size=(W, H)) -> pd.DataFrame:
    """Write the folder and return its frames manifest as a DataFrame."""
    for s in seqs:
        frames = []
        for f in range(n):
            x, y, w, h = target_box(f)
            rgb = np.full((H, W, 3), 120, np.uint8)
            rgb[y:y + h, x:x + w] = (30, 30, 220)
            tir = np.full((tir_size[1], tir_size[0]), 40, np.uint8)
            tir[y:y + h, x:x + w] = 210
            frames.append((rgb, tir, (x, y, w, h)))
        write_rgbt234_sequence(root / s, frames, "png")
    options = {} if tir_size == (W, H) else {"allow_size_mismatch": "true"}
    result = ingest_dataset("tiny", "rgbt234", root, options=options, verify="header")
    return result.frames.to_pandas()


def fake_frames(n_seq: int, n_frames: int, w: int = 640, h: int = 512, dataset: str = "fake") -> pd.DataFrame:
    """A frames manifest without images (enough for the central and random methods)."""
    rows = []
    for s in range(n_seq):
        for f in range(n_frames):
            rows.append({"dataset": dataset, "split": "all", "sequence": f"s{s:03d}", "frame": f, "packing": "files",
                         "rgb_path": f"/nonexistent/s{s}/{f}v.jpg", "tir_path": f"/nonexistent/s{s}/{f}i.jpg",
                         "rgb_width": w, "rgb_height": h, "tir_width": w, "tir_height": h})
    return pd.DataFrame(rows)
