# Supervised training of the RGB teacher (DiMP) on the labelled teacher_train dataset.
# Per-epoch checkpoints stay in results/models/teacher/, so a killed job resumes where it stopped.


rule train_teacher:
    input:
        manifest=teacher_manifest(),
    output:
        checkpoint=f"{TEACHER_DIR}/checkpoint.pth",
        log_csv=TEACHER_LOG_CSV,
        plot=TEACHER_LOSS_PLOT,
    params:
        settings=teacher_settings(),
        out_dir=lambda wildcards, output: os.path.dirname(output.checkpoint),
    threads: TEACHER["threads"]
    resources:
        gpu=1,
    log:
        f"{LOGS}/train/teacher.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/train_teacher.py"
