"""One call from manifests to the gap outputs, shared by `cmd-tir gap` and the workflow's rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from cmd_core.datasets.schema import read_manifest

from .features import BoxEmbedder
from .measure import GapSettings, measure_frames, summarise
from .report import write_outputs

__all__ = ["measure_and_write"]


def measure_and_write(manifests: dict[str, str | Path], references: list[str], md_path: str | Path,
                      plot_path: str | Path | None = None, threads: int = 1, progress: bool = True,
                      frames: int = 200, boxes_per_frame: int = 4, seed: int = 0) -> dict[str, Path]:
    """Measure each named frames manifest and write <stem>.csv, _sequences.csv, _calibration.csv, .md
    (beside `md_path`) and the figure; datasets keep the order given."""
    unknown = sorted(set(references) - set(manifests))
    if unknown:
        raise ValueError(f"gap references name no measured dataset: {', '.join(unknown)}")
    torch.set_num_threads(max(1, int(threads)))
    settings = GapSettings(frames=frames, boxes_per_frame=boxes_per_frame, seed=seed)
    embedder = BoxEmbedder()
    measured = [measure_frames(read_manifest(path, "frames"), name, settings, embedder, source=str(path),
                               progress=progress) for name, path in manifests.items()]
    merged = {k: pd.concat([m[k] for m in measured], ignore_index=True) for k in measured[0]}
    order = {name: i for i, name in enumerate(manifests)}
    summary = summarise(merged).sort_values("dataset", key=lambda s: s.map(order)).reset_index(drop=True)
    per_sequence = summarise(merged, by=("dataset", "sequence"))
    md_path = Path(md_path)
    return write_outputs(summary, per_sequence, references, md_path.parent, stem=md_path.stem, plot_path=plot_path)
