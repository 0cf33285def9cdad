"""The experiment's figures (matplotlib, Agg; files written atomically):

- success / precision (/ normalised precision) curves of all trackers of an evaluation set, drawn
  by the evaluation toolkit's own :func:`cmd_core.evaluation.plots.plot_curves` from the toolkit's
  ``curves.parquet`` files (per-sequence curves averaged over seeds first);
- success per tracker / strategy as bars with seed error bars and the seeds as dots;
- training-loss curves per strategy from the CSV training logs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from cmd_core.evaluation.engine import CURVES, TrackerEvaluation
from cmd_core.evaluation.plots import TRACKER_COLORS, agg_pyplot, plot_curves, save_png
from cmd_core.evaluation.protocols import Protocol, get_protocol

from .tables import UPPER_BOUND_MARK, validate_scores

log = logging.getLogger(__name__)

KIND_COLORS = {"teacher": "#7f7f7f", "distilled": "#1f77b4", "supervised_upper_bound": "#2ca02c", "baseline": "#ff7f0e",
               "rgb_reference": "#9467bd", "rgb_baseline": "#c5b0d5", "teacher_ablation": "#d62728",
               "rgb_ablation": "#ff9896"}


# ----------------------------------------------------------------------------- curves
def evaluations_from_curves(curves: pd.DataFrame, protocol: Protocol | str, eval_set: str | None = None) -> list[TrackerEvaluation]:
    """Rebuild per-tracker evaluations (counts = curve x frames) from a long curves table of one
    evaluation set, the per-sequence curves averaged over the tracker's seeds, so the plotted
    scores are the means over seeds. Only sequences every run of a tracker has are kept.
    ``eval_set`` replaces the protocol's benchmark name in the plot titles."""
    p = get_protocol(protocol)
    if eval_set is not None:
        p = dataclasses.replace(p, benchmark=str(eval_set))
    if curves.empty:
        raise ValueError(f"no curves for evaluation set {eval_set!r}")
    seed_col = curves["seed"].astype("string").fillna("<none>") if "seed" in curves.columns else pd.Series("<none>", index=curves.index)
    curves = curves.assign(_seed=seed_col)
    evals = []
    for tracker, sub in curves.groupby("tracker", sort=False):
        n_runs = sub["_seed"].nunique()
        per_seq = sub[sub["curve"] == "success"].groupby("sequence")["_seed"].nunique()
        seqs = sorted(per_seq[per_seq == n_runs].index)
        dropped = sorted(set(per_seq.index) - set(seqs))
        if dropped:
            log.warning("%s on %s: %d sequence(s) missing in some seeds, left out of the curve: %s",
                        tracker, eval_set, len(dropped), ", ".join(dropped[:10]))
        sub = sub[sub["sequence"].isin(seqs)]
        n_frames = sub.groupby("sequence")["n_frames"].first().reindex(seqs).to_numpy(dtype=np.float64)
        counts = {}
        for kind in CURVES:
            k = sub[sub["curve"] == kind]
            if k.empty:
                continue
            piv = k.pivot_table(index="sequence", columns="threshold", values="value", aggfunc="mean").reindex(seqs)
            thr = p.thresholds(kind)
            if piv.shape[1] != len(thr) or not np.allclose(piv.columns.to_numpy(float), thr, atol=1e-6):
                raise ValueError(f"{tracker} on {eval_set}: the {kind} thresholds in the curves file do not match "
                                 f"protocol {p.name!r} ({piv.shape[1]} vs {len(thr)} thresholds); pass the protocol "
                                 "the evaluation used")
            counts[kind] = piv.to_numpy(float) * n_frames[:, None]
        if "success" not in counts or "precision" not in counts:
            raise ValueError(f"{tracker} on {eval_set}: curves file lacks success or precision curves")
        evals.append(TrackerEvaluation(str(tracker), p, seqs, counts, n_frames))
    return evals


def plot_eval_set_curves(curves: pd.DataFrame, protocol: Protocol | str, out_dir: str | os.PathLike,
                         eval_set: str) -> list[Path]:
    """success.png, precision.png (and norm_precision.png) of all trackers of ``eval_set`` in
    ``out_dir``, with the toolkit's plotting function."""
    sub = curves[curves["eval_set"] == eval_set] if "eval_set" in curves.columns else curves
    return plot_curves(evaluations_from_curves(sub, protocol, eval_set), out_dir)


# ----------------------------------------------------------------------------- bars
def plot_success_bars(scores: pd.DataFrame, eval_set: str, path: str | os.PathLike) -> Path:
    """Success AUC per tracker on ``eval_set``: bar = mean over seeds, error bar = sample std,
    dots = individual seeds, dashed line = the teacher, colour = kind; the supervised upper bound
    hatched and marked as using TIR labels."""
    plt = agg_pyplot()
    df = validate_scores(scores)
    df = df[df["eval_set"] == eval_set]
    if df.empty:
        raise ValueError(f"no scores for evaluation set {eval_set!r}")
    g = df.groupby("tracker")
    summ = pd.DataFrame({"mean": g["success"].mean(), "std": g["success"].std(ddof=1), "kind": g["kind"].first()})
    summ = summ.sort_values("mean", ascending=False, kind="stable")
    x = np.arange(len(summ))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.75 * len(summ) + 2.0) + 2.8, 4.6))
    for i, (name, r) in enumerate(summ.iterrows()):
        ub = r["kind"] == "supervised_upper_bound"
        ax.bar(i, r["mean"], width=0.7, color=KIND_COLORS[r["kind"]], alpha=0.85, hatch="//" if ub else None,
               edgecolor="black", linewidth=0.6, zorder=2)
        if not math.isnan(r["std"]):
            ax.errorbar(i, r["mean"], yerr=r["std"], color="black", capsize=4, linewidth=1.2, zorder=3)
        vals = df.loc[df["tracker"] == name, "success"].to_numpy()
        if len(vals) > 1:
            jitter = np.linspace(-0.15, 0.15, len(vals))
            ax.scatter(i + jitter, vals, s=14, color="white", edgecolor="black", linewidth=0.7, zorder=4)
        ax.text(i, r["mean"] + (0 if math.isnan(r["std"]) else r["std"]) + 0.01, f"{r['mean']:.3f}",
                ha="center", va="bottom", fontsize=8)
    teacher = summ[summ["kind"] == "teacher"]
    if len(teacher):
        ax.axhline(teacher["mean"].iloc[0], color="black", linestyle="--", linewidth=1, label="teacher (RGB model on TIR)", zorder=1)
    labels = [f"{n} {UPPER_BOUND_MARK}" if k == "supervised_upper_bound" else n for n, k in zip(summ.index, summ["kind"])]
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=9)
    top = float(np.nanmax(summ["mean"] + summ["std"].fillna(0)))
    ax.set_ylim(0, min(1.0, top * 1.15 + 0.02))
    ax.set_ylabel("Success (AUC)", fontsize=11)
    ax.set_title(f"Success per tracker on {eval_set} (mean ± std over seeds)", fontsize=12, fontweight="bold")
    ax.grid(True, axis="y", linestyle=":", color="0.6", zorder=0)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=KIND_COLORS[k], edgecolor="black", hatch="//" if k == "supervised_upper_bound" else None,
                     label=k.replace("_", " ") + (" (TIR labels)" if k == "supervised_upper_bound" else ""))
               for k in KIND_COLORS if k in set(summ["kind"])]
    handles += ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, framealpha=0.9)
    fig.tight_layout()
    path = Path(path)
    save_png(fig, path)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- training logs
def read_training_log(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV training log: ``epoch`` and every column whose name starts with ``loss``, averaged
    per epoch (logs written per step repeat the epoch)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: training log not found")
    df = pd.read_csv(path)
    if "epoch" not in df.columns:
        raise ValueError(f"{path}: training log has no 'epoch' column (columns: {', '.join(df.columns)})")
    losses = [c for c in df.columns if str(c).startswith("loss")]
    if not losses:
        raise ValueError(f"{path}: training log has no column starting with 'loss' (columns: {', '.join(df.columns)})")
    df = df[["epoch", *losses]].apply(pd.to_numeric, errors="coerce")
    return df.groupby("epoch", sort=True)[losses].mean().reset_index()


def plot_loss_curves(logs: list[tuple[str, object, str | os.PathLike | pd.DataFrame]], path: str | os.PathLike) -> Path:
    """One panel per strategy, one colour per loss column: the mean over seeds as a line and the
    range over seeds (min..max) shaded. ``logs`` holds (strategy, seed, CSV path or DataFrame)."""
    plt = agg_pyplot()
    from matplotlib.ticker import MaxNLocator

    if not logs:
        raise ValueError("no training logs to plot")
    by_strategy: dict[str, list[pd.DataFrame]] = {}
    for strategy, seed, src in logs:
        df = read_training_log(src) if not isinstance(src, pd.DataFrame) else src
        by_strategy.setdefault(str(strategy), []).append(df.assign(_seed=str(seed)))
    names = sorted(by_strategy)
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        runs = pd.concat(by_strategy[name], ignore_index=True)
        losses = [c for c in runs.columns if str(c).startswith("loss")]
        for i, col in enumerate(losses):
            g = runs.groupby("epoch")[col]
            mean, lo, hi = g.mean(), g.min(), g.max()
            color = TRACKER_COLORS[i % len(TRACKER_COLORS)]
            ax.plot(mean.index, mean.to_numpy(), color=color, linewidth=1.8, label=col, marker="o" if len(mean) < 15 else None, markersize=3)
            if runs["_seed"].nunique() > 1:
                ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.2, linewidth=0)
        ax.set_title(f"{name} ({runs['_seed'].nunique()} seed(s))", fontsize=11, fontweight="bold")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("loss")
        ax.grid(True, linestyle=":", color="0.6")
        ax.legend(fontsize=8)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle("Training losses per strategy (line: mean over seeds, band: min..max)", fontsize=12)
    fig.tight_layout()
    path = Path(path)
    save_png(fig, path)
    plt.close(fig)
    return path
