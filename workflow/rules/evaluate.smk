# Evaluation of external tracker outputs on a benchmark, with that benchmark's own protocol.
# config["evaluation"]["runs"]: {run: {protocol, gt, gt_format, sequences, attributes, results: {TRACKER: DIR}}}


rule evaluate_external:
    input:
        evaluation_inputs,
    output:
        scores=f"{RESULTS}/tables/{{run}}/scores.csv",
        md=f"{RESULTS}/tables/{{run}}/scores.md",
        tex=f"{RESULTS}/tables/{{run}}/scores.tex",
        per_attribute=f"{RESULTS}/tables/{{run}}/per_attribute.csv",
        curves=f"{RESULTS}/tables/{{run}}/curves.parquet",
        missing=f"{RESULTS}/tables/{{run}}/missing.csv",
        success=f"{RESULTS}/plots/{{run}}/success.png",
        precision=f"{RESULTS}/plots/{{run}}/precision.png",
        attributes=f"{RESULTS}/plots/{{run}}/attributes.png",
    log:
        f"{LOGS}/evaluate/{{run}}.log",
    conda:
        CONDA_ENV
    params:
        run=lambda wildcards: EVALUATION_RUNS[wildcards.run],
        plot_dir=lambda wildcards: f"{RESULTS}/plots/{wildcards.run}",
    script:
        "../scripts/evaluate.py"
