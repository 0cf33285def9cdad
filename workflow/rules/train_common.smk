# Helpers of the training rules (rules files hold no functions): the teacher's settings and paths.

# Every key has its default from the config schema (validated in common.smk).
TEACHER = config["training"]["teacher"]
TEACHER_DIR = f"{RESULTS}/models/teacher"
# An existing checkpoint (official DiMP weights, say) replaces the trained teacher when configured.
TEACHER_TRAINED = TEACHER["checkpoint"] is None
TEACHER_CHECKPOINT = f"{TEACHER_DIR}/checkpoint.pth" if TEACHER_TRAINED else TEACHER["checkpoint"]
TEACHER_LOG_CSV = f"{TEACHER_DIR}/log.csv"
TEACHER_LOSS_PLOT = f"{RESULTS}/plots/teacher_loss.png"


def teacher_dataset():
    """The teacher's dataset: configured by name, else the one dataset with purpose teacher_train."""
    name = TEACHER["dataset"]
    if name is not None:
        if name not in DATASETS:
            raise ValueError(f"config training.teacher.dataset: unknown dataset {name!r} (known: {sorted(DATASETS)})")
        return name
    found = sorted(n for n, d in DATASETS.items() if d.get("purpose") == "teacher_train")
    if "synth_rgb_train" in found:
        return "synth_rgb_train"
    if len(found) != 1:
        raise ValueError("config training.teacher.dataset: set it to the dataset to train the teacher on "
                         f"(datasets with purpose teacher_train: {found or 'none'})")
    return found[0]


def teacher_manifest():
    return manifest(teacher_dataset(), "frames") if DATASETS else []


def teacher_settings():
    """Settings passed to cmd_core.training.train_teacher (None = the preset's value)."""
    keys = ("modality", "preset", "epochs", "samples_per_epoch", "batch_size", "device", "seed", "backbone_weights")
    return {k: TEACHER[k] for k in keys}


def teacher_targets():
    """The teacher's final checkpoint, training log and loss curve."""
    return [TEACHER_CHECKPOINT, TEACHER_LOG_CSV, TEACHER_LOSS_PLOT] if DATASETS and TEACHER_TRAINED else []
