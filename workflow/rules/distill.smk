# Cross-modal distillation: one job per (strategy, seed) from the RGB teacher and the strategy's
# pair manifest, plus the supervised TIR upper bound (uses TIR labels). Each job leases a GPU itself
# (cmd_core.gpu_lease; CPU fallback); Snakemake only counts them (resources gpu=1). After a CUDA
# out-of-memory error the job is retried with half the batch size (resources batch_size, attempt).
# A killed job resumes from its newest per-epoch checkpoint. Helpers are in common.smk.


rule distill:
    input:
        unpack(distill_inputs),
    output:
        checkpoint=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/checkpoint.pth",
        log_csv=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/log.csv",
        plot=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/loss.png",
    log:
        f"{LOGS}/distill/{{strategy}}_seed{{seed}}.log",
    retries: DISTILL["retries"]
    conda:
        CONDA_ENV
    threads: DISTILL["threads"]
    resources:
        gpu=1,
        batch_size=retry_batch_size(DISTILL),
    params:
        # this job's own strategy only: editing one strategy reruns its jobs and their consumers alone
        strategy=lambda wildcards: DISTILL_STRATEGIES[wildcards.strategy],
        settings={k: DISTILL[k] for k in ("epochs", "samples_per_epoch", "device")},
    script:
        "../scripts/distill.py"


rule train_supervised_tir:
    input:
        unpack(supervised_tir_inputs),
    output:
        checkpoint=f"{SUPERVISED_TIR_DIR}/seed{{seed}}/checkpoint.pth",
        log_csv=f"{SUPERVISED_TIR_DIR}/seed{{seed}}/log.csv",
    log:
        f"{LOGS}/distill/supervised_tir_seed{{seed}}.log",
    # The longest job after the teacher (16 x 256 samples against 3 x 64 per student): it starts
    # before the students so that its tracking does not end the run alone.
    priority: 90
    retries: DISTILL["retries"]
    conda:
        CONDA_ENV
    threads: SUPERVISED_TIR["threads"]
    resources:
        gpu=1,
        batch_size=retry_batch_size(SUPERVISED_TIR),
    params:
        settings={k: SUPERVISED_TIR[k] for k in ("epochs", "samples_per_epoch", "device", "lr_scale")},
    script:
        "../scripts/train_supervised_tir.py"
