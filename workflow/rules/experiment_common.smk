# Helpers of the experiment stage (experiment.smk): which trackers are compared on which
# evaluation sets, and how each tracker's row is labelled in the comparison tables.
# Included from common.smk after train_common.smk / distill_common.smk and before track_common.smk.

EXPERIMENT = config["experiment"]
EVAL_SETS = [name for name, entry in DATASETS.items() if entry.get("purpose") in EXPERIMENT["eval_purposes"]]


def _dimp_tracker(checkpoint, **meta):
    """A DiMP tracker row of the experiment: TIR input, the experiment's tracking preset."""
    return {
        "type": "dimp",
        "preset": EXPERIMENT["tracker_preset"],
        "checkpoint": checkpoint,
        "modality": "tir",
        "allow_untrained": False,
        "meta": meta,
    }


def _baseline_tracker(name, modality, **meta):
    """A classic baseline row of the experiment (MIL, static, ...) on the given frames."""
    return {"type": name, "preset": "cpu", "modality": modality, "allow_untrained": False, "meta": meta}


def _experiment_trackers():
    """name -> tracker entry (with `meta` for the tables) of every tracker the experiment compares."""
    if not EXPERIMENT["enabled"] or not EVAL_SETS:
        return {}
    trackers = {"teacher": _dimp_tracker(TEACHER_CHECKPOINT, kind="teacher", label="DiMP teacher (RGB-trained)")}
    if EXPERIMENT["rgb_reference"] and any(DATASETS[d].get("purpose") == "eval_rgbt" for d in EVAL_SETS):
        # The same teacher on the RGB frames of the paired (RGB-T) evaluation sets: the modality gap
        # (this row minus the teacher row) is what distillation can close.
        trackers["teacher-rgb"] = dict(
            _dimp_tracker(TEACHER_CHECKPOINT, kind="rgb_reference", label="DiMP teacher on RGB frames (reference)"),
            modality="rgb",
        )
        # The classic baselines on the same RGB frames: does the teacher beat them in its own modality?
        for name in EXPERIMENT["baselines"]:
            trackers[f"{name}-rgb"] = _baseline_tracker(name, "rgb", kind="rgb_baseline", label=f"{name.upper()} on RGB frames")
    if DISTILL_DATASET:
        for strategy, spec in DISTILL_STRATEGIES.items():
            for seed in DISTILL_SEEDS:
                trackers[f"cmd-{strategy}-s{seed}"] = _dimp_tracker(
                    distill_checkpoint(strategy, seed),
                    kind="distilled", label=f"CMD {strategy}", strategy=strategy, seed=seed,
                    pair_method=spec.get("pairs"), component=_component_name(spec),
                    train_log=f"{DISTILL_DIR}/{strategy}/seed{seed}/log.csv",
                )
    if SUPERVISED_TIR_DATASET:
        for seed in DISTILL_SEEDS:
            trackers[f"supervised-tir-s{seed}"] = _dimp_tracker(
                supervised_tir_checkpoint(seed),
                kind="supervised_upper_bound", label="DiMP fine-tuned on TIR labels", seed=seed,
            )
    for name in EXPERIMENT["baselines"]:
        trackers[name] = _baseline_tracker(name, "tir", kind="baseline", label=name.upper())
    return trackers


def _component_name(spec):
    """'classifier', 'iou' or 'classifier+iou' from a strategy's distilled components."""
    components = spec.get("components") or ["classifier", "iou"]
    return "+".join(sorted(components))


EXPERIMENT_TRACKERS = _experiment_trackers()


def _eval_set_trackers(dataset):
    """The experiment trackers that run on one evaluation set (RGB ones only where it has RGB)."""
    return [t for t in EXPERIMENT_TRACKERS if dataset in tracking_datasets(t)]


def experiment_eval_inputs(wildcards):
    """The tracking done-markers of every experiment tracker on one evaluation set."""
    return [f"{RESULTS}/tracking/{t}/{wildcards.dataset}.done.json" for t in _eval_set_trackers(wildcards.dataset)]


def experiment_tracker_meta(wildcards):
    """name -> {meta..., modality, results: folder} of every tracker of one evaluation set."""
    return {
        name: dict(EXPERIMENT_TRACKERS[name]["meta"], modality=EXPERIMENT_TRACKERS[name]["modality"],
                   results=f"{RESULTS}/tracking/{name}/{wildcards.dataset}")
        for name in _eval_set_trackers(wildcards.dataset)
    }


def experiment_training_jobs():
    """(kind, strategy, seed, training log) of every training job of the experiment."""
    jobs = [("teacher", "teacher", 0, TEACHER_LOG_CSV)] if TEACHER_TRAINED else []
    if DISTILL_DATASET:
        jobs += [("distilled", strategy, seed, f"{DISTILL_DIR}/{strategy}/seed{seed}/log.csv")
                 for strategy in DISTILL_STRATEGIES for seed in DISTILL_SEEDS]
    if SUPERVISED_TIR_DATASET:
        jobs += [("supervised_upper_bound", "supervised_tir", seed, f"{SUPERVISED_TIR_DIR}/seed{seed}/log.csv")
                 for seed in DISTILL_SEEDS]
    return jobs


def experiment_targets():
    """The comparison tables and plots (add to rule all)."""
    if not EXPERIMENT_TRACKERS:
        return []
    return [
        teacher_targets(),
        distill_targets(),
        f"{RESULTS}/tables/comparison.csv",
        f"{RESULTS}/tables/comparison.md",
        f"{RESULTS}/tables/training_throughput.csv",
        expand(f"{RESULTS}/eval/{{dataset}}/scores.csv", dataset=EVAL_SETS),
    ]
