"""Run one configured tracker on every dataset it tracks, in one process (rule track): each dataset's
results go to <results>/<dataset>/ with its summary <results>/<dataset>.done.json; the job's own
marker lists the datasets and their totals."""

import json
import os

from cmd_core.io import write_text
from cmd_core.logs import job_logging
from cmd_core.tracking.api import track_sets

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    entry = snakemake.params.tracker  # noqa: F821
    out = snakemake.output.results  # noqa: F821
    frames = snakemake.input.frames  # noqa: F821
    datasets = snakemake.params.datasets  # noqa: F821
    sets = [{"manifest": manifest, "out": os.path.join(out, name), "marker": os.path.join(out, f"{name}.done.json")}
            for name, manifest in zip(datasets, [frames] if isinstance(frames, str) else list(frames))]
    summaries = track_sets(
        sets,
        entry["modality"],
        entry["type"],
        preset=entry["preset"],
        checkpoint=getattr(snakemake.input, "checkpoint", None),  # noqa: F821
        allow_untrained=entry["allow_untrained"],
        threads=snakemake.threads,  # noqa: F821
        device=snakemake.params.device,  # noqa: F821
        integer=snakemake.params.integer,  # noqa: F821
        batch=snakemake.params.batch if entry["type"] == "dimp" else None,  # noqa: F821
    )
    for name, summary in zip(datasets, summaries):
        log.info("%s on %s: %s, %s frames, %s FPS", entry["type"], name, summary.get("status"),
                 summary.get("frames"), summary.get("fps"))
    write_text(snakemake.output.done, json.dumps(  # noqa: F821
        {name: {k: s.get(k) for k in ("status", "frames", "fps")} for name, s in zip(datasets, summaries)},
        indent=2) + "\n")
