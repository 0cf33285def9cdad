"""Lease one GPU for the life of a process, before CUDA initialises.

Snakemake only *counts* GPUs (``--resources gpu=2`` lets two ``gpu=1`` jobs run at once); it never
picks a device nor sets ``CUDA_VISIBLE_DEVICES``, so two concurrent jobs would both land on GPU 0.
Each GPU job therefore calls :func:`lease_gpu` first thing, which:

1. inside a SLURM GPU allocation (``SLURM_JOB_ID`` plus ``SLURM_STEP_GPUS`` / ``SLURM_JOB_GPUS`` /
   ``CUDA_VISIBLE_DEVICES``) uses the allocation as it is: it is already exclusive, no lock;
2. otherwise takes a non-blocking exclusive ``flock`` on ``<lock_dir>/gpu<id>.lock`` for the first
   free id (ids from an existing ``CUDA_VISIBLE_DEVICES`` if set, else ``0..n-1``), keeps the file
   descriptor open for the life of the process (the kernel drops the lock when the process dies,
   even by SIGKILL, so no stale locks), and sets ``CUDA_VISIBLE_DEVICES`` to that single id, so
   the job sees it as ``cuda:0``;
3. falls back to ``"cpu"`` with a logged reason when there is no GPU.

When every GPU is leased it either polls until one frees up (``wait=True``, optional ``timeout``)
or fails at once with :class:`GpuLeaseError` (``wait=False``).

The GPU count is found without initialising CUDA in this process: ``nvidia-smi -L``, else
``/proc/driver/nvidia/gpus``, else (no NVIDIA driver visible at all on Linux) zero; only on other
systems ``torch.cuda.device_count()`` is asked, in a *subprocess*, because calling it here would
initialise CUDA before ``CUDA_VISIBLE_DEVICES`` is set.

Usage, first thing in a GPU job (before anything initialises CUDA)::

    lease = lease_gpu()                 # held until lease.release() or the process ends
    device = torch.device(lease.device)  # "cuda:0" (the leased GPU) or "cpu"

Environment:
    ``CMD_TIR_GPU_LOCK_DIR``  lock folder (default ``/tmp/cmd-tir-gpu-locks-$USER``); must be on a
                              local file system shared by all jobs of the machine (flock over NFS
                              is unreliable).
    ``CMD_TIR_FAKE_GPUS=N``   pretend N GPUs exist (tests; nothing touches CUDA).
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ENV_LOCK_DIR = "CMD_TIR_GPU_LOCK_DIR"
ENV_FAKE_GPUS = "CMD_TIR_FAKE_GPUS"
_SLURM_GPU_VARS = ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS")
# Lock fds of this process, referenced here so that a dropped Lease object (``lease_gpu().device``)
# keeps its GPU until release() or process exit instead of losing it to garbage collection.
_HELD_FDS: set[int] = set()


class GpuLeaseError(RuntimeError):
    """No GPU could be leased (all busy with ``wait=False``, or the wait timed out)."""


@dataclass
class Lease:
    """A leased device. ``device`` is ``"cuda:0"`` (or ``"cpu"``); ``gpu_id`` the physical id
    (the ``CUDA_VISIBLE_DEVICES`` entry it came from, an int when numeric), None on CPU;
    ``source`` is ``"lock"``, ``"slurm"`` or ``"cpu"``; ``reason`` says why, in words."""

    device: str
    gpu_id: int | str | None
    source: str
    reason: str
    lock_path: Path | None = None
    _fd: int | None = field(default=None, repr=False)
    _old_cvd: str | None = field(default=None, repr=False)
    _set_cvd: bool = field(default=False, repr=False)

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def release(self) -> None:
        """Unlock and restore ``CUDA_VISIBLE_DEVICES`` (no effect on an already initialised CUDA).
        Safe to call twice; process exit releases the lock too."""
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                _HELD_FDS.discard(self._fd)
                self._fd = None
            log.info("released GPU %s (%s)", self.gpu_id, self.lock_path)
        if self._set_cvd:
            if self._old_cvd is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = self._old_cvd
            self._set_cvd = False

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()



# ----------------------------------------------------------------------------- discovery
def default_lock_dir() -> Path:
    """``$CMD_TIR_GPU_LOCK_DIR`` or ``/tmp/cmd-tir-gpu-locks-$USER``."""
    env = os.environ.get(ENV_LOCK_DIR)
    if env:
        return Path(env)
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        user = str(os.getuid())
    return Path(f"/tmp/cmd-tir-gpu-locks-{user}")


def _split_ids(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def count_gpus(use_torch: bool = True) -> tuple[int, str]:
    """(number of GPUs, how it was found), without initialising CUDA in this process."""
    fake = os.environ.get(ENV_FAKE_GPUS)
    if fake is not None and fake.strip() != "":
        try:
            n = int(fake)
        except ValueError:
            raise ValueError(f"{ENV_FAKE_GPUS}={fake!r} is not an integer") from None
        return max(n, 0), f"{ENV_FAKE_GPUS}={n}"
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
            if out.returncode == 0:
                return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU ")), "nvidia-smi -L"
            log.debug("nvidia-smi -L failed (%d): %s", out.returncode, out.stderr.strip())
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("nvidia-smi -L failed: %s", exc)
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return sum(1 for _ in proc.iterdir()), str(proc)
    if sys.platform.startswith("linux") and not any(Path("/dev").glob("nvidia[0-9]*")):
        return 0, "no NVIDIA driver (no nvidia-smi, /proc/driver/nvidia or /dev/nvidia*)"
    if not use_torch:
        return 0, "no nvidia-smi or /proc/driver/nvidia"
    # Last resort: torch.cuda.device_count() initialises the CUDA runtime, which then ignores any
    # later CUDA_VISIBLE_DEVICES, so ask it in a child process.
    code = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
        return int(out.stdout.strip().splitlines()[-1]), "torch.cuda.device_count() in a subprocess"
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        return 0, f"torch.cuda.device_count() failed: {exc}"


def _cuda_initialised() -> bool:
    torch = sys.modules.get("torch")
    try:
        return bool(torch is not None and torch.cuda.is_initialized())
    except Exception:
        return False


def _slurm_allocation() -> list[str] | None:
    """GPU ids of the SLURM allocation this process runs in; [] for a job without GPUs;
    None outside SLURM."""
    if not os.environ.get("SLURM_JOB_ID"):
        return None
    # SLURM_*_GPUS hold the physical ids; CUDA_VISIBLE_DEVICES may be renumbered by cgroups.
    for var in (*_SLURM_GPU_VARS, "CUDA_VISIBLE_DEVICES"):
        val = os.environ.get(var)
        if val is not None:
            ids = [i for i in _split_ids(val) if i not in ("-1", "NoDevFiles")]
            if ids:
                return ids
    return []


def _as_id(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _lock_name(gpu: str) -> str:
    return "gpu" + re.sub(r"[^A-Za-z0-9_.-]", "_", gpu) + ".lock"


def _try_lock(path: Path) -> int | None:
    """The fd of ``path`` locked exclusively, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    # Who holds it, for people looking at the lock folder (the lock itself is the flock).
    os.ftruncate(fd, 0)
    os.write(fd, f"pid={os.getpid()} host={socket.gethostname()} since={time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
    _HELD_FDS.add(fd)
    return fd


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


# ----------------------------------------------------------------------------- the lease
def lease_gpu(
    lock_dir: str | os.PathLike | None = None,
    wait: bool = True,
    timeout: float | None = None,
    count_override: int | None = None,
    poll_interval: float = 0.5,
) -> Lease:
    """Lease a GPU for this process (see the module docstring); call before CUDA initialises.

    ``wait``: when all GPUs are leased, poll every ``poll_interval`` s until one frees up (at most
    ``timeout`` s, None = forever) instead of raising :class:`GpuLeaseError` at once.
    ``count_override``: number of GPUs to assume instead of detecting them (ignored when
    ``CUDA_VISIBLE_DEVICES`` already lists the devices). Use as a context manager or keep the
    returned object alive; ``.device`` is what to pass to ``torch.device``.
    """
    # 1. SLURM: the allocation is exclusive already.
    slurm = _slurm_allocation()
    if slurm is not None:
        if not slurm:
            reason = f"SLURM job {os.environ['SLURM_JOB_ID']} has no GPU allocated"
            log.info("using the CPU: %s", reason)
            return Lease("cpu", None, "cpu", reason)
        gid = _as_id(slurm[0])
        reason = f"SLURM job {os.environ['SLURM_JOB_ID']} allocation (GPUs {','.join(slurm)}), used as is"
        log.info("using GPU %s: %s", gid, reason)
        return Lease("cuda:0", gid, "slurm", reason)

    # 2. Candidates: an existing CUDA_VISIBLE_DEVICES restricts them, else all GPUs of the machine.
    old_cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if old_cvd is not None:
        candidates = [i for i in _split_ids(old_cvd) if i != "-1"]
        how = f"CUDA_VISIBLE_DEVICES={old_cvd!r}"
        if not candidates:
            reason = f"{how} hides all GPUs"
            log.info("using the CPU: %s", reason)
            return Lease("cpu", None, "cpu", reason)
    else:
        if count_override is not None:
            n, how = int(count_override), f"count_override={count_override}"
        else:
            n, how = count_gpus()
        if n <= 0:
            reason = f"no GPU found ({how})"
            log.info("using the CPU: %s", reason)
            return Lease("cpu", None, "cpu", reason)
        candidates = [str(i) for i in range(n)]

    lock_root = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    lock_root.mkdir(parents=True, exist_ok=True)
    paths = [lock_root / _lock_name(c) for c in candidates]
    start = time.monotonic()
    next_note = start
    while True:
        for cand, path in zip(candidates, paths):
            fd = _try_lock(path)
            if fd is None:
                continue
            return _granted(cand, candidates, path, fd, old_cvd, how)
        waited = time.monotonic() - start
        if not wait or (timeout is not None and waited >= timeout):
            holders = "; ".join(f"{c}: {_holder(p)}" for c, p in zip(candidates, paths))
            what = "" if not wait else f" after waiting {waited:.1f} s"
            raise GpuLeaseError(
                f"all {len(candidates)} GPU(s) ({how}) are leased by other processes{what} "
                f"(lock folder {lock_root}; holders: {holders}). Lower --resources gpu=N to the number "
                f"of free GPUs, or wait for the running jobs."
            )
        if time.monotonic() >= next_note:
            log.info("all %d GPU(s) busy, waiting for one (lock folder %s)", len(candidates), lock_root)
            next_note = time.monotonic() + 60
        sleep = poll_interval if timeout is None else min(poll_interval, max(timeout - waited, 0.01))
        time.sleep(sleep)


def _granted(cand: str, candidates: list[str], path: Path, fd: int, old_cvd: str | None, how: str) -> Lease:
    gid = _as_id(cand)
    if _cuda_initialised():
        # Too late to narrow the visible devices: address the leased one by its index instead.
        index = candidates.index(cand)
        log.warning("CUDA was initialised before the GPU lease; CUDA_VISIBLE_DEVICES left as is, using cuda:%d", index)
        return Lease(f"cuda:{index}", gid, "lock", f"lock {path} ({how}); CUDA already initialised", path, fd)
    os.environ["CUDA_VISIBLE_DEVICES"] = cand
    log.info("leased GPU %s (lock %s, %s); CUDA_VISIBLE_DEVICES=%s", gid, path, how, cand)
    return Lease("cuda:0", gid, "lock", f"lock {path} ({how})", path, fd, old_cvd, True)


@contextmanager
def leased_job(log_path: str, settings: dict, what: str, lease: bool = True):
    """A workflow job that counts as a GPU job (teacher, student, bound; a DiMP tracker off the CPU):
    lease a GPU before anything initialises CUDA (held until the block ends, whatever the device, as
    the job holds its ``gpu`` resource; ``lease=False``: none), then log to the rule's log. Yields
    (logger, settings without ``device``, the device: the leased GPU or the CPU for ``auto`` /
    ``cuda``, else the one asked for)."""
    rest = dict(settings)
    asked = rest.pop("device")
    held = lease_gpu() if lease else None
    from cmd_core.logs import job_logging

    try:
        with job_logging(log_path) as log:
            if asked in ("auto", "cuda"):
                device = held.device if held is not None else "cpu"
            else:
                device = asked
            log.info("%s on %s (GPU lease: %s)", what, device, held.reason if held else "none taken")
            yield log, rest, device
    finally:
        if held is not None:
            held.release()
