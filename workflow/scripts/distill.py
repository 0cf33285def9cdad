"""One distillation job (rule distill): lease a GPU first, then train (resumes after a kill).

The work is under the ``__main__`` guard: DataLoader workers start with forkserver and re-import
this file, where no ``snakemake`` object exists.
"""

import json


def main(sm) -> None:
    from cmd_core.gpu_lease import leased_job

    what = f"strategy {sm.wildcards.strategy} seed {sm.wildcards.seed}"
    with leased_job(sm.log[0], sm.params.settings, what) as (log, settings, device):
        from pathlib import Path

        from cmd_core.distill.train import distill

        strategy = dict(sm.params.strategy)  # this job's strategy alone (checked when the DAG was built)
        log.info("batch size %s, attempt %s", sm.resources.batch_size, getattr(sm, "attempt", 1))
        # one pair / frames manifest per distill dataset (several: pooled, each pair keeps its dataset)
        summary = distill(sm.wildcards.strategy, sm.input.pairs, sm.input.frames, sm.input.teacher,
                          Path(sm.output.checkpoint).parent, seed=int(sm.wildcards.seed),
                          batch_size=int(sm.resources.batch_size), threads=sm.threads, device=device,
                          final_path=sm.output.checkpoint, strategies={sm.wildcards.strategy: strategy},
                          pair_methods=[strategy["pairs"]], plot_path=sm.output.plot,
                          keep_epoch_checkpoints=False, progress=False, **settings)
        log.info("distilled: %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
