"""Samples/s and data-wait share of every training job, per strategy (rule training_throughput)."""

from cmd_core.experiment.throughput import write_throughput_tables
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]):  # noqa: F821  (snakemake is injected)
    write_throughput_tables(
        [tuple(job) for job in snakemake.params.jobs],  # noqa: F821
        snakemake.output.summary,  # noqa: F821
        snakemake.output.md,  # noqa: F821
        snakemake.output.jobs,  # noqa: F821
    )
