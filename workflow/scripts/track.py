"""Run one configured tracker on one dataset's frames manifest (rule track)."""

from cmd_core.logs import job_logging
from cmd_core.tracking.api import track

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    entry = snakemake.params.tracker  # noqa: F821
    summary = track(
        snakemake.input.frames,  # noqa: F821
        entry["modality"],
        entry["type"],
        snakemake.output.results,  # noqa: F821
        preset=entry["preset"],
        checkpoint=getattr(snakemake.input, "checkpoint", None),  # noqa: F821
        allow_untrained=entry["allow_untrained"],
        threads=snakemake.threads,  # noqa: F821
        device=snakemake.params.device,  # noqa: F821
        integer=snakemake.params.integer,  # noqa: F821
        marker=snakemake.output.done,  # noqa: F821
    )
    log.info("%s on %s: %s, %s frames, %s FPS", entry["type"], snakemake.wildcards.dataset,  # noqa: F821
             summary.get("status"), summary.get("frames"), summary.get("fps"))
