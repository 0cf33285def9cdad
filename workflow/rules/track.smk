# Online tracking: every configured tracker (DiMP presets or classic baselines) on every
# evaluation dataset, as pytracking-format result folders. Helpers are in common.smk.


rule track:
    input:
        unpack(track_inputs),
    output:
        results=directory(f"{RESULTS}/tracking/{{tracker}}/{{dataset}}"),
        done=f"{RESULTS}/tracking/{{tracker}}/{{dataset}}.done.json",
    log:
        f"{LOGS}/track/{{tracker}}/{{dataset}}.log",
    conda:
        CONDA_ENV
    threads: TRACKING["threads"]
    params:
        tracker=tracker_entry,
        device=TRACKING["device"],
        integer=TRACKING["integer_boxes"],
    script:
        "../scripts/track.py"
