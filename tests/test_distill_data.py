"""Pair dataset: each crop supervised with its own box (the release's defect fixed), pair roles,
aligned teacher/student crops, clear errors for empty manifests and missing frames."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
from test_distill_fixtures import CROP, world, write_pairs_table  # noqa: F401  (fixture)

from cmd_core.distill.pair_dataset import EmptyPairsError, MissingFrameError, PairDataset
from cmd_core.training.processing import IMAGENET_MEAN, IMAGENET_STD, ProcessingSettings

NO_JITTER = ProcessingSettings(crop_size=CROP, center_jitter={"train": 0.0, "test": 0.0},
                               scale_jitter={"train": 0.0, "test": 0.0}, grayscale_prob=0.0, brightness_jitter=0.0,
                               num_proposals=4)


def _pair(tm="rgb", sm="tir", tbox=(20, 20, 20, 16), sbox=(40, 30, 12, 24), tf=0, sf=2, seq="seqA"):
    return {"sequence": seq, "template_frame": tf, "template_modality": tm, "search_frame": sf,
            "search_modality": sm, **{f"template_{k}": float(v) for k, v in zip("xywh", tbox)},
            **{f"search_{k}": float(v) for k, v in zip("xywh", sbox)}}


def _expected_anno(box):
    side = math.ceil(math.sqrt(box[2] * box[3]) * NO_JITTER.search_area_factor)
    s = CROP / side
    return np.array([CROP / 2 - box[2] * s / 2, CROP / 2 - box[3] * s / 2, box[2] * s, box[3] * s])


def test_each_crop_is_supervised_with_its_own_box(world, tmp_path):
    tbox, sbox = (20, 20, 20, 16), (40, 30, 12, 24)
    p = write_pairs_table([_pair(tbox=tbox, sbox=sbox)], tmp_path / "p.parquet")
    ds = PairDataset(p, world["frames"], NO_JITTER, mode="official", samples_per_epoch=2)
    x = ds.sample(0, 0)
    # without jitter each crop is centred on its own box and scaled by its own size
    np.testing.assert_allclose(x["train_anno"][0], _expected_anno(tbox), atol=1e-3)
    np.testing.assert_allclose(x["test_anno"][0], _expected_anno(sbox), atol=1e-3)
    # the release's defect would have given the template the search crop's box
    assert not np.allclose(x["train_anno"][0], x["test_anno"][0], atol=0.5)
    # the label peaks at the search box centre, proposals surround the search box
    lab = x["test_label"][0]
    assert np.unravel_index(lab.argmax(), lab.shape) in {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert x["test_proposals"].shape == (1, 4, 4) and np.all(x["proposal_iou"] > 0)


def test_jittered_boxes_follow_their_own_crop(world, tmp_path):
    tbox, sbox = (20, 20, 20, 16), (40, 30, 12, 24)
    p = write_pairs_table([_pair(tbox=tbox, sbox=sbox)], tmp_path / "p.parquet")
    st = ProcessingSettings(crop_size=CROP, num_proposals=4)
    ds = PairDataset(p, world["frames"], st, mode="official", samples_per_epoch=8)
    for i in range(4):
        x = ds.sample(0, i)
        # box size in the crop = own box size * own scale; aspect ratios tell the boxes apart
        ta, sa = x["train_anno"][0], x["test_anno"][0]
        assert ta[2] / ta[3] == pytest.approx(tbox[2] / tbox[3], rel=1e-4)
        assert sa[2] / sa[3] == pytest.approx(sbox[2] / sbox[3], rel=1e-4)


def _is_gray(img_chw):
    raw = img_chw.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    return np.allclose(raw[..., 0], raw[..., 1], atol=1e-4) and np.allclose(raw[..., 1], raw[..., 2], atol=1e-4)


def test_pair_roles_pick_the_modalities(world, tmp_path):
    p = write_pairs_table([_pair("tir", "rgb")], tmp_path / "p.parquet")
    x = PairDataset(p, world["frames"], NO_JITTER, mode="official").sample(0, 0)
    assert _is_gray(x["train_images"][0]) and not _is_gray(x["test_images"][0])
    assert x["template_rgb"][0] == 0.0
    p2 = write_pairs_table([_pair("rgb", "tir")], tmp_path / "p2.parquet")
    x2 = PairDataset(p2, world["frames"], NO_JITTER, mode="official").sample(0, 0)
    assert not _is_gray(x2["train_images"][0]) and _is_gray(x2["test_images"][0])


def test_distill_mode_gives_aligned_rgb_and_tir_crops(world, tmp_path):
    p = write_pairs_table([_pair("tir", "rgb")], tmp_path / "p.parquet")
    x = PairDataset(p, world["frames"], ProcessingSettings(crop_size=CROP, num_proposals=4), mode="distill").sample(0, 3)
    for k in ("train_images", "test_images"):
        assert not _is_gray(x[k][0]) and _is_gray(x[k + "_student"][0])  # teacher RGB, student TIR
    assert x["train_images"].shape == x["train_images_student"].shape == (1, 3, CROP, CROP)


def test_samples_are_reproducible(world):
    ds = PairDataset(world["random"], world["frames"], ProcessingSettings(crop_size=CROP), samples_per_epoch=4, seed=3)
    a, b = ds.sample(1, 2), ds.sample(1, 2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_empty_pair_manifest_is_a_clear_error(world, tmp_path):
    df = pd.read_parquet(world["central"])
    empty = tmp_path / "empty.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(world["central"]).slice(0, 0), empty)
    assert len(df) > 0
    with pytest.raises(EmptyPairsError, match="pair manifest is empty"):
        PairDataset(empty, world["frames"], NO_JITTER)


def test_missing_frame_errors_name_the_frame_or_file(world, tmp_path):
    p = write_pairs_table([_pair(sf=99)], tmp_path / "p.parquet")
    with pytest.raises(MissingFrameError, match="sequence seqA frame 99"):
        PairDataset(p, world["frames"], NO_JITTER)
    # a frame listed in the manifest whose file has gone
    data = tmp_path / "copy"
    shutil.copytree(world["root"], data)
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(world["frames"])
    df = t.to_pandas()
    for c in ("rgb_path", "tir_path"):
        df[c] = df[c].str.replace(str(world["root"]), str(data), regex=False)
    frames = tmp_path / "frames.parquet"
    pq.write_table(pa.Table.from_pandas(df, schema=t.schema, preserve_index=False), frames)
    gone = df[(df.sequence == "seqA") & (df.frame == 2)]["tir_path"].iloc[0]
    (data / "seqA" / "infrared" / gone.split("/")[-1]).unlink()
    ds = PairDataset(write_pairs_table([_pair()], tmp_path / "p2.parquet"), frames, NO_JITTER)
    with pytest.raises(MissingFrameError, match=gone.split("/")[-1]):
        ds.sample(0, 0)
