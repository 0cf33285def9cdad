# The embedded default: a synthetic RGB-T benchmark written in real dataset layouts.


rule synth:
    output:
        SYNTH_MARKER,
    log:
        f"{LOGS}/synth.log",
    conda:
        CONDA_ENV
    threads: config["synthetic"]["threads"]
    params:
        synthetic={k: v for k, v in config["synthetic"].items() if k not in ("enabled", "threads")},
    script:
        "../scripts/synth.py"
