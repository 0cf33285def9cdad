# Helpers of the tracking stage (rule `track` in track.smk). Include after common.smk.
# config["tracking"]: {purposes, threads, device, integer_boxes, trackers: {NAME: {type, preset, checkpoint, modality}}}

TRACKING = config["tracking"]  # defaults from the config schema
# Configured trackers plus the experiment's (teacher, distilled students, upper bound, baselines).
TRACKERS = {**TRACKING["trackers"], **EXPERIMENT_TRACKERS}
TRACKING_PURPOSES = TRACKING["purposes"]
# Purposes whose datasets have RGB images (an RGB tracker runs only on those).
RGB_PURPOSES = {"eval_rgbt", "eval_rgb", "teacher_train", "distill"}


def tracker_entry(wildcards):
    """The config entry of a tracker, with defaults filled in."""
    entry = dict(TRACKERS[wildcards.tracker])
    entry.setdefault("modality", "tir")
    entry.setdefault("preset", "dimp50")
    entry.setdefault("allow_untrained", False)
    return entry


def tracking_datasets(tracker):
    """Datasets a tracker runs on: those with a tracked purpose (and RGB images for RGB trackers)."""
    modality = TRACKERS[tracker].get("modality", "tir")
    return [
        name for name, entry in DATASETS.items()
        if (entry.get("purpose") in TRACKING_PURPOSES or tracker in EXPERIMENT_TRACKERS and name in EVAL_SETS)
        and (modality != "rgb" or entry.get("purpose") in RGB_PURPOSES)
    ]


def tracking_dir(tracker, dataset):
    return f"{RESULTS}/tracking/{tracker}/{dataset}"


def tracking_targets():
    """The done-markers of every (tracker, dataset) pair (add to rule all)."""
    return [f"{tracking_dir(t, d)}.done.json" for t in TRACKERS for d in tracking_datasets(t)]


def track_inputs(wildcards):
    """The frames manifest and, for DiMP trackers, the checkpoint (so new weights re-run tracking)."""
    entry = TRACKERS[wildcards.tracker]
    inputs = {"frames": manifest(wildcards.dataset, "frames")}
    if entry.get("type") == "dimp" and entry.get("checkpoint"):
        inputs["checkpoint"] = entry["checkpoint"]
    return inputs
