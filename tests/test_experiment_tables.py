"""Comparison table, ablations and the claim check on a hand-made score table whose means,
standard deviations and differences are worked out by hand below."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cmd_core.experiment import (
    ablation_table,
    claim_check,
    claim_checks,
    collapsed_students,
    comparison_markdown,
    comparison_table,
    read_scores,
    rgb_teacher_checks,
    validate_scores,
    write_tables,
)


def flat(md: str) -> str:
    """Markdown with the column padding of DataFrame.to_markdown collapsed to single spaces."""
    import re

    return re.sub(r" {2,}", " ", md)


NA = None


def _row(eval_set, tracker, kind, seed, s, p, n, strategy=NA, pair=NA, comp=NA):
    return dict(eval_set=eval_set, tracker=tracker, strategy=strategy, seed=seed, pair_method=pair,
                component=comp, kind=kind, success=s, precision=p, norm_precision=n)


def scores() -> pd.DataFrame:
    """synth: teacher 0.50; official (central, both) 0.52/0.54/0.56 -> 0.54 ± 0.02, +4.0 pts;
    random (random, both) 0.49/0.51 -> 0.50 ± 0.0141, +0.0; cls (central, classifier)
    0.51/0.52/0.53 -> 0.52 ± 0.01, +2.0; supervised 0.70/0.72/0.74 -> 0.72 ± 0.02, +22.0;
    baseline 0.40 (one run), -10.0.
    real: teacher 0.60; official 0.61/0.62/0.63 -> 0.62, +2.0; random one seed 0.605, +0.5."""
    rows = [
        _row("synth", "dimp", "teacher", NA, 0.50, 0.60, 0.55),
        *[_row("synth", "cmd_official", "distilled", sd, s, p, n, "official", "central", "both")
          for sd, s, p, n in [(0, 0.52, 0.62, 0.56), (1, 0.54, 0.64, 0.57), (2, 0.56, 0.66, 0.58)]],
        *[_row("synth", "cmd_random", "distilled", sd, s, p, n, "random", "random", "both")
          for sd, s, p, n in [(0, 0.49, 0.60, 0.55), (1, 0.51, 0.62, 0.55)]],
        *[_row("synth", "cmd_cls", "distilled", sd, s, 0.61, 0.55, "cls", "central", "classifier")
          for sd, s in [(0, 0.51), (1, 0.52), (2, 0.53)]],
        *[_row("synth", "sup_tir", "supervised_upper_bound", sd, s, 0.80, 0.75) for sd, s in [(0, 0.70), (1, 0.72), (2, 0.74)]],
        _row("synth", "ecofast", "baseline", NA, 0.40, 0.45, 0.42),
        _row("real", "dimp", "teacher", NA, 0.60, 0.70, math.nan),
        *[_row("real", "cmd_official", "distilled", sd, s, 0.72, math.nan, "official", "central", "both")
          for sd, s in [(0, 0.61), (1, 0.62), (2, 0.63)]],
        _row("real", "cmd_random", "distilled", 0, 0.605, 0.71, math.nan, "random", "random", "both"),
    ]
    return pd.DataFrame(rows)


def per_sequence(df: pd.DataFrame, n_sequences: int = 6, spread: float = 0.0) -> pd.DataFrame:
    """Per-sequence success of every score row on ``n_sequences`` sequences whose mean is the row's
    success: the row's value plus ``spread`` times -1, +1, -1, ... (0 for an odd last sequence)."""
    offsets = [spread * (-1) ** (i + 1) for i in range(n_sequences)]
    if n_sequences % 2:
        offsets[-1] = 0.0
    return pd.DataFrame([dict(eval_set=r.eval_set, tracker=r.tracker, seed=r.seed, sequence=f"seq{i}", success=r.success + o)
                         for r in df.itertuples() for i, o in enumerate(offsets)])


def _get(comp, e, t):
    r = comp[(comp["eval_set"] == e) & (comp["tracker"] == t)]
    assert len(r) == 1
    return r.iloc[0]


def test_comparison_means_stds_and_differences():
    comp = comparison_table(scores())
    assert len(comp) == 9
    o = _get(comp, "synth", "cmd_official")
    assert o.n_seeds == 3 and o.kind == "distilled" and o.strategy == "official" and not o.uses_tir_labels
    assert o.success_mean == pytest.approx(0.54) and o.success_std == pytest.approx(0.02)
    assert o.precision_mean == pytest.approx(0.64) and o.precision_std == pytest.approx(0.02)
    assert o.norm_precision_mean == pytest.approx(0.57) and o.norm_precision_std == pytest.approx(0.01)
    assert o.d_success_pts == pytest.approx(4.0) and o.d_precision_pts == pytest.approx(4.0)
    assert o.d_norm_precision_pts == pytest.approx(2.0)
    r = _get(comp, "synth", "cmd_random")
    assert r.success_std == pytest.approx(math.sqrt(0.0002)) and r.d_success_pts == pytest.approx(0.0, abs=1e-9)
    assert _get(comp, "synth", "cmd_cls").d_success_pts == pytest.approx(2.0)
    sup = _get(comp, "synth", "sup_tir")
    assert sup.uses_tir_labels and sup.d_success_pts == pytest.approx(22.0)
    t = _get(comp, "synth", "dimp")
    assert t.d_success_pts == 0 and t.n_seeds == 1 and math.isnan(t.success_std)
    assert _get(comp, "synth", "ecofast").d_success_pts == pytest.approx(-10.0)
    # real: one seed only -> std NaN (documented: a single run measures no spread)
    one = _get(comp, "real", "cmd_random")
    assert one.n_seeds == 1 and math.isnan(one.success_std) and one.d_success_pts == pytest.approx(0.5)
    assert math.isnan(one.d_norm_precision_pts)  # protocol without normalised precision
    assert _get(comp, "real", "cmd_official").d_success_pts == pytest.approx(2.0)


def test_comparison_sorted_by_eval_set_then_success():
    comp = comparison_table(scores())
    assert list(comp["eval_set"]) == ["real"] * 3 + ["synth"] * 6
    assert list(comp["tracker"][:3]) == ["cmd_official", "cmd_random", "dimp"]
    # tie (dimp and cmd_random both 0.50): stable, in the order of the input
    assert list(comp["tracker"][3:]) == ["sup_tir", "cmd_official", "cmd_cls", "dimp", "cmd_random", "ecofast"]


def test_missing_teacher_names_the_eval_set():
    df = scores()
    df = df[~((df["eval_set"] == "real") & (df["kind"] == "teacher"))]
    with pytest.raises(ValueError, match=r"teacher.*'real'"):
        comparison_table(df)
    with pytest.raises(ValueError, match="'real'"):
        claim_check(df, "real")


def test_bad_tables_are_rejected():
    df = scores()
    with pytest.raises(ValueError, match="missing column"):
        validate_scores(df.drop(columns="kind"))
    with pytest.raises(ValueError, match="unknown kind"):
        validate_scores(df.assign(kind=df["kind"].replace("baseline", "classic")))
    with pytest.raises(ValueError, match="same eval set, tracker and seed"):
        validate_scores(pd.concat([df, df.iloc[[1]]]))
    with pytest.raises(ValueError, match="fraction"):
        validate_scores(df.assign(success=df["success"] * 100))
    with pytest.raises(ValueError, match="several kinds"):
        validate_scores(pd.concat([df, pd.DataFrame([_row("synth", "dimp", "baseline", 5, 0.1, 0.1, 0.1)])]))
    # optional columns may be absent
    minimal = df[["eval_set", "tracker", "kind", "success", "precision", "norm_precision"]].drop_duplicates(["eval_set", "tracker"])
    assert len(comparison_table(minimal)) == 9


def test_claim_check_holds_on_synth_and_not_on_real():
    per = per_sequence(scores())
    c = claim_check(scores(), "synth", per_seq=per)
    assert c.holds and c.verdict == "holds" and c.reason == ""
    assert c.best_tracker == "cmd_official" and c.best_strategy == "official"
    assert c.diff_pts == pytest.approx(4.0) and c.n_seeds == 3 and c.teacher_success == pytest.approx(0.50)
    assert c.seed_diffs_pts == pytest.approx([2.0, 4.0, 6.0])
    assert (c.seed_diff_min_pts, c.seed_diff_max_pts) == pytest.approx((2.0, 6.0))
    assert c.seed_std_pts == pytest.approx(2.0) and c.best_success_std == pytest.approx(0.02)
    assert "HOLDS" in c.sentence() and "+4.00 points" in c.sentence()
    r = claim_check(scores(), "real", per_seq=per)
    assert r.verdict == "fails" and not r.holds and r.diff_pts == pytest.approx(2.0) and "DOES NOT HOLD" in r.sentence()
    assert [x.eval_set for x in claim_checks(scores(), per_seq=per)] == ["real", "synth"]
    # the supervised upper bound (0.72) is never "the best distillation strategy"
    assert claim_check(scores(), "synth", margin_pts=5.0, per_seq=per).verdict == "fails"


def test_claim_check_exact_margin_is_not_lost_to_float_noise():
    # (0.30 - 0.27) * 100 and friends are a hair off 3.0 in binary floating point
    df = pd.DataFrame([_row("x", "t", "teacher", NA, 0.27, 0.5, 0.5),
                       _row("x", "d", "distilled", 0, 0.30, 0.5, 0.5, "s")])
    assert (0.30 - 0.27) * 100 < 3.0  # the noise is real
    assert claim_check(df, "x").meets_margin
    with pytest.raises(ValueError, match="no distilled"):
        claim_check(df[df["kind"] == "teacher"], "x")
    with pytest.raises(ValueError, match="not in the scores"):
        claim_check(df, "nope")


def test_ablation_by_pair_method_and_component():
    pairs = ablation_table(scores(), "pair_method")
    assert list(zip(pairs["pair_method"], pairs["strategy"])) == [("central", "official"), ("central", "cls"), ("random", "random")]
    off = pairs.iloc[0]
    assert off["synth.success_mean"] == pytest.approx(0.54) and off["synth.success_std"] == pytest.approx(0.02)
    assert off["synth.d_success_pts"] == pytest.approx(4.0) and off["real.success_mean"] == pytest.approx(0.62)
    assert off["synth.n_seeds"] == 3
    cls = pairs.iloc[1]
    assert pd.isna(cls["real.success_mean"])  # not run on real
    rnd = pairs.iloc[2]
    assert rnd["real.n_seeds"] == 1 and pd.isna(rnd["real.success_std"]) and rnd["real.d_success_pts"] == pytest.approx(0.5)
    comps = ablation_table(scores(), "component")
    assert list(zip(comps["component"], comps["strategy"])) == [("both", "official"), ("both", "random"), ("classifier", "cls")]
    with pytest.raises(ValueError, match="ablation by"):
        ablation_table(scores(), "seed")


def test_markdown_marks_upper_bound_and_explains_columns():
    comp = comparison_table(scores())
    md = flat(comparison_markdown(comp, claim_checks(scores(), per_seq=per_sequence(scores()))))
    assert "## synth" in md and "## real" in md
    assert "| sup_tir † | supervised upper bound (TIR labels) | 3 | 0.720 ± 0.020 | +22.0 |" in md
    assert "| cmd_official | distilled | 3 | 0.540 ± 0.020 | +4.0 | 0.640 ± 0.020 | +4.0 | 0.570 ± 0.010 | +2.0 |" in md
    assert "| dimp | teacher | 1 | 0.500 ± n/a | +0.0 |" in md
    assert "TIR ground-truth labels" in md and "Columns:" in md and "n/a: a single run" in md
    assert "Claim on synth" in md and "HOLDS" in md and "DOES NOT HOLD" in md


def test_write_tables_outputs(tmp_path):
    src = tmp_path / "scores.csv"
    scores().to_csv(src, index=False)
    df = read_scores([src])
    paths = write_tables(df, tmp_path / "tables", per_seq=per_sequence(scores()))
    names = sorted(p.name for p in paths.values())
    assert names == sorted(["comparison.csv", "comparison.md", "ablation_pairs.csv", "ablation_pairs.md",
                            "ablation_components.csv", "ablation_components.md", "claim.csv",
                            "benchmark_checks.csv"])
    comp = pd.read_csv(tmp_path / "tables" / "comparison.csv")
    assert {"uses_tir_labels", "n_seeds", "success_mean", "success_std", "d_success_pts"} <= set(comp.columns)
    assert np.isclose(comp.loc[comp["tracker"] == "sup_tir", "d_success_pts"].iloc[0], 22.0)
    claim = pd.read_csv(tmp_path / "tables" / "claim.csv")
    assert list(claim["holds"]) == [False, True] and list(claim["verdict"]) == ["fails", "holds"]
    assert list(claim["meets_margin"]) == [False, True] and claim["reason"].isna().all()
    assert "## Collapsed students" in (tmp_path / "tables" / "comparison.md").read_text()  # none below -5 here
    md = flat((tmp_path / "tables" / "ablation_pairs.md").read_text())
    assert "| central | official | 0.620 ± 0.010 (+2.0, n=3) | 0.540 ± 0.020 (+4.0, n=3) |" in md
    assert "*(teacher, no distillation)*" in md
    assert not list((tmp_path / "tables").glob(".*.tmp"))  # atomic writes leave no temporaries
    with pytest.raises(FileNotFoundError):
        read_scores([tmp_path / "nope.csv"])


def test_rgb_reference_row_shows_the_modality_gap_without_entering_the_claim():
    df = pd.concat([scores(), pd.DataFrame([_row("synth", "dimp on RGB", "rgb_reference", NA, 0.65, 0.75, 0.70)])])
    comp = comparison_table(validate_scores(df))
    ref = _get(comp, "synth", "dimp on RGB")
    assert ref["d_success_pts"] == pytest.approx(15.0)  # the gap distillation can close
    claim = claim_check(df, "synth")
    assert claim.best_tracker == "cmd_official"  # the reference is not a distillation strategy
    md = flat(comparison_markdown(comp))
    assert "| dimp on RGB | reference: RGB frames | 1 |" in md and "modality gap" in md


def test_teacher_is_checked_against_the_baselines_on_rgb_frames():
    rgb = [_row("synth", "dimp on RGB", "rgb_reference", NA, 0.35, 0.75, 0.70),
           _row("synth", "MIL on RGB", "rgb_baseline", NA, 0.40, 0.80, 0.70),
           _row("synth", "STATIC on RGB", "rgb_baseline", NA, 0.15, 0.30, 0.30)]
    comp = comparison_table(validate_scores(pd.concat([scores(), pd.DataFrame(rgb)])))
    (sentence,) = rgb_teacher_checks(comp)  # only the set with RGB frames
    assert sentence == ("synth: the teacher on RGB frames (0.350) does not beat the best classic baseline MIL on RGB "
                        "(-5.0 points). Teacher minus each baseline in points: MIL on RGB 0.400 (-5.0); "
                        "STATIC on RGB 0.150 (+20.0).")
    rgb[0]["success"] = 0.52
    comp = comparison_table(validate_scores(pd.concat([scores(), pd.DataFrame(rgb)])))
    assert rgb_teacher_checks(comp) == ["synth: the teacher on RGB frames (0.520) beats every classic baseline on RGB "
                                        "frames, the best (MIL on RGB) by 12.0 points. Teacher minus each baseline in "
                                        "points: MIL on RGB 0.400 (+12.0); STATIC on RGB 0.150 (+37.0)."]
    md = flat(comparison_markdown(comp))
    assert "| MIL on RGB | baseline, RGB frames | 1 |" in md and rgb_teacher_checks(comp)[0] in md
    assert claim_check(pd.concat([scores(), pd.DataFrame(rgb)]), "synth").best_baseline == "ecofast"  # TIR rows only
    assert rgb_teacher_checks(comparison_table(validate_scores(scores()))) == []


def test_claim_check_reports_whether_the_best_strategy_beats_the_baselines():
    c = claim_check(scores(), "synth", per_seq=per_sequence(scores()))  # official 0.54 vs baseline ecofast 0.40
    assert c.best_baseline == "ecofast" and c.best_baseline_success == pytest.approx(0.40)
    assert c.beats_baselines is True and "Caveat" not in c.sentence()
    assert claim_check(scores(), "real").beats_baselines is None  # no baseline row there
    # a teacher below a static box: the strategy "holds" against the teacher but not the baseline
    df = scores()
    df.loc[df["eval_set"] == "synth", "success"] -= 0.2
    df.loc[(df["eval_set"] == "synth") & (df["kind"] == "baseline"), "success"] = 0.45
    w = claim_check(df, "synth", per_seq=per_sequence(df))
    assert w.holds and w.beats_baselines is False
    assert "does not beat the classic baseline ecofast (0.450)" in w.sentence()
    assert w.as_dict()["beats_baselines"] is False


def test_every_row_kind_has_a_label_source_and_a_bar_colour():
    """A kind added to the tables (e.g. the pretraining ablation) must also be drawable in the bar plot."""
    from cmd_core.experiment.plots import KIND_COLORS
    from cmd_core.experiment.tables import KINDS

    assert set(KINDS) == set(KIND_COLORS)


# ----------------------------------------------------------------------------- thin evidence, collapsed students
def small_set(student_seeds=(0, 1), gain=0.05) -> pd.DataFrame:
    """Teacher 0.40 (seed 0); a trainable-backbone student 'full' at 0.40 + gain on every seed."""
    rows = [dict(_row("ptb", "teacher", "teacher", 0, 0.40, 0.5, 0.5))]
    rows += [dict(_row("ptb", "CMD full", "distilled", s, 0.40 + gain, 0.5, 0.5, "full", "detector", "classifier+iou"),
                  teacher_seed=0, backbone="trainable", epochs=3, samples_per_epoch=64) for s in student_seeds]
    return pd.DataFrame(rows)


def test_claim_on_one_seed_is_unresolved_with_the_reason(tmp_path):
    df = small_set(student_seeds=(0,))
    c = claim_check(df, "ptb", per_seq=per_sequence(df, 6, spread=0.01))
    assert c.verdict == "unresolved" and not c.holds and c.meets_margin  # +5 points would clear the margin
    assert c.reason == "1 seed(s) of the best strategy (needs >= 2)"
    assert "UNRESOLVED: 1 seed(s) of the best strategy (needs >= 2); the difference would clear the margin" in c.sentence()
    write_tables(df, tmp_path, per_seq=per_sequence(df, 6, spread=0.01))
    claim = pd.read_csv(tmp_path / "claim.csv").iloc[0]
    assert claim["verdict"] == "unresolved" and not claim["holds"] and claim["reason"] == c.reason
    assert "UNRESOLVED: 1 seed(s)" in (tmp_path / "comparison.md").read_text()


def test_claim_on_four_sequences_or_unknown_sequences_is_unresolved():
    df = small_set()
    c = claim_check(df, "ptb", per_seq=per_sequence(df, 4, spread=0.01))
    assert c.verdict == "unresolved" and c.n_sequences == 4
    assert c.reason == "4 sequence(s) in the evaluation set (needs >= 5)"
    one = small_set(student_seeds=(0,), gain=-0.02)  # both reasons, and a loss: still unresolved, not "fails"
    u = claim_check(one, "ptb", per_seq=per_sequence(one, 1))
    assert u.verdict == "unresolved" and not u.meets_margin
    assert u.reason == "1 seed(s) of the best strategy (needs >= 2); 1 sequence(s) in the evaluation set (needs >= 5)"
    assert "the difference would not clear the margin" in u.sentence()
    assert claim_check(df, "ptb").reason == "the number of sequences is unknown (no per-sequence scores)"
    assert claim_check(df, "ptb", per_seq=per_sequence(df, 4), min_sequences=4).verdict == "holds"


def test_claim_on_two_seeds_and_six_sequences_with_a_clear_gain_holds():
    df = small_set(gain=0.06)
    c = claim_check(df, "ptb", per_seq=per_sequence(df, 6, spread=0.01))
    assert c.verdict == "holds" and c.holds and c.reason == "" and c.n_seeds == 2 and c.n_sequences == 6
    assert c.diff_pts == pytest.approx(6.0) and c.diff_ci_low_pts == pytest.approx(6.0)  # paired: same offsets
    assert "-> HOLDS" in c.sentence()


def test_student_six_points_below_its_teacher_is_flagged_with_its_settings():
    df = pd.concat([small_set(student_seeds=(0,), gain=-0.06),
                    small_set(student_seeds=(0, 1), gain=-0.04).query("kind == 'distilled'").assign(
                        tracker="CMD official", strategy="official", backbone="frozen", pair_method="central")])
    df = pd.concat([df, pd.DataFrame([dict(_row("ptb", "CMD full", "distilled", 1, 0.39, 0.5, 0.5, "full", "detector",
                                                 "classifier+iou"), teacher_seed=0, backbone="trainable", epochs=3,
                                            samples_per_epoch=64)])])
    flagged = collapsed_students(df)
    assert len(flagged) == 1  # full seed 0 (-6); full seed 1 (-1) and official (-4 on both seeds) are not
    f = flagged.iloc[0]
    assert (f["tracker"], f["seed"], f["component"], f["backbone"], f["pair_method"]) == (
        "CMD full", 0, "classifier+iou", "trainable", "detector")
    assert (f["epochs"], f["samples_per_epoch"]) == (3, 64)
    assert f["d_success_pts"] == pytest.approx(-6.0) and f["teacher_success"] == pytest.approx(0.40)
    md = flat(comparison_markdown(comparison_table(df), collapsed=flagged))
    assert "## Collapsed students" in md
    assert "| ptb | CMD full | 0 | 0.340 | 0.400 | -6.0 | classifier+iou | trainable | detector | 3 x 64 |" in md
    assert collapsed_students(df, threshold_pts=6.0).empty  # exactly 6 below is not "more than 6"
    none = flat(comparison_markdown(comparison_table(df), collapsed=flagged.iloc[:0]))
    assert "No distilled run falls more than 5 points of success below its teacher." in none
