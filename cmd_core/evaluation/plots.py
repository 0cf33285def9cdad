"""Success / precision / normalized-precision plots in the style of the benchmarks' own figures
(OTB-style: score in brackets in each legend entry, legend sorted by score), and a per-attribute
chart. Matplotlib with the Agg backend; files written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cmd_core.io import atomic_path

from .engine import TrackerEvaluation
from .protocols import Protocol

# OTB toolkit palette and line styles (solid first, then dashed), cycled.
TRACKER_COLORS = ["#ff0000", "#0000ff", "#00c000", "#000000", "#ff00ff", "#00c0c0", "#ff8000", "#8000ff",
                  "#808000", "#804000", "#0080ff", "#ff0080"]
_STYLES = ["-", "--", "-.", ":"]

_SPECS = {
    "success": ("Success plots of OPE on {b}", "Overlap threshold", "Success rate", "lower left", "success.png"),
    "precision": ("Precision plots of OPE on {b}", "Location error threshold", "Precision", "lower right", "precision.png"),
    "norm_precision": ("Normalized Precision plots of OPE on {b}", "Normalized location error threshold",
                       "Normalized precision", "lower right", "norm_precision.png"),
}


def agg_pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> None:
    """Write a figure as a PNG atomically (a killed job leaves no partial picture)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


LEGEND_INSIDE_MAX = 8  # trackers whose legend still fits inside the axes


def plot_curves(evals: list[TrackerEvaluation], out_dir: str | Path) -> list[Path]:
    """success.png, precision.png and (where the protocol has it) norm_precision.png."""
    plt = agg_pyplot()
    out_dir = Path(out_dir)
    p = evals[0].protocol
    written = []
    for kind, (title, xl, yl, loc, fname) in _SPECS.items():
        if kind not in evals[0].counts or (kind == "norm_precision" and not p.has_norm_precision):
            continue
        thr = p.thresholds(kind)
        entries = []
        for ev in evals:
            curve = ev.counts[kind].sum(0) / ev.n_frames.sum() if p.pooled else ev.curves(kind).mean(0)
            entries.append((ev.scores()[kind], ev.tracker, curve))
        entries.sort(key=lambda e: -e[0])
        outside = len(entries) > LEGEND_INSIDE_MAX  # a long legend would hide the curves: beside the axes
        fig, ax = plt.subplots(figsize=(9.6 if outside else 6.4, 5.2))
        for i, (score, name, curve) in enumerate(entries):
            ax.plot(thr, curve, color=TRACKER_COLORS[i % len(TRACKER_COLORS)], linestyle=_STYLES[(i // len(TRACKER_COLORS)) % len(_STYLES)],
                    linewidth=2.2, label=f"{name} [{score:.3f}]")
        ax.set_xlim(thr[0], thr[-1])
        ax.set_ylim(0, 1)
        ax.grid(True, linestyle=":", linewidth=0.8, color="0.6")
        ax.set_title(title.format(b=p.benchmark), fontsize=13, fontweight="bold")
        ax.set_xlabel(xl, fontsize=12)
        ax.set_ylabel(yl, fontsize=12)
        ax.tick_params(labelsize=10)
        if outside:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=True)
        else:
            ax.legend(loc=loc, fontsize=9, frameon=True, framealpha=0.9)
        fig.tight_layout()
        path = out_dir / fname
        save_png(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def plot_attributes(att, path: str | Path, protocol: Protocol | None) -> Path | None:
    """Grouped horizontal bars: success per attribute (with its sequence count) for each tracker.
    Writes a placeholder figure saying so when there are no attributes, so the output always exists."""
    plt = agg_pyplot()
    path = Path(path)
    if att is None or len(att) == 0:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no attribute annotations given", ha="center", va="center", fontsize=12)
        save_png(fig, path)
        plt.close(fig)
        return path
    trackers = list(att.groupby("tracker")["success"].mean().sort_values(ascending=False).index)
    atts = list(dict.fromkeys(att["attribute"]))
    counts = att.drop_duplicates("attribute").set_index("attribute")["n_sequences"]
    table = att.pivot(index="attribute", columns="tracker", values="success").reindex(index=atts, columns=trackers)
    n_t = len(trackers)
    h = 0.8 / n_t
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.32 * len(atts) * max(1, n_t) ** 0.5 + 1.2)))
    y = np.arange(len(atts))
    for i, t in enumerate(trackers):
        ax.barh(y - 0.4 + h * (i + 0.5), table[t].to_numpy(), height=h, color=TRACKER_COLORS[i % len(TRACKER_COLORS)], label=t)
    ax.set_yticks(y, [f"{a} ({int(counts[a])})" for a in atts], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.grid(True, axis="x", linestyle=":", color="0.6")
    ax.set_xlabel(dict(protocol.score_labels).get("success", "Success (AUC)") if protocol else "Success (AUC)",
                  fontsize=11)
    bench = protocol.benchmark if protocol else ""
    ax.set_title(f"Success per attribute on {bench}", fontsize=13, fontweight="bold")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)
    return path
