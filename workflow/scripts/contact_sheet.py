"""Draw a contact sheet of aligned RGB | TIR frames with their boxes for one dataset."""

from cmd_core.logs import job_logging
from cmd_core.viz.contact_sheet import contact_sheet_from_manifest

with job_logging(snakemake.log[0]):  # noqa: F821  (snakemake is injected)
    contact_sheet_from_manifest(
        snakemake.input.frames,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        sequences=snakemake.params.sequences,  # noqa: F821
        frames_per_sequence=snakemake.params.frames_per_sequence,  # noqa: F821
        seed=snakemake.params.seed,  # noqa: F821
    )
