# A container with the pinned environment of cmd-tir; building it runs the test suite.
#   docker build -t cmd-tir .
#   docker run --rm -v "$PWD/results:/opt/cmd-tir/results" cmd-tir snakemake all --cores 4
# (on a cluster: apptainer build cmd-tir.sif docker-daemon://cmd-tir:latest)
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /opt/cmd-tir

# Dependencies first (cached while only the code changes): the same pins as tools/bootstrap-env.sh.
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY cmd_core/ cmd_core/
RUN pip install -c requirements/constraints.txt -e ".[test]" \
 && pip install --no-deps -r requirements/no-deps.txt

COPY . .
RUN python -m pytest -q -n 2 tests

CMD ["snakemake", "--help"]
