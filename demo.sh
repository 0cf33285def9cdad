#!/usr/bin/env bash
# Run the whole workflow on the embedded default (the synthetic RGB-T benchmark).
# Extra arguments go to snakemake, e.g. ./demo.sh -n (dry run) or ./demo.sh --forceall.
# --cores: one job per CPU core. Every job of the default config uses one core (threads: 1): this
# model's many small operations gain little from a second thread and lose much when threads share
# cores (see config/README.md, "Threads"); 2 cores: about 35 min. --resources gpu=2 lets two GPU jobs
# run at once; each leases its own GPU or uses the CPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$root/tools/bootstrap-env.sh")"
export PATH="$venv/bin:$PATH"
cd "$root"
exec snakemake all --cores "${CMD_TIR_CORES:-$(nproc)}" --resources gpu=2 "$@"
