"""Shared test helpers: project paths and the optional ../shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def ablation_strategies() -> dict:
    """distill.strategies of config/ablations.yaml (the default four plus the three ablations)."""
    import yaml

    return yaml.safe_load((PROJECT_ROOT / "config" / "ablations.yaml").read_text())["distill"]["strategies"]


SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: a user's clone does not have it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (only present in the project's CI)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def torch_one_thread():
    """Small tensors: one thread is fastest and leaves the other cores to parallel test workers."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
