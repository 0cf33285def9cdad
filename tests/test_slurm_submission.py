"""The SLURM profile for real: the workflow runs through the SLURM executor plugin against
stand-in `sbatch` / `sacct` / `squeue` / `scancel` / `srun` (and the `sinfo`, `sacctmgr`,
`scontrol` the plugin asks) on PATH. The stand-ins record every argument and run each job
locally, as SLURM would, with `SLURM_JOB_ID` (and `SLURM_JOB_GPUS` for jobs given `--gpus`) set.

Checked per rule: the partition, GPUs, CPUs, memory and runtime that reach sbatch; that a small
workflow (synthetic data -> manifests -> pairs -> the GPU rule train_teacher) completes through
them; and that the GPU job leases the GPU of its allocation. The other two GPU rules are then
submitted with the stand-in in record-only mode (reported done without running, so Snakemake
then finds no outputs: training them takes long), to check what reaches sbatch for them too.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_ROOT

STANDIN = r'''
"""Stand-in SLURM command (one script, dispatched on the name it is called by)."""
import json, os, subprocess, sys
from pathlib import Path

STATE = Path(os.environ["STANDIN_SLURM_STATE"])
CMD = Path(sys.argv[0]).name
ARGS = sys.argv[1:]
VALUED = {"--job-name", "--output", "--comment", "-A", "-p", "-t", "--mem", "--mem-per-cpu", "-D", "--clusters", "-C"}


def record(**extra):
    with open(STATE / "calls.jsonl", "a") as fh:
        fh.write(json.dumps({"cmd": CMD, "args": ARGS, **extra}) + "\n")


def options(args):
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        if a in VALUED:
            out[a], i = args[i + 1], i + 2
            continue
        key, _, value = a.partition("=")
        out[key] = value if _ else True
        i += 1
    return out


def new_id():
    jobs = STATE / "jobs"
    jobs.mkdir(exist_ok=True)
    n = 1000
    while True:
        try:
            fd = os.open(jobs / str(n), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
            return n
        except FileExistsError:
            n += 1


def set_state(jid, name, state):
    (STATE / "jobs" / str(jid)).write_text(f"{name}|{state}")


def states(name):
    for path in sorted((STATE / "jobs").glob("*")):
        job_name, _, state = path.read_text().partition("|")
        if job_name == name:
            print(f"{path.name}|{state}")


if CMD == "sbatch":
    opts = options(ARGS)
    jid = new_id()
    record(options=opts, jobid=jid)
    name = opts["--job-name"]
    set_state(jid, name, "RUNNING")
    if os.environ.get("STANDIN_SLURM_RUN", "1") == "0":  # record only: "completed" without outputs
        set_state(jid, name, "COMPLETED")
    else:
        env = dict(os.environ, SLURM_JOB_ID=str(jid), SLURM_JOB_NAME=name)
        if "--gpus" in opts:
            env["SLURM_JOB_GPUS"] = ",".join(str(i) for i in range(int(str(opts["--gpus"]).split(":")[-1])))
        log = Path(opts["--output"].replace("%j", str(jid)))
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            rc = subprocess.run(["/bin/sh", "-c", opts["--wrap"]], cwd=opts.get("-D"), env=env, stdout=out,
                                stderr=subprocess.STDOUT).returncode
        set_state(jid, name, "COMPLETED" if rc == 0 else "FAILED")
    print(jid)
elif CMD in ("sacct", "squeue"):
    opts = options(ARGS)
    if "--name" in ARGS:
        states(ARGS[ARGS.index("--name") + 1])
elif CMD == "srun":
    record()
    opts = options([a for a in ARGS if a.startswith("-")])
    if "--gpus" in opts:  # what SLURM sets in a job step with GPUs
        os.environ["SLURM_STEP_GPUS"] = ",".join(str(i) for i in range(int(str(opts["--gpus"]).split(":")[-1])))
    rest = list(ARGS)
    while rest and rest[0].startswith("-"):
        rest.pop(0)
    os.execvp(rest[0], rest)
elif CMD == "sacctmgr":
    print("my_account")
elif CMD == "scontrol":
    print("MinJobAge = 300 sec\nMaxArraySize = 1001")
else:  # scancel, sinfo
    record()
'''

COMMANDS = ("sbatch", "sacct", "squeue", "scancel", "srun", "sinfo", "sacctmgr", "scontrol")
TINY = {"epochs": 1, "samples_per_epoch": 2, "batch_size": 2}


@pytest.fixture
def slurm(tmp_path):
    """A bin folder of stand-ins and the environment that puts it first on PATH."""
    bin_dir, state = tmp_path / "bin", tmp_path / "slurm"
    bin_dir.mkdir()
    state.mkdir()
    script = bin_dir / "slurm-standin.py"
    script.write_text(f"#!{sys.executable}\n{STANDIN}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for name in COMMANDS:
        (bin_dir / name).symlink_to(script)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               STANDIN_SLURM_STATE=str(state), CMD_TIR_GPU_LOCK_DIR=str(tmp_path / "locks"))
    for var in [v for v in env if v.startswith("SLURM_")]:
        del env[var]
    return env, state


def _config(tmp_path: Path) -> Path:
    config = {
        "results": str(tmp_path / "results"),
        "synthetic": {"enabled": True, "seed": 7, "width": 96, "height": 72, "jpeg_quality": 90,
                      "splits": {"rgb_train": {"sequences": 2, "frames": 5}, "rgbt_train": {"sequences": 1, "frames": 5},
                                 "tir_eval": {"sequences": 1, "frames": 3}, "rgbt_eval": {"sequences": 1, "frames": 3}}},
        "ingest": {"threads": 3},
        "pairs": {"methods": {"central": {"type": "central"}}, "threads": 1},
        "experiment": {"enabled": True},
        "training": {"teacher": {**TINY, "threads": 2, "device": "cpu"}},
        "distill": {**TINY, "seeds": [0], "threads": 3, "device": "cpu",
                    "strategies": {"official": {"pairs": "central", "mode": "official"}}},
        "supervised_tir": {**TINY, "threads": 1, "device": "cpu"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(env, tmp_path, cfg, *targets, options=()):
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--nolock", f"--configfile={cfg}", *options,
           "--slurm-init-seconds-before-status-checks", "1", "--slurm-logdir", str(tmp_path / "slurm_logs"),
           "--latency-wait", "2", "--resources", "gpu=2", "--", *targets]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)


def _submissions(state: Path) -> dict[str, list[dict]]:
    """rule -> sbatch options of each of its jobs."""
    out: dict[str, list[dict]] = {}
    for line in (state / "calls.jsonl").read_text().splitlines():
        call = json.loads(line)
        if call["cmd"] == "sbatch":
            rule = call["options"]["--comment"].removeprefix("rule_").split("_wildcards_")[0]
            out.setdefault(rule, []).append(call["options"])
    return out


# rule -> (partition, GPUs, CPUs = the rule's threads, mem_mb, runtime in minutes) from profiles/slurm
CPU_RULES = {"ingest": ("cpu", None, "3", "8000", "240"), "pairs": ("cpu", None, "1", "8000", "120")}
GPU_RULES = {"train_teacher": ("gpu", "1", "2", "32000", "1440"), "distill": ("gpu", "1", "3", "32000", "720"),
             "train_supervised_tir": ("gpu", "1", "1", "32000", "720"),
             "train_teacher_variant": ("gpu", "1", "2", "32000", "1440")}


def _assert_submitted(subs, rule, expected):
    partition, gpus, cpus, mem, runtime = expected
    for opts in subs[rule]:
        got = (opts["-p"], opts.get("--gpus"), opts["--cpus-per-task"], opts["--mem"], opts["-t"])
        assert got == (partition, gpus, cpus, mem, runtime), (rule, opts)
        assert opts["-A"] == "my_account" and opts["--export"] == "ALL", opts


@pytest.mark.slow
def test_jobs_reach_sbatch_with_their_resources_and_run(tmp_path, slurm):
    env, state = slurm
    cfg = _config(tmp_path)
    results = tmp_path / "results"
    teacher = results / "models" / "teacher" / "checkpoint.pth"
    proc = _run(env, tmp_path, cfg, str(teacher))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert teacher.stat().st_size > 0 and (results / "plots" / "teacher_loss.png").is_file()
    subs = _submissions(state)
    assert {r: len(v) for r, v in subs.items()} == {"synth": 1, "ingest": 1, "train_teacher": 1}
    _assert_submitted(subs, "ingest", CPU_RULES["ingest"])
    synth = subs["synth"][0]
    assert synth["-p"] == "cpu" and "--gpus" not in synth and synth["-t"] == "120" and synth["--mem"] == "8000"
    _assert_submitted(subs, "train_teacher", GPU_RULES["train_teacher"])
    # every job ran inside its stand-in allocation through srun, and the GPU job used its allocated GPU
    sruns = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
    assert sum(c["cmd"] == "srun" for c in sruns) == 3
    log = (results / "logs" / "train" / "teacher.log").read_text()
    assert "GPU lease: SLURM job" in log and "allocation (GPUs 0), used as is" in log, log[-2000:]

    # The other rules: record what reaches sbatch (record-only: reported done, no outputs, so the run fails).
    # The pair manifest they read stands in as an empty file (a dry stand-in never opens it).
    (state / "calls.jsonl").unlink()
    for path in (*(results / "manifests" / f"synth_rgbt_train.{k}.parquet" for k in ("frames", "objects", "rejected")),
                 results / "manifests" / "synth_rgbt_train.summary.json"):
        path.touch()
    proc = _run(dict(env, STANDIN_SLURM_RUN="0"), tmp_path, cfg, str(results / "pairs" / "synth_rgbt_train" / "central.parquet"))
    assert proc.returncode != 0
    _assert_submitted(_submissions(state), "pairs", CPU_RULES["pairs"])
    (state / "calls.jsonl").unlink()
    (results / "pairs" / "synth_rgbt_train").mkdir(parents=True, exist_ok=True)
    for suffix in (".parquet", ".boxes.parquet", ".summary.json"):
        (results / "pairs" / "synth_rgbt_train" / f"central{suffix}").touch()
    proc = _run(dict(env, STANDIN_SLURM_RUN="0"), tmp_path, cfg,
                str(results / "models" / "distill" / "official" / "seed0" / "checkpoint.pth"),
                str(results / "models" / "supervised_tir" / "seed0" / "checkpoint.pth"),
                options=("--keep-going",))
    assert proc.returncode != 0
    subs = _submissions(state)
    # nothing upstream reran; each job was tried 1 + distill.retries (2) times, with the same resources
    assert {r: len(v) for r, v in subs.items()} == {"distill": 3, "train_supervised_tir": 3}
    for rule in ("distill", "train_supervised_tir"):
        _assert_submitted(subs, rule, GPU_RULES[rule])


def test_slurm_profile_sends_only_gpu_rules_to_the_gpu_partition():
    """The profile's site settings: no cpus_per_task (it would override threads); GPU partition
    for exactly the rules that declare gpu=1."""
    prof = yaml.safe_load((PROJECT_ROOT / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    assert "cpus_per_task" not in prof["default-resources"]
    assert all("cpus_per_task" not in r for r in prof["set-resources"].values())
    gpu_partition = {rule for rule, res in prof["set-resources"].items() if res.get("slurm_partition") == "gpu"}
    declared = set()
    for path in (PROJECT_ROOT / "workflow" / "rules").glob("*.smk"):
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        for block in code.split("\nrule ")[1:]:
            if "gpu=1" in block:
                declared.add(block.split(":", 1)[0].strip())
    assert declared == gpu_partition == set(GPU_RULES)
