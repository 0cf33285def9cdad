"""Gather the evaluation toolkit's per-run files (``per_attribute.csv``, ``curves.parquet``; see
:mod:`cmd_core.evaluation.report`) into experiment-wide long tables tagged with evaluation set,
tracker and seed, and the per-attribute table over seeds.

A score table may point at those files with two optional columns: ``eval_dir`` (the folder the
toolkit wrote for that run) and ``eval_tracker`` (the tracker's name inside those files, default
the ``tracker`` column). Relative paths are taken from the working directory, else from the score
file's folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from cmd_core.io import markdown_table, write_text

from .tables import METRICS, UPPER_BOUND_MARK, format_value, validate_scores, write_csv

log = logging.getLogger(__name__)

ATTRIBUTE_COLUMNS = ["tracker", "attribute", "n_sequences", "success", "precision", "norm_precision"]
CURVE_COLUMNS = ["tracker", "sequence", "curve", "threshold", "value", "n_frames"]


def _tag(df: pd.DataFrame, path, eval_set: str, tracker: str | None, seed, source_tracker: str | None) -> pd.DataFrame:
    """Keep one tracker of a toolkit file (``source_tracker``, else ``tracker``, else the only one)
    renamed to ``tracker``, or all of them when neither is given; add eval_set and seed."""
    names = list(dict.fromkeys(df["tracker"].astype(str)))
    want = source_tracker or tracker
    if want is not None:
        if want in names:
            df = df[df["tracker"].astype(str) == want]
        elif source_tracker is None and len(names) == 1:
            pass  # a single-tracker file named differently: take it
        else:
            raise ValueError(f"{path}: no tracker {want!r} (has: {', '.join(names) or 'none'})")
        df = df.assign(tracker=tracker or want)
    return df.assign(eval_set=eval_set, seed=seed)


def _read_toolkit_table(path, read, columns: list[str], name: str, eval_set: str, tracker, seed,
                        source_tracker) -> pd.DataFrame:
    """One output table of the evaluation toolkit, checked for `columns`, as a long table tagged
    with eval_set and seed (see _tag)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {name} not found")
    df = read(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a {name} of the evaluation toolkit (missing {', '.join(missing)})")
    if df.empty:  # e.g. the per-attribute table of a set without attribute annotations (RGBT234 layout)
        log.info("%s: no rows for %s", path, eval_set)
        return pd.DataFrame(columns=columns + ["eval_set", "seed"])
    return _tag(df[columns], path, eval_set, tracker, seed, source_tracker)


def read_per_attribute(path, eval_set: str, tracker: str | None = None, seed=None,
                       source_tracker: str | None = None) -> pd.DataFrame:
    """One toolkit ``per_attribute.csv`` as a long table with eval_set and seed columns."""
    return _read_toolkit_table(path, pd.read_csv, ATTRIBUTE_COLUMNS, "per_attribute.csv", eval_set, tracker,
                               seed, source_tracker)


def read_curves(path, eval_set: str, tracker: str | None = None, seed=None,
                source_tracker: str | None = None) -> pd.DataFrame:
    """One toolkit ``curves.parquet`` as a long table with eval_set and seed columns."""
    return _read_toolkit_table(path, pd.read_parquet, CURVE_COLUMNS, "curves.parquet", eval_set, tracker, seed,
                               source_tracker)


def resolve_listed_path(p: str, source: str | None) -> Path:
    """A path listed in ``source`` (a file): as given when it exists or is absolute, else relative to
    ``source``'s folder when that one exists."""
    path = Path(p)
    if path.is_absolute() or path.exists() or not source:
        return path
    alt = Path(source).parent / path
    return alt if alt.exists() else path


def _runs_with(scores: pd.DataFrame, column: str):
    if column not in scores.columns:
        return
    for r in scores[scores[column].notna()].to_dict("records"):
        seed = None if pd.isna(r.get("seed")) else r["seed"]
        src = r.get("eval_tracker")
        yield r, seed, (None if src is None or pd.isna(src) else str(src))


def per_attribute_from_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Long per-attribute table of every score row that has an ``eval_dir``."""
    frames = [read_per_attribute(resolve_listed_path(r["eval_dir"], r.get("_source")) / "per_attribute.csv", r["eval_set"],
                                 r["tracker"], seed, src) for r, seed, src in _runs_with(scores, "eval_dir")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ATTRIBUTE_COLUMNS + ["eval_set", "seed"])


def curves_from_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Long curves table of every score row that has an ``eval_dir``."""
    frames = [read_curves(resolve_listed_path(r["eval_dir"], r.get("_source")) / "curves.parquet", r["eval_set"],
                          r["tracker"], seed, src) for r, seed, src in _runs_with(scores, "eval_dir")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS + ["eval_set", "seed"])


def per_attribute_table(long: pd.DataFrame, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per evaluation set, attribute and tracker: n_sequences, n_seeds, mean and std over seeds of
    each score; with ``scores``, the tracker's kind, ``uses_tir_labels`` and the difference of the
    success mean to the teacher on the same attribute in points."""
    keys = ["eval_set", "attribute", "tracker"]
    cols = keys + ["n_sequences", "n_seeds"] + [f"{m}_{s}" for m in METRICS for s in ("mean", "std")]
    if long.empty:
        return pd.DataFrame(columns=cols)
    g = long.groupby(keys, sort=False)
    out = g.agg(n_sequences=("n_sequences", "first"), n_seeds=("success", "size"))
    for m in METRICS:
        out[f"{m}_mean"] = g[m].mean()
        out[f"{m}_std"] = g[m].std(ddof=1)
    out = out.reset_index()
    if scores is not None:
        kinds = validate_scores(scores).drop_duplicates(["eval_set", "tracker"]).set_index(["eval_set", "tracker"])["kind"]
        out["kind"] = [kinds.get((e, t)) for e, t in zip(out["eval_set"], out["tracker"])]
        out["uses_tir_labels"] = out["kind"] == "supervised_upper_bound"
        teach = out[out["kind"] == "teacher"].set_index(["eval_set", "attribute"])["success_mean"]
        ref = [teach.get((e, a)) for e, a in zip(out["eval_set"], out["attribute"])]
        out["d_success_pts"] = (out["success_mean"] - pd.to_numeric(pd.Series(ref, dtype="float64"))) * 100.0
    return out.sort_values(["eval_set", "attribute", "success_mean"], ascending=[True, True, False],
                           kind="stable").reset_index(drop=True)


def per_attribute_markdown(table: pd.DataFrame) -> str:
    """Per evaluation set, attributes as rows and trackers as columns (success mean over seeds,
    the best of each row in bold), trackers ordered by their mean over attributes."""
    lines = ["# Success per attribute", ""]
    if table.empty:
        return "\n".join(lines + ["No per-attribute scores (the evaluation sets have no attribute annotations).", ""])
    for e, sub in table.groupby("eval_set", sort=True):
        order = list(sub.groupby("tracker")["success_mean"].mean().sort_values(ascending=False).index)
        if "kind" in sub.columns:  # teacher first as the reference column
            teach = [t for t in order if (sub.loc[sub["tracker"] == t, "kind"] == "teacher").any()]
            order = teach + [t for t in order if t not in teach]
        labels = order
        if "uses_tir_labels" in sub.columns:
            ub = set(sub.loc[sub["uses_tir_labels"].astype(bool), "tracker"])
            labels = [f"{t} {UPPER_BOUND_MARK}" if t in ub else t for t in order]
        piv = sub.pivot(index="attribute", columns="tracker", values="success_mean").reindex(columns=order)
        nseq = sub.groupby("attribute")["n_sequences"].first()
        rows = []
        for att, row in piv.iterrows():
            best = row.max()
            rows.append([f"{att} ({int(nseq[att])})"] + [f"**{format_value(v)}**" if pd.notna(v) and v == best else format_value(v) for v in row])
        lines += [f"## {e}", "", markdown_table(rows, ["Attribute (sequences)", *labels]), ""]
    lines += ["---", "", "Cells: success AUC on the sequences that carry the attribute (their number in brackets), "
              "mean over the seeds of each tracker; the best tracker of each attribute in bold. "
              f"{UPPER_BOUND_MARK}: supervised upper bound, trained with TIR ground-truth labels.", ""]
    return "\n".join(lines)


def write_per_attribute(table: pd.DataFrame, out_dir: str | os.PathLike) -> dict[str, Path]:
    """per_attribute.csv and per_attribute.md in ``out_dir``."""
    out = Path(out_dir)
    write_csv(table, out / "per_attribute.csv")
    write_text(out / "per_attribute.md", per_attribute_markdown(table))
    return {"per_attribute.csv": out / "per_attribute.csv", "per_attribute.md": out / "per_attribute.md"}
