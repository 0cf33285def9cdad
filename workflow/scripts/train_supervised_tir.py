"""The supervised TIR upper bound (rule train_supervised_tir): the teacher fine-tuned WITH TIR labels.

Leases a GPU first; resumes after a kill. Work under the ``__main__`` guard (forkserver workers).
"""

import json


def main(sm) -> None:
    from cmd_core.gpu_lease import leased_job

    with leased_job(sm.log[0], sm.params.settings, "supervised TIR upper bound") as (log, settings, device):
        from pathlib import Path

        from cmd_core.distill.supervised import train_supervised_tir

        summary = train_supervised_tir(sm.input.manifest, sm.input.teacher, Path(sm.output.checkpoint).parent,
                                       seed=int(sm.wildcards.seed), batch_size=int(sm.resources.batch_size),
                                       threads=sm.threads, device=device, final_path=sm.output.checkpoint,
                                       keep_epoch_checkpoints=False, progress=False, **settings)
        log.info("supervised TIR upper bound (uses labels): %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
