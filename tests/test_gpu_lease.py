"""GPU lease: concurrent processes never share a GPU id, a killed holder frees its id, an existing
CUDA_VISIBLE_DEVICES or SLURM allocation is respected, and no GPU means the CPU.

GPUs are faked with CMD_TIR_FAKE_GPUS (nothing touches CUDA), so this runs on any machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmd_core import gpu_lease
from cmd_core.gpu_lease import GpuLeaseError, count_gpus, lease_gpu

# A worker process: lease, report the id and the time window it held it, release.
WORKER = r"""
import json, os, sys, time
from cmd_core.gpu_lease import GpuLeaseError, lease_gpu
hold, mode, lock_dir = float(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    lease = lease_gpu(lock_dir=lock_dir, wait=(mode == "wait"), timeout=30, poll_interval=0.02)
except GpuLeaseError as exc:
    print(json.dumps({"error": str(exc)}), flush=True)
    sys.exit(3)
t0 = time.time()
print(json.dumps({"event": "leased", "gpu": lease.gpu_id, "device": lease.device,
                  "cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "t0": t0}), flush=True)
time.sleep(hold)
print(json.dumps({"event": "done", "gpu": lease.gpu_id, "t0": t0, "t1": time.time()}), flush=True)
lease.release()
"""

_CLEAN = ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS", gpu_lease.ENV_FAKE_GPUS)


def _env(n_fake: int | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    if n_fake is not None:
        env[gpu_lease.ENV_FAKE_GPUS] = str(n_fake)
    env.update(extra)
    return env


def _start(lock_dir: Path, hold: float, mode: str = "wait", **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(hold), mode, str(lock_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(**env))


def _records(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, list[dict]]:
    out, err = proc.communicate(timeout=timeout)
    recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert recs, f"worker printed nothing; stderr:\n{err}"
    return proc.returncode, recs


@pytest.fixture(autouse=True)
def _clean_env():
    """No real CUDA_VISIBLE_DEVICES / SLURM variables of the machine running the tests, and the
    variables exactly as before afterwards (leases set CUDA_VISIBLE_DEVICES themselves, outside
    monkeypatch; set up before and torn down after the test's monkeypatch)."""
    saved = {k: os.environ.pop(k, None) for k in _CLEAN}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_concurrent_processes_never_share_a_gpu(tmp_path):
    """4 processes, 2 fake GPUs, waiting allowed: all finish, each id held by one process at a time."""
    procs = [_start(tmp_path, 0.6, n_fake=2) for _ in range(4)]
    windows = []
    for p in procs:
        rc, recs = _records(p)
        assert rc == 0, recs
        leased, done = recs[0], recs[-1]
        assert leased["device"] == "cuda:0" and leased["cvd"] == str(leased["gpu"])
        windows.append((done["gpu"], done["t0"], done["t1"]))
    ids = sorted(w[0] for w in windows)
    assert ids == [0, 0, 1, 1], ids  # both GPUs used, each twice
    for gid in (0, 1):
        spans = sorted((t0, t1) for g, t0, t1 in windows if g == gid)
        assert spans[0][1] <= spans[1][0], f"GPU {gid} held by two processes at once: {spans}"


@pytest.fixture
def spawned():
    """Worker processes a test started; any still running at the end are killed (by their pid)."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


def test_fail_fast_when_all_gpus_are_leased(tmp_path, spawned):
    holders = [_start(tmp_path, 30.0, n_fake=2) for _ in range(2)]  # killed by the fixture
    spawned.extend(holders)
    got = sorted(json.loads(h.stdout.readline())["gpu"] for h in holders)  # both hold a GPU now
    assert got == [0, 1]
    rc, recs = _records(_start(tmp_path, 0.1, mode="fail", n_fake=2))
    assert rc == 3
    msg = recs[0]["error"]
    assert "all 2 GPU(s)" in msg and "leased by other processes" in msg and "pid=" in msg


def test_killed_holder_frees_its_gpu(tmp_path, spawned):
    holder = _start(tmp_path, 60, n_fake=1)
    spawned.append(holder)
    assert json.loads(holder.stdout.readline())["gpu"] == 0
    rc, _ = _records(_start(tmp_path, 0.0, mode="fail", n_fake=1))
    assert rc == 3  # busy while the holder lives
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    rc, recs = _records(_start(tmp_path, 0.0, mode="fail", n_fake=1))
    assert rc == 0 and recs[0]["gpu"] == 0  # the kernel dropped the dead holder's lock


def test_wait_times_out(tmp_path, monkeypatch):
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "1")
    with lease_gpu(lock_dir=tmp_path) as first:
        assert first.gpu_id == 0
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")  # as a second process would see it
        t = time.monotonic()
        with pytest.raises(GpuLeaseError, match="after waiting"):
            lease_gpu(lock_dir=tmp_path, wait=True, timeout=0.3, poll_interval=0.05)
        assert time.monotonic() - t >= 0.3
    # released: free again
    with lease_gpu(lock_dir=tmp_path, wait=False) as again:
        assert again.gpu_id == 0


def test_existing_cuda_visible_devices_restricts_the_lease(tmp_path, monkeypatch):
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "8")  # ignored: the listed devices decide
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    a = lease_gpu(lock_dir=tmp_path, wait=False)
    assert (a.gpu_id, a.device, a.source) == (3, "cuda:0", "lock")
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert (tmp_path / "gpu3.lock").exists()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # a second job started with the same list
    b = lease_gpu(lock_dir=tmp_path, wait=False)
    assert b.gpu_id == 5 and os.environ["CUDA_VISIBLE_DEVICES"] == "5"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    with pytest.raises(GpuLeaseError, match="all 2 GPU"):
        lease_gpu(lock_dir=tmp_path, wait=False)
    b.release()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3,5"  # restored
    a.release()
    a.release()  # twice is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu3.lock", "gpu5.lock"]


def test_cuda_visible_devices_in_a_subprocess(tmp_path):
    rc, recs = _records(_start(tmp_path, 0.0, CUDA_VISIBLE_DEVICES="3,5"))
    assert rc == 0 and recs[0]["gpu"] == 3 and recs[0]["cvd"] == "3"


@pytest.mark.parametrize("var", ["SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES"])
def test_slurm_allocation_is_used_as_is(tmp_path, monkeypatch, var):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv(var, "2")
    if var != "CUDA_VISIBLE_DEVICES":
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # SLURM's cgroup renumbering
    with lease_gpu(lock_dir=tmp_path, wait=False) as a, lease_gpu(lock_dir=tmp_path, wait=False) as b:
        # exclusive already: no lock, both calls of the job get its GPU, the variable is untouched
        assert (a.source, a.device, a.gpu_id) == ("slurm", "cuda:0", 2)
        assert b.gpu_id == 2
        assert "4242" in a.reason
    assert list(tmp_path.iterdir()) == []
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ("2" if var == "CUDA_VISIBLE_DEVICES" else "0")


def test_slurm_job_without_gpus_runs_on_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4243")
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "2")  # node GPUs not in the allocation: not ours
    lease = lease_gpu(lock_dir=tmp_path)
    assert lease.device == "cpu" and lease.gpu_id is None and "no GPU allocated" in lease.reason


@pytest.mark.parametrize("setup", [
    {gpu_lease.ENV_FAKE_GPUS: "0"}, {"CUDA_VISIBLE_DEVICES": ""}, {"CUDA_VISIBLE_DEVICES": "-1"}, "override0",
])
def test_no_gpu_falls_back_to_cpu(tmp_path, monkeypatch, caplog, setup):
    caplog.set_level("INFO", logger="cmd_core.gpu_lease")
    kwargs = {}
    if setup == "override0":
        kwargs["count_override"] = 0
    else:
        for k, v in setup.items():
            monkeypatch.setenv(k, v)
    lease = lease_gpu(lock_dir=tmp_path, wait=False, **kwargs)
    assert (lease.device, lease.gpu_id, lease.source, lease.is_cuda) == ("cpu", None, "cpu", False)
    assert lease.reason and "using the CPU" in caplog.text
    lease.release()


def test_count_override_and_fake_count(tmp_path, monkeypatch):
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "3")
    assert count_gpus() == (3, f"{gpu_lease.ENV_FAKE_GPUS}=3")
    with lease_gpu(lock_dir=tmp_path, count_override=1) as a:
        assert a.gpu_id == 0
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
        with pytest.raises(GpuLeaseError):
            lease_gpu(lock_dir=tmp_path, count_override=1, wait=False)
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "two")
    with pytest.raises(ValueError, match="not an integer"):
        count_gpus()


def test_real_count_does_not_initialise_cuda():
    """Detection on the machine itself: a count and how it was found, and torch CUDA untouched."""
    n, how = count_gpus()
    assert n >= 0 and how
    torch = sys.modules.get("torch")
    if torch is not None:
        assert not torch.cuda.is_initialized()


def test_default_lock_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(gpu_lease.ENV_LOCK_DIR, str(tmp_path / "locks"))
    assert gpu_lease.default_lock_dir() == tmp_path / "locks"
    monkeypatch.delenv(gpu_lease.ENV_LOCK_DIR)
    assert str(gpu_lease.default_lock_dir()).startswith("/tmp/cmd-tir-gpu-locks-")


def test_dropped_lease_object_keeps_its_gpu(tmp_path, monkeypatch):
    """`lease_gpu().device` without keeping the object: the GPU stays leased for the process."""
    import gc

    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "1")
    device = lease_gpu(lock_dir=tmp_path).device
    gc.collect()
    assert device == "cuda:0"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    rc, _ = _records(_start(tmp_path, 0.0, mode="fail", n_fake=1))
    assert rc == 3  # still held by this process


def test_leased_job_picks_the_device_and_logs_it(tmp_path, monkeypatch):
    """The workflow's GPU jobs: 'auto' / 'cuda' take the leased GPU (here: a fake one), 'cpu' stays on
    the CPU; 'device' leaves the settings handed to the trainer; the rule's log names the lease."""
    monkeypatch.setenv(gpu_lease.ENV_LOCK_DIR, str(tmp_path / "locks"))
    monkeypatch.setenv(gpu_lease.ENV_FAKE_GPUS, "1")
    log_file = tmp_path / "job.log"
    with gpu_lease.leased_job(str(log_file), {"device": "auto", "epochs": 2}, "teacher") as (_, settings, device):
        assert device == "cuda:0" and settings == {"epochs": 2}
    assert "teacher on cuda:0 (GPU lease: " in log_file.read_text()
    with gpu_lease.leased_job(str(log_file), {"device": "cpu"}, "student") as (_, settings, device):
        assert device == "cpu" and settings == {}  # the GPU job holds its lease all the same
    assert "student on cpu (GPU lease: " in log_file.read_text() and "none taken" not in log_file.read_text()
    with gpu_lease.leased_job(str(log_file), {"device": "cpu"}, "tracker", lease=False) as (_, _, device):
        assert device == "cpu"
    assert "tracker on cpu (GPU lease: none taken)" in log_file.read_text()
