"""Run one configured tracker on every dataset it tracks, in one process (rule track): each dataset's
results go to <results>/<dataset>/ with its summary <results>/<dataset>.done.json; the job's own
marker lists the datasets and their totals. A DiMP tracker on device auto / cuda leases a GPU first."""

import json
import os


def main(sm) -> None:
    from cmd_core.gpu_lease import leased_job

    entry = sm.params.tracker
    asked = sm.params.device if entry["type"] == "dimp" else "cpu"
    what = f"{entry['type']} tracker {sm.wildcards.tracker}"
    with leased_job(sm.log[0], {"device": asked}, what, lease=asked != "cpu") as job:
        log, _, device = job
        from cmd_core.io import write_text
        from cmd_core.tracking.api import track_sets

        out, frames, datasets = sm.output.results, sm.input.frames, sm.params.datasets
        manifests = [frames] if isinstance(frames, str) else list(frames)
        sets = [{"manifest": m, "out": os.path.join(out, name), "marker": os.path.join(out, f"{name}.done.json")}
                for name, m in zip(datasets, manifests)]
        summaries = track_sets(sets, entry["modality"], entry["type"], preset=entry["preset"],
                               checkpoint=getattr(sm.input, "checkpoint", None),
                               allow_untrained=entry["allow_untrained"], threads=sm.threads, device=device,
                               integer=sm.params.integer, batch=sm.params.batch if entry["type"] == "dimp" else None)
        for name, summary in zip(datasets, summaries):
            log.info("%s on %s: %s, %s frames, %s FPS", entry["type"], name, summary.get("status"),
                     summary.get("frames"), summary.get("fps"))
        totals = {name: {k: s.get(k) for k in ("status", "frames", "fps")} for name, s in zip(datasets, summaries)}
        write_text(sm.output.done, json.dumps(totals, indent=2) + "\n")


main(snakemake)  # noqa: F821  (injected by Snakemake)
