"""The `snakemake --report` captions exist for every table and plot type and are valid
reStructuredText (Snakemake renders them with docutils)."""

from __future__ import annotations

import pytest

from conftest import PROJECT_ROOT

REPORT = PROJECT_ROOT / "workflow" / "report"
CAPTIONS = ["workflow", "comparison", "ablation_pairs", "ablation_components", "per_attribute", "curves",
            "success_bars", "loss_curves", "datasets_table", "contact_sheets", "pairs_contact_sheet", "pairs_quality",
            "training_throughput"]


@pytest.mark.parametrize("name", CAPTIONS)
def test_caption_is_valid_rst(name):
    docutils_core = pytest.importorskip("docutils.core")
    text = (REPORT / f"{name}.rst").read_text(encoding="utf-8")
    assert len(text.split()) > 40, "a caption should explain what is shown and how to read it"
    # halt_level 2: any warning (broken markup) raises
    docutils_core.publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 2})
    if name != "workflow":
        assert "How to read it" in text
