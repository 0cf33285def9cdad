"""Snakemake profiles: the SLURM profile dry-runs without a cluster, the default workflow profile
is picked up automatically, and the SLURM executor plugin is installed."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import yaml

from conftest import PROJECT_ROOT

SLURM_PROFILE = PROJECT_ROOT / "profiles" / "slurm" / "config.v8+.yaml"


def _dry_run(tmp_path, *extra: str) -> str:
    cmd = [sys.executable, "-m", "snakemake", *extra, "-n", "all", "--nolock", "--config", f"results={tmp_path / 'results'}"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-4000:]}"
    assert "This was a dry-run" in out
    return out


def _job_resources(out: str) -> list[str]:
    return re.findall(r"^\s+resources: (.*)$", out, flags=re.M)


def test_slurm_profile_dry_run_without_cluster(tmp_path):
    out = _dry_run(tmp_path, "--profile", "profiles/slurm")
    assert "profiles/slurm" in out
    assert "profiles/default" in out  # the workflow profile is loaded as well
    assert _job_resources(out), "no job in the dry run"


def test_default_profile_is_picked_up(tmp_path):
    out = _dry_run(tmp_path)
    assert "workflow specific profile profiles/default" in out


def test_slurm_profile_settings():
    prof = yaml.safe_load(SLURM_PROFILE.read_text())
    assert prof["executor"] == "slurm"
    res = prof["default-resources"]
    assert {"slurm_partition", "slurm_account", "runtime", "mem_mb"} <= set(res)
    assert re.fullmatch(r"\d+\s*[smhd]", str(res["runtime"])), "runtime should carry a unit"
    assert "SITE" in SLURM_PROFILE.read_text()  # site settings are clearly marked


def test_slurm_profile_resources_reach_the_jobs_alone(tmp_path):
    """Without the workflow profile, the SLURM site settings are in every job's resources."""
    out = _dry_run(tmp_path, "--profile", "profiles/slurm", "--workflow-profile", "none")
    for res in _job_resources(out):
        assert "slurm_partition=" in res and "slurm_account=" in res and "runtime=" in res, res


def test_slurm_profile_resources_survive_the_workflow_profile(tmp_path):
    out = _dry_run(tmp_path, "--profile", "profiles/slurm")
    for res in _job_resources(out):
        assert "slurm_partition=" in res and "slurm_account=" in res and "runtime=" in res, res


def test_slurm_executor_plugin_is_installed():
    mod = importlib.import_module("snakemake_executor_plugin_slurm")
    assert hasattr(mod, "Executor")
    from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

    assert ExecutorPluginRegistry().get_plugin("slurm").name == "slurm"


def test_slurm_profile_gives_gpu_rules_the_gpu_partition_in_the_dry_run(tmp_path):
    """Per job of the default plan: GPU rules (gpu=1) on the GPU partition, every other rule on the
    CPU partition without a GPU; no cpus_per_task overriding the rules' threads."""
    out = _dry_run(tmp_path, "--profile", "profiles/slurm")
    seen = {}
    for block in re.split(r"\n(?=rule \w+:)", out)[1:]:
        rule = block.split(":", 1)[0].removeprefix("rule ")
        res = re.search(r"^\s+resources: (.*)$", block, flags=re.M)
        if res is None or rule == "all":
            continue
        res = res.group(1)
        gpu = "gpu=1" in res.split(", ")
        assert ("slurm_partition=gpu" in res) == gpu and ("slurm_partition=cpu" in res) != gpu, (rule, res)
        assert "cpus_per_task" not in res, (rule, res)
        seen[rule] = gpu
    assert {r for r, g in seen.items() if g} == {"train_teacher", "train_teacher_variant", "distill",
                                                 "train_supervised_tir"}
    assert {"synth", "ingest", "pairs", "track", "compare"} <= {r for r, g in seen.items() if not g}
