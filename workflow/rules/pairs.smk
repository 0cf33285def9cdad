# Unsupervised RGB-T pairs (cross-modal distillation supervision): for each distill dataset and
# each configured method, results/pairs/<dataset>/<method>.parquet (+ .boxes.parquet, .summary.json),
# a quality report against the hidden ground truth and a contact sheet per method.


rule pairs:
    input:
        frames=manifest("{dataset}", "frames"),
    output:
        pairs=pairs_file("{dataset}", "{method}"),
        boxes=pairs_file("{dataset}", "{method}", ".boxes.parquet"),
        summary=pairs_file("{dataset}", "{method}", ".summary.json"),
    log:
        f"{LOGS}/pairs/{{dataset}}_{{method}}.log",
    # every distillation job waits for its pairs, and the teacher is trained meanwhile
    priority: 80
    conda:
        CONDA_ENV
    threads: PAIRS_CONFIG["threads"]
    params:
        pairs_config=pairs_job_config,  # this method's settings only
    script:
        "../scripts/pairs.py"


rule pairs_quality:
    input:
        pairs_quality_inputs,
    output:
        csv=report(f"{RESULTS}/tables/pairs_quality.csv", caption=f"{CAPTIONS}/pairs_quality.rst", category="Pairs"),
        md=f"{RESULTS}/tables/pairs_quality.md",
    log:
        f"{LOGS}/pairs/quality.log",
    conda:
        CONDA_ENV
    params:
        runs=pairs_quality_runs(),
    script:
        "../scripts/pairs_quality.py"


rule pairs_contact_sheet:
    input:
        pairs=pairs_file("{dataset}", "{method}"),
        boxes=pairs_file("{dataset}", "{method}", ".boxes.parquet"),
        frames=manifest("{dataset}", "frames"),
    output:
        report(
            f"{RESULTS}/plots/pairs_{{dataset}}_{{method}}.png",
            caption=f"{CAPTIONS}/pairs_contact_sheet.rst",
            category="Pairs",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/pairs/contact_sheet_{{dataset}}_{{method}}.log",
    conda:
        CONDA_ENV
    params:
        n=PAIRS_CONFIG["contact_sheet"]["pairs"],
        seed=PAIRS_CONFIG["contact_sheet"]["seed"],
    script:
        "../scripts/pairs_contact_sheet.py"
