"""Contact sheet of one method's pairs: template | search panels with their boxes.

Each sampled pair is drawn as two panels: the template frame in its modality with the template box
(solid green) and the search frame in its modality with the search box (solid red); the other
boxes the method kept in that frame are thin dashed lines. Fallback pairs are marked in the title.
Pairs are sampled with a seed, spread over sequences, and shown in (sequence, frame) order.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cmd_core.datasets.frames import load_frame_pair  # noqa: E402
from cmd_core.io import atomic_path  # noqa: E402
from cmd_core.pairs.generate import read_frames  # noqa: E402

log = logging.getLogger(__name__)
PAIRS_PER_ROW = 2
PANEL_INCHES = 2.8


def sample_pairs(pairs: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Up to `n` pairs, round-robin over sequences (seeded order within each), sorted for display."""
    if len(pairs) <= n:
        return pairs.sort_values(["sequence", "template_frame", "pair_id"])
    rng = np.random.default_rng(seed)
    by_seq = {s: rng.permutation(g.index.to_numpy()) for s, g in pairs.groupby("sequence", sort=True)}
    order = rng.permutation(sorted(by_seq))
    chosen: list = []
    depth = 0
    while len(chosen) < n:
        for s in order:
            if depth < len(by_seq[s]) and len(chosen) < n:
                chosen.append(by_seq[s][depth])
        depth += 1
    return pairs.loc[chosen].sort_values(["sequence", "template_frame", "pair_id"])


def _show(ax, img: np.ndarray | None, label: str) -> None:
    if img is None:
        ax.text(0.5, 0.5, f"no {label} frame", ha="center", va="center", transform=ax.transAxes)
    elif img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=255 if img.dtype == np.uint8 else None)
    else:
        ax.imshow(img[..., ::-1])
    ax.set_xticks([])
    ax.set_yticks([])


def draw_pairs_sheet(pairs: pd.DataFrame, frames: pd.DataFrame, out_png: str | Path, title: str,
                     boxes: pd.DataFrame | None = None) -> None:
    """Render the given pairs (already sampled) into one PNG, written atomically."""
    if pairs.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, f"{title}\n(no pairs)", ha="center", va="center")
        ax.axis("off")
        with atomic_path(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=90)
        plt.close(fig)
        return
    rows_by_key = {(r.sequence, int(r.frame)): r._asdict() for r in frames.itertuples(index=False)}
    other = {k: g for k, g in boxes.groupby(["sequence", "frame"])} if boxes is not None and len(boxes) else {}
    n = len(pairs)
    n_rows = -(-n // PAIRS_PER_ROW)
    fig, axes = plt.subplots(n_rows, 2 * PAIRS_PER_ROW, figsize=(PANEL_INCHES * 2 * PAIRS_PER_ROW,
                                                                   PANEL_INCHES * 0.85 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    cache: dict = {}
    for i, p in enumerate(pairs.itertuples(index=False)):
        r, c0 = divmod(i, PAIRS_PER_ROW)
        for j, (which, color) in enumerate((("template", "lime"), ("search", "red"))):
            ax = axes[r, 2 * c0 + j]
            ax.axis("on")
            frame = int(getattr(p, f"{which}_frame"))
            mod = getattr(p, f"{which}_modality")
            key = (p.sequence, frame)
            if key not in cache and key in rows_by_key:
                cache[key] = dict(zip(("rgb", "tir"), load_frame_pair(rows_by_key[key])))
            img = cache.get(key, {}).get(mod)
            _show(ax, img, mod.upper())
            for o in (other.get(key, pd.DataFrame()).itertuples(index=False) if key in other else ()):
                ax.add_patch(Rectangle((o.x, o.y), o.w, o.h, fill=False, edgecolor="yellow", linewidth=0.7,
                                       linestyle="--"))
            x, y, w, h = (float(getattr(p, f"{which}_{k}")) for k in "xywh")
            ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=color, linewidth=1.8))
            if which == "template":
                tag = " FALLBACK" if p.fallback else ""
                ax.set_title(f"{p.sequence} #{frame} {mod.upper()} template{tag}", fontsize=7,
                             color="darkorange" if p.fallback else "black")
            else:
                conf = "" if p.confidence is None or p.confidence != p.confidence else f" {p.confidence:.2f}"
                gap = f" (+{int(p.time_gap)})" if int(p.time_gap) else ""
                ax.set_title(f"#{frame}{gap} {mod.upper()} search | {p.source}{conf}", fontsize=7)
    fig.suptitle(f"{title}\ngreen: template box, red: search box, yellow dashed: other boxes kept in that frame",
                 fontsize=9)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def pairs_contact_sheet(pairs_path: str | Path, frames_path: str | Path, out_png: str | Path, *,
                        boxes_path: str | Path | None = None, n: int = 8, seed: int = 0) -> None:
    """Draw `n` sampled pairs of a pair manifest (images found through the frames manifest)."""
    pairs = pq.read_table(pairs_path).to_pandas()
    frames = read_frames(frames_path)
    boxes = pq.read_table(boxes_path).to_pandas() if boxes_path and Path(boxes_path).is_file() else None
    meta = pq.read_schema(pairs_path).metadata or {}
    method = meta.get(b"cmd_pairs_method", b"?").decode()
    dataset = meta.get(b"cmd_pairs_dataset", b"?").decode()
    picked = sample_pairs(pairs, n, seed)
    fb = float(pairs["fallback"].mean()) if len(pairs) else 0.0
    title = f"{dataset} / {method}: {len(pairs)} pairs, {fb:.0%} from fallback (showing {len(picked)})"
    draw_pairs_sheet(picked, frames, out_png, title, boxes)
    log.info("pairs contact sheet of %d pairs written to %s", len(picked), out_png)
