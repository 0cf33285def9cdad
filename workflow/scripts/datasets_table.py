"""Summarise all ingested datasets into results/tables/datasets.csv and .md."""

from cmd_core.datasets.table import write_datasets_table
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]):  # noqa: F821  (snakemake is injected)
    write_datasets_table(list(snakemake.input), snakemake.output.csv, snakemake.output.md)  # noqa: F821
