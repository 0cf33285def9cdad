"""Sequence sampler: max gap, invalid/absent frames skipped, reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmd_core.training.sampler import SequenceSampler, usable_mask


def _manifest(n_seq=3, n_frames=80, bad=()):
    rows = []
    for s in range(n_seq):
        for f in range(n_frames):
            valid = (s, f) not in bad and not (f % 7 == 3)
            rows.append(dict(dataset="d", split="train", sequence=f"seq{s}", frame=f, packing="files",
                             rgb_path=f"/nonexistent/{s}/{f}.jpg", tir_path=None,
                             gt_rgb_x=10.0 + f, gt_rgb_y=5.0, gt_rgb_w=20.0 if f % 11 else 0.0, gt_rgb_h=10.0,
                             gt_tir_x=np.nan, gt_tir_y=np.nan, gt_tir_w=np.nan, gt_tir_h=np.nan,
                             gt_rgb_valid=valid, gt_tir_valid=False, absent=(f % 13 == 5)))
    return pd.DataFrame(rows)


def test_respects_max_gap_and_skips_invalid_frames():
    df = _manifest()
    ok = usable_mask(df, "rgb")
    assert not ok[(df.frame % 7 == 3) | (df.frame % 13 == 5) | (df.frame % 11 == 0)].any()
    sampler = SequenceSampler(df, "rgb", num_train_frames=3, num_test_frames=3, max_gap=10, seed=1)
    usable = set(df.index[ok])
    for i in range(300):
        s = sampler.sample(epoch=1, index=i)
        assert set(s.train_rows + s.test_rows) <= usable
        assert max(s.test_frames) - min(s.train_frames) <= 10
        assert max(s.train_frames) - min(s.train_frames) <= 10
        assert min(s.test_frames) > max(s.train_frames) - 10
        np.testing.assert_array_equal(s.train_boxes, df.loc[s.train_rows, [f"gt_rgb_{k}" for k in "xywh"]].to_numpy())
        assert (s.train_boxes[:, 2] > 0).all() and (s.test_boxes[:, 2] > 0).all()


def test_gaps_in_usable_frames_still_within_max_gap():
    # usable frames only every 6th frame, max gap 8: pairs must still be at most 8 apart
    df = _manifest(n_seq=1, n_frames=60)
    df["gt_rgb_valid"] = df.frame % 6 == 0
    df["absent"] = False
    df["gt_rgb_w"] = 20.0
    sampler = SequenceSampler(df, "rgb", 3, 3, max_gap=8, seed=0)
    for i in range(200):
        s = sampler.sample(0, i)
        assert all(f % 6 == 0 for f in s.train_frames + s.test_frames)
        assert max(s.train_frames + s.test_frames) - min(s.train_frames + s.test_frames) <= 8


def test_seeded_and_reproducible():
    df = _manifest()
    a = SequenceSampler(df, "rgb", 3, 3, 30, seed=7)
    b = SequenceSampler(df, "rgb", 3, 3, 30, seed=7)
    c = SequenceSampler(df, "rgb", 3, 3, 30, seed=8)
    draws_a = [(a.sample(2, i).train_rows, a.sample(2, i).test_rows) for i in range(20)]
    assert draws_a == [(b.sample(2, i).train_rows, b.sample(2, i).test_rows) for i in range(20)]
    assert draws_a != [(c.sample(2, i).train_rows, c.sample(2, i).test_rows) for i in range(20)]
    assert draws_a != [(a.sample(3, i).train_rows, a.sample(3, i).test_rows) for i in range(20)]


def test_no_usable_frame_is_a_clear_error():
    df = _manifest(n_seq=1, n_frames=5)
    df["gt_rgb_valid"] = False
    with pytest.raises(ValueError, match="usable rgb"):
        SequenceSampler(df, "rgb")
    with pytest.raises(ValueError, match="modality"):
        SequenceSampler(_manifest(1, 5), "depth")
