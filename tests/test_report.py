"""`snakemake --report`: the HTML report holds every table and plot of a finished run, each with
its caption and in its category. The check runs on the outputs of the tiny end-to-end runs of
tests/test_workflow.py (no workflow of its own)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT

CATEGORIES = {"Datasets", "Pairs", "Training", "Comparison", "Per-attribute", "Curves"}


def _variable(html: str, name: str):
    match = re.search(rf"var {name} = (\{{.*?\}});\s*\n", html, flags=re.S)
    assert match, f"no {name} in the report"
    return json.loads(match.group(1))


def report_results(html: str) -> dict[str, dict]:
    """path -> {caption, category, ...} of every file embedded in a Snakemake 9 HTML report."""
    results = _variable(html, "results")
    for category, subcategories in _variable(html, "categories").items():
        for paths in subcategories.values():
            for path in paths:
                results[path]["category"] = category
    return results


def build_report(config: Path, results: Path) -> dict[str, dict]:
    """Build results/report.html with the README's command (no --cores needed) and read it back."""
    html = results / "report.html"
    cmd = [sys.executable, "-m", "snakemake", "--nolock", f"--configfile={config}", "--report", str(html), "--", "all"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return report_results(html.read_text(encoding="utf-8"))


def assert_report_complete(config: Path, results: Path) -> dict[str, dict]:
    """Every CSV table under results/tables and every plot under results/plots is in the report,
    with a caption, in one of the report's categories."""
    entries = build_report(config, results)
    expected = {str(p) for p in (results / "tables").glob("*.csv")} | {str(p) for p in (results / "plots").rglob("*.png")}
    assert expected, "nothing to report"
    assert set(entries) == expected, {"missing": expected - set(entries), "extra": set(entries) - expected}
    for path, entry in entries.items():
        assert entry["caption"] and "How to read it" in entry["caption"], path
        assert entry["category"] in CATEGORIES, (path, entry["category"])
    return entries


def test_readme_report_command_is_the_one_tested():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "snakemake all --report results/report.html" in readme
    assert "--report report.html" not in readme
