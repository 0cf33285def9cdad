"""The `snakemake --report` captions: one for every table and plot type, each referenced by the
workflow (the Snakefile's `report:` or a rule's `report(..., caption=...)`), none missing, and valid
reStructuredText (Snakemake renders them with docutils)."""

from __future__ import annotations

import re

import pytest

from conftest import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / "workflow"
REPORT = WORKFLOW / "report"
CAPTIONS = ["workflow", "comparison", "claim", "ablation_pairs", "ablation_components", "per_attribute", "curves",
            "success_bars", "loss_curves", "teacher_loss", "datasets_table", "contact_sheets", "pairs_contact_sheet",
            "pairs_quality", "training_throughput", "gap"]


def _referenced() -> set[str]:
    """Caption names the workflow refers to."""
    text = (WORKFLOW / "Snakefile").read_text() + "".join(p.read_text() for p in (WORKFLOW / "rules").glob("*.smk"))
    names = set(re.findall(r'caption=f?"(?:\.\./report|\{CAPTIONS\})/(\w+)\.rst"', text))
    names |= set(re.findall(r'^report:\s*"report/(\w+)\.rst"', text, flags=re.M))
    return names


def test_every_caption_is_referenced_and_every_reference_exists():
    files = {p.stem for p in REPORT.glob("*.rst")}
    assert files == set(CAPTIONS)
    assert _referenced() == files, {"unused": files - _referenced(), "missing": _referenced() - files}
    assert 'CAPTIONS = "../report"' in (WORKFLOW / "rules" / "common.smk").read_text()


@pytest.mark.parametrize("name", CAPTIONS)
def test_caption_is_valid_rst(name):
    docutils_core = pytest.importorskip("docutils.core")
    text = (REPORT / f"{name}.rst").read_text(encoding="utf-8")
    assert len(text.split()) > 40, "a caption should explain what is shown and how to read it"
    # halt_level 2: any warning (broken markup) raises
    docutils_core.publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 2})
    if name != "workflow":
        assert "How to read it" in text
