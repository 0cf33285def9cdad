# Helpers of the distillation rules (distill.smk; rules files hold no functions). Include after
# common.smk, pairs_common.smk and train_common.smk (uses DATASETS, PAIRS_METHODS, TEACHER_CHECKPOINT).
# config["distill"]: {dataset, seeds, epochs, samples_per_epoch, batch_size, device, threads, retries,
#                     strategies: {NAME: {pairs, mode, components, losses, backbone, lr_scale}}}
# config["supervised_tir"]: the label-using TIR upper bound (rule train_supervised_tir).

# Every key (the default strategies included) has its default from the config schema, validated
# in common.smk; tests/test_distill_strategies.py checks those defaults against the library's.
DISTILL = config["distill"]
DISTILL_STRATEGIES = DISTILL["strategies"] or {}
DISTILL_SEEDS = [int(s) for s in DISTILL["seeds"]]
SUPERVISED_TIR = config["supervised_tir"]

# Strategy checks at parse time (the library repeats them, with the same messages, in the job).
for _name, _s in DISTILL_STRATEGIES.items():
    if _s.get("pairs") not in PAIRS_METHODS:
        raise ValueError(f"config distill.strategies.{_name}: unknown pair method {_s.get('pairs')!r} "
                         f"(configured pair methods: {sorted(PAIRS_METHODS)})")
    _bad = [c for c in _s.get("components", ["classifier", "iou"]) if c not in ("classifier", "iou")]
    if _bad:
        raise ValueError(f"config distill.strategies.{_name}: unknown component(s) {_bad} (classifier, iou)")


def _purpose_dataset(name, purpose, preferred, key):
    """A configured dataset name, else the preferred synthetic one, else the single dataset of a purpose
    (None when there is none: no distillation jobs then)."""
    if name is not None:
        if name not in DATASETS:
            raise ValueError(f"config {key}: unknown dataset {name!r} (known: {sorted(DATASETS)})")
        return name
    found = sorted(n for n, d in DATASETS.items() if d.get("purpose") == purpose)
    if preferred in found:
        return preferred
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f"config {key}: set it to the dataset to use (datasets with purpose {purpose}: "
                         f"{found or 'none'})")
    return found[0]


DISTILL_DATASET = _purpose_dataset(DISTILL["dataset"], "distill", "synth_rgbt_train", "distill.dataset") \
    if DATASETS and DISTILL_STRATEGIES else None
SUPERVISED_TIR_DATASET = _purpose_dataset(SUPERVISED_TIR["dataset"], "distill", "synth_rgbt_train",
                                          "supervised_tir.dataset") if DATASETS and SUPERVISED_TIR["enabled"] else None
DISTILL_DIR = f"{RESULTS}/models/distill"
SUPERVISED_TIR_DIR = f"{RESULTS}/models/supervised_tir"


wildcard_constraints:
    strategy="|".join(DISTILL_STRATEGIES) if DISTILL_STRATEGIES else "NO_STRATEGIES",
    seed=r"\d+",


def distill_checkpoint(strategy, seed):
    """results/models/distill/<strategy>/seed<seed>/checkpoint.pth (for the tracking stage)."""
    return f"{DISTILL_DIR}/{strategy}/seed{seed}/checkpoint.pth"


def supervised_tir_checkpoint(seed):
    return f"{SUPERVISED_TIR_DIR}/seed{seed}/checkpoint.pth"


def distill_pairs(wildcards):
    """The pair manifest of a strategy's pair method on the distill dataset."""
    return pairs_file(DISTILL_DATASET, DISTILL_STRATEGIES[wildcards.strategy]["pairs"])


def distill_strategy(wildcards):
    return dict(DISTILL_STRATEGIES[wildcards.strategy])


def distill_batch_size(wildcards, attempt):
    """Batch size of a distillation job, halved on each retry (CUDA out of memory)."""
    return max(1, int(DISTILL["batch_size"]) // (2 ** (attempt - 1)))


def supervised_tir_batch_size(wildcards, attempt):
    return max(1, int(SUPERVISED_TIR["batch_size"]) // (2 ** (attempt - 1)))


def distill_settings():
    """Job settings passed to cmd_core.distill.distill (batch size comes from resources)."""
    return {k: DISTILL[k] for k in ("epochs", "samples_per_epoch", "device")}


def supervised_tir_settings():
    return {k: SUPERVISED_TIR[k] for k in ("epochs", "samples_per_epoch", "device", "lr_scale")}


def distill_targets():
    """Every (strategy, seed) checkpoint and log, and the supervised upper bound's."""
    if not DISTILL_DATASET:
        return []
    targets = [distill_checkpoint(s, seed) for s in DISTILL_STRATEGIES for seed in DISTILL_SEEDS]
    targets += [f"{DISTILL_DIR}/{s}/seed{seed}/log.csv" for s in DISTILL_STRATEGIES for seed in DISTILL_SEEDS]
    if SUPERVISED_TIR_DATASET:
        targets += [supervised_tir_checkpoint(seed) for seed in DISTILL_SEEDS]
    return targets
