"""Draw sampled template | search pairs of one method with their boxes."""

from cmd_core.logs import job_logging
from cmd_core.pairs.contact_sheet import pairs_contact_sheet

with job_logging(snakemake.log[0]):  # noqa: F821  (snakemake is injected)
    pairs_contact_sheet(
        snakemake.input.pairs,  # noqa: F821
        snakemake.input.frames,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        boxes_path=snakemake.input.boxes,  # noqa: F821
        n=snakemake.params.n,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
    )
