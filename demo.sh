#!/usr/bin/env bash
# Run the whole workflow on the embedded default (the synthetic RGB-T benchmark).
# Extra arguments go to snakemake, e.g. ./demo.sh -n (dry run) or ./demo.sh --forceall.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$root/tools/bootstrap-env.sh")"
export PATH="$venv/bin:$PATH"
cd "$root"
exec snakemake --cores all all "$@"
