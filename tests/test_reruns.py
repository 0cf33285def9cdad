"""Reruns follow what changed: each job's params hold only what affects it, so a config edit plans
exactly the jobs it concerns and their consumers (checked with a dry run after a real run of the
tiny end-to-end workflows of tests/test_workflow.py, which call these helpers on their outputs).
No code version is hashed into params (README, "Reruns"): a library edit plans nothing."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import PROJECT_ROOT


def planned_jobs(config: dict, path: Path) -> tuple[dict[str, int], str]:
    """Job counts of a dry run of rule all with `config` (written to `path`), and its output."""
    path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "2", f"--configfile={path}", "--", "all"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = proc.stdout.split("Job stats:", 1)[-1].split("\n\n", 1)[0]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^([A-Za-z_]\w*)\s+(\d+)$", table, flags=re.M) if m[1] != "total"}
    return counts, proc.stdout


def assert_pair_method_edit_reruns_its_method(config: dict, tmp_path: Path) -> None:
    """The random section feeds the random method and the detector's fallback; the central
    method's jobs stay done. A detector-only setting plans the detector alone."""
    changed = copy.deepcopy(config)
    changed.setdefault("pairs", {})["random"] = {"boxes_per_frame": 4}
    counts, out = planned_jobs(changed, tmp_path / "changed_random.yaml")
    assert counts == {"pairs": 2, "pairs_contact_sheet": 2, "pairs_quality": 1, "all": 1}, out[-3000:]
    assert "central.parquet" not in out.split("Job stats:")[0].split("rule pairs:", 1)[-1].split("rule all", 1)[0]
    changed = copy.deepcopy(config)
    changed.setdefault("pairs", {})["detector"] = {"min_confidence": 0.1}
    counts, out = planned_jobs(changed, tmp_path / "changed_detector.yaml")
    assert counts == {"pairs": 1, "pairs_contact_sheet": 1, "pairs_quality": 1, "all": 1}, out[-3000:]
    assert "params have changed since last execution" in out


def assert_strategy_edit_reruns_its_strategy(config: dict, tmp_path: Path, strategy: str, n_seeds: int,
                                             n_eval_sets: int) -> None:
    """Changing one strategy plans its distillation jobs (one per seed), their tracking (one job per
    student, every evaluation set in it), the evaluations, the comparison and the throughput table,
    nothing else."""
    changed = copy.deepcopy(config)
    changed["distill"]["strategies"][strategy]["lr_scale"] = 0.5
    counts, out = planned_jobs(changed, tmp_path / "changed_strategy.yaml")
    assert counts == {"distill": n_seeds, "track": n_seeds, "evaluate_eval_set": n_eval_sets,
                      "compare": 1, "training_throughput": 1, "all": 1}, out[-3000:]
    distill_jobs = [block for block in out.split("rule distill:")[1:]]
    assert all(f"strategy={strategy}" in block.split("\n\n")[0] for block in distill_jobs), out[-3000:]
    # unchanged config: nothing to do
    counts, out = planned_jobs(config, tmp_path / "unchanged.yaml")
    assert counts == {}, out[-3000:]
