"""Load benchmark (issue 14): ingest + pair generation of a large generated RGB-T dataset with
bounded memory, and an evaluation of many sequences x trackers.

    PYTHONPATH=. python benchmarks/bench_load.py [--frames 200000] [--threads 2] [--verify header]
        [--eval-sequences 1000] [--eval-trackers 10] [--eval-frames 300] [--dir DIR]

Each measured phase runs in a fresh interpreter, so its peak RSS (`wait4` rusage of that child) is its
own and not the generator's:
1. ingest (`ingest_dataset`, RGBT234 layout, `--verify` header by default as for huge datasets)
   and writing the manifests; the limit measured in the same run is the I/O floor of that check:
   listing every frame folder and reading the first 4 KiB of every file with the same thread
   count (ratio ingest / floor in frame pairs per second);
2. pair generation (`generate_pairs`, method `central`) on the written manifest, against reading
   that manifest alone;
3. evaluation (`evaluate_results`, lasher protocol, plus the scores) of `--eval-sequences` x
   `--eval-trackers` result files, against reading every file with np.loadtxt.
Peak RSS is reported next to the child's RSS before the phase started, so the growth per frame
shows whether memory is bounded (it must not scale with the dataset beyond the manifest rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_ingest import generate as generate_rgbt  # noqa: E402


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def in_child(fn, *args) -> dict:
    """Run `fn(*args) -> dict` in a fresh interpreter (this script with --phase); adds its peak
    RSS (`wait4` rusage of that child alone) and its RSS when the phase started, in MiB."""
    cmd = [sys.executable, __file__, "--phase", fn.__name__, "--phase-args", json.dumps([str(a) for a in args])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out_bytes = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {fn.__name__} failed (exit {proc.returncode})")
    out = json.loads(out_bytes.decode().strip().splitlines()[-1])
    out["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return out


def header_floor(root: Path, threads: int) -> dict:
    """Seconds to list every frame folder and read the first 4 KiB of each file."""
    def head(p: str) -> int:
        with open(p, "rb") as fh:
            return len(fh.read(4096))

    t = time.perf_counter()
    paths = [e.path for seq in os.scandir(root) if seq.is_dir() for sub in ("visible", "infrared")
             for e in os.scandir(os.path.join(seq.path, sub))]
    with ThreadPoolExecutor(threads) as ex:
        total = sum(ex.map(head, paths, chunksize=256))
    assert total > 0
    return {"seconds": time.perf_counter() - t, "files": len(paths)}


def run_ingest(root: Path, out: Path, threads: int, verify: str) -> dict:
    from cmd_core.datasets.ingest import ingest_dataset, write_result

    t = time.perf_counter()
    res = ingest_dataset("load", "rgbt234", root, threads=threads, verify=verify)
    write_result(res, out)
    return {"seconds": time.perf_counter() - t, "frames": res.summary["frames"],
            "rejected_rows": res.summary["rejected_rows"]}


def read_manifest_only(manifest: Path) -> dict:
    from cmd_core.pairs.generate import read_frames

    t = time.perf_counter()
    n = len(read_frames(manifest))
    return {"seconds": time.perf_counter() - t, "frames": n}


def run_pairs(manifest: Path, threads: int) -> dict:
    from cmd_core.pairs.generate import generate_pairs, read_frames

    t = time.perf_counter()
    res = generate_pairs(read_frames(manifest), "central", threads=threads)
    return {"seconds": time.perf_counter() - t, "pairs": res.pairs.num_rows}


def generate_eval(root: Path, n_seq: int, n_trackers: int, n_frames: int, seed: int = 0) -> tuple[list, list]:
    """GT and `n_trackers` result folders (increasing noise) of `n_seq` sequences, pytracking
    style (tab-separated integers); returns the sequence and tracker names."""
    rng = np.random.default_rng(seed)
    seqs = [f"s{i:04d}" for i in range(n_seq)]
    trackers = [f"T{k:02d}" for k in range(n_trackers)]
    (root / "gt").mkdir(parents=True)
    for t in trackers:
        (root / "res" / t).mkdir(parents=True)
    for s in seqs:
        walk = np.abs(np.cumsum(rng.normal(0, 2, (n_frames, 4)), axis=0)) + (200, 150, 30, 40)
        (root / "gt" / f"{s}.txt").write_text("\n".join(",".join(map(str, r)) for r in walk.astype(int)) + "\n")
        for k, t in enumerate(trackers):
            noisy = (walk + rng.normal(0, 2 + 2 * k, walk.shape)).astype(int)
            (root / "res" / t / f"{s}.txt").write_text("\n".join("\t".join(map(str, r)) for r in noisy) + "\n")
    (root / "sequences.txt").write_text("\n".join(seqs) + "\n")
    return seqs, trackers


def run_eval(root: Path, trackers: list) -> dict:
    from cmd_core.evaluation import evaluate_results

    t = time.perf_counter()
    evals, missing = evaluate_results("lasher", root / "gt", {k: root / "res" / k for k in trackers},
                                      root / "sequences.txt", "flat")
    scores = [ev.scores()["success"] for ev in evals]
    assert not missing and len(scores) == len(trackers)
    return {"seconds": time.perf_counter() - t, "best_success": max(scores), "worst_success": min(scores)}


def read_eval_only(root: Path, seqs: list, trackers: list) -> dict:
    t = time.perf_counter()
    n = sum(len(np.loadtxt(root / "gt" / f"{s}.txt", delimiter=",", ndmin=2)) for s in seqs)
    n += sum(len(np.loadtxt(root / "res" / k / f"{s}.txt", ndmin=2)) for k in trackers for s in seqs)
    return {"seconds": time.perf_counter() - t, "rows": n}


PHASES = {
    "header_floor": lambda a: header_floor(Path(a[0]), int(a[1])),
    "run_ingest": lambda a: run_ingest(Path(a[0]), Path(a[1]), int(a[2]), a[3]),
    "read_manifest_only": lambda a: read_manifest_only(Path(a[0])),
    "run_pairs": lambda a: run_pairs(Path(a[0]), int(a[1])),
    "run_eval": lambda a: run_eval(Path(a[0]), a[1].split(",")),
    "read_eval_only": lambda a: read_eval_only(Path(a[0]), a[1].split(","), a[2].split(",")),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--phase-args", help=argparse.SUPPRESS)
    ap.add_argument("--frames", type=int, default=200_000, help="frame pairs of the generated dataset")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--verify", default="header", choices=("decode", "header", "none"))
    ap.add_argument("--eval-sequences", type=int, default=1000)
    ap.add_argument("--eval-trackers", type=int, default=10)
    ap.add_argument("--eval-frames", type=int, default=300, help="frames per evaluated sequence")
    ap.add_argument("--dir", help="where to generate (default: a temporary folder)")
    args = ap.parse_args()
    if args.phase:  # child mode: one measured phase, result as the last stdout line
        out = {"rss_start_mb": _rss_now_mb(), **PHASES[args.phase](json.loads(args.phase_args))}
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.dir or tmp)
        root = base / "rgbt_load"
        t = time.perf_counter()
        generate_rgbt(root, args.frames)
        print(f"generated {args.frames} frame pairs in {time.perf_counter() - t:.1f}s at {root}")
        print(f"parent RSS before the phases: {_rss_now_mb():.0f} MiB; threads={args.threads}")

        floor = in_child(header_floor, root, args.threads)
        ing = in_child(run_ingest, root, base / "manifests", args.threads, args.verify)
        assert ing["frames"] == args.frames and ing["rejected_rows"] == 0, ing
        ing_fps, floor_fps = args.frames / ing["seconds"], args.frames / floor["seconds"]
        print(f"ingest (verify={args.verify}) + manifests: {ing_fps:8.0f} frame pairs/s ({ing['seconds']:.2f}s), "
              f"peak RSS {ing['peak_rss_mb']:.0f} MiB (start {ing['rss_start_mb']:.0f} MiB, "
              f"{(ing['peak_rss_mb'] - ing['rss_start_mb']) * 2**20 / args.frames:.0f} B/frame)")
        print(f"  floor, list + read 4 KiB of {floor['files']} files: {floor_fps:8.0f} frame pairs/s; "
              f"ratio ingest/floor {ing_fps / floor_fps:.2f}")

        manifest = base / "manifests" / "load.frames.parquet"
        read = in_child(read_manifest_only, manifest)
        pairs = in_child(run_pairs, manifest, args.threads)
        print(f"pairs (central): {args.frames / pairs['seconds']:8.0f} frames/s ({pairs['seconds']:.2f}s, "
              f"{pairs['pairs']} pairs), peak RSS {pairs['peak_rss_mb']:.0f} MiB "
              f"(start {pairs['rss_start_mb']:.0f} MiB)")
        print(f"  floor, reading the manifest: {read['seconds']:.2f}s; ratio pairs/floor time "
              f"{pairs['seconds'] / read['seconds']:.1f}")

        ev_root = base / "eval_load"
        t = time.perf_counter()
        seqs, trackers = generate_eval(ev_root, args.eval_sequences, args.eval_trackers, args.eval_frames)
        print(f"generated {len(seqs)} sequences x {len(trackers)} trackers x {args.eval_frames} frames "
              f"in {time.perf_counter() - t:.1f}s")
        ev = in_child(run_eval, ev_root, ",".join(trackers))
        rd = in_child(read_eval_only, ev_root, ",".join(seqs), ",".join(trackers))
        print(f"evaluate (read + score): {ev['seconds']:.2f}s, peak RSS {ev['peak_rss_mb']:.0f} MiB "
              f"(start {ev['rss_start_mb']:.0f} MiB); success {ev['worst_success']:.3f}..{ev['best_success']:.3f}")
        print(f"  floor, np.loadtxt of the {len(seqs) * (len(trackers) + 1)} files: {rd['seconds']:.2f}s; "
              f"ratio evaluate/read {ev['seconds'] / rd['seconds']:.2f}")


if __name__ == "__main__":
    main()
