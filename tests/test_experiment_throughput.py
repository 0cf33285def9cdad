"""Training-throughput tables from the trainer's CSV logs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cmd_core.experiment.throughput import job_throughput, throughput_tables, write_throughput_tables



def flat(md: str) -> str:
    """Markdown with the column padding of DataFrame.to_markdown collapsed to single spaces."""
    import re

    return re.sub(r" {2,}", " ", md)


def _log(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_job_rate_is_time_weighted(tmp_path):
    p = _log(tmp_path / "log.csv", [
        {"epoch": 1, "loss": 3.0, "samples": 64, "epoch_time_s": 8.0, "data_wait_fraction": 0.5},
        {"epoch": 2, "loss": 2.0, "samples": 64, "epoch_time_s": 24.0, "data_wait_fraction": 0.1},
    ])
    row = job_throughput(p, "distilled", "full", 0)
    assert row["samples"] == 128 and row["epochs"] == 2
    assert row["samples_per_s"] == pytest.approx(128 / 32.0)
    assert row["data_wait_fraction"] == pytest.approx((0.5 * 8 + 0.1 * 24) / 32)
    assert row["final_loss"] == 2.0


def test_resumed_epoch_counts_once(tmp_path):
    p = _log(tmp_path / "log.csv", [
        {"epoch": 1, "loss": 3.0, "samples": 10, "epoch_time_s": 5.0, "data_wait_fraction": 0.0},
        {"epoch": 1, "loss": 2.5, "samples": 10, "epoch_time_s": 2.0, "data_wait_fraction": 0.0},
    ])
    row = job_throughput(p, "teacher", "teacher", 0)
    assert row["epochs"] == 1 and row["samples_per_s"] == pytest.approx(5.0)


def test_summary_over_seeds_and_markdown(tmp_path):
    jobs = []
    for seed, t in enumerate((10.0, 20.0)):
        jobs.append(("distilled", "official", seed, _log(tmp_path / f"o{seed}.csv", [
            {"epoch": 1, "loss": 1.0, "samples": 100, "epoch_time_s": t, "data_wait_fraction": 0.02}])))
    jobs.append(("teacher", "teacher", 0, _log(tmp_path / "t.csv", [
        {"epoch": 1, "loss": 1.0, "samples": 50, "epoch_time_s": 10.0, "data_wait_fraction": 0.2}])))
    rows, summary = throughput_tables(jobs)
    assert len(rows) == 3
    off = summary.set_index("strategy").loc["official"]
    assert off["jobs"] == 2 and off["samples_per_s"] == pytest.approx(7.5)
    assert off["samples_per_s_std"] == pytest.approx(math.sqrt(((10 - 7.5) ** 2 + (5 - 7.5) ** 2) / 1))
    summary = write_throughput_tables(jobs, tmp_path / "s.csv", tmp_path / "s.md", tmp_path / "j.csv")
    md = flat((tmp_path / "s.md").read_text())
    assert "| distilled | official | 2 | 7.50 |" in md and "20.0%" in md
    assert len(pd.read_csv(tmp_path / "j.csv")) == 3


def test_bad_logs_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        job_throughput(tmp_path / "missing.csv", "teacher", "teacher", 0)
    p = _log(tmp_path / "other.csv", [{"epoch": 1, "loss": 1.0}])
    with pytest.raises(ValueError, match="other.csv.*missing samples"):
        job_throughput(p, "teacher", "teacher", 0)
    p.write_text("epoch,samples,epoch_time_s,data_wait_fraction\n")
    with pytest.raises(ValueError, match="no epochs"):
        job_throughput(p, "teacher", "teacher", 0)
