"""Generate the synthetic RGB-T benchmark (thin wrapper around cmd_core.synth)."""

from pathlib import Path

from cmd_core.logs import job_logging
from cmd_core.synth import SynthConfig, generate_benchmark


def main(smk) -> None:
    with job_logging(smk.log[0]) as log:
        cfg = SynthConfig.from_mapping(dict(smk.params.synthetic))
        out_dir = Path(smk.output[0]).parent
        info = generate_benchmark(out_dir, cfg, threads=smk.threads)
        log.info("synthetic benchmark written to %s: %s", out_dir, list(info.get("splits", {})))


# The generator's worker processes re-import this file as __mp_main__: run only in the job itself.
if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (snakemake is injected)
