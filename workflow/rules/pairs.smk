# Unsupervised RGB-T pairs (cross-modal distillation supervision): for each distill dataset and
# each configured method, results/pairs/<dataset>/<method>.parquet (+ .boxes.parquet, .summary.json),
# a quality report against the hidden ground truth and a contact sheet per method.
# Helpers (PAIRS_METHODS, DISTILL_DATASETS, pairs_targets, ...) are in pairs_common.smk.


rule pairs:
    input:
        frames=manifest("{dataset}", "frames"),
    output:
        pairs=pairs_file("{dataset}", "{method}"),
        boxes=pairs_file("{dataset}", "{method}", ".boxes.parquet"),
        summary=pairs_file("{dataset}", "{method}", ".summary.json"),
    params:
        pairs_config=PAIRS_CONFIG,
    threads: PAIRS_CONFIG.get("threads", 2)
    log:
        f"{LOGS}/pairs/{{dataset}}_{{method}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/pairs.py"


rule pairs_quality:
    input:
        pairs_quality_inputs,
    output:
        csv=f"{RESULTS}/tables/pairs_quality.csv",
        md=f"{RESULTS}/tables/pairs_quality.md",
    params:
        runs=pairs_quality_runs(),
    log:
        f"{LOGS}/pairs/quality.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/pairs_quality.py"


rule pairs_contact_sheet:
    input:
        pairs=pairs_file("{dataset}", "{method}"),
        boxes=pairs_file("{dataset}", "{method}", ".boxes.parquet"),
        frames=manifest("{dataset}", "frames"),
    output:
        f"{RESULTS}/plots/pairs_{{dataset}}_{{method}}.png",
    params:
        n=(PAIRS_CONFIG.get("contact_sheet") or {}).get("pairs", 8),
        seed=(PAIRS_CONFIG.get("contact_sheet") or {}).get("seed", 0),
    log:
        f"{LOGS}/pairs/contact_sheet_{{dataset}}_{{method}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/pairs_contact_sheet.py"
