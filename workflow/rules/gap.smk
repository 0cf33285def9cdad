# The modality gap (cmd-tir gap) of every dataset with a TIR side, checked against the reference sets
# named in gap.references: how far the TIR images are from the RGB images, scene and object level.


rule gap:
    input:
        frames=lambda wildcards: [manifest(d) for d in GAP_DATASETS],
    output:
        csv=report(f"{RESULTS}/tables/gap.csv", caption=f"{CAPTIONS}/gap.rst", category="Datasets"),
        md=f"{RESULTS}/tables/gap.md",
        sequences=report(f"{RESULTS}/tables/gap_sequences.csv", caption=f"{CAPTIONS}/gap.rst", category="Datasets"),
        calibration=report(f"{RESULTS}/tables/gap_calibration.csv", caption=f"{CAPTIONS}/gap.rst", category="Datasets"),
        png=report(f"{RESULTS}/plots/gap.png", caption=f"{CAPTIONS}/gap.rst", category="Datasets"),
    log:
        f"{LOGS}/gap.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        datasets=GAP_DATASETS,
        references=GAP["references"],
        settings={k: GAP[k] for k in ("frames", "boxes_per_frame", "seed")},
    script:
        "../scripts/gap.py"
