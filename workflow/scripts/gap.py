"""The modality-gap tables and figure of the configured datasets (rule gap)."""

from cmd_core.gap.run import measure_and_write
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    paths = measure_and_write(
        dict(zip(snakemake.params.datasets, snakemake.input.frames)),  # noqa: F821
        list(snakemake.params.references),  # noqa: F821
        snakemake.output.md,  # noqa: F821
        snakemake.output.png,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        progress=False,
        **snakemake.params.settings,  # noqa: F821
    )
    log.info("modality gap:\n%s", paths["md"].read_text(encoding="utf-8"))
