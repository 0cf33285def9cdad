# Online tracking: every configured tracker (DiMP presets or classic baselines) on every
# evaluation dataset, as pytracking-format result folders. Helpers are in track_common.smk.

wildcard_constraints:
    tracker="|".join(TRACKERS) if TRACKERS else "NO_TRACKERS",


rule track:
    input:
        unpack(track_inputs),
    output:
        results=directory(f"{RESULTS}/tracking/{{tracker}}/{{dataset}}"),
        done=f"{RESULTS}/tracking/{{tracker}}/{{dataset}}.done.json",
    params:
        tracker=tracker_entry,
        device=TRACKING["device"],
        integer=TRACKING["integer_boxes"],
        version=library_version(),
    threads: TRACKING["threads"]
    log:
        f"{LOGS}/track/{{tracker}}/{{dataset}}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/track.py"
