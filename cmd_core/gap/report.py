"""The modality-gap table, its calibration check against reference (real) sets, and its figure."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cmd_core.evaluation.plots import agg_pyplot, save_png
from cmd_core.io import markdown_table, write_text

from .measure import OBJECT_STATISTICS, SCENE_STATISTICS

__all__ = ["calibration", "gap_markdown", "plot_gap", "STATISTIC_LABELS"]

STATISTIC_LABELS = {
    "feature_gap": "feature gap (0 grey RGB, 1 unrelated)",
    "grad_corr": "gradient correlation RGB-TIR",
    "tir_hf_share": "TIR high-frequency share",
    "tir_noise": "TIR noise (grey levels)",
    "tir_distractor_sim": "TIR target-distractor similarity",
    "rgb_distractor_sim": "RGB target-distractor similarity",
    "tir_contrast": "TIR target-surround contrast",
    "rgb_contrast": "RGB target-surround contrast",
}


def calibration(summary: pd.DataFrame, references: list[str]) -> pd.DataFrame:
    """For every dataset that is not a reference, each statistic's value, the range [min, max] the
    reference datasets span, and whether it lies inside. Statistics no reference has are left out."""
    ref = summary[summary["dataset"].isin(references)]
    rows = []
    for _, r in summary[~summary["dataset"].isin(references)].iterrows():
        for stat in (*SCENE_STATISTICS, *OBJECT_STATISTICS):
            values = ref[stat].dropna()
            if values.empty or pd.isna(r[stat]):
                continue
            lo, hi = float(values.min()), float(values.max())
            rows.append({"dataset": r["dataset"], "statistic": stat, "value": float(r[stat]), "reference_min": lo,
                         "reference_max": hi, "within": bool(lo <= r[stat] <= hi)})
    return pd.DataFrame(rows, columns=["dataset", "statistic", "value", "reference_min", "reference_max", "within"])


def _fmt(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def gap_markdown(summary: pd.DataFrame, calib: pd.DataFrame, references: list[str]) -> str:
    """gap.md: one row per dataset, then the calibration check when references are given."""
    stats = [s for s in (*SCENE_STATISTICS, *OBJECT_STATISTICS) if summary[s].notna().any()]
    head = ["dataset", "frames", *stats]
    rows = [[str(r["dataset"]) + (" (reference)" if r["dataset"] in references else ""), str(int(r["frames"])),
             *[_fmt(r[s]) for s in stats]] for _, r in summary.iterrows()]
    text = ["# Modality gap", "",
            "Scene level: random boxes, the same box in both modalities. Object level: the ground-truth box of "
            "each modality. " + "; ".join(f"`{s}`: {STATISTIC_LABELS[s]}" for s in stats) + ".", "",
            markdown_table(rows, head)]
    if references and not calib.empty:
        inside = calib.groupby("dataset")["within"].agg(["sum", "size"])
        text += ["", f"## Calibration against {', '.join(references)}", "",
                 "Each statistic against the range the reference sets span.", ""]
        crow = [[str(r["dataset"]), r["statistic"], _fmt(r["value"]), f"[{_fmt(r['reference_min'])}, "
                 f"{_fmt(r['reference_max'])}]", "yes" if r["within"] else "**no**"] for _, r in calib.iterrows()]
        text.append(markdown_table(crow, ["dataset", "statistic", "value", "reference range", "within"], n_text=2))
        text.append("")
        text += [f"- {d}: {int(v['sum'])} of {int(v['size'])} statistics within the reference range"
                 for d, v in inside.iterrows()]
    return "\n".join(text) + "\n"


def plot_gap(summary: pd.DataFrame, per_sequence: pd.DataFrame, references: list[str], path: str | Path) -> Path:
    """One panel per statistic: a dot per sequence, a bar per dataset (references in orange, their
    range shaded)."""
    plt = agg_pyplot()
    stats = [s for s in (*SCENE_STATISTICS, *OBJECT_STATISTICS) if summary[s].notna().any()]
    cols = 4
    rows = max(1, math.ceil(len(stats) / cols))
    names = list(summary["dataset"])
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    x = np.arange(len(names))
    for ax, stat in zip(axes.ravel(), stats):
        colours = ["#ff7f0e" if n in references else "#1f77b4" for n in names]
        ax.bar(x, summary[stat].fillna(0), color=colours, alpha=0.55, width=0.7)
        for i, name in enumerate(names):
            seq = per_sequence.loc[per_sequence["dataset"] == name, stat].dropna()
            ax.scatter(np.full(len(seq), i) + np.linspace(-0.2, 0.2, len(seq)) if len(seq) > 1 else np.full(len(seq), i),
                       seq, s=7, color="black", alpha=0.6, zorder=3)
        ref = summary.loc[summary["dataset"].isin(references), stat].dropna()
        if len(ref):
            ax.axhspan(float(ref.min()), float(ref.max()), color="#ff7f0e", alpha=0.12, zorder=0)
        ax.set_title(STATISTIC_LABELS[stat], fontsize=9)
        ax.set_xticks(x, names, rotation=40, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.ravel()[len(stats):]:
        ax.axis("off")
    fig.suptitle("Modality gap per dataset (bars), per sequence (dots); reference sets orange, their range shaded",
                 fontsize=10)
    fig.tight_layout()
    save_png(fig, Path(path))
    plt.close(fig)
    return Path(path)


def write_outputs(summary: pd.DataFrame, per_sequence: pd.DataFrame, references: list[str],
                  out_dir: str | Path, stem: str = "gap", plot_path: str | Path | None = None) -> dict[str, Path]:
    """<stem>.csv, <stem>_sequences.csv, <stem>_calibration.csv, <stem>.md and the figure, all written
    atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calib = calibration(summary, references)
    paths = {"csv": out / f"{stem}.csv", "sequences": out / f"{stem}_sequences.csv",
             "calibration": out / f"{stem}_calibration.csv", "md": out / f"{stem}.md",
             "png": Path(plot_path) if plot_path else out / f"{stem}.png"}
    write_text(paths["csv"], summary.to_csv(index=False))
    write_text(paths["sequences"], per_sequence.to_csv(index=False))
    write_text(paths["calibration"], calib.to_csv(index=False))
    write_text(paths["md"], gap_markdown(summary, calib, references))
    paths["png"].parent.mkdir(parents=True, exist_ok=True)
    plot_gap(summary, per_sequence, references, paths["png"])
    return paths
