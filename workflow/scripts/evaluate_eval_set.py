"""Evaluate every experiment tracker on one TIR evaluation set (rule evaluate_eval_set); the rows
tracked on the RGB frames of a paired set (teacher and baselines) are scored against the RGB ground truth.

Writes the evaluation toolkit's report into results/eval/<dataset>/ and a long score table with one
row per tracker, labelled with its kind, strategy, seed, pair method, component and (students) what
it trained for the comparison tables.
"""

from pathlib import Path

import pandas as pd

from cmd_core.evaluation import evaluate_results, read_manifest_attributes, write_report
from cmd_core.io import write_text
from cmd_core.logs import job_logging

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    trackers = snakemake.params.trackers  # noqa: F821
    frames = snakemake.input.frames  # noqa: F821
    dataset = snakemake.wildcards.dataset  # noqa: F821
    out_dir = Path(snakemake.output.scores).parent  # noqa: F821
    evals, missing = [], {}
    for modality in ("tir", "rgb"):  # each tracker is scored against the ground truth of the frames it saw
        group = {name: t["results"] for name, t in trackers.items() if t.get("modality", "tir") == modality}
        if group:
            ev, miss = evaluate_results(snakemake.params.protocol, frames, group,  # noqa: F821
                                        gt_format="manifest", column_prefix=f"gt_{modality}_")
            evals += ev
            missing.update(miss)
    attributes = read_manifest_attributes(frames, evals[0].sequences)
    scores = write_report(out_dir, evals, attributes, missing, plots=True).set_index("tracker")
    rows = []
    for name, meta in trackers.items():
        row = {k: meta.get(k) for k in ("kind", "strategy", "seed", "pair_method", "component", "backbone", "epochs",
                                        "samples_per_epoch", "train_log", "teacher_seed")}
        row.update(eval_set=dataset, tracker=meta["label"], eval_tracker=name, eval_dir=str(out_dir),
                   **{k: scores.loc[name, k] for k in ("success", "precision", "norm_precision")})
        rows.append(row)
    write_text(snakemake.output.long, pd.DataFrame(rows).to_csv(index=False))  # noqa: F821
    log.info("%s: %d trackers evaluated\n%s", dataset, len(rows), scores.to_string())
