#!/usr/bin/env bash
# Run the test suite (creates or reuses the virtual environment first).
# Extra arguments go to pytest, e.g. ./test.sh -k evaluation.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$root/tools/bootstrap-env.sh")"
export PATH="$venv/bin:$PATH"
cd "$root"
exec python -m pytest -n 2 "$@"
