"""The experiment's tables: per-run scores (one row per tracker x evaluation set x seed) ->
comparison with the RGB teacher, ablations by pair method and by distilled component, and the
check of the scientific claim.

Scores are fractions in [0, 1] as the evaluation toolkit writes them; differences to the teacher
are in points (x100). Standard deviations are sample standard deviations (ddof=1) over seeds; a
tracker with a single run (the teacher, a classic baseline, or one seed) has std NaN, shown as
"n/a": one run says nothing about the spread, and 0 would claim it does.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cmd_core.evaluation.report import write_csv
from cmd_core.io import markdown_table, write_text

from .sequences import NO_DIFFERENCE, add_sequence_statistics, paired_difference, sequence_means

log = logging.getLogger(__name__)

KINDS = ("teacher", "distilled", "supervised_upper_bound", "baseline", "rgb_reference", "rgb_baseline",
         "teacher_ablation", "rgb_ablation")
METRICS = ("success", "precision", "norm_precision")
REQUIRED = ("eval_set", "tracker", "kind", "success", "precision", "norm_precision")
OPTIONAL = ("strategy", "seed", "pair_method", "component", "teacher_seed", "backbone", "epochs", "samples_per_epoch")
UPPER_BOUND_MARK = "†"
KIND_LABELS = {"supervised_upper_bound": "supervised upper bound (TIR labels)",  # the Kind column of comparison.md
               "rgb_reference": "reference: RGB frames", "rgb_baseline": "baseline, RGB frames",
               "teacher_ablation": "ablation: no pretraining", "rgb_ablation": "ablation: no pretraining, RGB frames"}
CLAIM_MARGIN_PTS = 3.0
# A claim resting on fewer seeds of the best strategy or fewer sequences of the evaluation set is
# unresolved: one seed measures no training spread, and a handful of sequences no test spread.
CLAIM_MIN_SEEDS = 2
CLAIM_MIN_SEQUENCES = 5
# A student more than this many success points below the teacher it was distilled from has collapsed.
COLLAPSE_PTS = 5.0
VERDICTS = ("holds", "fails", "unresolved")


# ----------------------------------------------------------------------------- input
def validate_scores(df: pd.DataFrame, source: str = "scores") -> pd.DataFrame:
    """Check and normalise a long score table; returns a copy with every optional column present.

    Raises ValueError for missing columns, unknown kinds, scores outside [0, 1], a tracker with
    two kinds in one evaluation set, or two rows for the same tracker, evaluation set and seed.
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)} (have: {', '.join(map(str, df.columns))})")
    df = df.copy()
    for c in OPTIONAL:
        if c not in df.columns:
            df[c] = pd.NA
    if df.empty:
        raise ValueError(f"{source}: no score rows")
    for c in ("eval_set", "tracker", "kind"):
        if df[c].isna().any():
            raise ValueError(f"{source}: empty {c} in row(s) {list(np.flatnonzero(df[c].isna().to_numpy()))}")
        df[c] = df[c].astype(str)
    bad = sorted(set(df["kind"]) - set(KINDS))
    if bad:
        raise ValueError(f"{source}: unknown kind(s) {bad}; expected one of {', '.join(KINDS)}")
    for m in METRICS:
        df[m] = pd.to_numeric(df[m], errors="raise").astype(float)
        vals = df[m].dropna()
        if ((vals < 0) | (vals > 1)).any():
            raise ValueError(f"{source}: {m} must be a fraction in [0, 1] (got {vals.min():.3f}..{vals.max():.3f})")
    if df["success"].isna().any():
        rows = df.loc[df["success"].isna(), ["eval_set", "tracker"]].drop_duplicates().to_records(index=False)
        raise ValueError(f"{source}: success missing for {[tuple(r) for r in rows]}")
    kinds = df.groupby(["eval_set", "tracker"])["kind"].nunique()
    if (kinds > 1).any():
        raise ValueError(f"{source}: tracker(s) with several kinds: {[k for k, v in kinds.items() if v > 1]}")
    seed_key = df["seed"].astype("string").fillna("<none>")
    dup = df.assign(_seed=seed_key).duplicated(["eval_set", "tracker", "_seed"], keep=False)
    if dup.any():
        rows = df.loc[dup, ["eval_set", "tracker", "seed"]].drop_duplicates().to_records(index=False)
        raise ValueError(f"{source}: several rows for the same eval set, tracker and seed: {[tuple(r) for r in rows]}")
    return df


def read_scores(paths: str | os.PathLike | list) -> pd.DataFrame:
    """Concatenate score tables (CSV or Parquet) and validate them; adds ``_source`` (the file)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: score table not found")
        df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
        frames.append(validate_scores(df, str(p)).assign(_source=str(p)))
    if not frames:
        raise ValueError("no score table given")
    return validate_scores(pd.concat(frames, ignore_index=True), " + ".join(map(str, paths)))


# ----------------------------------------------------------------------------- comparison
def _teacher_means(df: pd.DataFrame, eval_sets) -> pd.DataFrame:
    """Mean scores of the teacher per evaluation set; ValueError naming sets without one."""
    t = df[df["kind"] == "teacher"]
    missing = [e for e in eval_sets if e not in set(t["eval_set"])]
    if missing:
        raise ValueError(
            f"no teacher row (kind == 'teacher', the RGB teacher applied to TIR) for evaluation set(s) "
            f"{', '.join(map(repr, missing))}: the differences to the teacher cannot be computed"
        )
    several = t.groupby("eval_set")["tracker"].nunique()
    if (several > 1).any():
        raise ValueError(f"several teacher trackers in evaluation set(s) {list(several[several > 1].index)}")
    return t.groupby("eval_set")[list(METRICS)].mean()


def comparison_table(scores: pd.DataFrame, per_seq: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per tracker and evaluation set: mean and std over seeds, n_seeds, and the
    difference of the mean to the teacher of the same set in points. Sorted by eval set, then
    success (best first). With ``per_seq`` (:func:`~cmd_core.experiment.sequences.per_sequence_success`),
    also the standard error over sequences and the paired interval of the difference to the teacher
    (:func:`~cmd_core.experiment.sequences.add_sequence_statistics`)."""
    df = validate_scores(scores)
    keys = ["eval_set", "tracker"]
    teacher = _teacher_means(df, df["eval_set"].unique())
    g = df.groupby(keys, sort=False)
    out = g.agg(kind=("kind", "first"), strategy=("strategy", "first"), pair_method=("pair_method", "first"),
                component=("component", "first"), n_seeds=("success", "size"))
    for m in METRICS:
        out[f"{m}_mean"] = g[m].mean()
        out[f"{m}_std"] = g[m].std(ddof=1)  # NaN for a single run
    out = out.reset_index()
    for m in METRICS:
        ref = out["eval_set"].map(teacher[m])
        out[f"d_{m}_pts"] = (out[f"{m}_mean"] - ref) * 100.0
    out.insert(3, "uses_tir_labels", out["kind"] == "supervised_upper_bound")
    out = out.sort_values(["eval_set", "success_mean"], ascending=[True, False], kind="stable").reset_index(drop=True)
    if per_seq is not None:
        out = add_sequence_statistics(out, per_seq)
    return out


# ----------------------------------------------------------------------------- claim
@dataclass
class ClaimResult:
    """Does the best distillation strategy beat the teacher by >= margin points of success AUC
    (mean over seeds) on ``eval_set``? ``verdict`` is ``holds`` / ``fails`` by ``meets_margin``, or
    ``unresolved`` (with ``reason``) when the best strategy has fewer than ``CLAIM_MIN_SEEDS`` seeds or
    the set fewer than ``CLAIM_MIN_SEQUENCES`` sequences (unknown without per-sequence scores).
    ``seed_*`` give the spread of the per-seed differences, ``diff_ci_*`` the paired bootstrap interval
    over sequences (NaN without per-sequence scores). The teacher is the one the strategy was distilled
    from where the scores say so (``teacher_seed``), else the mean of the teacher's seeds."""

    eval_set: str
    verdict: str
    meets_margin: bool
    margin_pts: float
    best_tracker: str
    best_strategy: str | None
    n_seeds: int
    best_success_mean: float
    best_success_std: float
    teacher_success: float
    diff_pts: float
    seed_diffs_pts: list[float] = field(default_factory=list)
    seed_diff_min_pts: float = math.nan
    seed_diff_max_pts: float = math.nan
    seed_std_pts: float = math.nan
    best_baseline: str | None = None
    best_baseline_success: float = math.nan
    teacher_reference: str = "mean of the teacher's seeds"
    n_sequences: int = 0
    diff_ci_low_pts: float = math.nan
    diff_ci_high_pts: float = math.nan
    baseline_diff_ci_low_pts: float = math.nan
    baseline_diff_ci_high_pts: float = math.nan
    reason: str = ""

    @property
    def holds(self) -> bool:
        """The claim holds: the margin is met on enough seeds and sequences."""
        return self.verdict == "holds"

    @property
    def beats_baselines(self) -> bool | None:
        """Whether the best strategy beats every classic baseline (None: no baseline row)."""
        if self.best_baseline is None:
            return None
        return bool(round((self.best_success_mean - self.best_baseline_success) * 100.0, 9) > 0)

    def as_dict(self) -> dict:
        return {**asdict(self), "holds": self.holds, "beats_baselines": self.beats_baselines}

    def sentence(self) -> str:
        verdict = {"holds": "HOLDS", "fails": "DOES NOT HOLD"}.get(
            self.verdict, f"UNRESOLVED: {self.reason}; the difference {'would' if self.meets_margin else 'would not'} "
                          "clear the margin")
        spread = (f"seed spread: std {self.seed_std_pts:.2f} pts, per-seed differences "
                  f"{self.seed_diff_min_pts:+.2f} .. {self.seed_diff_max_pts:+.2f} pts"
                  if self.n_seeds > 1 else "a single seed: no spread measured")
        interval = (f"; 95 % paired interval over {self.n_sequences} sequences [{self.diff_ci_low_pts:+.1f}, "
                    f"{self.diff_ci_high_pts:+.1f}]" if not math.isnan(self.diff_ci_low_pts) else "")
        text = (f"Claim on {self.eval_set}: best distillation strategy {self.best_tracker} "
                f"{self.best_success_mean:.3f} success AUC (mean of {self.n_seeds} seed(s)) vs teacher "
                f"{self.teacher_success:.3f} ({self.teacher_reference}): {self.diff_pts:+.2f} points{interval}, "
                f"needed >= +{self.margin_pts:g} -> {verdict} ({spread}).")
        if self.best_baseline is not None and not math.isnan(self.baseline_diff_ci_low_pts):
            text += (f" Against the best classic baseline {self.best_baseline} ({self.best_baseline_success:.3f}): "
                     f"{100 * (self.best_success_mean - self.best_baseline_success):+.1f} "
                     f"[{self.baseline_diff_ci_low_pts:+.1f}, {self.baseline_diff_ci_high_pts:+.1f}] points.")
        if self.beats_baselines is False:
            text += (f" Caveat: it does not beat the classic baseline {self.best_baseline} "
                     f"({self.best_baseline_success:.3f}); a gain over a teacher that is itself below the "
                     "baselines says little about tracking quality (a tracker that hardly moves scores like "
                     "the static box).")
        return text


def _parent_teacher(sub: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Teacher rows a distilled tracker is compared with: those of its ``teacher_seed`` (one value
    over its rows, present among the teacher's seeds), else all of the teacher's rows."""
    teacher = sub[sub["kind"] == "teacher"]
    parents = pd.to_numeric(rows["teacher_seed"], errors="coerce").dropna().unique()
    if len(parents) == 1:
        same = teacher[pd.to_numeric(teacher["seed"], errors="coerce") == parents[0]]
        if not same.empty:
            return same, f"the teacher it was distilled from, seed {parents[0]:g}"
    return teacher, f"mean of {len(teacher)} teacher seed(s)" if len(teacher) > 1 else "the teacher"


def _thin_evidence(n_seeds: int, n_sequences: int | None, min_seeds: int, min_sequences: int) -> str:
    """Why a claim on this many seeds and sequences (None: unknown) is unresolved; "" if it is not."""
    parts = []
    if n_seeds < min_seeds:
        parts.append(f"{n_seeds} seed(s) of the best strategy (needs >= {min_seeds})")
    if n_sequences is None:
        parts.append("the number of sequences is unknown (no per-sequence scores)")
    elif n_sequences < min_sequences:
        parts.append(f"{n_sequences} sequence(s) in the evaluation set (needs >= {min_sequences})")
    return "; ".join(parts)


def claim_check(scores: pd.DataFrame, eval_set: str, margin_pts: float = CLAIM_MARGIN_PTS,
                per_seq: pd.DataFrame | None = None, min_seeds: int = CLAIM_MIN_SEEDS,
                min_sequences: int = CLAIM_MIN_SEQUENCES) -> ClaimResult:
    """Compare the distilled tracker with the best mean success on ``eval_set`` with the teacher
    it was distilled from (see :func:`_parent_teacher`); with ``per_seq``, also the paired intervals
    over sequences against that teacher and against the best classic baseline. Fewer than
    ``min_seeds`` seeds of that tracker or fewer than ``min_sequences`` sequences it shares with the
    teacher (unknown without ``per_seq``) make the verdict ``unresolved``.

    The difference is rounded to 1e-9 points before the comparison so that float noise in
    (0.53 - 0.50) * 100 does not decide the verdict.
    """
    df = validate_scores(scores)
    sub = df[df["eval_set"] == eval_set]
    if sub.empty:
        raise ValueError(f"evaluation set {eval_set!r} not in the scores (have: {', '.join(sorted(df['eval_set'].unique()))})")
    _teacher_means(sub, [eval_set])  # checks there is exactly one teacher
    dist = sub[sub["kind"] == "distilled"]
    if dist.empty:
        raise ValueError(f"no distilled tracker (kind == 'distilled') on evaluation set {eval_set!r}")
    means = dist.groupby("tracker")["success"].mean().sort_values(ascending=False, kind="stable")
    best = means.index[0]
    rows = dist[dist["tracker"] == best]
    parent, reference = _parent_teacher(sub, rows)
    teacher = float(parent["success"].mean())
    seed_diffs = ((rows["success"] - teacher) * 100.0).tolist()
    diff = (means.iloc[0] - teacher) * 100.0
    strat = rows["strategy"].iloc[0]
    base = sub[sub["kind"] == "baseline"].groupby("tracker")["success"].mean().sort_values(ascending=False, kind="stable")
    vs_teacher = vs_base = NO_DIFFERENCE
    if per_seq is not None:
        mine = sequence_means(per_seq, eval_set, best)
        teacher_name = parent["tracker"].iloc[0]
        seeds = list(parent["seed"].dropna().unique())
        vs_teacher = paired_difference(mine, sequence_means(per_seq, eval_set, teacher_name, seeds or None))
        if len(base):
            vs_base = paired_difference(mine, sequence_means(per_seq, eval_set, base.index[0]))
    meets = bool(round(diff, 9) >= margin_pts)
    reason = _thin_evidence(len(rows), vs_teacher.n_sequences if per_seq is not None else None, min_seeds,
                            min_sequences)
    return ClaimResult(
        eval_set=eval_set, verdict="unresolved" if reason else ("holds" if meets else "fails"), meets_margin=meets,
        reason=reason, margin_pts=float(margin_pts),
        best_tracker=best, best_strategy=None if pd.isna(strat) else str(strat), n_seeds=len(rows),
        best_success_mean=float(means.iloc[0]), best_success_std=float(rows["success"].std(ddof=1)),
        teacher_success=teacher, diff_pts=float(diff), seed_diffs_pts=[float(v) for v in seed_diffs],
        seed_diff_min_pts=float(min(seed_diffs)), seed_diff_max_pts=float(max(seed_diffs)),
        seed_std_pts=float(np.std(seed_diffs, ddof=1)) if len(seed_diffs) > 1 else math.nan,
        best_baseline=str(base.index[0]) if len(base) else None,
        best_baseline_success=float(base.iloc[0]) if len(base) else math.nan,
        teacher_reference=reference, n_sequences=vs_teacher.n_sequences,
        diff_ci_low_pts=vs_teacher.low_pts, diff_ci_high_pts=vs_teacher.high_pts,
        baseline_diff_ci_low_pts=vs_base.low_pts, baseline_diff_ci_high_pts=vs_base.high_pts,
    )


def claim_checks(scores: pd.DataFrame, margin_pts: float = CLAIM_MARGIN_PTS,
                 per_seq: pd.DataFrame | None = None, **limits) -> list[ClaimResult]:
    """:func:`claim_check` for every evaluation set that has a distilled tracker (``limits``:
    ``min_seeds``, ``min_sequences``)."""
    df = validate_scores(scores)
    sets = sorted(df.loc[df["kind"] == "distilled", "eval_set"].unique())
    return [claim_check(df, e, margin_pts, per_seq, **limits) for e in sets]


# ----------------------------------------------------------------------------- collapsed students
COLLAPSE_COLUMNS = ["eval_set", "tracker", "strategy", "seed", "success", "teacher_success", "d_success_pts",
                    "component", "backbone", "pair_method", "epochs", "samples_per_epoch"]


def collapsed_students(scores: pd.DataFrame, threshold_pts: float = COLLAPSE_PTS) -> pd.DataFrame:
    """Every distilled run (one seed on one evaluation set) more than ``threshold_pts`` points of
    success below the teacher it was distilled from (see :func:`_parent_teacher`), with what it
    trained (components, backbone, pair method, epochs x samples per epoch, seed); worst first."""
    df = validate_scores(scores)
    rows = []
    for (e, _), runs in df[df["kind"] == "distilled"].groupby(["eval_set", "tracker"], sort=True):
        parent, _ = _parent_teacher(df[df["eval_set"] == e], runs)
        if parent.empty:
            continue
        teacher = float(parent["success"].mean())
        for r in runs.to_dict("records"):
            d = (r["success"] - teacher) * 100.0
            if round(d, 9) < -threshold_pts:
                rows.append({**{c: r.get(c) for c in COLLAPSE_COLUMNS}, "teacher_success": teacher, "d_success_pts": d})
    out = pd.DataFrame(rows, columns=COLLAPSE_COLUMNS)
    return out.sort_values("d_success_pts", kind="stable").reset_index(drop=True)


def _cell(v) -> str:
    return "–" if v is None or pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v))


def collapsed_markdown(collapsed: pd.DataFrame, threshold_pts: float = COLLAPSE_PTS) -> list[str]:
    """The "Collapsed students" section of comparison.md (a line saying none when it is empty)."""
    lines = ["## Collapsed students", ""]
    if collapsed.empty:
        return lines + [f"No distilled run falls more than {threshold_pts:g} points of success below its teacher.", ""]
    rows = [[str(r.eval_set), str(r.tracker), _cell(r.seed), f"{r.success:.3f}", f"{r.teacher_success:.3f}",
             f"{r.d_success_pts:+.1f}", _cell(r.component), _cell(r.backbone), _cell(r.pair_method),
             "–" if pd.isna(r.epochs) else f"{_cell(r.epochs)} x {_cell(r.samples_per_epoch)}"]
            for r in collapsed.itertuples()]
    head = ["Eval set", "Tracker", "Seed", "Success", "Teacher", "Δ success", "Components", "Backbone", "Pairs",
            "Samples (epochs x per epoch)"]
    return lines + [f"Distilled runs more than {threshold_pts:g} points of success below the teacher they were "
                    "distilled from (one row per seed and evaluation set), and what each trained. A student that "
                    "loses this much to its own teacher has been broken by training; its row above is not a "
                    "measure of distillation.", "", markdown_table(rows, head, n_text=2), ""]


# ----------------------------------------------------------------------------- ablations
def ablation_table(scores: pd.DataFrame, by: str) -> pd.DataFrame:
    """Success of the distilled trackers grouped by ``by`` ("pair_method" or "component"):
    one row per (value, strategy), per evaluation set the mean, std, n_seeds and the difference
    to the teacher in points (wide columns ``<eval_set>.success_mean`` etc.)."""
    if by not in ("pair_method", "component"):
        raise ValueError(f"ablation by {by!r}: expected 'pair_method' or 'component'")
    comp = comparison_table(scores)
    d = comp[(comp["kind"] == "distilled") & comp[by].notna()].copy()
    label = d["strategy"].where(d["strategy"].notna(), d["tracker"])
    d["strategy"] = label.astype(str)
    d[by] = d[by].astype(str)
    cols = [by, "strategy"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    parts = []
    for e in sorted(d["eval_set"].unique()):
        sub = d[d["eval_set"] == e].set_index(cols)[["success_mean", "success_std", "n_seeds", "d_success_pts"]]
        parts.append(sub.rename(columns=lambda c: f"{e}.{c}"))
    wide = pd.concat(parts, axis=1)
    # within a group, best first (by the success averaged over the evaluation sets)
    order = d.groupby(cols)["success_mean"].mean().reindex(wide.index)
    wide = wide.assign(_o=order.to_numpy()).reset_index()
    wide = wide.sort_values([by, "_o"], ascending=[True, False], kind="stable").drop(columns="_o")
    for c in wide.columns:
        if c.endswith(".n_seeds"):
            wide[c] = wide[c].astype("Int64")
    return wide.reset_index(drop=True)


# ----------------------------------------------------------------------------- Markdown
def format_value(v: float, digits: int = 3) -> str:
    """A number for a Markdown table: ``digits`` decimals, or ``n/a`` when missing."""
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else f"{v:.{digits}f}"


def _pm(mean: float, std: float) -> str:
    if pd.isna(mean):
        return "–"
    return f"{mean:.3f} ± {format_value(std)}"


def _d(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:+.1f}"


COMPARISON_FOOTNOTE = (
    "Columns: **Success (AUC)** is the area under the success curve (fraction of frames whose overlap "
    "with the ground truth exceeds each threshold, averaged over thresholds); **Precision** is the fraction "
    "of frames whose centre error is within the protocol's pixel threshold (20 px for the TIR benchmarks); **Norm. precision** is "
    "the same with the error normalised by the target size. Each cell is the mean ± sample standard "
    "deviation over the seeds in **Seeds** (n/a: a single run, no spread measured). **Δ** columns are the "
    "difference of the mean to the RGB teacher applied to TIR unchanged (kind *teacher*) on the same "
    "evaluation set, in points (x100); positive is better than the teacher. "
    f"{UPPER_BOUND_MARK} marks the supervised upper bound: it is fine-tuned **with TIR ground-truth labels** "
    "and is therefore not a fair competitor of the label-free distillation strategies. "
    "The *reference: RGB frames* row is the teacher tracking the RGB frames of a paired evaluation set "
    "(scored against the RGB ground truth): its lead over the teacher row is the modality gap that "
    "distillation can close. *Baseline, RGB frames* rows are the classic baselines on those RGB frames: "
    "the floor the teacher has to clear in its own modality."
)
SEQUENCE_FOOTNOTE = (
    " **SE** is the standard error over the evaluation set's sequences of the per-sequence success "
    "(mean over the seeds), in points: how much the mean would move with another draw of sequences. "
    "**[95 % CI]** is the percentile interval of the difference to the teacher from a paired bootstrap "
    "over sequences (9,999 resamples of the same sequences for both trackers); a difference whose "
    "interval contains 0 is not resolved by this evaluation set."
)


def _ci(low: float, high: float) -> str:
    return "" if pd.isna(low) else f" [{low:+.1f}, {high:+.1f}]"


def rgb_teacher_checks(comp: pd.DataFrame, per_seq: pd.DataFrame | None = None) -> list[str]:
    """One sentence per evaluation set with RGB frames: the teacher (kind rgb_reference) in its own
    modality against every classic baseline on the same frames (kind rgb_baseline), best first;
    with ``per_seq``, each difference with its paired 95 % interval over sequences."""
    out = []
    for e, sub in comp.groupby("eval_set", sort=True):
        teacher = sub[sub["kind"] == "rgb_reference"]
        base = sub[sub["kind"] == "rgb_baseline"].sort_values("success_mean", ascending=False, kind="stable")
        if teacher.empty or base.empty:
            continue
        t = teacher.iloc[0]
        mine = sequence_means(per_seq, e, t["tracker"]) if per_seq is not None else None
        parts = []
        for b in base.itertuples():
            d = paired_difference(mine, sequence_means(per_seq, e, b.tracker)) if mine is not None else NO_DIFFERENCE
            diff = d.text() if not math.isnan(d.mean_pts) else f"{100 * (t['success_mean'] - b.success_mean):+.1f}"
            parts.append(f"{b.tracker} {b.success_mean:.3f} ({diff})")
        best = base.iloc[0]
        lead = 100 * (t["success_mean"] - best["success_mean"])
        verdict = (f"beats every classic baseline on RGB frames, the best ({best['tracker']}) by {lead:.1f} points"
                   if lead > 0 else f"does not beat the best classic baseline {best['tracker']} ({lead:+.1f} points)")
        n = f" over {int(t['n_sequences'])} sequences" if "n_sequences" in sub.columns and pd.notna(t["n_sequences"]) else ""
        out.append(f"{e}: the teacher on RGB frames ({t['success_mean']:.3f}) {verdict}. Teacher minus each "
                   f"baseline in points{' with the paired 95 % interval' + n if mine is not None else ''}: "
                   + "; ".join(parts) + ".")
    return out


# ----------------------------------------------------------------------------- can the benchmark see distillation?
HEADROOM_MIN_PTS = 5.0  # the supervised TIR bound must beat the teacher by this much on TIR frames
MODALITY_GAP_MIN_PTS = 5.0  # the teacher must score this much higher on the RGB frames of a paired set
HEADROOM_SHARE_MIN = 0.4  # the best strategy must close this share of the headroom
BENCHMARK_COLUMNS = ["eval_set", "check", "a", "b", "a_success", "b_success", "diff_pts", "ci_low_pts", "ci_high_pts",
                     "n_sequences", "needed_pts", "verdict", "best_strategy", "headroom_closed"]


def _series(per_seq: pd.DataFrame, eval_set: str, row: pd.Series) -> pd.Series:
    return sequence_means(per_seq, eval_set, row["tracker"])


def benchmark_checks(comp: pd.DataFrame, per_seq: pd.DataFrame) -> pd.DataFrame:
    """Whether the evaluation sets can show what distillation does, one row per set and check:

    - ``headroom``: the supervised TIR bound (TIR labels) minus the teacher on the TIR frames; it
      holds when the difference is at least HEADROOM_MIN_PTS with its paired interval above 0.
      ``headroom_closed`` is the share of it the best distilled tracker closes;
    - ``modality_gap``: the teacher on the RGB frames of a paired set (rgb_reference) minus the
      teacher on its TIR frames, at least MODALITY_GAP_MIN_PTS with the interval above 0.

    Differences are in points over the sequences both have, the trackers' seeds averaged."""
    rows = []
    for e, sub in comp.groupby("eval_set", sort=True):
        teacher = sub[sub["kind"] == "teacher"]
        if teacher.empty:
            continue
        t = teacher.iloc[0]
        mine = _series(per_seq, e, t)
        checks = [("headroom", sub[sub["kind"] == "supervised_upper_bound"], HEADROOM_MIN_PTS),
                  ("modality_gap", sub[sub["kind"] == "rgb_reference"], MODALITY_GAP_MIN_PTS)]
        for check, other, needed in checks:
            if other.empty:
                continue
            o = other.iloc[0]
            d = paired_difference(_series(per_seq, e, o), mine)
            ok = round(d.mean_pts, 9) >= needed and d.low_pts > 0
            row = {"eval_set": e, "check": check, "a": o["tracker"], "b": t["tracker"], "a_success": o["success_mean"],
                   "b_success": t["success_mean"], "diff_pts": d.mean_pts, "ci_low_pts": d.low_pts,
                   "ci_high_pts": d.high_pts, "n_sequences": d.n_sequences, "needed_pts": needed,
                   "verdict": "holds" if ok else "fails", "best_strategy": None, "headroom_closed": math.nan}
            dist = sub[sub["kind"] == "distilled"]
            if check == "headroom" and not dist.empty and d.mean_pts > 0:
                best = dist.sort_values("success_mean", ascending=False, kind="stable").iloc[0]
                row["best_strategy"] = best["tracker"]
                row["headroom_closed"] = 100.0 * 100.0 * (best["success_mean"] - t["success_mean"]) / d.mean_pts  # %
            rows.append(row)
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)


def benchmark_sentences(checks: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`benchmark_checks`."""
    out = []
    what = {"headroom": "headroom: the supervised TIR bound (TIR labels) {a} {as_:.3f} against the teacher {b} {bs:.3f} "
                        "on TIR frames",
            "modality_gap": "modality gap: the teacher on RGB frames {as_:.3f} against the same teacher on TIR frames "
                            "{bs:.3f}"}
    for r in checks.itertuples():
        text = (f"{r.eval_set}: " + what[r.check].format(a=r.a, b=r.b, as_=r.a_success, bs=r.b_success)
                + f": {r.diff_pts:+.1f}{_ci(r.ci_low_pts, r.ci_high_pts)} points over {r.n_sequences} sequences, "
                f"needed >= +{r.needed_pts:g} with the interval above 0 -> {r.verdict.upper()}")
        if r.check == "headroom" and r.best_strategy is not None:
            text += (f"; the best distilled tracker {r.best_strategy} closes {r.headroom_closed:.0f} % of it "
                     f"(needed >= {100 * HEADROOM_SHARE_MIN:.0f} %)")
        elif r.check == "headroom" and r.verdict == "fails":
            text += "; this set cannot reward a TIR adaptation smaller than the bound's lead"
        out.append(text + ".")
    return out


def comparison_markdown(comp: pd.DataFrame, claims: list[ClaimResult] | None = None,
                        per_seq: pd.DataFrame | None = None, collapsed: pd.DataFrame | None = None,
                        checks: pd.DataFrame | None = None) -> str:
    """Markdown: one table per evaluation set, the teacher against the baselines, the claim checks,
    the collapsed students (``collapsed``, from :func:`collapsed_students`) and the footnote. The SE
    column and the intervals appear when ``comp`` has sequence statistics."""
    has_norm = comp["norm_precision_mean"].notna().any()
    has_seq = "success_se_pts" in comp.columns and comp["success_se_pts"].notna().any()
    lines = ["# Comparison with the RGB teacher", ""]
    head = ["Tracker", "Kind", "Seeds", "Success (AUC)"] + (["SE (pts)", "Δ success [95 % CI]"] if has_seq else ["Δ success"])
    head += ["Precision", "Δ precision"]
    if has_norm:
        head += ["Norm. precision", "Δ norm. precision"]
    for e, sub in comp.groupby("eval_set", sort=True):
        rows = []
        for r in sub.itertuples():
            name = f"{r.tracker} {UPPER_BOUND_MARK}" if r.uses_tir_labels else str(r.tracker)
            kind = KIND_LABELS.get(r.kind, r.kind)
            cells = [name, kind, str(r.n_seeds), _pm(r.success_mean, r.success_std)]
            if has_seq:
                cells += [format_value(r.success_se_pts, 1), _d(r.d_success_pts) + _ci(r.d_success_ci_low_pts, r.d_success_ci_high_pts)]
            else:
                cells.append(_d(r.d_success_pts))
            cells += [_pm(r.precision_mean, r.precision_std), _d(r.d_precision_pts)]
            if has_norm:
                cells += [_pm(r.norm_precision_mean, r.norm_precision_std), _d(r.d_norm_precision_pts)]
            rows.append(cells)
        count = ([f"{int(sub['n_sequences'].max())} sequences.", ""]
                 if has_seq and sub["n_sequences"].notna().any() else [])
        lines += [f"## {e}", ""] + count + [markdown_table(rows, head, n_text=2), ""]
    teacher_checks = rgb_teacher_checks(comp, per_seq)
    if teacher_checks:
        lines += ["## The teacher against the classic baselines on RGB frames", ""]
        lines += [f"- {t}" for t in teacher_checks] + [""]
    if checks is not None and not checks.empty:
        lines += ["## Can this benchmark see distillation?", ""]
        lines += [f"- {t}" for t in benchmark_sentences(checks)] + [""]
    if claims:
        lines += ["## Claim check", ""]
        lines += [f"- {c.sentence()}" for c in claims] + [""]
    if collapsed is not None:
        lines += collapsed_markdown(collapsed)
    lines += ["---", "", COMPARISON_FOOTNOTE + (SEQUENCE_FOOTNOTE if has_seq else ""), ""]
    return "\n".join(lines)


def ablation_markdown(table: pd.DataFrame, by: str, teacher: pd.Series | None = None) -> str:
    """Markdown pivot: rows (value, strategy), one column per evaluation set with
    "mean ± std (Δ pts)"; ``teacher`` (success mean per eval set) adds a reference row."""
    title = {"pair_method": "pair method", "component": "distilled component"}.get(by, by)
    lines = [f"# Ablation by {title}", ""]
    sets = sorted({c.split(".success_mean")[0] for c in table.columns if c.endswith(".success_mean")})
    if table.empty or not sets:
        return "\n".join(lines + [f"No distilled tracker has a {by} in the scores.", ""])
    head = [title.capitalize(), "Strategy"] + sets
    rows = [["*(teacher, no distillation)*", "–"] + [format_value(teacher.get(e)) for e in sets]] if teacher is not None else []
    for _, r in table.iterrows():
        cells = [str(r[by]), str(r["strategy"])]
        for e in sets:
            m = r.get(f"{e}.success_mean")
            cells.append("–" if pd.isna(m) else f"{_pm(m, r[f'{e}.success_std'])} ({_d(r[f'{e}.d_success_pts'])}, n={int(r[f'{e}.n_seeds'])})")
        rows.append(cells)
    lines += [markdown_table(rows, head, n_text=2), "", "---", "",
              "Cells: success AUC of the distilled tracker, mean ± sample standard deviation over n seeds "
              "(n/a: one seed), and in brackets the difference to the RGB teacher on the same evaluation set "
              "in points (x100). Only strategies of kind *distilled* that name a "
              f"{title} are listed; compare rows within one {title} group only where the other settings "
              "of the strategies are the same.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- writing
def write_tables(scores: pd.DataFrame, out_dir: str | os.PathLike, margin_pts: float = CLAIM_MARGIN_PTS,
                 per_seq: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write comparison.csv/.md, ablation_pairs.csv/.md, ablation_components.csv/.md, claim.csv and
    (with ``per_seq``) benchmark_checks.csv into ``out_dir``; returns {name: path}. ``per_seq`` (per-sequence success) adds the
    standard errors and paired intervals."""
    out = Path(out_dir)
    df = validate_scores(scores)
    comp = comparison_table(df, per_seq)
    claims = claim_checks(df, margin_pts, per_seq)
    teacher = comp[comp["kind"] == "teacher"].set_index("eval_set")["success_mean"]
    paths = {}
    paths["comparison.csv"] = out / "comparison.csv"
    write_csv(comp, paths["comparison.csv"])
    paths["comparison.md"] = out / "comparison.md"
    collapsed = collapsed_students(df) if (df["kind"] == "distilled").any() else None
    checks = benchmark_checks(comp, per_seq) if per_seq is not None else None
    write_text(paths["comparison.md"], comparison_markdown(comp, claims, per_seq, collapsed, checks))
    if checks is not None:
        paths["benchmark_checks.csv"] = out / "benchmark_checks.csv"
        write_csv(checks, paths["benchmark_checks.csv"])
    for by, stem in (("pair_method", "ablation_pairs"), ("component", "ablation_components")):
        tab = ablation_table(df, by)
        write_csv(tab, out / f"{stem}.csv")
        write_text(out / f"{stem}.md", ablation_markdown(tab, by, teacher))
        paths[f"{stem}.csv"], paths[f"{stem}.md"] = out / f"{stem}.csv", out / f"{stem}.md"
    claim_df = pd.DataFrame([{**c.as_dict(), "seed_diffs_pts": " ".join(f"{v:.4f}" for v in c.seed_diffs_pts)} for c in claims],
                            columns=[*ClaimResult.__dataclass_fields__, "holds"])
    paths["claim.csv"] = out / "claim.csv"
    write_csv(claim_df, paths["claim.csv"])
    for c in claims:
        log.info("%s", c.sentence())
    return paths
