# Ingestion: each dataset, in its native layout, becomes frame / object / rejected manifests,
# summarised in results/tables/datasets.csv and drawn as an RGB | TIR contact sheet.


rule ingest:
    input:
        dataset_inputs,
    output:
        frames=manifest("{dataset}", "frames"),
        objects=manifest("{dataset}", "objects"),
        rejected=manifest("{dataset}", "rejected"),
        summary=f"{RESULTS}/manifests/{{dataset}}.summary.json",
    log:
        f"{LOGS}/ingest/{{dataset}}.log",
    # Short jobs that everything waits for (the teacher's training set first of all): before any
    # tracking of the classic baselines takes the cores.
    priority: 100
    conda:
        CONDA_ENV
    threads: config["ingest"]["threads"]
    params:
        dataset=dataset_entry,
        on_error=config["ingest"]["on_error"],
        verify=config["ingest"]["verify"],
        out_dir=lambda wildcards, output: os.path.dirname(output.frames),
    script:
        "../scripts/ingest.py"


rule datasets_table:
    input:
        expand(f"{RESULTS}/manifests/{{dataset}}.summary.json", dataset=DATASETS),
    output:
        csv=report(f"{RESULTS}/tables/datasets.csv", caption=f"{CAPTIONS}/datasets_table.rst", category="Datasets"),
        md=f"{RESULTS}/tables/datasets.md",
    log:
        f"{LOGS}/datasets_table.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/datasets_table.py"


rule contact_sheet:
    input:
        frames=manifest("{dataset}", "frames"),
    output:
        report(
            f"{RESULTS}/plots/{{dataset}}_samples.png",
            caption=f"{CAPTIONS}/contact_sheets.rst",
            category="Datasets",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/contact_sheet/{{dataset}}.log",
    conda:
        CONDA_ENV
    params:
        **config["plots"]["contact_sheet"],
    script:
        "../scripts/contact_sheet.py"
