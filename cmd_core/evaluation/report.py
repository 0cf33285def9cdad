"""Tables and files of an evaluation run: scores (CSV / Markdown / LaTeX), per-attribute scores,
per-sequence curves (Parquet) and the list of missing sequences. (Tracker result files are written
by :mod:`cmd_core.tracking.results`.)"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cmd_core.io import atomic_open, write_parquet, write_text
from cmd_core.io import markdown_table as markdown_rows

from .engine import CURVES, TrackerEvaluation
from .protocols import PRESETS, Protocol, get_protocol

SCORE_COLUMNS = ["tracker", "success", "precision", "norm_precision", "fps", "n_sequences", "n_frames"]
SCORE_NAMES = ("success", "precision", "norm_precision")
CURVES_SCHEMA = pa.schema([
    ("tracker", pa.string()), ("sequence", pa.string()), ("curve", pa.string()),
    ("threshold", pa.float64()), ("value", pa.float64()), ("n_frames", pa.int64()),
])


def score_columns(protocol: Protocol | None) -> list[str]:
    """The scores table's columns: SCORE_COLUMNS with the protocol's success rates (GOT-10k:
    ``sr50``, ``sr75``) after the normalized precision."""
    rates = list(protocol.rate_keys()) if protocol else []
    i = SCORE_COLUMNS.index("fps")
    return SCORE_COLUMNS[:i] + rates + SCORE_COLUMNS[i:]


def scores_table(evals: list[TrackerEvaluation]) -> pd.DataFrame:
    """One row per tracker, sorted by success (best first)."""
    rows = []
    for ev in evals:
        sc = ev.scores()
        rows.append({"tracker": ev.tracker, **sc, "fps": ev.fps, "n_sequences": len(ev.sequences),
                     "n_frames": int(ev.n_frames.sum())})
    df = pd.DataFrame(rows, columns=score_columns(evals[0].protocol if evals else None))
    return df.sort_values("success", ascending=False, kind="stable").reset_index(drop=True)


def attribute_table(evals: list[TrackerEvaluation], attributes: pd.DataFrame | None) -> pd.DataFrame:
    """Long table tracker, attribute, n_sequences, success, precision, norm_precision."""
    cols = ["tracker", "attribute", "n_sequences", "success", "precision", "norm_precision"]
    if attributes is None or not evals:
        return pd.DataFrame(columns=cols)
    rows = []
    for ev in evals:
        flags = attributes.reindex(ev.sequences).fillna(False).astype(bool)
        for att in attributes.columns:
            sel = flags[att].to_numpy()
            if not sel.any():
                continue
            rows.append({"tracker": ev.tracker, "attribute": att, "n_sequences": int(sel.sum()), **ev.scores(sel)})
    return pd.DataFrame(rows, columns=cols)


def curves_table(evals: list[TrackerEvaluation]) -> pa.Table:
    """Per-sequence curves in long form (tracker, sequence, curve, threshold, value, n_frames)."""
    parts = {k: [] for k in CURVES_SCHEMA.names}
    for ev in evals:
        for kind in CURVES:
            if kind not in ev.counts:
                continue
            thr = ev.protocol.thresholds(kind)
            vals = ev.curves(kind)
            n_seq, n_thr = vals.shape
            parts["tracker"] += [ev.tracker] * (n_seq * n_thr)
            parts["sequence"] += list(np.repeat(ev.sequences, n_thr))
            parts["curve"] += [kind] * (n_seq * n_thr)
            parts["threshold"].append(np.tile(thr, n_seq))
            parts["value"].append(vals.ravel())
            parts["n_frames"].append(np.repeat(ev.n_frames.astype(np.int64), n_thr))
    for k in ("threshold", "value", "n_frames"):
        parts[k] = np.concatenate(parts[k]) if parts[k] else np.zeros(0)
    return pa.table({k: pa.array(v, type=CURVES_SCHEMA.field(k).type) for k, v in parts.items()}, schema=CURVES_SCHEMA)


def _fmt(v, digits: int = 3) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _shown(df: pd.DataFrame, protocol: Protocol | str | None, gtot: bool, latex: bool) -> dict[str, str]:
    """Score columns to show (those with a value) and their labels: the protocol's own names
    (GTOT MSR / MPR, GOT-10k AO / SR@0.5 / SR@0.75), else Success, Precision, Norm. precision."""
    labels = {"success": "Success" if latex else "Success (AUC)", "precision": "Precision",
              "norm_precision": "Norm.\\ precision" if latex else "Norm. precision"}
    if gtot:
        labels.update(success="MSR", precision="MPR")
    rates = {}
    if protocol is not None:
        p = get_protocol(protocol)
        rates = {k: f"SR@{t:g}" for k, t in p.rate_keys().items()}
        labels.update(rates)
        labels.update(dict(p.score_labels))
    cols = [c for c in (*SCORE_NAMES, *rates) if c in df.columns and df[c].notna().any()]
    return {c: labels[c] for c in (cols or ["success"])}


def markdown_table(df: pd.DataFrame, protocol: Protocol | str, gtot: bool = False) -> str:
    """Markdown table of the scores (the CLI prints it), headed by the protocol's name (a preset
    name, or a Protocol whose score labels are used)."""
    shown = _shown(df, protocol if isinstance(protocol, Protocol) or protocol in PRESETS else None, gtot, False)
    head = ["Tracker", *shown.values(), "FPS", "Sequences"]
    rows = [[str(r["tracker"]), *(_fmt(r[c]) for c in shown), _fmt(r["fps"], 1), str(r["n_sequences"])]
            for r in df.to_dict("records")]
    name = protocol.name if isinstance(protocol, Protocol) else protocol
    return f"Protocol: {name}\n\n" + markdown_rows(rows, head) + "\n"


def latex_table(df: pd.DataFrame, benchmark: str, gtot: bool = False, protocol: Protocol | str | None = None) -> str:
    """A booktabs LaTeX table (pandas ``Styler.to_latex``); the best value of each column in bold.
    Columns are named as the ``protocol`` names its scores (GTOT's MSR / MPR also with ``gtot``)."""
    shown = _shown(df, protocol, gtot, True)
    cols = list(shown)
    names = {"tracker": "Tracker", **shown}
    esc = lambda s: str(s).replace("_", r"\_").replace("&", r"\&").replace("%", r"\%")  # noqa: E731
    scores = [names[c] for c in cols]
    table = df[["tracker", *cols]].rename(columns=names).reset_index(drop=True)

    def bold_best(col: pd.Series) -> list[str]:
        best = col.max()
        return ["textbf: --rwrap" if np.isclose(v, best) else "" for v in col]

    styler = (table.style.hide(axis="index")
              .format({"Tracker": esc, **{c: _fmt for c in scores}})
              .apply(bold_best, subset=scores))
    return styler.to_latex(column_format="l" + "r" * len(cols), hrules=True) + f"% {esc(benchmark)}\n"


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """CSV written atomically; NaN as empty cells."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, float_format="%.6f")


def write_report(
    out_dir: str | os.PathLike,
    evals: list[TrackerEvaluation],
    attributes: pd.DataFrame | None = None,
    missing: dict[str, list[str]] | None = None,
    plots: bool = True,
) -> pd.DataFrame:
    """Write scores.csv/.md/.tex, per_attribute.csv, curves.parquet, missing.csv and the plots."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    protocol = evals[0].protocol if evals else None
    df = scores_table(evals)
    write_csv(df, out / "scores.csv")
    write_text(out / "scores.md", markdown_table(df, protocol if protocol else "-"))
    write_text(out / "scores.tex", latex_table(df, protocol.benchmark if protocol else "-", protocol=protocol))
    att = attribute_table(evals, attributes)
    write_csv(att, out / "per_attribute.csv")
    write_parquet(curves_table(evals), out / "curves.parquet", schema=CURVES_SCHEMA)
    miss = pd.DataFrame([(t, s) for t, ss in (missing or {}).items() for s in ss], columns=["tracker", "sequence"])
    write_csv(miss, out / "missing.csv")
    if plots and evals:
        from .plots import plot_attributes, plot_curves

        plot_curves(evals, out)
        plot_attributes(att, out / "attributes.png", protocol)
    return df
