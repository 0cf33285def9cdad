"""Generate the synthetic RGB-T benchmark (thin wrapper around cmd_core.synth)."""

from pathlib import Path

from cmd_core.logs import job_logging
from cmd_core.synth import SynthConfig, generate_benchmark

with job_logging(snakemake.log[0]) as log:  # noqa: F821  (snakemake is injected)
    settings = {k: v for k, v in snakemake.params.synthetic.items() if k != "enabled"}  # noqa: F821
    cfg = SynthConfig.from_mapping(settings)
    out_dir = Path(snakemake.output[0]).parent  # noqa: F821
    info = generate_benchmark(out_dir, cfg, threads=snakemake.threads)  # noqa: F821
    log.info("synthetic benchmark written to %s: %s", out_dir, list(info.get("splits", {})))
