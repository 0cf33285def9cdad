"""Time `cmd-tir evaluate`'s library path on 245 sequences x 4 trackers (LasHeR test set).

Reports the total (read + score), the time spent only reading the same files with np.loadtxt
(the library floor, measured in the same run) and the ratio. Falls back to generated data of the
same shape when ../shared/data is absent.

    PYTHONPATH=. python benchmarks/bench_evaluate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from cmd_core.evaluation import evaluate_results

LASHER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "conformance" / "lasher-test"
TRACKERS = ("mfDiMP", "CAT", "MANet", "SGT")


def generate(root: Path, n_seq: int = 245, seed: int = 0) -> None:
    """Synthetic stand-in: 245 sequences of ~900 frames, GT and 4 noisy trackers."""
    rng = np.random.default_rng(seed)
    (root / "gt").mkdir(parents=True)
    names = [f"seq{i:03d}" for i in range(n_seq)]
    (root / "sequences.txt").write_text("\n".join(names) + "\n")
    for s in names:
        n = int(rng.integers(300, 1500))
        gt = np.abs(np.cumsum(rng.normal(0, 2, (n, 4)), 0)) + [300, 200, 40, 60]
        np.savetxt(root / "gt" / f"{s}.txt", gt.round(), fmt="%d", delimiter=",")
        for t in TRACKERS:
            (root / "results" / t).mkdir(parents=True, exist_ok=True)
            np.savetxt(root / "results" / t / f"{s}.txt", (gt + rng.normal(0, 8, gt.shape)).round(), fmt="%d", delimiter=",")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = None
    root = LASHER
    if not LASHER.is_dir():
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
        generate(root)
        print(f"../shared/data absent: generated data in {root}")
    seqs = (root / "sequences.txt").read_text().split()
    files = [root / "gt" / f"{s}.txt" for s in seqs] + [root / "results" / t / f"{s}.txt" for t in TRACKERS for s in seqs]
    totals, reads = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        evals, _ = evaluate_results("lasher", root, {t: root / "results" / t for t in TRACKERS}, root / "sequences.txt")
        for ev in evals:
            ev.scores()
        totals.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        n = sum(len(np.loadtxt(f, delimiter=",", ndmin=2)) for f in files)
        reads.append(time.perf_counter() - t0)
    total, read = min(totals), min(reads)
    print(f"{len(seqs)} sequences x {len(TRACKERS)} trackers, {n} box rows in {len(files)} files")
    print(f"evaluate (read + score): {total:.3f} s   best of {args.repeat}")
    print(f"read only (np.loadtxt):  {read:.3f} s")
    print(f"ratio evaluate / read:   {total / read:.2f}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
