"""Bad input: fail mode names the file (and line); skip mode writes rejected rows and counts them."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import dataset_fixtures as fx
from cmd_core.datasets.imagecheck import check_images
from cmd_core.datasets.ingest import ingest_dataset


def rgbt(tmp_path, n=3):
    return fx.make_rgbt234(tmp_path / "ds", seqs=("seqA",), n=n)


def skip(root, fmt="rgbt234", **kw):
    return ingest_dataset("d", fmt, root, on_error="skip", **kw)


def rejected(r):
    return r.rejected.to_pylist()


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope: dataset root does not exist"):
        ingest_dataset("d", "rgbt234", tmp_path / "nope")


def test_unknown_format_and_option(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset format"):
        ingest_dataset("d", "xyz", tmp_path)
    with pytest.raises(ValueError, match="unknown option"):
        ingest_dataset("d", "rgbt234", rgbt(tmp_path), options={"bogus": "1"})


def test_missing_modality_frame(tmp_path):
    root = rgbt(tmp_path)
    os.remove(root / "seqA" / "infrared" / "00002i.jpg")
    with pytest.raises(FileNotFoundError, match=r"infrared: missing TIR frame matching 00002v.jpg.*\(frame 1\)"):
        ingest_dataset("d", "rgbt234", root)
    r = skip(root)
    assert [x["frame"] for x in r.frames.to_pylist()] == [0, 2]
    rej = rejected(r)
    assert len(rej) == 1 and rej[0]["frame"] == 1 and "missing TIR frame" in rej[0]["reason"]
    assert r.summary["rejected_frames"] == 1


def test_different_frame_counts(tmp_path):
    root = fx.make_generic_pairs(tmp_path / "g")
    os.remove(root / "clip" / "tir" / "b_2.jpg")
    with pytest.raises(FileNotFoundError, match=r"missing TIR frame matching a_2\.jpg .*rgb has 3 frames, .*tir has 2"):
        ingest_dataset("d", "generic_pairs", root)
    r = skip(root, "generic_pairs")
    assert r.summary["frames"] == 2 and r.summary["rejected_frames"] == 1


def test_generic_pairs_gap_rejects_only_the_unpaired_frame(tmp_path):
    """Issue 14 item 2: a TIR frame missing in the middle must not shift the pairs after it."""
    root = fx.make_generic_pairs(tmp_path / "g", n=5)
    os.remove(root / "clip" / "tir" / "b_2.jpg")
    r = skip(root, "generic_pairs")
    df = r.frames.to_pandas()
    assert df["frame"].tolist() == [0, 1, 3, 4]
    assert [(Path(a).name, Path(b).name) for a, b in zip(df.rgb_path, df.tir_path)] == [
        ("a_0.jpg", "b_0.jpg"), ("a_1.jpg", "b_1.jpg"), ("a_3.jpg", "b_3.jpg"), ("a_4.jpg", "b_4.jpg")]
    assert r.rejected.to_pylist()[0]["frame"] == 2


def test_truncated_jpeg(tmp_path):
    root = rgbt(tmp_path)
    p = root / "seqA" / "visible" / "00003v.jpg"
    p.write_bytes(p.read_bytes()[:-40])
    with pytest.raises(ValueError, match=r"00003v.jpg: truncated JPEG.*\(frame 2\)"):
        ingest_dataset("d", "rgbt234", root)
    r = skip(root)
    assert r.summary["frames"] == 2 and rejected(r)[0]["file"] == str(p.resolve())
    # header mode does not read the end of files: the frame passes
    assert ingest_dataset("d", "rgbt234", root, verify="header").summary["frames"] == 3


def test_unreadable_and_empty_images(tmp_path):
    root = rgbt(tmp_path)
    (root / "seqA" / "visible" / "00001v.jpg").write_bytes(b"")
    (root / "seqA" / "infrared" / "00002i.jpg").write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match="00001v.jpg: empty file"):
        ingest_dataset("d", "rgbt234", root)
    reasons = sorted(x["reason"] for x in rejected(skip(root)))
    assert reasons == ["cannot decode image", "empty file"]


def test_truncated_png(tmp_path):
    root = fx.make_gtot(tmp_path / "g")
    p = root / "BlackCar" / "i" / "00002_i.png"
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(ValueError, match="00002_i.png: truncated PNG"):
        ingest_dataset("d", "gtot", root)


def test_gt_line_does_not_parse(tmp_path):
    root = rgbt(tmp_path)
    fx.write_lines(root / "seqA" / "visible.txt", ["1,2,10,8", "1,2,ten,8", "1,2,10,8"])
    with pytest.raises(ValueError, match=r"visible.txt:2: cannot parse"):
        ingest_dataset("d", "rgbt234", root)
    r = skip(root)
    rej = rejected(r)
    assert (rej[0]["line"], rej[0]["frame"]) == (2, 1) and r.summary["frames"] == 2


def test_nan_and_nonpositive_boxes_are_invalid_not_errors(tmp_path):
    root = rgbt(tmp_path)
    fx.write_lines(root / "seqA" / "visible.txt", ["NaN,NaN,NaN,NaN", "1,2,-3,8", "0,0,0,0"])
    r = ingest_dataset("d", "rgbt234", root)
    assert r.summary["frames"] == 3 and r.summary["invalid_gt"] == 3 and r.summary["gt_coverage_rgb"] == 0
    assert r.frames.column("gt_rgb_x").null_count == 3 and r.summary["gt_coverage_tir"] == 1


def test_resolution_mismatch(tmp_path):
    root = rgbt(tmp_path)
    fx.write_img(root / "seqA" / "infrared" / "00002i.jpg", w=40, h=24)
    with pytest.raises(ValueError, match=r"00002i.jpg: resolution mismatch between modalities: RGB 32x24, TIR 40x24"):
        ingest_dataset("d", "rgbt234", root)
    assert skip(root).summary["rejected_frames"] == 1
    r = ingest_dataset("d", "rgbt234", root, options={"allow_size_mismatch": "true"})
    assert r.summary["tir_resolution"] == "mixed: 32x24,40x24"


@pytest.mark.parametrize("lines,frames_kept,line", [(2, 2, None), (4, 3, 4)])
def test_gt_line_count_mismatch(tmp_path, lines, frames_kept, line):
    root = rgbt(tmp_path)
    fx.write_lines(root / "seqA" / "infrared.txt", fx.boxes(lines))
    with pytest.raises(ValueError, match=rf"infrared.txt{':' + str(line) if line else ''}: TIR ground-truth file "
                                         rf"has {lines} lines for 3 frames"):
        ingest_dataset("d", "rgbt234", root)
    r = skip(root)
    assert r.summary["frames"] == frames_kept and r.rejected.num_rows == 1
    assert rejected(r)[0]["line"] == line


def test_vot_frame_list_names_missing_frame(tmp_path):
    root = fx.make_vot(tmp_path)
    os.remove(root / "ball" / "imgs" / "00000002.jpg")
    with pytest.raises(FileNotFoundError, match=r"00000002.jpg: frame 2 listed in ball_frames.txt is missing"):
        ingest_dataset("d", "vot", root)


def test_bad_annotation_row_names_file_and_line(tmp_path):
    root = fx.make_kaist(tmp_path)
    fx.write_lines(root / "annotations" / "set00" / "V000" / "I00001.txt", ["% bbGt version=3", "person a b c d"])
    with pytest.raises(ValueError, match=r"I00001.txt:2: cannot parse bbGt row"):
        ingest_dataset("d", "kaist", root)
    os.remove(root / "annotations" / "set06" / "V000" / "I00000.txt")
    r = skip(root, "kaist")
    assert r.summary["rejected_frames"] == 2 and r.summary["frames"] == 2


def test_invalid_object_box_is_rejected_not_written(tmp_path):
    root = fx.make_kaist(tmp_path)
    fx.write_lines(root / "annotations" / "set00" / "V000" / "I00001.txt", ["% bbGt version=3", "person 1 1 0 5 0"])
    r = ingest_dataset("d", "kaist", root)
    assert r.summary["frames"] == 4 and r.summary["invalid_objects"] == 1 and r.summary["objects"] == 4
    assert "invalid object box" in rejected(r)[0]["reason"]


def test_nothing_silently_dropped(tmp_path):
    """Every frame on disk is either in the manifest or in the rejected table."""
    root = fx.make_rgbt234(tmp_path / "ds", n=4)
    (root / "seqA" / "visible" / "00002v.jpg").write_bytes(b"\xff\xd8junk")
    os.remove(root / "seqB" / "infrared" / "00004i.jpg")
    r = skip(root)
    assert r.summary["frames"] + r.summary["rejected_frames"] == 8


# ------------------------------------------------------------------- issue 14: nothing lost or shifted
def test_lsotb_missing_middle_frame_keeps_gt_aligned(tmp_path):
    """Item 1: with 0003.jpg missing, 0004.jpg must get line 4's box, not line 3's."""
    root = fx.make_lsotb_eval(tmp_path / "l", n=5)
    os.remove(root / "sequences" / "airplane_H_001" / "img" / "0003.jpg")
    r = skip(root, "lsotb_eval")
    df = r.frames.to_pandas()
    assert df["frame"].tolist() == [0, 1, 3, 4]
    assert [Path(p).name for p in df.tir_path] == ["0001.jpg", "0002.jpg", "0004.jpg", "0005.jpg"]
    assert df["gt_tir_x"].tolist() == [1, 2, 4, 5]  # fixture line i holds x = i
    (row,) = rejected(r)
    assert row["frame"] == 2 and "no file numbered 3" in row["reason"]
    assert r.summary["rejected_frames"] == 1 and r.summary["rejected_rows"] == 1


def test_gt_box_wholly_outside_the_image_is_invalid(tmp_path):
    """Item 5: a box with no pixel in the 32x24 image becomes null + flag, counted as invalid."""
    root = fx.make_rgbt234(tmp_path / "r", seqs=("seqA",), n=4)
    lines = fx.boxes(4)
    lines[1] = "40,2,10,8"  # right of the image
    lines[2] = "-20,2,10,8"  # left of it (x + w <= 0)
    lines[3] = "28,20,10,8"  # partly inside: kept
    fx.write_lines(root / "seqA" / "infrared.txt", lines)
    r = ingest_dataset("d", "rgbt234", root)
    df = r.frames.to_pandas()
    assert df["gt_tir_valid"].tolist() == [True, False, False, True]
    assert df["gt_tir_x"].isna().tolist() == [False, True, True, False]
    assert df["gt_rgb_valid"].all()
    assert r.summary["invalid_gt_tir"] == 2 and r.summary["invalid_gt"] == 2


def test_unusable_sequences_are_counted_rows_shown_by_the_table(tmp_path):
    """Item 6: an empty sequence and one without its TIR GT are rejected rows, counted per sequence
    in the summary and in datasets.csv, never silently left out."""
    from cmd_core.datasets.ingest import write_result
    from cmd_core.datasets.table import write_datasets_table

    root = fx.make_rgbt234(tmp_path / "r", seqs=("seqA", "seqB", "seqC"), n=3)
    for d in ("visible", "infrared"):
        for p in (root / "seqB" / d).iterdir():
            p.unlink()
    (root / "seqC" / "infrared.txt").unlink()
    with pytest.raises(ValueError, match=r"seqB/visible: no image files in frame folder"):
        ingest_dataset("d", "rgbt234", root)
    r = skip(root)
    assert r.summary["sequences"] == 1 and r.summary["frames"] == 3
    assert r.summary["rejected_sequences"] == 2
    reasons = sorted((row["sequence"], row["reason"]) for row in rejected(r))
    assert reasons[-1] == ("seqC", "ground-truth file does not exist (the other modality's exists)")
    assert [s for s, _ in reasons] == ["seqB", "seqB", "seqC"]  # seqB: its visible/ and infrared/
    paths = write_result(r, tmp_path / "m")
    df = write_datasets_table([paths["summary"]], tmp_path / "t.csv", tmp_path / "t.md")
    assert df.loc[0, "rejected_sequences"] == 2
    assert "rejected_sequences" in (tmp_path / "t.md").read_text()


def test_got10k_sequence_without_gt_and_list_is_reported(tmp_path):
    base = fx.make_got10k(tmp_path / "g")
    fx.make_got10k(tmp_path / "g", seq="GOT-10k_Train_000002")
    (base / "train" / "list.txt").unlink()
    (base / "train" / "GOT-10k_Train_000002" / "groundtruth.txt").unlink()
    r = ingest_dataset("d", "got10k", base / "train", on_error="skip")
    assert r.summary["sequences"] == 1 and r.summary["rejected_sequences"] == 1
    assert rejected(r)[0]["file"].endswith("GOT-10k_Train_000002/groundtruth.txt")


@pytest.mark.parametrize("label, line, value", [("cover.label", 2, "12"), ("cover.label", 1, "-1"),
                                                 ("absence.label", 3, "-4"), ("absence.label", 1, "2")])
def test_got10k_out_of_range_labels(tmp_path, label, line, value):
    """Item 7: cover 0..8 and absence 0..1; anything else is an error naming file and line."""
    base = fx.make_got10k(tmp_path / "g")
    path = base / "train" / "GOT-10k_Train_000001" / label
    lines = path.read_text().splitlines()
    lines[line - 1] = value
    fx.write_lines(path, lines)
    with pytest.raises(ValueError, match=rf"{label}:{line}: label '{value}' out of range"):
        ingest_dataset("d", "got10k", base / "train")
    r = ingest_dataset("d", "got10k", base / "train", on_error="skip")
    assert r.summary["frames"] == 2 and [row["frame"] for row in rejected(r)] == [line - 1]


def test_corrupt_jpeg_data_is_a_failed_decode(tmp_path):
    """Item 4: 200 zeroed bytes in the middle (end marker intact) are found through libjpeg's warning."""
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur((rng.random((128, 160, 3)) * 255).astype(np.uint8), (5, 5), 0)
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    cv2.imwrite(str(good), img)
    data = bytearray(good.read_bytes())
    data[len(data) // 2:len(data) // 2 + 200] = b"\0" * 200
    bad.write_bytes(bytes(data))
    assert bytes(data[-2:]) == b"\xff\xd9"
    for threads in (1, 2):
        ok, broken = check_images([str(good), str(bad)], "decode", threads, chunk=1)
        assert ok == (160, 128)
        assert broken.startswith("corrupt JPEG (libjpeg: Corrupt JPEG data")
