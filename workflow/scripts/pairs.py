"""Generate the pairs of one method for one dataset (thin wrapper around cmd_core.pairs)."""

from cmd_core.logs import job_logging
from cmd_core.pairs.generate import generate_pairs, read_frames, write_pairs

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    result = generate_pairs(
        read_frames(snakemake.input.frames),  # noqa: F821
        snakemake.wildcards.method,  # noqa: F821
        dict(snakemake.params.pairs_config),  # noqa: F821
        dataset=snakemake.wildcards.dataset,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        progress=True,
    )
    write_pairs(result, snakemake.output.pairs, snakemake.output.boxes, snakemake.output.summary)  # noqa: F821
    log.info("summary: %s", result.summary)
