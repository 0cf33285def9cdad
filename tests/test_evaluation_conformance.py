"""Acceptance: the protocols reproduce the benchmarks' published numbers within 0.001."""

import json
from pathlib import Path

import pytest

from cmd_core.evaluation import evaluate_results, scores_from_perfmat

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CONF = SHARED / "conformance"
pytestmark = pytest.mark.skipif(
    not (CONF / "published.json").is_file(), reason=f"conformance data not found at {CONF} (../shared/data)"
)


@pytest.fixture(scope="module")
def published():
    return json.loads((CONF / "published.json").read_text())


def test_lasher_four_trackers(published):
    nums = published["lasher-test"]["numbers"]
    root = CONF / "lasher-test"
    evals, missing = evaluate_results(
        "lasher", root, {t: root / "results" / t for t in nums}, root / "sequences.txt"
    )
    assert not missing
    assert len(evals) == 4
    for ev in evals:
        sc = ev.scores()
        assert len(ev.sequences) == 245
        for got, want in zip((sc["success"], sc["precision"], sc["norm_precision"]), nums[ev.tracker]):
            assert got == pytest.approx(want, abs=0.001), ev.tracker


def test_lsotb_37_trackers_from_perfmat(published):
    nums = published["lsotb-tir"]["numbers"]
    scores = scores_from_perfmat(CONF / "lsotb-tir" / "perfMat", "lsotb")
    assert len(scores) == 37 and set(scores) == set(nums)
    for name, want in nums.items():
        sc = scores[name]
        got = (sc["success"], sc["precision"], sc["norm_precision"])
        assert got == pytest.approx(want, abs=0.001), name


def test_gtot_two_trackers(published):
    nums = published["gtot"]["numbers_mpr_msr"]
    root = CONF / "gtot"
    evals, missing = evaluate_results("gtot", root, {t: root / "results" / t for t in nums})
    assert not missing
    for ev in evals:
        sc = ev.scores()
        assert len(ev.sequences) == 50
        assert (sc["precision"], sc["success"]) == pytest.approx(nums[ev.tracker], abs=0.001), ev.tracker
