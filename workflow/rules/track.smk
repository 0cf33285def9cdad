# Online tracking: every configured tracker (DiMP presets or classic baselines) on every
# evaluation dataset, as pytracking-format result folders. One job per tracker tracks all of its
# datasets (start-up and model loading paid once): results/tracking/<tracker>/<dataset>/ with the
# set's summary <dataset>.done.json beside it. Helpers are in common.smk.


rule track:
    input:
        unpack(track_inputs),
    output:
        results=directory(f"{RESULTS}/tracking/{{tracker}}"),
        done=f"{RESULTS}/tracking/{{tracker}}.done.json",
    log:
        f"{LOGS}/track/{{tracker}}.log",
    conda:
        CONDA_ENV
    threads: TRACKING["threads"]
    resources:
        gpu=tracking_gpus,
    params:
        tracker=tracker_entry,
        datasets=lambda wildcards: tracking_datasets(wildcards.tracker),
        device=TRACKING["device"],
        integer=TRACKING["integer_boxes"],
        batch=TRACKING["batch"],
    script:
        "../scripts/track.py"
