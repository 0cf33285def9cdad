"""Ingest one dataset into its manifests (thin wrapper around cmd_core.datasets)."""

from cmd_core.datasets.ingest import ingest_dataset, write_result
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    entry = snakemake.params.dataset  # noqa: F821
    result = ingest_dataset(
        snakemake.wildcards.dataset,  # noqa: F821
        entry["format"],
        entry["root"],
        split=entry.get("split", "all"),
        options=entry.get("options", {}),
        on_error=snakemake.params.on_error,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        verify=snakemake.params.verify,  # noqa: F821
    )
    write_result(result, snakemake.params.out_dir)  # noqa: F821
    log.info("summary: %s", result.summary)
