"""Gather every evaluation set's scores into the comparison / ablation tables and plots (rule compare)."""

from cmd_core.experiment.report import compare
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]):  # noqa: F821  (snakemake is injected)
    compare(
        list(snakemake.input),  # noqa: F821
        out_tables=str(snakemake.output.comparison).rsplit("/", 1)[0],  # noqa: F821
        out_plots=snakemake.params.plots,  # noqa: F821
        protocol=snakemake.params.protocol,  # noqa: F821
        margin_pts=snakemake.params.margin,  # noqa: F821
    )
