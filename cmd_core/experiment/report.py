"""All outputs of the experiment from the per-run score tables in one call (used by
``cmd-tir compare`` and the workflow's compare rule)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pandas as pd

from .assemble import (curves_from_scores, per_attribute_from_scores, per_attribute_table, resolve_listed_path,
                       write_per_attribute)
from .sequences import per_sequence_success
from .plots import plot_eval_set_curves, plot_loss_curves, plot_success_bars
from .tables import CLAIM_MARGIN_PTS, UPPER_BOUND_MARK, read_scores, write_tables

log = logging.getLogger(__name__)


def safe_name(text: str) -> str:
    """A file-name-safe version of an evaluation set name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)) or "_"


def training_logs_from_scores(scores: pd.DataFrame) -> list[tuple[str, object, Path]]:
    """(strategy, seed, path) of every distinct ``train_log`` named in the scores."""
    if "train_log" not in scores.columns:
        return []
    rows = scores[scores["train_log"].notna()]
    out, seen = [], set()
    for r in rows.to_dict("records"):
        path = resolve_listed_path(r["train_log"], r.get("_source"))
        if path in seen:
            continue
        seen.add(path)
        strategy = r["strategy"] if pd.notna(r.get("strategy")) else r["tracker"]
        out.append((str(strategy), r.get("seed"), path))
    return out


def protocol_of(scores: pd.DataFrame, eval_set: str, default: str) -> str:
    """The metric protocol of one evaluation set: the scores' ``protocol`` column, else ``default``."""
    if "protocol" in scores.columns:
        given = scores.loc[(scores["eval_set"] == eval_set) & scores["protocol"].notna(), "protocol"].unique()
        if len(given) > 1:
            raise ValueError(f"{eval_set}: several protocols in the scores: {list(given)}")
        if len(given):
            return str(given[0])
    return default


def compare(
    scores_paths,
    out_tables: str | os.PathLike,
    out_plots: str | os.PathLike | None = None,
    protocol: str = "lsotb",
    train_logs: list[tuple[str, object, str | os.PathLike]] | None = None,
    margin_pts: float = CLAIM_MARGIN_PTS,
) -> dict[str, Path]:
    """Write the tables into ``out_tables`` (comparison, ablations, claim, per-attribute) and, with
    ``out_plots``, the figures: ``<eval_set>/success.png`` / ``precision.png`` (/ ``norm_precision.png``)
    where the scores give ``eval_dir`` folders, ``<eval_set>/success_bars.png`` always, and
    ``loss_curves.png`` where training logs are given (``train_log`` column or ``train_logs``).

    A ``protocol`` column in the scores overrides ``protocol`` per evaluation set."""
    scores = read_scores(scores_paths)
    curves = curves_from_scores(scores)
    protocols = {e: protocol_of(scores, e, protocol) for e in scores["eval_set"].unique()}
    per_seq = per_sequence_success(curves, protocols) if not curves.empty else None
    paths = write_tables(scores, out_tables, margin_pts, per_seq)
    att = per_attribute_table(per_attribute_from_scores(scores), scores)
    paths.update(write_per_attribute(att, out_tables))
    if out_plots is None:
        return paths
    out_plots = Path(out_plots)
    for e in sorted(scores["eval_set"].unique()):
        d = out_plots / safe_name(e)
        paths[f"{e}/success_bars.png"] = plot_success_bars(scores, e, d / "success_bars.png")
        sub = curves[curves["eval_set"] == e]
        if sub.empty:
            log.info("%s: no eval_dir in the scores, no success/precision curves", e)
            continue
        proto = protocols[e]
        ub = set(scores.loc[(scores["eval_set"] == e) & (scores["kind"] == "supervised_upper_bound"), "tracker"])
        sub = sub.assign(tracker=[f"{t} {UPPER_BOUND_MARK} (TIR labels)" if t in ub else t for t in sub["tracker"]])
        for p in plot_eval_set_curves(sub, proto, d, e):
            paths[f"{e}/{p.name}"] = p
    logs = list(train_logs or []) + training_logs_from_scores(scores)
    if logs:
        paths["loss_curves.png"] = plot_loss_curves(logs, out_plots / "loss_curves.png")
    return paths
