"""Train the RGB teacher (rule train_teacher): lease a GPU first, then train; resumes from the
last per-epoch checkpoint.

The work is under the ``__main__`` guard: DataLoader workers start with forkserver and re-import
this file, where no ``snakemake`` object exists.
"""

import json


def main(sm) -> None:
    from cmd_core.gpu_lease import leased_job

    with leased_job(sm.log[0], sm.params.settings, "teacher") as (log, settings, device):
        from cmd_core.training.teacher import train_teacher

        summary = train_teacher(sm.input.manifest, sm.params.out_dir, preset=settings.pop("preset"),
                                device=device, threads=sm.threads, resume=True,
                                plot_path=sm.output.plot, final_path=sm.output.checkpoint, **settings)
        log.info("teacher trained: %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
