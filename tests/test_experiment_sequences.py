"""Per-sequence success, standard errors over sequences and paired bootstrap intervals, on curves
whose per-sequence values are set by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cmd_core.evaluation.protocols import get_protocol
from cmd_core.experiment import claim_check, comparison_markdown, comparison_table, rgb_teacher_checks
from cmd_core.experiment.sequences import (
    add_sequence_statistics,
    paired_difference,
    per_sequence_success,
    sequence_means,
    standard_error_pts,
)

THRESHOLDS = get_protocol("lsotb").thresholds("success")


def _curves(eval_set: str, tracker: str, seed, per_seq: dict[str, float]) -> list[dict]:
    """A flat success curve per sequence: its mean over the thresholds is the given value."""
    return [dict(tracker=tracker, sequence=q, curve="success", threshold=float(t), value=v, n_frames=10,
                 eval_set=eval_set, seed=seed) for q, v in per_seq.items() for t in THRESHOLDS]


SEQS = [f"s{i}" for i in range(8)]
TEACHER = dict(zip(SEQS, [0.30, 0.50, 0.20, 0.60, 0.40, 0.35, 0.55, 0.25]))


def _shift(base: dict[str, float], by: list[float]) -> dict[str, float]:
    return {q: v + d for (q, v), d in zip(base.items(), by)}


def long_curves() -> pd.DataFrame:
    rows = _curves("x", "teacher", 0, TEACHER)
    rows += _curves("x", "teacher", 1, _shift(TEACHER, [0.02] * 8))  # second teacher seed: +2 pts everywhere
    up = [0.05, 0.03, 0.06, 0.04, 0.05, 0.02, 0.07, 0.04]  # always better: mean +4.5 pts
    rows += _curves("x", "student", 0, _shift(TEACHER, up))
    rows += _curves("x", "student", 1, _shift(TEACHER, [u + 0.01 for u in up]))
    rows += _curves("x", "noisy", None, _shift(TEACHER, [0.2, -0.2, 0.2, -0.2, 0.2, -0.2, 0.2, -0.2]))
    rows += _curves("x", "same", None, TEACHER)
    return pd.DataFrame(rows)


def test_per_sequence_success_is_the_protocol_score_of_each_sequence():
    per = per_sequence_success(long_curves())
    t0 = sequence_means(per, "x", "teacher", seed=0)
    assert t0.to_dict() == pytest.approx(TEACHER)
    both = sequence_means(per, "x", "teacher")  # mean over the two seeds
    assert both.to_numpy() == pytest.approx(np.array(list(TEACHER.values())) + 0.01)
    assert sequence_means(per, "x", "teacher", seed=[0, 1]).to_dict() == pytest.approx(both.to_dict())
    assert sequence_means(per, "x", "teacher", seed=[1]).to_numpy() == pytest.approx(t0.to_numpy() + 0.02)
    # a protocol with a Riemann AUC (GTOT) reads the curve differently from the mean of its points
    gtot = get_protocol("gtot")
    ramp = pd.DataFrame([dict(tracker="a", sequence="q", curve="success", threshold=float(t), value=float((1 - t) ** 3),
                              n_frames=5, eval_set="g", seed=None) for t in gtot.thresholds("success")])
    (value,) = per_sequence_success(ramp, {"g": "gtot"})["success"]
    from cmd_core.evaluation.engine import riemann_auc

    th = gtot.thresholds("success")
    assert value == pytest.approx(riemann_auc(th, (1 - th) ** 3)) and value != pytest.approx(float(((1 - th) ** 3).mean()))


def test_standard_error_and_paired_interval():
    per = per_sequence_success(long_curves())
    t = sequence_means(per, "x", "teacher", seed=0)
    v = np.array(list(TEACHER.values()))
    assert standard_error_pts(t) == pytest.approx(100 * v.std(ddof=1) / math.sqrt(8))
    assert math.isnan(standard_error_pts(t.iloc[:1]))
    d = paired_difference(sequence_means(per, "x", "student", seed=0), t)
    assert d.mean_pts == pytest.approx(4.5) and d.n_sequences == 8
    # every sequence improves by 2..7 points: the interval sits inside that range and above zero
    assert 2.0 <= d.low_pts < 4.5 < d.high_pts <= 7.0 and d.above_zero
    assert d.text() == f"+4.5 [{d.low_pts:+.1f}, {d.high_pts:+.1f}]"
    # +-20 points per sequence: a zero mean whose interval is wide and holds zero
    n = paired_difference(sequence_means(per, "x", "noisy"), t)
    assert n.mean_pts == pytest.approx(0.0, abs=1e-9) and n.low_pts < -5 and n.high_pts > 5 and not n.above_zero
    # no spread: the interval is the point; no common sequence: NaN
    z = paired_difference(sequence_means(per, "x", "same"), t)
    assert (z.mean_pts, z.low_pts, z.high_pts, z.se_pts) == pytest.approx((0.0, 0.0, 0.0, 0.0))
    assert math.isnan(paired_difference(t.rename(lambda q: q + "_other"), t).mean_pts)
    # the same call gives the same interval (seeded resampling)
    assert paired_difference(sequence_means(per, "x", "student", seed=0), t) == d


def _scores() -> pd.DataFrame:
    rows = [dict(eval_set="x", tracker="teacher", kind="teacher", seed=0, success=float(np.mean(list(TEACHER.values())))),
            dict(eval_set="x", tracker="teacher", kind="teacher", seed=1, success=float(np.mean(list(TEACHER.values()))) + 0.02)]
    per = per_sequence_success(long_curves())
    for s in (0, 1):
        rows.append(dict(eval_set="x", tracker="student", kind="distilled", seed=s, strategy="st", teacher_seed=0,
                         success=float(sequence_means(per, "x", "student", seed=s).mean())))
    rows.append(dict(eval_set="x", tracker="noisy", kind="baseline", seed=None, success=float(sequence_means(per, "x", "noisy").mean())))
    df = pd.DataFrame(rows)
    return df.assign(precision=df["success"], norm_precision=df["success"])


def test_comparison_table_and_markdown_carry_the_sequence_statistics():
    per = per_sequence_success(long_curves())
    comp = comparison_table(_scores(), per)
    st = comp[comp["tracker"] == "student"].iloc[0]
    assert st["n_sequences"] == 8
    # mean over the two student seeds (+4.5 and +5.5) minus the mean of the two teacher seeds (+0, +2)
    assert st["d_success_pts"] == pytest.approx(4.0)
    assert st["d_success_ci_low_pts"] > 0 and st["d_success_ci_high_pts"] < 6.0
    teacher = comp[comp["tracker"] == "teacher"].iloc[0]
    assert math.isnan(teacher["d_success_ci_low_pts"])  # no interval against itself
    assert teacher["success_se_pts"] == pytest.approx(standard_error_pts(sequence_means(per, "x", "teacher")))
    md = comparison_markdown(comp, None, per)
    assert "SE (pts)" in md and "8 sequences." in md and "paired bootstrap" in md
    assert f"+4.0 [{st['d_success_ci_low_pts']:+.1f}, {st['d_success_ci_high_pts']:+.1f}]" in md
    # without per-sequence scores the table is the plain one
    assert "SE (pts)" not in comparison_markdown(comparison_table(_scores()))
    # rows the curves do not cover get NaN, not an error
    partial = add_sequence_statistics(comp, per[per["tracker"] != "noisy"])
    assert math.isnan(partial.loc[partial["tracker"] == "noisy", "success_se_pts"].iloc[0])


def test_claim_compares_with_the_teacher_the_strategy_was_distilled_from():
    per = per_sequence_success(long_curves())
    c = claim_check(_scores(), "x", 3.0, per)
    # teacher_seed 0: the reference is seed 0 alone (not the mean with seed 1, 2 points higher)
    assert c.teacher_reference == "the teacher it was distilled from, seed 0"
    assert c.diff_pts == pytest.approx(5.0) and c.seed_diffs_pts == pytest.approx([4.5, 5.5]) and c.holds
    assert c.n_sequences == 8 and 2.0 < c.diff_ci_low_pts < 5.0 < c.diff_ci_high_pts < 8.0
    assert c.best_baseline == "noisy" and not math.isnan(c.baseline_diff_ci_low_pts)
    assert "95 % paired interval over 8 sequences" in c.sentence() and "Against the best classic baseline" in c.sentence()
    # without teacher_seed: the mean of the teacher's seeds, 1 point higher -> +4.0
    plain = claim_check(_scores().drop(columns="teacher_seed"), "x", 3.0, per)
    assert plain.diff_pts == pytest.approx(4.0) and plain.teacher_reference == "mean of 2 teacher seed(s)"


def test_teacher_against_rgb_baselines_with_intervals():
    rows = long_curves()
    rows = pd.concat([rows, pd.DataFrame(_curves("x", "teacher-rgb", None, _shift(TEACHER, [0.1] * 8)))])
    per = per_sequence_success(rows)
    df = _scores()
    extra = pd.DataFrame([dict(eval_set="x", tracker="teacher-rgb", kind="rgb_reference", seed=None, success=0.5),
                          dict(eval_set="x", tracker="same", kind="rgb_baseline", seed=None, success=0.39375)])
    df = pd.concat([df, extra.assign(precision=extra["success"], norm_precision=extra["success"])], ignore_index=True)
    per = pd.concat([per, per_sequence_success(pd.DataFrame(_curves("x", "same", None, TEACHER)))])
    (sentence,) = rgb_teacher_checks(comparison_table(df, per), per)
    assert "beats every classic baseline" in sentence and "over 8 sequences" in sentence
    assert "same 0.394 (+10.0 [+10.0, +10.0])" in sentence


def test_benchmark_checks_headroom_share_closed_and_modality_gap():
    from cmd_core.experiment import benchmark_checks, benchmark_sentences

    rows = long_curves()
    bound = _shift(TEACHER, [0.10, 0.08, 0.12, 0.09, 0.11, 0.10, 0.07, 0.13])  # +10 points, every sequence up
    rgb = _shift(TEACHER, [0.30, -0.10, 0.25, -0.05, 0.20, 0.02, 0.10, 0.00])  # +9 points but mixed signs
    rows = pd.concat([rows, pd.DataFrame(_curves("x", "bound", 0, bound) + _curves("x", "teacher-rgb", None, rgb))])
    per = per_sequence_success(rows)
    scores = _scores()
    scores = pd.concat([scores, pd.DataFrame([
        dict(eval_set="x", tracker="bound", kind="supervised_upper_bound", seed=0, success=float(np.mean(list(bound.values())))),
        dict(eval_set="x", tracker="teacher-rgb", kind="rgb_reference", seed=None, success=float(np.mean(list(rgb.values()))))])])
    scores = scores.assign(precision=scores["success"], norm_precision=scores["success"])
    checks = benchmark_checks(comparison_table(scores, per), per).set_index("check")
    h = checks.loc["headroom"]
    # against the mean of the two teacher seeds (+1 point): 10 - 1 = 9 points
    assert h["diff_pts"] == pytest.approx(9.0) and h["ci_low_pts"] > 5 and h["verdict"] == "holds"
    # the best student (+5.0 over the teacher seeds' mean: 4.0) closes 4 / 9 of the headroom
    assert h["best_strategy"] == "student" and h["headroom_closed"] == pytest.approx(100 * 4.0 / 9.0)
    g = checks.loc["modality_gap"]
    assert g["diff_pts"] == pytest.approx(8.0) and g["ci_low_pts"] < g["diff_pts"]
    assert g["verdict"] == ("holds" if g["ci_low_pts"] > 0 else "fails")
    text = benchmark_sentences(checks.reset_index())
    assert text[0].startswith("x: headroom: the supervised TIR bound") and "closes 44 % of it" in text[0]
    md = comparison_markdown(comparison_table(scores, per), None, per, None, checks.reset_index())
    assert "## Can this benchmark see distillation?" in md
    # a bound level with the teacher fails, and says the set cannot reward adaptation
    flat = scores.copy()
    flat.loc[flat["tracker"] == "bound", "success"] = float(np.mean(list(TEACHER.values())))
    per_flat = per_sequence_success(pd.concat([long_curves(), pd.DataFrame(_curves("x", "bound", 0, TEACHER))]))
    fails = benchmark_checks(comparison_table(flat, per_flat), per_flat)
    assert fails.loc[0, "verdict"] == "fails" and "cannot reward" in benchmark_sentences(fails)[0]
