"""The supervised TIR upper bound (rule train_supervised_tir): the teacher fine-tuned WITH TIR labels.

Leases a GPU first; resumes after a kill. Work under the ``__main__`` guard (forkserver workers).
"""

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(sm) -> None:
    from cmd_core.gpu_lease import lease_gpu

    lease = lease_gpu()
    from pathlib import Path

    from cmd_core.distill.supervised import train_supervised_tir
    from cmd_core.logs import job_logging

    with job_logging(sm.log[0]) as log:
        settings = dict(sm.params.settings)
        device = settings.pop("device")
        device = lease.device if device in ("auto", "cuda") else device
        log.info("supervised TIR upper bound on %s (GPU lease: %s)", device, lease.reason)
        summary = train_supervised_tir(sm.input.manifest, sm.input.teacher, Path(sm.output.checkpoint).parent,
                                       seed=int(sm.wildcards.seed), batch_size=int(sm.resources.batch_size),
                                       threads=sm.threads, device=device, final_path=sm.output.checkpoint,
                                       keep_epoch_checkpoints=False, progress=False, **settings)
        log.info("supervised TIR upper bound (uses labels): %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
