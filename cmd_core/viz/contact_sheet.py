"""Contact sheets: aligned RGB | TIR frames side by side with their boxes.

One row per sampled frame, one column per modality the dataset has, the ground-truth target box
drawn in the same place in both (that is the whole premise of cross-modal distillation), so a
person sees the modality gap at a glance. Frames and sequences are sampled deterministically.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cmd_core.datasets.frames import load_frame_pair  # noqa: E402
from cmd_core.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)

MODALITIES = (("rgb", "RGB"), ("tir", "TIR"))


def sample_rows(frames: pd.DataFrame, sequences: int, frames_per_sequence: int, seed: int) -> pd.DataFrame:
    """Pick up to `sequences` sequences (seeded) and `frames_per_sequence` evenly spaced frames each."""
    names = np.array(sorted(frames["sequence"].unique()))
    rng = np.random.default_rng(seed)
    chosen = names if len(names) <= sequences else np.sort(rng.choice(names, sequences, replace=False))
    picked = []
    for name in chosen:
        seq = frames[frames["sequence"] == name].sort_values("frame")
        idx = np.unique(np.linspace(0, len(seq) - 1, frames_per_sequence).round().astype(int))
        picked.append(seq.iloc[idx])
    return pd.concat(picked, ignore_index=True) if picked else frames.iloc[:0]


def _present_modalities(frames: pd.DataFrame) -> list[tuple[str, str]]:
    return [(m, label) for m, label in MODALITIES if frames[f"{m}_path"].notna().any()]


def _draw_box(ax, row: pd.Series, modality: str, color: str) -> None:
    if not bool(row.get(f"gt_{modality}_valid", False)):
        return
    x, y, w, h = (float(row[f"gt_{modality}_{k}"]) for k in "xywh")
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=color, linewidth=1.6))


def _draw_objects(ax, objects: pd.DataFrame | None, row: pd.Series, modality: str) -> None:
    if objects is None or objects.empty:
        return
    here = objects[(objects["sequence"] == row["sequence"]) & (objects["frame"] == row["frame"])]
    here = here[here["modality"].isin([modality, "both"])]
    for obj in here.itertuples():
        ax.add_patch(Rectangle((obj.x, obj.y), obj.w, obj.h, fill=False, edgecolor="yellow",
                               linewidth=0.8, linestyle="--"))


def draw_contact_sheet(rows: pd.DataFrame, out_png: str | Path, title: str,
                       objects: pd.DataFrame | None = None) -> None:
    """Render the sampled rows into one PNG (written atomically).

    One figure row per sequence; along it, each sampled frame as its modality panels side by side
    (RGB | TIR for paired data), so the same box can be compared across modalities and over time.
    """
    mods = _present_modalities(rows)
    if rows.empty or not mods:
        raise ValueError(f"{title}: no frames with images to draw")
    groups = [g for _, g in rows.groupby("sequence", sort=True)]
    n_rows = len(groups)
    n_cols = max(len(g) for g in groups) * len(mods)
    first = load_frame_pair(rows.iloc[0])
    shape = next(img.shape for img in first if img is not None)
    aspect = shape[0] / shape[1]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols, 2.6 * aspect * n_rows + 0.6),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, group in enumerate(groups):
        for k, (_, row) in enumerate(group.iterrows()):
            images = dict(zip(("rgb", "tir"), load_frame_pair(row)))
            for m, (mod, label) in enumerate(mods):
                ax = axes[r, k * len(mods) + m]
                img = images.get(mod)
                if img is None:
                    ax.text(0.5, 0.5, f"no {label} frame", ha="center", va="center", transform=ax.transAxes)
                elif img.ndim == 2:
                    ax.imshow(img, cmap="gray", vmin=0, vmax=255 if img.dtype == np.uint8 else None)
                else:
                    ax.imshow(img[..., ::-1])  # BGR -> RGB
                _draw_objects(ax, objects, row, mod)
                _draw_box(ax, row, mod, "lime" if mod == "rgb" else "red")
                ax.set_title(f"{label} {row['sequence']} #{int(row['frame'])}", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def contact_sheet_from_manifest(frames_parquet: str | Path, out_png: str | Path, *, sequences: int = 4,
                                frames_per_sequence: int = 3, seed: int = 0) -> None:
    """Draw the contact sheet of one ingested dataset from its frame (and object) manifests."""
    frames = pd.read_parquet(frames_parquet)
    if frames.empty:
        raise ValueError(f"{frames_parquet}: manifest has no frames to draw")
    objects_path = Path(str(frames_parquet).replace(".frames.parquet", ".objects.parquet"))
    objects = pd.read_parquet(objects_path) if objects_path.exists() else None
    rows = sample_rows(frames, sequences, frames_per_sequence, seed)
    dataset = str(frames["dataset"].iloc[0])
    mods = " | ".join(label for _, label in _present_modalities(frames))
    note = "; dashed: other objects" if objects is not None and not objects.empty else ""
    draw_contact_sheet(rows, out_png, f"{dataset}: {mods} (solid: ground-truth target{note})", objects)
    log.info("contact sheet of %d frames written to %s", len(rows), out_png)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("frames", help="a frames manifest (<name>.frames.parquet)")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--frames-per-sequence", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    contact_sheet_from_manifest(args.frames, args.out, sequences=args.sequences,
                                frames_per_sequence=args.frames_per_sequence, seed=args.seed)
    return 0
