"""Bad input: fail mode names the file (and line); skip mode writes rejected rows and counts them."""

from __future__ import annotations

import os

import pytest

import dataset_fixtures as fx
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
    with pytest.raises(ValueError, match=r"different frame counts: .*rgb has 3, .*tir has 2"):
        ingest_dataset("d", "generic_pairs", root)
    r = skip(root, "generic_pairs")
    assert r.summary["frames"] == 2 and r.summary["rejected_frames"] == 1


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
