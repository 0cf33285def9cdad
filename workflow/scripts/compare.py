"""Gather every evaluation set's scores into the comparison / ablation tables and plots (rule compare)."""

from pathlib import Path

from cmd_core.experiment.report import compare
from cmd_core.logs import job_logging

out = snakemake.output  # noqa: F821  (snakemake is injected)
# tables beside comparison.csv; plots in the folder above the per-set plot folders (.../plots/experiment)
plots = Path(next(getattr(out, k) for k in out.keys() if k.endswith("_success_bars"))).parents[1]
with job_logging(snakemake.log[0]):  # noqa: F821
    compare(
        list(snakemake.input),  # noqa: F821
        out_tables=Path(out.comparison).parent,
        out_plots=plots,
        protocol=snakemake.params.protocol,  # noqa: F821
        margin_pts=snakemake.params.margin,  # noqa: F821
    )
