"""GOT-10k: the result layouts `cmd-tir track` writes, read unmodified by the official GOT-10k toolkit
(the `got10k` package, a pinned test extra), and the project's `got10k` / `got10k-otb` protocols,
which must give the toolkit's own numbers. Also the GOT-10k protocol's rules one by one on a
hand-made fixture, and its errors on incomplete results."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmd_core.cli import main
from cmd_core.evaluation import evaluate_results
from cmd_core.evaluation.protocols import GOT10K

try:  # the toolkit imports pyplot at import time: never open a window
    import matplotlib

    matplotlib.use("Agg", force=True)
    from got10k.experiments import ExperimentDTB70, ExperimentGOT10k

    TOOLKIT_MISSING = None
except ImportError as exc:
    TOOLKIT_MISSING = (f"the GOT-10k toolkit (package got10k, a pinned test extra of pyproject.toml) is not "
                       f"importable: {exc}; install the test extra: pip install -c requirements/constraints.txt -e .[test]")
needs_toolkit = pytest.mark.skipif(TOOLKIT_MISSING is not None, reason=TOOLKIT_MISSING or "")

TRACKERS = ("mil", "static")
TOL = 1e-9  # the same arithmetic: far tighter than the 1e-3 a published figure would need


# ------------------------------------------------------------------------------ synthetic split
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A GOT-10k-layout synthetic split (3 sequences x 16 frames; seed 39 has frames with cover 0
    and targets cut by the image border), its frames manifest, and MIL / static results that
    `cmd-tir track` wrote in the got10k and got10k-otb formats, each where the toolkit looks:
    ``results/GOT-10k/<tracker>`` and ``results/DTB70/<tracker>``."""
    from cmd_core.datasets.ingest import ingest_dataset, write_result
    from cmd_core.synth import SPLITS, SplitConfig, SynthConfig, generate_benchmark

    root = tmp_path_factory.mktemp("got10k")
    cfg = SynthConfig(seed=39, width=96, height=72, splits={s: SplitConfig(3 if s == "rgb_train" else 0, 16) for s in SPLITS})
    generate_benchmark(root / "synth", cfg, progress=False)
    (root / "data").mkdir()
    (root / "data" / "val").symlink_to(root / "synth" / "rgb_train")  # the toolkit wants <root>/val
    write_result(ingest_dataset("synth_rgb_train", "synthetic", root / "synth" / "rgb_train"), root / "manifests")
    manifest = root / "manifests" / "synth_rgb_train.frames.parquet"
    for fmt, folder in (("got10k", "GOT-10k"), ("got10k-otb", "DTB70")):
        for t in TRACKERS:
            assert main(["track", "--manifest", str(manifest), "--modality", "rgb", "--tracker", t, "--threads", "1",
                         "--result-format", fmt, "--out", str(root / "results" / folder / t)]) == 0
    return root


def test_synthetic_split_is_a_complete_got10k_split(synthetic):
    split = synthetic / "synth" / "rgb_train"
    names = (split / "list.txt").read_text().split()
    covers = []
    for n in names:
        meta = (split / n / "meta_info.ini").read_text().splitlines()
        assert meta[0] == "[METAINFO]" and meta[10] == "resolution: (96, 72)" and meta[5].startswith("object_class: ")
        cut = np.loadtxt(split / n / "cut_by_image.label")
        cover = np.loadtxt(split / n / "cover.label")
        assert len(cut) == len(cover) == 16 and set(np.unique(cut)) <= {0, 1} and not (cut.astype(bool) & (cover == 0)).any()
        covers.append(cover)
    assert any((c[1:] == 0).any() for c in covers)  # the fixture exercises the cover rule
    for t in TRACKERS:
        d = synthetic / "results" / "GOT-10k" / t
        assert sorted(p.name for p in d.iterdir()) == sorted(names)
        assert sorted(p.name for p in (d / names[0]).iterdir()) == [f"{names[0]}_001.txt", f"{names[0]}_time.txt"]


@needs_toolkit
def test_toolkit_scores_synthetic_results_as_the_got10k_protocol(synthetic, tmp_path, capsys):
    """ExperimentGOT10k.report reads what `cmd-tir track --result-format got10k` wrote, unmodified,
    and its AO, SR@0.5, success curve (SR@0.75 = curve[75]), per-sequence AO and speed are the
    got10k protocol's."""
    exp = ExperimentGOT10k(str(synthetic / "data"), subset="val", result_dir=str(synthetic / "results"),
                           report_dir=str(tmp_path / "reports"))
    perf = exp.report(list(TRACKERS))
    split = synthetic / "synth" / "rgb_train"
    evals, missing = evaluate_results("got10k", split, {t: synthetic / "results" / "GOT-10k" / t for t in TRACKERS})
    assert not missing
    for ev in evals:
        want, sc = perf[ev.tracker]["overall"], ev.scores()
        assert sc["success"] == pytest.approx(want["ao"], abs=TOL)
        assert sc["sr50"] == pytest.approx(want["sr"], abs=TOL)
        assert sc["sr75"] == pytest.approx(want["succ_curve"][75], abs=TOL)
        assert ev.counts["success"].sum(0) / ev.n_frames.sum() == pytest.approx(want["succ_curve"], abs=TOL)
        assert ev.fps == pytest.approx(want["speed_fps"], rel=1e-9)
        per_seq = ev.iou_sum / ev.n_frames
        for s, ao in zip(ev.sequences, per_seq):
            assert ao == pytest.approx(perf[ev.tracker]["seq_wise"][s]["ao"], abs=TOL), s
    # the same numbers through the CLI, with the protocol's own column names
    capsys.readouterr()
    out = tmp_path / "eval"
    assert main(["evaluate", "--protocol", "got10k", "--gt", str(split), "--out", str(out), "--no-plots",
                 *(a for t in TRACKERS for a in ("--results", f"{t}={synthetic / 'results' / 'GOT-10k' / t}"))]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"\| Tracker +\| +AO \| +SR@0.5 \| +SR@0.75 \| +FPS \|", printed) and "Precision" not in printed
    df = pd.read_csv(out / "scores.csv").set_index("tracker")
    assert list(df.columns[:5]) == ["success", "precision", "norm_precision", "sr50", "sr75"]
    for t in TRACKERS:
        assert (df.loc[t, "success"], df.loc[t, "sr50"]) == pytest.approx(
            (perf[t]["overall"]["ao"], perf[t]["overall"]["sr"]), abs=1e-6)
        assert np.isnan(df.loc[t, "precision"])


@needs_toolkit
def test_toolkit_otb_experiment_scores_got10k_otb_results(synthetic, tmp_path):
    """ExperimentDTB70 (ExperimentOTB's rules on any folder of sequences) reads what
    `cmd-tir track --result-format got10k-otb` wrote, unmodified; the got10k-otb protocol gives its
    success score, precision and speed."""
    split = synthetic / "synth" / "rgb_train"
    dtb = tmp_path / "dtb70"
    for n in (split / "list.txt").read_text().split():  # the same sequences in DTB70's layout
        (dtb / n / "img").mkdir(parents=True)
        for jpg in sorted((split / n).glob("*.jpg")):
            (dtb / n / "img" / jpg.name).symlink_to(jpg)
        (dtb / n / "groundtruth_rect.txt").write_bytes((split / n / "groundtruth.txt").read_bytes())
    perf = ExperimentDTB70(str(dtb), result_dir=str(synthetic / "results"), report_dir=str(tmp_path / "reports")).report(
        list(TRACKERS))
    evals, missing = evaluate_results("got10k-otb", split, {t: synthetic / "results" / "DTB70" / t for t in TRACKERS})
    assert not missing
    for ev in evals:
        want, sc = perf[ev.tracker]["overall"], ev.scores()
        assert (sc["success"], sc["precision"]) == pytest.approx((want["success_score"], want["precision_score"]), abs=TOL)
        assert ev.fps == pytest.approx(want["speed_fps"], rel=1e-9)


# --------------------------------------------------------------------------------- hand fixture
W, H = 100, 80
GT_A = [[10, 10, 40, 30], [12, 11, 40, 30], [70, 50, 30, 30], [80, 60, 20, 20], [5, 5, 20, 20], [0, 0, 0, 0],
        [20, 20, 30, 30]]
COVER_A = [8, 8, 4, 8, 0, 0, 8]  # frames 5 and 6 (1-based) have cover 0: the target is not visible
RUNS_A = [  # three repetitions: out-of-image boxes (clipped: moved or cut), IoU exactly 0.5 and 0.75
    [[10, 10, 40, 30], [12, 11, 20, 30], [70, 50, 60, 60], [-10, 60, 40, 20], [5, 5, 20, 20], [1, 1, 5, 5],
     [20, 20, 30, 22.5]],
    [[0, 0, 1, 1], [12, 11, 30, 30], [70, 50, 30, 30], [80, 60, 20, 20], [50, 50, 5, 5], [0, 0, 0, 0],
     [25, 20, 30, 30]],
    [[3, 3, 3, 3], [14, 13, 40, 30], [60, 40, 50, 50], [90, 70, 20, 20], [5, 5, 20, 20], [9, 9, 9, 9],
     [20, 20, 15, 30]],
]
TIMES_A = [[0.1, 0.2, 0.05], [0.02, 0.0, 0.03], [0.04, 0.05, np.nan], [0.03, 0.02, 0.025], [0.05, 0.04, 0.03],
           [0.0, 0.02, 0.02], [0.02, 0.02, 0.01]]
GT_B = [[30, 30, 20, 40], [32, 30, 20, 40], [34, 31, 20, 40], [90, 70, 30, 30], [36, 32, 20, 40]]
COVER_B = [8, 7, 6, 3, 8]
RUNS_B = [[[30, 30, 20, 40], [31, 29, 20, 40], [40, 35, 20, 40], [95, 75, 5, 5], [36.5, 32, 20, 40]]]
TIMES_B = [[0.5], [0.1], [0.2], [0.125], [0.25]]


def _lines(rows, fmt="{:g}") -> str:
    return "".join(",".join(fmt.format(v) for v in r) + "\n" for r in rows)


def make_val_fixture(root: Path) -> tuple[Path, Path]:
    """A GOT-10k val split by hand (``<root>/val``) and one tracker's results in the GOT-10k layout."""
    split, res = root / "val", root / "results" / "GOT-10k" / "T"
    for name, gt, cover, runs, times in (("GOT-10k_Val_000001", GT_A, COVER_A, RUNS_A, TIMES_A),
                                         ("GOT-10k_Val_000002", GT_B, COVER_B, RUNS_B, TIMES_B)):
        d = split / name
        d.mkdir(parents=True)
        for i in range(len(gt)):
            (d / f"{i + 1:08d}.jpg").touch()  # the toolkit counts the images; it never opens them to score
        (d / "groundtruth.txt").write_text(_lines(gt))
        (d / "cover.label").write_text("".join(f"{c}\n" for c in cover))
        (d / "absence.label").write_text("".join(f"{int(c == 0)}\n" for c in cover))
        (d / "cut_by_image.label").write_text("0\n" * len(gt))
        (d / "meta_info.ini").write_text(f"[METAINFO]\nurl: none\nobject_class: box\nresolution: ({W}, {H})\n")
        (res / name).mkdir(parents=True)
        for k, run in enumerate(runs, 1):
            (res / name / f"{name}_{k:03d}.txt").write_text(_lines(run, "{:.3f}"))
        (res / name / f"{name}_time.txt").write_text(_lines(times, "{:.8f}"))
    (split / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000002\n")
    return split, res


@pytest.fixture
def val_fixture(tmp_path):
    return make_val_fixture(tmp_path)


def _project(split: Path, res: Path, protocol=GOT10K) -> tuple[dict, float | None]:
    evals, _ = evaluate_results(protocol, split, {"T": res})
    return evals[0].scores(), evals[0].fps


def test_got10k_rules_on_the_hand_fixture(val_fixture):
    """The fixture's numbers by hand: 2 sequences, 3 + 1 repetitions, first frames and cover-0 frames
    left out: 3 x 4 + 4 = 16 scored frames."""
    split, res = val_fixture
    evals, _ = evaluate_results("got10k", split, {"T": res})
    ev = evals[0]
    assert ev.n_frames.tolist() == [12, 4]
    sc = ev.scores()
    # repetition 1, sequence A, frames 2, 3, 4, 7: halves (0.5), a box cut by the border to the GT
    # (1.0), a box left of the image moved to x = 0 (0 overlap), 30 x 22.5 in 30 x 30 (0.75)
    assert ev.iou_sum[0] > 0 and 0 < sc["sr75"] < sc["sr50"] < 1
    assert sc["success"] == pytest.approx(ev.iou_sum.sum() / 16)
    # frames with IoU exactly 0.5 and 0.75 fail '>': SR@0.5 counts only IoU strictly above
    from cmd_core.evaluation.engine import clip_to_image, iou

    a = clip_to_image(np.array(RUNS_A[0])[[1, 2, 3, 6]], np.full((4, 2), [W, H]))
    g = clip_to_image(np.array(GT_A)[[1, 2, 3, 6]], np.full((4, 2), [W, H]))
    assert iou(a, g, GOT10K) == pytest.approx([0.5, 1.0, 0.0, 0.75])
    assert a[2].tolist() == [0, 60, 40, 20]  # moved, not cut, as the toolkit's rect_iou does


@needs_toolkit
def test_toolkit_scores_the_hand_fixture_as_the_got10k_protocol(val_fixture, tmp_path):
    split, res = val_fixture
    perf = ExperimentGOT10k(str(split.parent), subset="val", result_dir=str(split.parent / "results"),
                            report_dir=str(tmp_path / "reports")).report(["T"])["T"]["overall"]
    sc, fps = _project(split, res)
    toolkit = (perf["ao"], perf["sr"], perf["succ_curve"][75], perf["speed_fps"])
    assert (sc["success"], sc["sr50"], sc["sr75"], fps) == pytest.approx(toolkit, abs=TOL)
    # each rule of the protocol matters on this fixture: without any one of them the numbers move
    variants = {
        "first frame kept": dict(drop_first_frame=False),
        "cover-0 frames kept": dict(validity="none"),
        "per-sequence mean": dict(pooled=False),
        "curve area, not mean IoU": dict(success_score="mean"),
        "boxes not clipped": dict(clip_to_image=False),
    }
    for what, change in variants.items():
        other, _ = _project(split, res, dataclasses.replace(GOT10K, **change))
        got = (other["success"], other["sr50"], other["sr75"])
        assert max(abs(x - y) for x, y in zip(got, toolkit[:3])) > 1e-3, what


# --------------------------------------------------------------------------------------- errors
def test_missing_sequence_or_time_file_stops_with_the_sequence_named(val_fixture, caplog):
    split, res = val_fixture
    seq_b = "GOT-10k_Val_000002"
    (res / "GOT-10k_Val_000001" / "GOT-10k_Val_000001_time.txt").unlink()
    with pytest.raises(FileNotFoundError, match="sequence GOT-10k_Val_000001: no time file .*GOT-10k_Val_000001_time.txt"):
        evaluate_results("got10k", split, {"T": res})
    for f in (res / seq_b).iterdir():
        f.unlink()
    (res / f"{seq_b}.txt").write_text(_lines(RUNS_B[0]))  # another layout: named, not read
    with pytest.raises(FileNotFoundError) as err:
        evaluate_results("got10k", split, {"T": res})
    msg = str(err.value)
    assert f"sequence {seq_b}: no {res / seq_b / f'{seq_b}_001.txt'}; found {res / f'{seq_b}.txt'}, another layout" in msg
    assert "--allow-missing" in msg
    # the documented option scores the rest, lists the missing sequence and warns about the time file
    caplog.set_level("WARNING")
    evals, missing = evaluate_results("got10k", split, {"T": res}, allow_missing=True)
    assert missing == {"T": [seq_b]} and evals[0].sequences == ["GOT-10k_Val_000001"] and evals[0].fps is None
    assert any("no time file for 1 sequence(s)" in r.getMessage() for r in caplog.records)


def test_cli_incomplete_results_exit_2_and_allow_missing(val_fixture, tmp_path, capsys):
    split, res = val_fixture
    seq_b = "GOT-10k_Val_000002"
    for f in (res / seq_b).iterdir():
        f.unlink()
    argv = ["evaluate", "--protocol", "got10k", "--gt", str(split), "--results", f"T={res}", "--out",
            str(tmp_path / "o"), "--no-plots"]
    assert main(argv) == 2
    assert f"sequence {seq_b}: no" in capsys.readouterr().err
    assert main([*argv, "--allow-missing"]) == 0
    assert seq_b in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "o" / "missing.csv").values.tolist() == [["T", seq_b]]


@pytest.mark.parametrize("broken, message", [
    ("meta_info.ini", "no meta_info.ini with a resolution beside it"),
    ("cover.label", "no cover.label beside it"),
])
def test_gt_without_the_got10k_files_is_named(val_fixture, broken, message):
    split, res = val_fixture
    (split / "GOT-10k_Val_000002" / broken).unlink()
    with pytest.raises(ValueError, match=message + r" \(sequence GOT-10k_Val_000002\)"):
        evaluate_results("got10k", split, {"T": res})


def test_gt_of_another_layout_or_the_test_split_is_named(val_fixture, tmp_path):
    split, res = val_fixture
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "GOT-10k_Val_000002.txt").write_text(_lines(GT_B))
    with pytest.raises(ValueError, match="the got10k protocol reads a GOT-10k split folder .*not 'flat' ground truth"):
        evaluate_results("got10k", flat, {"T": res})
    seq = split / "GOT-10k_Val_000002"
    (seq / "groundtruth.txt").write_text(_lines(GT_B[:1]))  # the test split: the first box only, no labels
    (seq / "cover.label").unlink()
    with pytest.raises(ValueError, match="GOT-10k's test split, whose ground truth is withheld: submit"):
        evaluate_results("got10k", split, {"T": res}, sequences=["GOT-10k_Val_000002"])


def test_bad_results_are_named(val_fixture):
    split, res = val_fixture
    f = res / "GOT-10k_Val_000002" / "GOT-10k_Val_000002_001.txt"
    f.write_text(_lines(RUNS_B[0][:4]))  # one line short: the toolkit asserts equal shapes
    with pytest.raises(ValueError, match="4 result lines but the GT .* has 5 frames .*cannot score fewer results"):
        evaluate_results("got10k", split, {"T": res})
    f.write_text(_lines(RUNS_B[0]).replace("95,75,5,5", "nan,75,5,5"))
    with pytest.raises(ValueError, match=f"{f}, line 4: invalid result box .*NaN or inf"):
        evaluate_results("got10k", split, {"T": res})
    meta = split / "GOT-10k_Val_000002" / "meta_info.ini"
    meta.write_text("[METAINFO]\nresolution: 100x80\n")
    with pytest.raises(ValueError, match=f"{meta}: resolution '100x80' is not"):
        evaluate_results("got10k", split, {"T": res})


def test_result_formats_name_their_toolkit_and_protocol():
    from cmd_core.evaluation.protocols import PRESETS
    from cmd_core.tracking.results import RESULT_FORMATS

    assert list(RESULT_FORMATS) == ["pytracking", "got10k", "got10k-otb", "otb"]
    for f in RESULT_FORMATS.values():
        assert f.toolkit and f.protocols and set(f.protocols) <= set(PRESETS)
    assert RESULT_FORMATS["got10k"].boxes == "<seq>/<seq>_001.txt" and RESULT_FORMATS["got10k"].protocols == ("got10k",)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for f in RESULT_FORMATS.values():  # the README's table of formats lists each one with its protocol
        assert f"| `{f.name}` |" in readme and all(f"`{p}`" in readme for p in f.protocols)


def test_cli_report_of_the_got10k_protocol(val_fixture, tmp_path):
    """`cmd-tir evaluate --protocol got10k` writes its report with GOT-10k's own columns (AO, SR@0.5,
    SR@0.75), the pooled success curve over 101 thresholds and no precision plot."""
    split, res = val_fixture
    out = tmp_path / "o"
    assert main(["evaluate", "--protocol", "got10k", "--gt", str(split), "--results", f"T={res}", "--out", str(out)]) == 0
    assert (out / "success.png").is_file() and not (out / "precision.png").exists()
    tex = (out / "scores.tex").read_text()
    assert "AO & SR@0.5 & SR@0.75" in tex
    curves = pd.read_parquet(out / "curves.parquet")
    assert set(curves["curve"]) == {"success"} and len(curves) == 2 * 101
