"""The Snakemake workflow: lint, dry runs, and an end-to-end run on a tiny synthetic benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import PROJECT_ROOT

TINY_SYNTH = {
    "enabled": True,
    "seed": 7,
    "width": 128,
    "height": 96,
    "jpeg_quality": 90,
    "splits": {
        "rgb_train": {"sequences": 2, "frames": 6},
        "rgbt_train": {"sequences": 2, "frames": 5},
        "tir_eval": {"sequences": 2, "frames": 4},
        "rgbt_eval": {"sequences": 1, "frames": 4},
    },
}


def snakemake(*args: str, cwd: Path = PROJECT_ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--nolock", "--cores", "2", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write_config(tmp_path: Path, **overrides) -> Path:
    config = {"results": str(tmp_path / "results"), "synthetic": TINY_SYNTH, "experiment": {"enabled": False},
              **overrides}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_lint_passes():
    proc = snakemake("--lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_default_config_plans_every_stage(tmp_path):
    proc = snakemake("-n", "--config", f"results={tmp_path / 'results'}", "--", "all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rule in ("synth", "ingest", "datasets_table", "contact_sheet"):
        assert rule in proc.stdout
    # four synthetic datasets -> four ingest jobs
    counts = dict(line.split() for line in proc.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0].isidentifier())
    assert counts.get("ingest") == "4", proc.stdout


def test_invalid_config_is_refused_with_the_key(tmp_path):
    cfg = write_config(tmp_path, ingest={"on_error": "sometimes"})
    proc = snakemake("-n", f"--configfile={cfg}", "all")
    assert proc.returncode != 0
    assert "on_error" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_end_to_end_on_tiny_synthetic_benchmark(tmp_path, shared_data_optional):
    datasets = {}
    if shared_data_optional is not None:
        datasets["ptb_airplane"] = {
            "format": "ptb_tir",
            "root": str(shared_data_optional / "real" / "ptb-tir-airplane"),
            "purpose": "eval_tir",
        }
    cfg = write_config(tmp_path, datasets=datasets)
    proc = snakemake(f"--configfile={cfg}", "all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = tmp_path / "results"

    table = pd.read_csv(results / "tables" / "datasets.csv").set_index("dataset")
    expected = {f"synth_{k}": v["sequences"] * v["frames"] for k, v in TINY_SYNTH["splits"].items()}
    for name, frames in expected.items():
        assert table.loc[name, "frames"] == frames
        assert table.loc[name, "rejected_frames"] == 0
    assert table.loc["synth_tir_eval", "tir_resolution"] == "128x96"
    assert table.loc["synth_rgbt_eval", "rgb_resolution"] == "128x96"
    if shared_data_optional is not None:
        assert table.loc["ptb_airplane", "frames"] == 380

    frames = pd.read_parquet(results / "manifests" / "synth_rgbt_eval.frames.parquet")
    assert frames["gt_tir_valid"].all()
    # pixel-aligned pairs: the same box in both modalities
    np.testing.assert_allclose(frames[["gt_rgb_x", "gt_rgb_y", "gt_rgb_w", "gt_rgb_h"]].to_numpy(),
                               frames[["gt_tir_x", "gt_tir_y", "gt_tir_w", "gt_tir_h"]].to_numpy())
    for name in expected:
        png = results / "plots" / f"{name}_samples.png"
        assert png.stat().st_size > 10_000
        assert (results / "logs" / "ingest" / f"{name}.log").exists()
    assert json.loads((results / "data" / "synthetic" / "synth.json").read_text())

    # a second run has nothing to do
    proc = snakemake(f"--configfile={cfg}", "-n", "all")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr

    # the HTML report holds every table and plot; a pair-method edit reruns that method's jobs only
    from test_report import assert_report_complete
    from test_reruns import assert_pair_method_edit_reruns_its_method

    entries = assert_report_complete(cfg, results)
    assert {e["category"] for e in entries.values()} == {"Datasets", "Pairs"}
    assert_pair_method_edit_reruns_its_method(yaml.safe_load(cfg.read_text()), tmp_path)


@pytest.mark.slow
def test_experiment_end_to_end_on_tiny_synthetic_benchmark(tmp_path):
    """Teacher -> distillation per strategy and seed -> supervised bound -> tracking -> comparison,
    training-throughput tables and plots, at the smallest sizes (the numbers mean nothing here)."""
    tiny = {"epochs": 1, "samples_per_epoch": 4, "batch_size": 2}
    strategies = {
        "official": {"pairs": "central", "mode": "official", "components": ["classifier", "iou"],
                     "backbone": "frozen", "losses": {"clf": 1.0, "iou": 1.0}},
        "full_random": {"pairs": "random", "mode": "distill", "components": ["classifier", "iou"],
                        "backbone": "trainable", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0}},
    }
    cfg = write_config(
        tmp_path, experiment={"enabled": True, "baselines": ["mil", "csrt", "static"], "random_init_teacher": True},
        training={"teacher": tiny},
        supervised_tir=tiny,
        distill={"seeds": [0, 1], "strategies": strategies, **tiny},
        pairs={"methods": {"central": {"type": "central"}, "random": {"type": "random"}}},
    )
    proc = snakemake(f"--configfile={cfg}", "--resources", "gpu=2", "--", "all", timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tables = tmp_path / "results" / "tables"
    comp = pd.read_csv(tables / "comparison.csv")
    for eval_set in ("synth_tir_eval", "synth_rgbt_eval"):
        kinds = set(comp.loc[comp["eval_set"] == eval_set, "kind"])
        assert {"teacher", "distilled", "supervised_upper_bound", "baseline"} <= kinds, kinds
    ref = comp[comp["kind"] == "rgb_reference"]
    assert set(ref["eval_set"]) == {"synth_rgbt_eval"}  # RGB frames exist only in the paired set
    assert set(comp.loc[comp["kind"] == "rgb_baseline", "eval_set"]) == {"synth_rgbt_eval"}  # baselines on RGB frames
    assert "The teacher against the classic baselines on RGB frames" in (tables / "comparison.md").read_text()
    dist = comp[comp["kind"] == "distilled"]
    assert set(dist["n_seeds"]) == {2} and set(dist["strategy"]) == {"official", "full_random"}
    assert "Claim check" in (tables / "comparison.md").read_text()
    # standard errors over the sequences and paired intervals against the teacher (from the curves)
    n_seq = comp.groupby("eval_set")["n_sequences"].unique().map(list).to_dict()
    assert n_seq == {"synth_tir_eval": [2], "synth_rgbt_eval": [1]}  # the tiny config's set sizes
    tir = comp[comp["eval_set"] == "synth_tir_eval"]
    assert tir["success_se_pts"].notna().all() and comp.loc[comp["eval_set"] == "synth_rgbt_eval", "success_se_pts"].isna().all()
    assert tir.loc[tir["kind"] == "distilled", "d_success_ci_low_pts"].notna().all()
    assert "SE (pts)" in (tables / "comparison.md").read_text()
    claim = pd.read_csv(tables / "claim.csv")
    assert set(claim["teacher_reference"]) == {"the teacher it was distilled from, seed 0"}
    # the second teacher seed joins the teacher's rows; the random-init teacher is the pretraining ablation
    assert set(comp.loc[comp["kind"] == "teacher", "n_seeds"]) == {2}
    assert set(comp.loc[comp["kind"] == "rgb_reference", "n_seeds"]) == {2}
    assert set(comp.loc[comp["kind"] == "teacher_ablation", "eval_set"]) == {"synth_tir_eval", "synth_rgbt_eval"}
    assert set(comp.loc[comp["kind"] == "rgb_ablation", "eval_set"]) == {"synth_rgbt_eval"}
    assert set(comp.loc[comp["kind"] == "baseline", "tracker"]) == {"MIL", "CSRT", "STATIC"}
    random_ckpt = tmp_path / "results" / "models" / "teacher_variants" / "teacher-random" / "checkpoint.pth"
    assert torch.load(random_ckpt, weights_only=True)["train_config"]["backbone_weights"] == "random"
    thr = pd.read_csv(tables / "training_throughput.csv")
    assert set(thr["strategy"]) == {"teacher", "teacher-s1", "teacher-random", "official", "full_random",
                                    "supervised_tir"}
    assert (thr["samples_per_s"] > 0).all() and thr["data_wait_fraction"].between(0, 1).all()
    # 3 teachers, 2 strategies x 2 seeds, 1 supervised bound (supervised_tir.seeds defaults to [0])
    assert len(pd.read_csv(tables / "training_throughput_jobs.csv")) == 3 + 2 * 2 + 1
    assert any((tmp_path / "results" / "plots" / "experiment").glob("*.png"))

    # the HTML report holds every table and plot of the experiment, in its six categories
    from test_report import CATEGORIES, assert_report_complete
    from test_reruns import assert_strategy_edit_reruns_its_strategy

    entries = assert_report_complete(cfg, tmp_path / "results")
    assert {e["category"] for e in entries.values()} == CATEGORIES
    names = {Path(p).relative_to(tmp_path / "results").as_posix() for p in entries}
    for eval_set in ("synth_tir_eval", "synth_rgbt_eval"):
        assert {f"plots/experiment/{eval_set}/{n}.png" for n in ("success", "precision", "success_bars")} <= names
    assert {"tables/comparison.csv", "tables/claim.csv", "tables/ablation_pairs.csv", "tables/ablation_components.csv",
            "tables/per_attribute.csv", "tables/training_throughput.csv", "plots/experiment/loss_curves.png",
            "plots/teacher_loss.png"} <= names
    # one strategy's edit reruns its jobs and their consumers only
    assert_strategy_edit_reruns_its_strategy(yaml.safe_load(cfg.read_text()), tmp_path, "official", n_seeds=2,
                                             n_eval_sets=2)


def test_existing_teacher_checkpoint_replaces_teacher_training(tmp_path):
    """training.teacher.checkpoint (e.g. official dimp50.pth): no train_teacher job, every
    distillation job and the teacher's tracking read that file."""
    ckpt = tmp_path / "dimp50.pth"
    ckpt.write_bytes(b"placeholder: a dry run does not read it")
    cfg = write_config(tmp_path, experiment={"enabled": True, "tracker_preset": "dimp50"},
                       training={"teacher": {"checkpoint": str(ckpt)}})
    proc = snakemake("-n", f"--configfile={cfg}", "--", "all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = dict(line.split() for line in proc.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0].isidentifier())
    assert "train_teacher" not in counts and int(counts["distill"]) > 0, counts
    assert f"teacher={ckpt}" in proc.stdout.replace(" ", "") or str(ckpt) in proc.stdout


@pytest.fixture
def shared_data_optional():
    from conftest import SHARED_DATA

    return SHARED_DATA if SHARED_DATA.is_dir() else None


def test_cli_help_lists_subcommands():
    proc = subprocess.run([sys.executable, "-m", "cmd_core.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for name in ("synth", "ingest", "datasets-table", "contact-sheet", "evaluate"):
        assert name in proc.stdout


def test_evaluation_run_in_workflow(tmp_path, shared_data):
    lasher = shared_data / "conformance" / "lasher-test"
    seqs = tmp_path / "seqs.txt"
    seqs.write_text("\n".join((lasher / "sequences.txt").read_text().split()[:6]) + "\n")
    run = {"protocol": "lasher", "gt": str(lasher / "gt"), "sequences": str(seqs),
           "results": {name: str(lasher / "results" / name) for name in ("mfDiMP", "SGT")}}
    cfg = write_config(tmp_path, synthetic={"enabled": False}, evaluation={"runs": {"lasher6": run}})
    proc = snakemake(f"--configfile={cfg}", "all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scores = pd.read_csv(tmp_path / "results" / "tables" / "lasher6" / "scores.csv").set_index("tracker")
    assert set(scores.index) == {"mfDiMP", "SGT"}
    assert ((scores[["success", "precision", "norm_precision"]] >= 0) & (scores[["success", "precision", "norm_precision"]] <= 1)).all().all()
    assert (tmp_path / "results" / "plots" / "lasher6" / "success.png").stat().st_size > 10_000
    assert (tmp_path / "results" / "logs" / "evaluate" / "lasher6.log").exists()


def test_readme_run_command_parses_as_written(tmp_path):
    """The README's 'Real usage' snakemake line, run as written (dry), plans the workflow: targets
    placed after --resources would be read as resources and fail."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    lines = [ln.strip() for ln in readme.split("## Real usage", 1)[1].splitlines() if ln.strip().startswith("snakemake ")]
    assert lines, "no snakemake command under 'Real usage'"
    args = lines[0].split()[1:]
    cmd = [sys.executable, "-m", "snakemake", *args, "--nolock", "-n", "--config", f"results={tmp_path / 'results'}"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "synth" in proc.stdout


# ----------------------------------------------------------------------------- environments and catalog files
ENVS = PROJECT_ROOT / "workflow" / "envs"


def test_rule_env_does_not_depend_on_where_snakemake_copies_it():
    """The env file names no path; its post-deploy script installs the project with the same pins
    as tools/bootstrap-env.sh from Snakemake's working directory, and carries the pins' hash so a
    change of the pins changes the env's hash (Snakemake hashes the script)."""
    import hashlib

    env = yaml.safe_load((ENVS / "cmd-tir.yaml").read_text())
    assert env["dependencies"] == ["python=3.11", "pip"]
    deploy = (ENVS / "cmd-tir.post-deploy.sh").read_text()
    pins = hashlib.sha256(b"".join((PROJECT_ROOT / "requirements" / n).read_bytes()
                                   for n in ("constraints.txt", "no-deps.txt"))).hexdigest()[:16]
    assert f"# pins: {pins}\n" in deploy, (
        "update the '# pins:' line of workflow/envs/cmd-tir.post-deploy.sh to: "
        "cat requirements/constraints.txt requirements/no-deps.txt | sha256sum | cut -c1-16")
    bootstrap = (PROJECT_ROOT / "tools" / "bootstrap-env.sh").read_text()
    assert '-c "$root/requirements/constraints.txt" -e "$root[test]"' in bootstrap
    assert '--no-deps \\\n  -r "$root/requirements/no-deps.txt"' in bootstrap
    for text in (deploy, (PROJECT_ROOT / "Dockerfile").read_text()):
        assert "-c requirements/constraints.txt -e " in text and "--no-deps -r requirements/no-deps.txt" in text
    assert "-c requirements/constraints.txt" in (PROJECT_ROOT / "environment.yml").read_text()
    assert "pip install --no-deps -r requirements/no-deps.txt" in (PROJECT_ROOT / "environment.yml").read_text()
    assert "python -m pytest" in (PROJECT_ROOT / "Dockerfile").read_text()


def test_post_deploy_script_installs_the_pins_from_the_project_root(tmp_path):
    """Run for real with a stand-in `python` that records its arguments; from another folder it
    stops with a clear message instead of installing something else."""
    import os
    import stat

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path / "calls.txt"}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    script = str(ENVS / "cmd-tir.post-deploy.sh")
    proc = subprocess.run(["bash", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "calls.txt").read_text().splitlines() == [
        "-m pip install --disable-pip-version-check -c requirements/constraints.txt -e .",
        "-m pip install --disable-pip-version-check --no-deps -r requirements/no-deps.txt",
    ]
    proc = subprocess.run(["bash", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "run snakemake from the cmd-tir project root" in proc.stderr


def test_catalog_files():
    """.test/config (the tiny config CI runs end to end) plans the data half; LICENSE matches
    pyproject; the catalog file and the linters' settings are there."""
    proc = snakemake("--directory", ".test", "-n", "--forceall", "all")  # plans every rule, also after a run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rule in ("synth", "ingest", "pairs", "track", "pairs_quality"):
        assert f"rule {rule}:" in proc.stdout
    assert "train_teacher" not in proc.stdout
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert 'license = { text = "MIT" }' in pyproject
    assert (PROJECT_ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "[tool.ruff.lint]" in pyproject and "[tool.snakefmt]" in pyproject
    catalog = yaml.safe_load((PROJECT_ROOT / ".snakemake-workflow-catalog.yml").read_text())
    assert catalog["usage"]["report"] is True
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert ci.index("snakefmt --check workflow/") < ci.index("./test.sh")
