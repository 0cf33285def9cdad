# Config validation, the dataset registry and every helper of the rules files (the rules files
# hold rules only). Defaults and checks come from the schema shipped with the library
# (cmd_core/config_schema/config.schema.yaml); the dataset-for-a-purpose choice, the pair job
# config and the strategy check are tested library functions (cmd_core.config_schema, cmd_core.pairs.config).
#
# Params hold only what changes a job's output (a strategy's job holds its own strategy, a pair
# job its own method), so a config edit reruns exactly the jobs it affects and their consumers.
# Library code is not hashed into params (see README, "Reruns").

import os

from cmd_core.config_schema import (
    dataset_registry,
    purpose_dataset,
    purpose_datasets,
    resolve_strategies,
    validate_config,
)
from cmd_core.evaluation.protocols import get_protocol
from cmd_core.pairs.config import job_config, load_config

validate_config(config)  # fills every default in place; a bad or unknown key stops here, named by its path

RESULTS = config["results"]
SYNTH_DIR = f"{RESULTS}/data/synthetic"
SYNTH_MARKER = f"{SYNTH_DIR}/synth.json"
LOGS = f"{RESULTS}/logs"
CONDA_ENV = "../envs/cmd-tir.yaml"
CAPTIONS = "../report"

# ----------------------------------------------------------------------------- datasets
# The synthetic splits (when enabled) plus the configured datasets; a missing root or a reserved
# synth_ name is refused here, when the DAG is built.
DATASETS = dataset_registry(config, SYNTH_DIR)


wildcard_constraints:
    dataset="|".join(DATASETS) if DATASETS else "NO_DATASETS",
    seed=r"\d+",


def dataset_entry(wildcards):
    return DATASETS[wildcards.dataset]


def dataset_inputs(wildcards):
    """A synthetic dataset depends on the generator's completion marker; a real one on nothing."""
    return [SYNTH_MARKER] if DATASETS[wildcards.dataset]["synthetic"] else []


def datasets_of(*purposes):
    return [name for name, entry in DATASETS.items() if entry["purpose"] in purposes]


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


# ----------------------------------------------------------------------------- modality gap
# Every dataset with a TIR side, plus the reference sets (real data) it is checked against.
GAP = config["gap"]
if set(GAP["references"]) - set(DATASETS):
    raise ValueError(
        "config gap.references names no configured dataset: "
        + ", ".join(sorted(set(GAP["references"]) - set(DATASETS)))
    )
GAP_DATASETS = list(dict.fromkeys(datasets_of("distill", "eval_tir", "eval_rgbt") + list(GAP["references"])))


def gap_targets():
    if not GAP["enabled"] or not GAP_DATASETS:
        return []
    return [f"{RESULTS}/tables/gap.md", f"{RESULTS}/plots/gap.png"]


# ----------------------------------------------------------------------------- pairs
# Pairs are made for every dataset whose purpose is distill, by every method under pairs.methods.
PAIRS_CONFIG = load_config(config["pairs"])
PAIRS_METHODS = list(PAIRS_CONFIG["methods"])
DISTILL_DATASETS = datasets_of("distill")


wildcard_constraints:
    method="|".join(PAIRS_METHODS),


def pairs_file(dataset, method, suffix=".parquet"):
    """results/pairs/<dataset>/<method><suffix> (suffix .parquet, .boxes.parquet, .summary.json)."""
    return f"{RESULTS}/pairs/{dataset}/{method}{suffix}"


def pairs_job_config(wildcards):
    """The pairs settings one method's job reads (its own method only)."""
    return job_config(PAIRS_CONFIG, wildcards.method)


def pairs_quality_runs():
    """Every (distill dataset, method) run the quality report covers, with its GT manifests."""
    return [
        {
            "pairs": pairs_file(d, m),
            "boxes": pairs_file(d, m, ".boxes.parquet"),
            "summary": pairs_file(d, m, ".summary.json"),
            "objects": manifest(d, "objects"),
            "frames": manifest(d, "frames"),
        }
        for d in DISTILL_DATASETS
        for m in PAIRS_METHODS
    ]


def pairs_quality_inputs(wildcards):
    """All files pairs_quality reads (the quality report alone reads the GT manifests)."""
    return sorted({path for run in pairs_quality_runs() for path in run.values()})


def pairs_targets():
    """Every pair manifest, the quality table and one contact sheet per dataset and method."""
    if not DISTILL_DATASETS:
        return []
    return [
        expand(pairs_file("{dataset}", "{method}"), dataset=DISTILL_DATASETS, method=PAIRS_METHODS),
        f"{RESULTS}/tables/pairs_quality.csv",
        f"{RESULTS}/tables/pairs_quality.md",
        expand(f"{RESULTS}/plots/pairs_{{dataset}}_{{method}}.png", dataset=DISTILL_DATASETS, method=PAIRS_METHODS),
    ]


# ----------------------------------------------------------------------------- teacher
TEACHER = config["training"]["teacher"]
TEACHER_DIR = f"{RESULTS}/models/teacher"
# An existing checkpoint (official DiMP weights, say) replaces the trained teacher when configured.
TEACHER_TRAINED = TEACHER["checkpoint"] is None
TEACHER_CHECKPOINT = f"{TEACHER_DIR}/checkpoint.pth" if TEACHER_TRAINED else TEACHER["checkpoint"]
TEACHER_LOG_CSV = f"{TEACHER_DIR}/log.csv"
TEACHER_LOSS_PLOT = f"{RESULTS}/plots/teacher_loss.png"
TEACHER_KEYS = ("modality", "preset", "epochs", "samples_per_epoch", "batch_size", "device", "seed", "backbone_weights")
# More teachers of the experiment, trained like the teacher but for one setting: other seeds (their rows
# join the teacher's, mean +- std over teacher seeds) and, as an ablation, random backbone weights.
TEACHER_VARIANTS = {}
if TEACHER_TRAINED:
    TEACHER_VARIANTS = {f"teacher-s{seed}": {"seed": seed} for seed in TEACHER["extra_seeds"]}
    if config["experiment"]["random_init_teacher"]:
        TEACHER_VARIANTS["teacher-random"] = {"backbone_weights": "random"}


def teacher_variant_dir(variant):
    return f"{RESULTS}/models/teacher_variants/{variant}"


def teacher_variant_checkpoint(variant):
    return f"{teacher_variant_dir(variant)}/checkpoint.pth"


def teacher_variant_settings(wildcards):
    """The teacher's training settings with the variant's one change."""
    return dict({k: TEACHER[k] for k in TEACHER_KEYS}, **TEACHER_VARIANTS[wildcards.variant])


def teacher_manifest(wildcards):
    """The teacher's dataset is demanded only when the teacher is trained (an evaluation-only run needs none)."""
    name = purpose_dataset(DATASETS, "teacher_train", TEACHER["dataset"], "training.teacher.dataset", required=True)
    return manifest(name, "frames")


# ----------------------------------------------------------------------------- distillation
EXPERIMENT = config["experiment"]
DISTILL = config["distill"]
SUPERVISED_TIR = config["supervised_tir"]
DISTILL_SEEDS = DISTILL["seeds"]
# Each strategy checked once, here, by the library's check (same messages as cmd-tir distill).
DISTILL_STRATEGIES = resolve_strategies(DISTILL["strategies"], PAIRS_METHODS) if DISTILL["strategies"] else {}
DISTILL_DIR = f"{RESULTS}/models/distill"
SUPERVISED_TIR_DIR = f"{RESULTS}/models/supervised_tir"
# The datasets are looked up only when the experiment runs (nothing else needs them).
# DISTILL_DATASET: the list of distill datasets (distill.dataset: one name or a list, pooled), or None.
DISTILL_DATASET = (
    purpose_datasets(DATASETS, "distill", DISTILL["dataset"], "distill.dataset")
    if EXPERIMENT["enabled"] and DISTILL_STRATEGIES
    else None
)
SUPERVISED_TIR_DATASET = (
    purpose_dataset(DATASETS, "distill", SUPERVISED_TIR["dataset"], "supervised_tir.dataset")
    if EXPERIMENT["enabled"] and SUPERVISED_TIR["enabled"]
    else None
)


wildcard_constraints:
    strategy="|".join(DISTILL_STRATEGIES) if DISTILL_STRATEGIES else "NO_STRATEGIES",


def distill_dir(strategy, seed):
    """results/models/distill/<strategy>/seed<seed> (checkpoint.pth, log.csv, loss.png)."""
    return f"{DISTILL_DIR}/{strategy}/seed{seed}"


def supervised_tir_checkpoint(seed):
    return f"{SUPERVISED_TIR_DIR}/seed{seed}/checkpoint.pth"


def distill_inputs(wildcards):
    """The teacher, and per distill dataset (pooled when distill.dataset is a list) the pair manifest
    of the strategy's pair method and the frames manifest, in the same order."""
    datasets = DISTILL_DATASET or purpose_datasets(
        DATASETS, "distill", DISTILL["dataset"], "distill.dataset", required=True
    )
    method = DISTILL_STRATEGIES[wildcards.strategy]["pairs"]
    return {
        "teacher": TEACHER_CHECKPOINT,
        "pairs": [pairs_file(d, method) for d in datasets],
        "frames": [manifest(d, "frames") for d in datasets],
    }


def supervised_tir_inputs(wildcards):
    dataset = SUPERVISED_TIR_DATASET or purpose_dataset(
        DATASETS, "distill", SUPERVISED_TIR["dataset"], "supervised_tir.dataset", required=True
    )
    return {"teacher": TEACHER_CHECKPOINT, "manifest": manifest(dataset, "frames")}


def retry_batch_size(section):
    """A batch size halved on each retry (CUDA out of memory), as a resources function."""
    return lambda wildcards, attempt: max(1, int(section["batch_size"]) // (2 ** (attempt - 1)))


def distill_targets():
    """Every (strategy, seed) checkpoint and log, and the supervised upper bound's."""
    targets = []
    if DISTILL_DATASET:
        for s in DISTILL_STRATEGIES:
            targets += [
                f"{distill_dir(s, seed)}/{name}" for seed in DISTILL_SEEDS for name in ("checkpoint.pth", "log.csv")
            ]
    if SUPERVISED_TIR_DATASET:
        targets += [supervised_tir_checkpoint(seed) for seed in SUPERVISED_TIR["seeds"]]
    return targets


# ----------------------------------------------------------------------------- experiment
# Which trackers are compared on which evaluation sets, and how each tracker's row is labelled.
EVAL_SETS = datasets_of(*EXPERIMENT["eval_purposes"])
EXPERIMENT_PLOTS = f"{RESULTS}/plots/experiment"
EXPERIMENT_TABLES = ["comparison", "ablation_pairs", "ablation_components", "per_attribute"]


def _dimp_tracker(checkpoint, modality="tir", **meta):
    """A DiMP tracker of the experiment with the experiment's tracking preset."""
    entry = {"type": "dimp", "preset": EXPERIMENT["tracker_preset"], "checkpoint": checkpoint}
    return dict(entry, modality=modality, allow_untrained=False, meta=meta)


def _baseline_tracker(name, modality, **meta):
    """A classic baseline of the experiment (MIL, static, ...) on the given frames."""
    return {"type": name, "preset": "cpu", "modality": modality, "allow_untrained": False, "meta": meta}


def _experiment_trackers():
    """name -> tracker entry (with `meta` for the tables) of every tracker the experiment compares."""
    if not EXPERIMENT["enabled"] or not EVAL_SETS:
        return {}
    seed = TEACHER["seed"] if TEACHER_TRAINED else None
    seed_of_teacher = seed  # students and the upper bound start from this teacher (TEACHER_CHECKPOINT)
    teachers = {"teacher": (TEACHER_CHECKPOINT, seed)}
    teachers.update(
        (name, (teacher_variant_checkpoint(name), spec["seed"]))
        for name, spec in TEACHER_VARIANTS.items()
        if "seed" in spec
    )
    trackers = {
        name: _dimp_tracker(ckpt, kind="teacher", label="DiMP teacher (RGB-trained)", seed=s)
        for name, (ckpt, s) in teachers.items()
    }
    ablation = "teacher-random" in TEACHER_VARIANTS
    if ablation:
        trackers["teacher-random"] = _dimp_tracker(
            teacher_variant_checkpoint("teacher-random"),
            kind="teacher_ablation",
            label="DiMP teacher from random weights (ablation)",
        )
    if EXPERIMENT["rgb_reference"] and datasets_of("eval_rgbt"):
        # The teacher on the RGB frames of the paired sets: the modality gap distillation can close;
        # the classic baselines on the same frames: does the teacher beat them in its own modality?
        for name, (ckpt, s) in teachers.items():
            trackers[f"{name}-rgb"] = _dimp_tracker(
                ckpt, "rgb", kind="rgb_reference", label="DiMP teacher on RGB frames (reference)", seed=s
            )
        if ablation:
            trackers["teacher-random-rgb"] = _dimp_tracker(
                teacher_variant_checkpoint("teacher-random"),
                "rgb",
                kind="rgb_ablation",
                label="DiMP teacher from random weights on RGB frames (ablation)",
            )
        for name in EXPERIMENT["baselines"]:
            trackers[f"{name}-rgb"] = _baseline_tracker(
                name, "rgb", kind="rgb_baseline", label=f"{name.upper()} on RGB frames"
            )
    if DISTILL_DATASET:
        for strategy, spec in DISTILL_STRATEGIES.items():
            for seed in DISTILL_SEEDS:
                trackers[f"cmd-{strategy}-s{seed}"] = _dimp_tracker(
                    f"{distill_dir(strategy, seed)}/checkpoint.pth",
                    kind="distilled",
                    label=f"CMD {strategy}",
                    strategy=strategy,
                    seed=seed,
                    pair_method=spec["pairs"],
                    component="+".join(sorted(spec["components"])),
                    backbone=spec["backbone"],
                    epochs=DISTILL["epochs"],
                    samples_per_epoch=DISTILL["samples_per_epoch"],
                    train_log=f"{distill_dir(strategy, seed)}/log.csv",
                    teacher_seed=seed_of_teacher,
                )
    if SUPERVISED_TIR_DATASET:
        for seed in SUPERVISED_TIR["seeds"]:
            trackers[f"supervised-tir-s{seed}"] = _dimp_tracker(
                supervised_tir_checkpoint(seed),
                kind="supervised_upper_bound",
                label="DiMP fine-tuned on TIR labels",
                seed=seed,
                teacher_seed=seed_of_teacher,
            )
    for name in EXPERIMENT["baselines"]:
        trackers[name] = _baseline_tracker(name, "tir", kind="baseline", label=name.upper())
    return trackers


EXPERIMENT_TRACKERS = _experiment_trackers()


def experiment_eval_inputs(wildcards):
    """The tracking done-markers of every experiment tracker that runs on one evaluation set."""
    return [tracking_marker(t) for t in _eval_set_trackers(wildcards.dataset)]


def _eval_set_trackers(dataset):
    """The experiment trackers that run on one evaluation set (RGB ones only where it has RGB)."""
    return [t for t in EXPERIMENT_TRACKERS if dataset in tracking_datasets(t)]


def experiment_tracker_meta(wildcards):
    """name -> {meta..., modality, results: folder} of every tracker of one evaluation set."""
    return {
        name: dict(
            EXPERIMENT_TRACKERS[name]["meta"],
            modality=EXPERIMENT_TRACKERS[name]["modality"],
            results=tracking_dir(name, wildcards.dataset),
        )
        for name in _eval_set_trackers(wildcards.dataset)
    }


def experiment_training_jobs():
    """(kind, strategy, seed, training log) of every training job of the experiment."""
    jobs = [("teacher", "teacher", TEACHER["seed"], TEACHER_LOG_CSV)] if TEACHER_TRAINED else []
    jobs += [
        ("teacher", name, spec.get("seed", TEACHER["seed"]), f"{teacher_variant_dir(name)}/log.csv")
        for name, spec in TEACHER_VARIANTS.items()
    ]
    if DISTILL_DATASET:
        jobs += [
            ("distilled", s, seed, f"{distill_dir(s, seed)}/log.csv")
            for s in DISTILL_STRATEGIES
            for seed in DISTILL_SEEDS
        ]
    if SUPERVISED_TIR_DATASET:
        jobs += [
            ("supervised_upper_bound", "supervised_tir", seed, f"{SUPERVISED_TIR_DIR}/seed{seed}/log.csv")
            for seed in SUPERVISED_TIR["seeds"]
        ]
    return jobs


def experiment_curve_names():
    """The curve plots the evaluation toolkit draws for the experiment's protocol."""
    names = ["success", "precision"]
    return names + ["norm_precision"] if get_protocol(EXPERIMENT["protocol"]).has_norm_precision else names


def compare_outputs():
    """Every table and plot rule compare writes, each marked for the HTML report."""
    out = {
        "comparison": report(
            f"{RESULTS}/tables/comparison.csv", caption=f"{CAPTIONS}/comparison.rst", category="Comparison"
        ),
        "claim": report(f"{RESULTS}/tables/claim.csv", caption=f"{CAPTIONS}/claim.rst", category="Comparison"),
        "benchmark_checks": report(
            f"{RESULTS}/tables/benchmark_checks.csv", caption=f"{CAPTIONS}/claim.rst", category="Comparison"
        ),
        "ablation_pairs": report(
            f"{RESULTS}/tables/ablation_pairs.csv", caption=f"{CAPTIONS}/ablation_pairs.rst", category="Comparison"
        ),
        "ablation_components": report(
            f"{RESULTS}/tables/ablation_components.csv",
            caption=f"{CAPTIONS}/ablation_components.rst",
            category="Comparison",
        ),
        "per_attribute": report(
            f"{RESULTS}/tables/per_attribute.csv", caption=f"{CAPTIONS}/per_attribute.rst", category="Per-attribute"
        ),
    }
    out.update({f"{name}_md": f"{RESULTS}/tables/{name}.md" for name in EXPERIMENT_TABLES})
    for e in EVAL_SETS:
        out[f"{e}_success_bars"] = report(
            f"{EXPERIMENT_PLOTS}/{e}/success_bars.png",
            caption=f"{CAPTIONS}/success_bars.rst",
            category="Comparison",
            subcategory=e,
        )
        for curve in experiment_curve_names():
            out[f"{e}_{curve}"] = report(
                f"{EXPERIMENT_PLOTS}/{e}/{curve}.png",
                caption=f"{CAPTIONS}/curves.rst",
                category="Curves",
                subcategory=e,
            )
    if DISTILL_DATASET:
        out["loss_curves"] = report(
            f"{EXPERIMENT_PLOTS}/loss_curves.png", caption=f"{CAPTIONS}/loss_curves.rst", category="Training"
        )
    return out


def experiment_targets():
    """The comparison tables and plots (add to rule all)."""
    if not EXPERIMENT_TRACKERS:
        return []
    targets = [TEACHER_CHECKPOINT, TEACHER_LOG_CSV, TEACHER_LOSS_PLOT] if TEACHER_TRAINED else []
    return [
        targets,
        distill_targets(),
        [str(path) for path in compare_outputs().values()],
        f"{RESULTS}/tables/training_throughput.csv",
        expand(f"{RESULTS}/eval/{{dataset}}/scores.csv", dataset=EVAL_SETS),
    ]


# ----------------------------------------------------------------------------- tracking
TRACKING = config["tracking"]
# Configured trackers plus the experiment's (teacher, distilled students, upper bound, baselines).
TRACKERS = {**TRACKING["trackers"], **EXPERIMENT_TRACKERS}
# Purposes whose datasets have RGB images (an RGB tracker runs only on those).
RGB_PURPOSES = {"eval_rgbt", "eval_rgb", "teacher_train", "distill"}


wildcard_constraints:
    tracker="|".join(TRACKERS) if TRACKERS else "NO_TRACKERS",


def tracker_entry(wildcards):
    """What tracking needs of a tracker (its labels for the tables are left out: they change no result)."""
    return {k: v for k, v in TRACKERS[wildcards.tracker].items() if k != "meta"}


def tracking_datasets(tracker):
    """Datasets a tracker runs on: those with a tracked purpose (and RGB images for RGB trackers)."""
    rgb = TRACKERS[tracker]["modality"] == "rgb"
    return [
        name
        for name, entry in DATASETS.items()
        if (entry["purpose"] in TRACKING["purposes"] or tracker in EXPERIMENT_TRACKERS and name in EVAL_SETS)
        and (not rgb or entry["purpose"] in RGB_PURPOSES)
    ]


def tracking_dir(tracker, dataset):
    """One dataset's result folder, inside the tracker's job output."""
    return f"{RESULTS}/tracking/{tracker}/{dataset}"


def tracking_marker(tracker):
    """The done-marker of a tracker's job (every dataset it tracks)."""
    return f"{RESULTS}/tracking/{tracker}.done.json"


def tracking_targets():
    """The done-markers of every tracker that has datasets to track (add to rule all)."""
    return [tracking_marker(t) for t in TRACKERS if tracking_datasets(t)]


def tracking_gpus(wildcards):
    """1 for a DiMP tracker that may run on a GPU (device auto / cuda; it leases one), else 0."""
    return int(TRACKERS[wildcards.tracker]["type"] == "dimp" and TRACKING["device"] != "cpu")


def track_inputs(wildcards):
    """The frames manifests of the tracker's datasets (in tracking_datasets order) and, for DiMP
    trackers, the checkpoint (so new weights re-run tracking)."""
    entry = TRACKERS[wildcards.tracker]
    inputs = {"frames": [manifest(d, "frames") for d in tracking_datasets(wildcards.tracker)]}
    if entry["type"] == "dimp" and entry.get("checkpoint"):
        inputs["checkpoint"] = entry["checkpoint"]
    return inputs


# ----------------------------------------------------------------------------- external evaluation runs
EVALUATION_RUNS = config["evaluation"]["runs"]
EVALUATION_TABLES = ["scores.csv", "scores.md", "scores.tex", "per_attribute.csv", "curves.parquet", "missing.csv"]
EVALUATION_PLOTS = ["success.png", "precision.png", "attributes.png"]


wildcard_constraints:
    run="|".join(EVALUATION_RUNS) if EVALUATION_RUNS else "NO_EVALUATION_RUNS",


def evaluation_targets():
    """All outputs of every configured evaluation run (empty list when none is configured)."""
    targets = []
    for run in EVALUATION_RUNS:
        targets += [f"{RESULTS}/tables/{run}/{name}" for name in EVALUATION_TABLES]
        targets += [f"{RESULTS}/plots/{run}/{name}" for name in EVALUATION_PLOTS]
    return targets


def evaluation_inputs(wildcards):
    """The files a run reads, so a changed sequence list reruns it."""
    run = EVALUATION_RUNS[wildcards.run]
    return [run["sequences"]] if run["sequences"] else []
