# The experiment: every tracker of the comparison (RGB teacher on TIR, each distillation strategy
# and seed, the supervised TIR upper bound, the classic baselines) is evaluated on each TIR
# evaluation set with the configured benchmark protocol, then gathered into comparison tables.


rule evaluate_eval_set:
    input:
        experiment_eval_inputs,
        frames=manifest("{dataset}", "frames"),
    output:
        scores=f"{RESULTS}/eval/{{dataset}}/scores.csv",
        long=f"{RESULTS}/eval/{{dataset}}/scores_long.csv",
        curves=f"{RESULTS}/eval/{{dataset}}/curves.parquet",
        per_attribute=f"{RESULTS}/eval/{{dataset}}/per_attribute.csv",
    log:
        f"{LOGS}/evaluate/experiment_{{dataset}}.log",
    conda:
        CONDA_ENV
    params:
        trackers=experiment_tracker_meta,
        protocol=EXPERIMENT["protocol"],
    script:
        "../scripts/evaluate_eval_set.py"


rule compare:
    input:
        expand(f"{RESULTS}/eval/{{dataset}}/scores_long.csv", dataset=EVAL_SETS),
    output:
        **compare_outputs(),
    log:
        f"{LOGS}/compare.log",
    conda:
        CONDA_ENV
    params:
        protocol=EXPERIMENT["protocol"],
        margin=EXPERIMENT["claim_margin_points"],
    script:
        "../scripts/compare.py"


rule training_throughput:
    input:
        logs=[job[3] for job in experiment_training_jobs()],
    output:
        summary=report(
            f"{RESULTS}/tables/training_throughput.csv",
            caption=f"{CAPTIONS}/training_throughput.rst",
            category="Training",
        ),
        md=f"{RESULTS}/tables/training_throughput.md",
        jobs=report(
            f"{RESULTS}/tables/training_throughput_jobs.csv",
            caption=f"{CAPTIONS}/training_throughput.rst",
            category="Training",
        ),
    log:
        f"{LOGS}/training_throughput.log",
    conda:
        CONDA_ENV
    params:
        jobs=[list(job) for job in experiment_training_jobs()],
    script:
        "../scripts/training_throughput.py"
