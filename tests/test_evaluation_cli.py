"""`cmd-tir evaluate` end to end on a subset of the LasHeR conformance data."""

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmd_core.cli import main
from cmd_core.evaluation import evaluate_results

CONF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "conformance"
LASHER = CONF / "lasher-test"
needs_data = pytest.mark.skipif(not LASHER.is_dir(), reason=f"LasHeR conformance data not found at {LASHER}")


@needs_data
def test_cli_lasher_subset(tmp_path, capsys):
    seqs = (LASHER / "sequences.txt").read_text().split()[:8]
    (tmp_path / "seqs.txt").write_text("\n".join(seqs) + "\n")
    # SGT with one sequence removed: it must be listed as missing, not skipped silently
    sgt = tmp_path / "SGT"
    shutil.copytree(LASHER / "results" / "SGT", sgt)
    (sgt / f"{seqs[-1]}.txt").unlink()
    (tmp_path / "mf").mkdir()
    for s in seqs:  # pytracking layout with time files
        shutil.copy(LASHER / "results" / "mfDiMP" / f"{s}.txt", tmp_path / "mf" / f"{s}.txt")
        n = len((LASHER / "gt" / f"{s}.txt").read_text().split())
        (tmp_path / "mf" / f"{s}_time.txt").write_text("\n".join(["0.05"] * n) + "\n")
    out = tmp_path / "out"
    rc = main(["evaluate", "--protocol", "lasher", "--gt", str(LASHER), "--sequences", str(tmp_path / "seqs.txt"),
               "--results", f"mfDiMP={tmp_path / 'mf'}", "--results", f"SGT={sgt}", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| mfDiMP |" in re.sub(r" {2,}", " ", printed) and seqs[-1] in printed
    for f in ("scores.csv", "scores.md", "scores.tex", "per_attribute.csv", "curves.parquet", "missing.csv",
              "success.png", "precision.png", "norm_precision.png", "attributes.png"):
        assert (out / f).is_file(), f
    df = pd.read_csv(out / "scores.csv")
    assert list(df.columns[:4]) == ["tracker", "success", "precision", "norm_precision"]
    assert (df["n_sequences"] == 7).all()
    evals, _ = evaluate_results("lasher", LASHER, {"mfDiMP": LASHER / "results" / "mfDiMP"}, seqs[:-1])
    want = evals[0].scores()
    row = df.set_index("tracker").loc["mfDiMP"]
    assert row["success"] == pytest.approx(want["success"], abs=1e-6)
    assert row["precision"] == pytest.approx(want["precision"], abs=1e-6)
    assert row["norm_precision"] == pytest.approx(want["norm_precision"], abs=1e-6)
    assert row["fps"] == pytest.approx(20.0)
    assert np.isnan(df.set_index("tracker").loc["SGT", "fps"])
    assert pd.read_csv(out / "missing.csv").values.tolist() == [["SGT", seqs[-1]]]
    curves = pd.read_parquet(out / "curves.parquet")
    assert set(curves["curve"]) == {"success", "precision", "norm_precision"}
    assert len(curves) == 2 * 7 * (21 + 51 + 51)


def test_cli_bad_input_exit_2(tmp_path, capsys):
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "a.txt").write_text("1,2,3,4\n1,2,3,4\n")
    res = tmp_path / "res"
    res.mkdir()
    (res / "a.txt").write_text("1\t2\t3\t4\n1\tx\t3\t4\n")
    rc = main(["evaluate", "--protocol", "lasher", "--gt", str(gt), "--results", f"T={res}", "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    # the one CLI handler writes "<file>:<line>: <what>" (the library says "<file>, line N")
    assert err.startswith(f"cmd-tir evaluate: error: {res / 'a.txt'}:2: non-numeric value")


def test_truncated_gt_is_a_visible_warning(tmp_path, caplog):
    """Issue 14 item 3: a GT cut to 4 of 10 lines drops 6 result lines: never silently."""
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "a.txt").write_text("1,2,3,4\n" * 4)
    res = tmp_path / "res"
    res.mkdir()
    (res / "a.txt").write_text("1\t2\t3\t4\n" * 10)
    caplog.set_level("WARNING")
    assert main(["evaluate", "--protocol", "lasher", "--gt", str(gt), "--results", f"T={res}",
                 "--out", str(tmp_path / "o"), "--no-plots"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(m.startswith(f"{res / 'a.txt'}: 10 result lines but the GT {gt / 'a.txt'} has 4 frames")
               and "the last 6 result lines are not scored (lasher protocol)" in m for m in warnings), warnings


def test_latex_table_text():
    """Booktabs layout, the best value per column in bold (ties too), LaTeX specials escaped, NaN empty."""
    from cmd_core.evaluation.report import SCORE_COLUMNS, latex_table

    df = pd.DataFrame([["a_b", 0.5, 0.4, 0.3, 10.0, 2, 20], ["c&d%", 0.5000001, 0.45, np.nan, 5.0, 2, 20]],
                      columns=SCORE_COLUMNS, index=[3, 3])
    assert latex_table(df, "gtot_%", gtot=True) == (
        "\\begin{tabular}{lrrr}\n\\toprule\nTracker & MSR & MPR & Norm.\\ precision \\\\\n\\midrule\n"
        "a\\_b & \\textbf{0.500} & 0.400 & \\textbf{0.300} \\\\\n"
        "c\\&d\\% & \\textbf{0.500} & \\textbf{0.450} &  \\\\\n"
        "\\bottomrule\n\\end{tabular}\n% gtot\\_\\%\n")
    no_norm = latex_table(df.assign(norm_precision=np.nan), "lasher")
    assert no_norm.startswith("\\begin{tabular}{lrr}\n\\toprule\nTracker & Success & Precision \\\\\n")
