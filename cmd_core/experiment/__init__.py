"""The experiment's outputs: comparison and ablation tables, per-attribute tables, the claim
check and the figures, built from the per-run scores of the evaluation toolkit."""

from .assemble import (
    curves_from_scores,
    per_attribute_from_scores,
    per_attribute_markdown,
    per_attribute_table,
    read_curves,
    read_per_attribute,
    write_per_attribute,
)
from .plots import (
    evaluations_from_curves,
    plot_eval_set_curves,
    plot_loss_curves,
    plot_success_bars,
    read_training_log,
)
from .report import compare
from .tables import (
    CLAIM_MARGIN_PTS,
    KINDS,
    ClaimResult,
    ablation_markdown,
    ablation_table,
    benchmark_checks,
    benchmark_sentences,
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

__all__ = [
    "CLAIM_MARGIN_PTS", "KINDS", "ClaimResult", "ablation_markdown", "ablation_table", "benchmark_checks",
    "benchmark_sentences", "claim_check",
    "claim_checks", "collapsed_students", "compare", "comparison_markdown", "comparison_table", "curves_from_scores",
    "evaluations_from_curves", "per_attribute_from_scores", "per_attribute_markdown", "per_attribute_table",
    "plot_eval_set_curves", "plot_loss_curves", "plot_success_bars", "read_curves", "read_per_attribute",
    "read_scores", "read_training_log", "rgb_teacher_checks", "validate_scores", "write_per_attribute", "write_tables",
]
