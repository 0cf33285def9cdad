# Cross-modal distillation: one job per (strategy, seed) from the RGB teacher and the strategy's
# pair manifest, plus the supervised TIR upper bound (uses TIR labels). Each job leases a GPU itself
# (cmd_core.gpu_lease; CPU fallback); Snakemake only counts them (resources gpu=1). After a CUDA
# out-of-memory error the job is retried with half the batch size (resources batch_size, attempt).
# A killed job resumes from its newest per-epoch checkpoint. Helpers are in distill_common.smk.


rule distill:
    input:
        teacher=TEACHER_CHECKPOINT,
        pairs=distill_pairs,
        frames=manifest(DISTILL_DATASET, "frames") if DISTILL_DATASET else [],
    output:
        checkpoint=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/checkpoint.pth",
        log_csv=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/log.csv",
        plot=f"{DISTILL_DIR}/{{strategy}}/seed{{seed}}/loss.png",
    params:
        strategy=distill_strategy,  # a changed strategy re-runs its jobs
        strategies=DISTILL_STRATEGIES,
        pair_methods=PAIRS_METHODS,
        settings=distill_settings(),
    threads: DISTILL["threads"]
    resources:
        gpu=1,
        batch_size=distill_batch_size,
    retries: DISTILL["retries"]
    log:
        f"{LOGS}/distill/{{strategy}}_seed{{seed}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/distill.py"


rule train_supervised_tir:
    input:
        teacher=TEACHER_CHECKPOINT,
        manifest=manifest(SUPERVISED_TIR_DATASET, "frames") if SUPERVISED_TIR_DATASET else [],
    output:
        checkpoint=f"{SUPERVISED_TIR_DIR}/seed{{seed}}/checkpoint.pth",
        log_csv=f"{SUPERVISED_TIR_DIR}/seed{{seed}}/log.csv",
    params:
        settings=supervised_tir_settings(),
    threads: SUPERVISED_TIR["threads"]
    resources:
        gpu=1,
        batch_size=supervised_tir_batch_size,
    retries: DISTILL["retries"]
    log:
        f"{LOGS}/distill/supervised_tir_seed{{seed}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/train_supervised_tir.py"
