"""Per-sequence success and the uncertainty it gives: the standard error of a tracker's success over
the sequences of an evaluation set, and paired bootstrap intervals of the difference of two trackers
on the same sequences.

Seeds vary the training; sequences vary the test. A difference of two trackers is only worth reading
when it is large against how much it changes from one sequence to another, so every difference in
the experiment's tables carries a 95 % interval from resampling sequences (the same sequences for
both trackers: a paired bootstrap, ``scipy.stats.bootstrap``). A tracker with several seeds counts
by its per-sequence mean over the seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cmd_core.evaluation.engine import riemann_auc
from cmd_core.evaluation.protocols import get_protocol

CONFIDENCE = 0.95
N_RESAMPLES = 9999
SEQUENCE_COLUMNS = ["eval_set", "tracker", "seed", "sequence", "success"]


def per_sequence_success(curves: pd.DataFrame, protocols: dict[str, str] | str = "lsotb") -> pd.DataFrame:
    """Success AUC of every (eval_set, tracker, seed, sequence) from the long curves table of
    :func:`cmd_core.experiment.curves_from_scores`, read off the sequence's success curve as the
    protocol of its evaluation set reads the averaged one (``protocols``: one name, or per eval set)."""
    sub = curves[curves["curve"] == "success"] if len(curves) else curves
    if sub.empty:
        return pd.DataFrame(columns=SEQUENCE_COLUMNS)
    rows = []
    keys = ["eval_set", "tracker", "seed", "sequence"]
    for (e, t, s, q), g in sub.groupby(keys, sort=False, dropna=False):
        proto = get_protocol(protocols if isinstance(protocols, str) else protocols.get(e, "lsotb"))
        g = g.sort_values("threshold", kind="stable")
        y = g["value"].to_numpy(float)
        value = riemann_auc(g["threshold"].to_numpy(float), y) if proto.success_score == "riemann" else float(y.mean())
        rows.append((e, t, s, q, value))
    return pd.DataFrame(rows, columns=SEQUENCE_COLUMNS)


def sequence_means(per_seq: pd.DataFrame, eval_set: str, tracker: str, seed=None) -> pd.Series:
    """Per-sequence success of one tracker on one set, indexed by sequence: the mean over all its
    seeds, or over ``seed`` (one seed or a list of them)."""
    sub = per_seq[(per_seq["eval_set"] == eval_set) & (per_seq["tracker"] == tracker)]
    if seed is not None:
        wanted = [float(s) for s in np.atleast_1d(seed)]
        sub = sub[pd.to_numeric(sub["seed"], errors="coerce").isin(wanted)]
    return sub.groupby("sequence", sort=True)["success"].mean()


def standard_error_pts(values: pd.Series) -> float:
    """Standard error of the mean over sequences, in points (NaN for fewer than two sequences)."""
    v = np.asarray(values, float)
    return float(100.0 * v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan


@dataclass(frozen=True)
class PairedDifference:
    """Mean difference a - b over the sequences both have, in points, with its paired bootstrap
    interval and the standard error of the differences."""

    mean_pts: float
    low_pts: float
    high_pts: float
    se_pts: float
    n_sequences: int

    @property
    def above_zero(self) -> bool:
        return bool(self.low_pts > 0)

    def text(self) -> str:
        if math.isnan(self.mean_pts):
            return "–"
        if math.isnan(self.low_pts):
            return f"{self.mean_pts:+.1f}"
        return f"{self.mean_pts:+.1f} [{self.low_pts:+.1f}, {self.high_pts:+.1f}]"


NO_DIFFERENCE = PairedDifference(math.nan, math.nan, math.nan, math.nan, 0)


def paired_difference(a: pd.Series, b: pd.Series, seed: int = 0) -> PairedDifference:
    """a - b (per-sequence success, indexed by sequence) on their common sequences, with the 95 %
    percentile interval of the mean from a paired bootstrap over sequences."""
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return NO_DIFFERENCE
    d = 100.0 * (a.loc[common].to_numpy(float) - b.loc[common].to_numpy(float))
    mean = float(d.mean())
    if len(d) < 2:
        return PairedDifference(mean, math.nan, math.nan, math.nan, len(d))
    if np.allclose(d, d[0]):  # no spread to resample
        return PairedDifference(mean, mean, mean, 0.0, len(d))
    res = stats.bootstrap((d,), np.mean, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES, method="percentile",
                          random_state=np.random.default_rng(seed))
    ci = res.confidence_interval
    return PairedDifference(mean, float(ci.low), float(ci.high), float(d.std(ddof=1) / math.sqrt(len(d))), len(d))


def add_sequence_statistics(comp: pd.DataFrame, per_seq: pd.DataFrame) -> pd.DataFrame:
    """The comparison table with, per row, ``n_sequences``, ``success_se_pts`` (standard error over
    sequences of the per-sequence success, mean over seeds) and ``d_success_ci_low_pts`` /
    ``d_success_ci_high_pts`` (paired bootstrap interval of the difference to the teacher of the
    same set, on the same sequences). Rows without per-sequence scores get NaN."""
    out = comp.copy()
    n, se, lo, hi = [], [], [], []
    teachers = {e: (sub["tracker"].iloc[0], sequence_means(per_seq, e, sub["tracker"].iloc[0]))
                for e, sub in comp[comp["kind"] == "teacher"].groupby("eval_set")}
    for r in comp.itertuples():
        v = sequence_means(per_seq, r.eval_set, r.tracker)
        n.append(len(v))
        se.append(standard_error_pts(v))
        name, theirs = teachers.get(r.eval_set, (None, None))
        d = paired_difference(v, theirs) if name is not None and r.tracker != name else NO_DIFFERENCE
        lo.append(d.low_pts)
        hi.append(d.high_pts)
    out["n_sequences"] = pd.array(n, dtype="Int64")
    out["success_se_pts"] = se
    out["d_success_ci_low_pts"] = lo
    out["d_success_ci_high_pts"] = hi
    return out
