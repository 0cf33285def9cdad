"""Train the RGB teacher (rule train_teacher): lease a GPU first, then train; resumes from the
last per-epoch checkpoint.

The work is under the ``__main__`` guard: DataLoader workers start with forkserver and re-import
this file, where no ``snakemake`` object exists.
"""

import json
import os

# Passive OpenMP waiting: several jobs sharing few cores otherwise spin-wait and run ~10x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(sm) -> None:
    from cmd_core.gpu_lease import lease_gpu

    lease = lease_gpu()  # before anything initialises CUDA
    from cmd_core.logs import job_logging
    from cmd_core.training.teacher import train_teacher

    with job_logging(sm.log[0]) as log:
        settings = dict(sm.params.settings)
        device = settings.pop("device")
        device = lease.device if device in ("auto", "cuda") else device
        log.info("teacher on %s (GPU lease: %s)", device, lease.reason)
        summary = train_teacher(sm.input.manifest, sm.params.out_dir, preset=settings.pop("preset"),
                                device=device, threads=sm.threads, resume=True,
                                plot_path=sm.output.plot, final_path=sm.output.checkpoint, **settings)
        log.info("teacher trained: %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
