"""Evaluate one configured run of external tracker outputs (rule evaluate_external)."""

from pathlib import Path

from cmd_core.evaluation import evaluate_results, read_attributes, write_report
from cmd_core.evaluation.plots import plot_attributes, plot_curves
from cmd_core.evaluation.report import attribute_table
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    run = snakemake.params.run  # noqa: F821
    out = snakemake.output  # noqa: F821
    evals, missing = evaluate_results(
        run["protocol"], run["gt"], dict(run["results"]), run.get("sequences"),
        gt_format=run.get("gt_format", "auto"), modality=run.get("modality"),
        column_prefix=run.get("gt_columns", "gt_"), allow_missing=run.get("allow_missing", False),
    )
    attributes = read_attributes(run["attributes"], evals[0].sequences) if run.get("attributes") else None
    tables = Path(out.scores).parent
    df = write_report(tables, evals, attributes, missing, plots=False)
    # plots go to results/plots/{run}/, beside the other plots of the workflow
    plot_dir = Path(snakemake.params.plot_dir)  # noqa: F821
    plot_curves(evals, plot_dir)
    plot_attributes(attribute_table(evals, attributes), plot_dir / "attributes.png", evals[0].protocol)
    log.info("evaluated %d tracker(s) on %d sequence(s):\n%s", len(evals), len(evals[0].sequences), df.to_string())
