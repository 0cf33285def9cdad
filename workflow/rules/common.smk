# Config validation, the dataset registry and shared helpers for all rules files.

import hashlib
import os
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

RESULTS = config["results"]
SYNTH_DIR = f"{RESULTS}/data/synthetic"
SYNTH_MARKER = f"{SYNTH_DIR}/synth.json"
LOGS = f"{RESULTS}/logs"
CONDA_ENV = "../envs/cmd-tir.yaml"

# The synthetic benchmark's four splits, each ingested with the adapter of its real layout.
SYNTH_SPLITS = {
    "rgb_train": "teacher_train",
    "rgbt_train": "distill",
    "tir_eval": "eval_tir",
    "rgbt_eval": "eval_rgbt",
}


def _dataset_registry():
    """All datasets of this run: the synthetic splits (when enabled) plus the configured ones."""
    datasets = {}
    if config["synthetic"]["enabled"]:
        for split, purpose in SYNTH_SPLITS.items():
            datasets[f"synth_{split}"] = {
                "format": "synthetic",
                "root": f"{SYNTH_DIR}/{split}",
                "split": split,
                "purpose": purpose,
                "options": {},
                "synthetic": True,
            }
    for name, entry in config["datasets"].items():
        if name in datasets:
            raise ValueError(f"config: dataset name {name!r} is reserved for the synthetic benchmark")
        datasets[name] = dict(entry, synthetic=False)
    return datasets


DATASETS = _dataset_registry()


wildcard_constraints:
    dataset="|".join(DATASETS) if DATASETS else "NO_DATASETS",


def dataset_entry(wildcards):
    return DATASETS[wildcards.dataset]


def dataset_inputs(wildcards):
    """A synthetic dataset depends on the generator's completion marker; a real one on nothing."""
    return [SYNTH_MARKER] if DATASETS[wildcards.dataset]["synthetic"] else []


def library_version():
    """A hash of the library sources: rules that list it in params re-run when the code changes."""
    digest = hashlib.sha256()
    root = Path(workflow.basedir).parent / "cmd_core"
    for path in sorted(root.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def manifest(dataset, kind="frames"):
    return f"{RESULTS}/manifests/{dataset}.{kind}.parquet"


def ingest_targets():
    """Every manifest, the datasets table and one contact sheet per dataset."""
    if not DATASETS:
        return []
    return [
        expand(manifest("{dataset}", "frames"), dataset=DATASETS),
        f"{RESULTS}/tables/datasets.csv",
        f"{RESULTS}/tables/datasets.md",
        expand(f"{RESULTS}/plots/{{dataset}}_samples.png", dataset=DATASETS),
    ]


# Evaluation runs of external tracker outputs (rule evaluate_external).
EVALUATION_RUNS = (config.get("evaluation") or {}).get("runs") or {}
EVALUATION_TABLES = ["scores.csv", "scores.md", "scores.tex", "per_attribute.csv", "curves.parquet", "missing.csv"]
EVALUATION_PLOTS = ["success.png", "precision.png", "attributes.png"]


def evaluation_targets():
    """All outputs of every configured evaluation run (empty list when none is configured)."""
    targets = []
    for run in EVALUATION_RUNS:
        targets += [f"{RESULTS}/tables/{run}/{name}" for name in EVALUATION_TABLES]
        targets += [f"{RESULTS}/plots/{run}/{name}" for name in EVALUATION_PLOTS]
    return targets


def _evaluation_inputs(wildcards):
    """The files a run reads, so a changed sequence list or attribute folder reruns it."""
    run = EVALUATION_RUNS[wildcards.run]
    return [run[k] for k in ("sequences",) if run.get(k)]


include: "pairs_common.smk"
include: "train_common.smk"
include: "distill_common.smk"
include: "experiment_common.smk"
include: "track_common.smk"
