"""Write the pair quality report (the only job that reads the distill datasets' ground truth)."""

from cmd_core.logs import job_logging
from cmd_core.pairs.quality import quality_report

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    table = quality_report(list(snakemake.params.runs), snakemake.output.csv, snakemake.output.md)  # noqa: F821
    log.info("pair quality:\n%s", table.to_string(index=False))
