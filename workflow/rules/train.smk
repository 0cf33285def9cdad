# Supervised training of the RGB teacher (DiMP) on the labelled teacher_train dataset, and of its
# variants (other seeds, random backbone weights: training.teacher.extra_seeds, experiment.random_init_teacher).
# Per-epoch checkpoints stay in results/models/teacher/, so a killed job resumes where it stopped.
# The job leases a GPU itself (cmd_core.gpu_lease; CPU fallback); Snakemake counts it (gpu=1).


rule train_teacher:
    input:
        manifest=teacher_manifest,
    output:
        checkpoint=f"{TEACHER_DIR}/checkpoint.pth",
        log_csv=TEACHER_LOG_CSV,
        plot=report(TEACHER_LOSS_PLOT, caption=f"{CAPTIONS}/teacher_loss.rst", category="Training"),
    log:
        f"{LOGS}/train/teacher.log",
    # The critical path: every distillation job and the supervised bound wait for this teacher, so
    # it takes a GPU slot before the teacher variants (seeds, ablation) that only tracking needs.
    priority: 100
    conda:
        CONDA_ENV
    threads: TEACHER["threads"]
    resources:
        gpu=1,
    params:
        settings={k: TEACHER[k] for k in TEACHER_KEYS},
        out_dir=lambda wildcards, output: os.path.dirname(output.checkpoint),
    script:
        "../scripts/train_teacher.py"


rule train_teacher_variant:
    input:
        manifest=teacher_manifest,
    output:
        checkpoint=teacher_variant_checkpoint("{variant}"),
        log_csv=f"{teacher_variant_dir('{variant}')}/log.csv",
        plot=report(
            f"{RESULTS}/plots/teacher_variants/{{variant}}_loss.png",
            caption=f"{CAPTIONS}/teacher_loss.rst",
            category="Training",
        ),
    log:
        f"{LOGS}/train/{{variant}}.log",
    wildcard_constraints:
        variant="|".join(TEACHER_VARIANTS) or "no-variant",
    conda:
        CONDA_ENV
    threads: TEACHER["threads"]
    resources:
        gpu=1,
    params:
        settings=teacher_variant_settings,
        out_dir=lambda wildcards, output: os.path.dirname(output.checkpoint),
    script:
        "../scripts/train_teacher.py"
