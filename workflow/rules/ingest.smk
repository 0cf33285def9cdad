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
    params:
        dataset=dataset_entry,
        on_error=config["ingest"]["on_error"],
        verify=config["ingest"]["verify"],
        out_dir=lambda wildcards, output: os.path.dirname(output.frames),
    threads: config["ingest"]["threads"]
    log:
        f"{LOGS}/ingest/{{dataset}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/ingest.py"


rule datasets_table:
    input:
        expand(f"{RESULTS}/manifests/{{dataset}}.summary.json", dataset=DATASETS),
    output:
        csv=f"{RESULTS}/tables/datasets.csv",
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
        f"{RESULTS}/plots/{{dataset}}_samples.png",
    params:
        sequences=config["plots"]["contact_sheet"]["sequences"],
        frames_per_sequence=config["plots"]["contact_sheet"]["frames_per_sequence"],
        seed=config["plots"]["contact_sheet"]["seed"],
    log:
        f"{LOGS}/contact_sheet/{{dataset}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/contact_sheet.py"
