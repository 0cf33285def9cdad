"""Training throughput of the experiment's jobs (teacher, each distillation strategy and seed, the
supervised TIR upper bound) from their CSV training logs: samples per second and the share of step
time spent waiting for data, per job and per strategy (mean over seeds).

The trainer writes one row per epoch with ``samples``, ``epoch_time_s`` and ``data_wait_fraction``;
a job's rate is its total samples over its total epoch time (epochs weighted by their duration),
and its data-wait share the time-weighted mean of the epochs' shares.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cmd_core.io import markdown_table, write_text

from .tables import format_value, write_csv

__all__ = ["JOB_COLUMNS", "job_throughput", "throughput_tables", "throughput_markdown", "write_throughput_tables"]

JOB_COLUMNS = ["kind", "strategy", "seed", "epochs", "samples", "train_time_s", "samples_per_s",
               "data_wait_fraction", "final_loss"]
_NEEDED = ("epoch", "samples", "epoch_time_s", "data_wait_fraction")


def job_throughput(path: str | os.PathLike, kind: str, strategy: str, seed) -> dict:
    """One job's row (see JOB_COLUMNS) from its training log; a log without the trainer's timing
    columns or without epochs is an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: training log not found")
    df = pd.read_csv(path)
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a training log of cmd_core's trainer (missing {', '.join(missing)})")
    if df.empty:
        raise ValueError(f"{path}: training log has no epochs")
    df = df.sort_values("epoch").drop_duplicates("epoch", keep="last")  # a resumed job may repeat an epoch
    t = df["epoch_time_s"].astype(float)
    total_t = float(t.sum())
    return {
        "kind": kind, "strategy": strategy, "seed": seed, "epochs": int(len(df)),
        "samples": int(df["samples"].sum()), "train_time_s": total_t,
        "samples_per_s": float(df["samples"].sum()) / total_t if total_t > 0 else float("nan"),
        "data_wait_fraction": float((df["data_wait_fraction"].astype(float) * t).sum() / total_t)
        if total_t > 0 else float("nan"),
        "final_loss": float(df["loss"].iloc[-1]) if "loss" in df.columns else float("nan"),
    }


def throughput_tables(jobs: list[tuple[str, str, object, str | os.PathLike]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-job table, per-strategy table) from ``(kind, strategy, seed, log path)`` tuples."""
    rows = pd.DataFrame([job_throughput(p, k, s, seed) for k, s, seed, p in jobs], columns=JOB_COLUMNS)
    summary = (rows.groupby(["kind", "strategy"], sort=False)
               .agg(jobs=("seed", "size"), samples_per_s=("samples_per_s", "mean"),
                    samples_per_s_std=("samples_per_s", "std"), data_wait_fraction=("data_wait_fraction", "mean"),
                    train_time_s=("train_time_s", "mean"), final_loss=("final_loss", "mean"))
               .reset_index())
    return rows, summary


def throughput_markdown(summary: pd.DataFrame) -> str:
    lines = ["# Training throughput per strategy", "",
             "Mean over seeds of each job's samples per second (total samples / total epoch time) and of the",
             "share of step time spent waiting for the data loader.", ""]
    head = ["Kind", "Strategy", "Jobs", "Samples/s", "±", "Data wait", "Time per job (s)", "Final loss"]
    rows = [[r.kind, r.strategy, str(r.jobs), format_value(r.samples_per_s, 2), format_value(r.samples_per_s_std, 2),
             f"{100 * r.data_wait_fraction:.1f}%", format_value(r.train_time_s, 1), format_value(r.final_loss, 3)] for r in summary.itertuples()]
    return "\n".join(lines + [markdown_table(rows, head, n_text=2)]) + "\n"


def write_throughput_tables(jobs, out_csv: str | os.PathLike, out_md: str | os.PathLike,
                            out_jobs_csv: str | os.PathLike | None = None) -> pd.DataFrame:
    """Write the per-strategy CSV and Markdown (and optionally the per-job CSV) atomically."""
    rows, summary = throughput_tables(jobs)
    write_csv(summary, out_csv)
    write_text(out_md, throughput_markdown(summary))
    if out_jobs_csv:
        write_csv(rows, out_jobs_csv)
    return summary
