"""Per-attribute tables, curve plots from the toolkit's files, bar and loss plots, and the
`cmd-tir compare` command, on evaluation folders written by the evaluation toolkit itself."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import pytest

from cmd_core.evaluation import get_protocol
from cmd_core.evaluation.engine import TrackerEvaluation
from cmd_core.evaluation.report import write_report
from cmd_core.experiment import (
    compare,
    evaluations_from_curves,
    per_attribute_from_scores,
    per_attribute_markdown,
    per_attribute_table,
    plot_loss_curves,
    plot_success_bars,
    read_curves,
    read_per_attribute,
    read_training_log,
)
from cmd_core.experiment import cli as compare_cli


def flat(md: str) -> str:
    """Markdown with the column padding of DataFrame.to_markdown collapsed to single spaces."""
    import re

    return re.sub(r" {2,}", " ", md)


P = get_protocol("lsotb")
SEQS = ["s1", "s2", "s3"]
N_FRAMES = np.array([10, 20, 40])
ATTRS = pd.DataFrame({"occlusion": [True, True, False], "scale": [False, True, True]}, index=SEQS)


def _evaluation(name: str, level: float) -> TrackerEvaluation:
    """Curves that fall from `level` (all frames) linearly to 0 over the thresholds, per sequence."""
    counts = {}
    for kind in ("success", "precision", "norm_precision"):
        thr = P.thresholds(kind)
        frac = np.clip(level * (1 - np.linspace(0, 1, len(thr)))[None, :] + np.array([[0.0], [0.05], [-0.05]]), 0, 1)
        counts[kind] = np.round(frac * N_FRAMES[:, None])
    return TrackerEvaluation(name, P, SEQS, counts, N_FRAMES.astype(float))


RUNS = [  # tracker, kind, seed, level, strategy
    ("dimp", "teacher", None, 0.8, None),
    ("cmd_official", "distilled", 0, 0.9, "official"),
    ("cmd_official", "distilled", 1, 1.0, "official"),
    ("sup_tir", "supervised_upper_bound", 0, 1.2, None),
]


@pytest.fixture
def experiment(tmp_path):
    """Toolkit folders per run (tracker named 'run' inside them), a score table pointing at them,
    and CSV training logs."""
    rows = []
    for tracker, kind, seed, level, strategy in RUNS:
        ev = _evaluation("run", level)
        d = tmp_path / "eval" / f"{tracker}_{seed}"
        df = write_report(d, [ev], ATTRS, plots=False)
        sc = df.iloc[0]
        log_path = None
        if kind == "distilled":
            log_path = tmp_path / "logs" / f"{tracker}_{seed}.csv"
            log_path.parent.mkdir(exist_ok=True)
            ep = np.repeat(np.arange(1, 6), 2)  # two rows per epoch: averaged
            pd.DataFrame({"epoch": ep, "loss": 2.0 / ep + 0.1 * (seed or 0), "loss_cls": 1.0 / ep,
                          "lr": 0.01}).to_csv(log_path, index=False)
        rows.append(dict(eval_set="synth_tir", tracker=tracker, strategy=strategy, seed=seed, pair_method=None,
                         component=None, kind=kind, success=sc.success, precision=sc.precision,
                         norm_precision=sc.norm_precision, eval_dir=str(d), eval_tracker="run",
                         train_log=None if log_path is None else str(log_path.relative_to(tmp_path))))
    scores = pd.DataFrame(rows)
    path = tmp_path / "scores.csv"
    scores.to_csv(path, index=False)
    return tmp_path, path, scores


def test_per_attribute_assembly(experiment):
    root, path, scores = experiment
    long = per_attribute_from_scores(scores)
    assert set(long["tracker"]) == {"dimp", "cmd_official", "sup_tir"} and set(long["eval_set"]) == {"synth_tir"}
    table = per_attribute_table(long, scores)
    o = table[(table["tracker"] == "cmd_official") & (table["attribute"] == "occlusion")].iloc[0]
    s0 = long[(long["tracker"] == "cmd_official") & (long["attribute"] == "occlusion")]["success"].to_numpy()
    assert o.n_seeds == 2 and o.n_sequences == 2
    assert o.success_mean == pytest.approx(s0.mean()) and o.success_std == pytest.approx(np.std(s0, ddof=1))
    t = table[(table["tracker"] == "dimp") & (table["attribute"] == "occlusion")].iloc[0]
    assert o.d_success_pts == pytest.approx((s0.mean() - t.success_mean) * 100)
    assert math.isnan(t.success_std) and t.d_success_pts == 0
    assert table.loc[table["tracker"] == "sup_tir", "uses_tir_labels"].all()
    md = flat(per_attribute_markdown(table))
    assert "| Attribute (sequences) | dimp | sup_tir † | cmd_official |" in md and "occlusion (2)" in md
    assert per_attribute_markdown(per_attribute_table(long.iloc[0:0])).count("No per-attribute") == 1


def test_readers_pick_and_rename_the_tracker(experiment, tmp_path):
    root, _, _ = experiment
    d = root / "eval" / "dimp_None"
    a = read_per_attribute(d / "per_attribute.csv", "synth_tir", tracker="dimp", seed=None)
    assert set(a["tracker"]) == {"dimp"}  # single-tracker file named 'run'
    with pytest.raises(ValueError, match="no tracker 'x'"):
        read_curves(d / "curves.parquet", "synth_tir", tracker="dimp", source_tracker="x")
    with pytest.raises(FileNotFoundError):
        read_per_attribute(tmp_path / "nope.csv", "e")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="not a per_attribute.csv"):
        read_per_attribute(tmp_path / "bad.csv", "e")


def test_curves_average_over_seeds_and_match_the_scores(experiment):
    root, path, scores = experiment
    curves = pd.concat([read_curves(root / "eval" / f"cmd_official_{s}" / "curves.parquet", "synth_tir", "cmd_official", s)
                        for s in (0, 1)])
    (ev,) = evaluations_from_curves(curves, "lsotb", "synth_tir")
    want = scores[scores["tracker"] == "cmd_official"][["success", "precision", "norm_precision"]].mean()
    got = ev.scores()
    for k in ("success", "precision", "norm_precision"):
        assert got[k] == pytest.approx(want[k], abs=1e-6)
    assert ev.protocol.benchmark == "synth_tir"
    with pytest.raises(ValueError, match="thresholds .* do not match protocol 'gtot'"):
        evaluations_from_curves(curves, "gtot", "synth_tir")


def test_success_bars_and_loss_curves(experiment, tmp_path):
    root, _, scores = experiment
    bars = plot_success_bars(scores, "synth_tir", tmp_path / "plots" / "bars.png")
    assert bars.stat().st_size > 5000
    with pytest.raises(ValueError, match="no scores for evaluation set"):
        plot_success_bars(scores, "nope", tmp_path / "x.png")
    log = read_training_log(root / "logs" / "cmd_official_0.csv")
    assert list(log.columns) == ["epoch", "loss", "loss_cls"] and len(log) == 5  # lr dropped, per-epoch mean
    assert log["loss"].iloc[0] == pytest.approx(2.0)
    png = plot_loss_curves([("official", 0, root / "logs" / "cmd_official_0.csv"),
                            ("official", 1, root / "logs" / "cmd_official_1.csv"),
                            ("other", 0, log)], tmp_path / "plots" / "loss.png")
    assert png.stat().st_size > 5000
    pd.DataFrame({"epoch": [1], "acc": [0.5]}).to_csv(tmp_path / "nol.csv", index=False)
    with pytest.raises(ValueError, match="starting with 'loss'"):
        read_training_log(tmp_path / "nol.csv")


def test_compare_cli_writes_everything(experiment, tmp_path, capsys):
    root, path, _ = experiment
    parser = argparse.ArgumentParser()
    compare_cli.add_arguments(parser)
    args = parser.parse_args(["--scores", str(path), "--out-tables", str(tmp_path / "tables"),
                              "--out-plots", str(tmp_path / "plots"), "--protocol", "lsotb",
                              "--train-log", f"extra:0={root / 'logs' / 'cmd_official_0.csv'}"])
    assert compare_cli.run(args) == 0
    out = capsys.readouterr().out
    assert "# Comparison with the RGB teacher" in out and "Claim on synth_tir" in out
    tables = sorted(p.name for p in (tmp_path / "tables").iterdir())
    assert tables == sorted(["comparison.csv", "comparison.md", "ablation_pairs.csv", "ablation_pairs.md",
                             "ablation_components.csv", "ablation_components.md", "claim.csv", "benchmark_checks.csv",
                             "per_attribute.csv", "per_attribute.md"])
    plots = sorted(str(p.relative_to(tmp_path / "plots")) for p in (tmp_path / "plots").rglob("*.png"))
    assert plots == ["loss_curves.png", "synth_tir/norm_precision.png", "synth_tir/precision.png",
                     "synth_tir/success.png", "synth_tir/success_bars.png"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--scores", "x", "--out-tables", "y", "--train-log", "nolog"])


def test_compare_without_eval_dirs_makes_tables_and_bars_only(tmp_path):
    df = pd.DataFrame([dict(eval_set="e", tracker="t", kind="teacher", success=0.5, precision=0.5, norm_precision=0.5),
                       dict(eval_set="e", tracker="d", kind="distilled", seed=0, success=0.6, precision=0.5, norm_precision=0.5)])
    df.to_csv(tmp_path / "s.csv", index=False)
    paths = compare([tmp_path / "s.csv"], tmp_path / "t", tmp_path / "p")
    assert (tmp_path / "p" / "e" / "success_bars.png").exists() and not (tmp_path / "p" / "e" / "success.png").exists()
    assert "No per-attribute" in (tmp_path / "t" / "per_attribute.md").read_text()
    assert "comparison.md" in paths
