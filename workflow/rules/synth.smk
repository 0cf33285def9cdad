# The embedded default: a synthetic RGB-T benchmark written in real dataset layouts.


rule synth:
    output:
        SYNTH_MARKER,
    params:
        synthetic=config["synthetic"],
    threads: workflow.cores
    log:
        f"{LOGS}/synth.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/synth.py"
