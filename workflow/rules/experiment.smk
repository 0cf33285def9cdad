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
    params:
        trackers=experiment_tracker_meta,
        protocol=EXPERIMENT["protocol"],
        version=library_version(),
    log:
        f"{LOGS}/evaluate/experiment_{{dataset}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/evaluate_eval_set.py"


rule compare:
    input:
        expand(f"{RESULTS}/eval/{{dataset}}/scores_long.csv", dataset=EVAL_SETS),
    output:
        comparison=report(
            f"{RESULTS}/tables/comparison.csv",
            caption="../report/comparison.rst",
            category="Comparison",
        ),
        md=f"{RESULTS}/tables/comparison.md",
    params:
        protocol=EXPERIMENT["protocol"],
        margin=EXPERIMENT["claim_margin_points"],
        plots=f"{RESULTS}/plots/experiment",
    log:
        f"{LOGS}/compare.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/compare.py"


rule training_throughput:
    input:
        logs=lambda wildcards: [job[3] for job in experiment_training_jobs()],
    output:
        summary=report(
            f"{RESULTS}/tables/training_throughput.csv",
            caption="../report/training_throughput.rst",
            category="Training",
        ),
        md=f"{RESULTS}/tables/training_throughput.md",
        jobs=f"{RESULTS}/tables/training_throughput_jobs.csv",
    params:
        jobs=lambda wildcards: [list(job) for job in experiment_training_jobs()],
    log:
        f"{LOGS}/training_throughput.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/training_throughput.py"
