#!/usr/bin/env bash
# Run the whole workflow on the embedded default (the synthetic RGB-T benchmark).
# Extra arguments go to snakemake, e.g. ./demo.sh -n (dry run) or ./demo.sh --forceall.
# --cores 8 even on a 2-core laptop: jobs spend part of their time starting up, loading data and in
# Python, so running more of them than cores keeps the CPUs busy (55-60 min on 2
# cores). --resources gpu=2 lets two GPU jobs run at once; each leases its own GPU or uses the CPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$root/tools/bootstrap-env.sh")"
export PATH="$venv/bin:$PATH"
cd "$root"
exec snakemake all --cores 8 --resources gpu=2 "$@"
