"""Detection files: the three readers, every bad-input case (file + line, or counted drops)."""

from __future__ import annotations

import pytest
from test_pairs_helpers import H, W, make_dataset, target_box

from cmd_core.pairs.detections import Policy, read_corners, read_mot, read_yolo
from cmd_core.pairs.generate import generate_pairs

SIZES = ((W, H), (W, H))


def sizes(f):
    return SIZES if 0 <= f < 6 else None


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_read_mot(tmp_path):
    p = write(tmp_path, "det.txt", "1,-1,10,20,14,14,0.9,-1,-1,-1\n3,5,1.5,2,8,9,0.5\n")
    d = read_mot(p, 6, sizes, Policy())
    assert d.frame == [0, 2] and d.boxes[0] == (10, 20, 14, 14) and d.conf == [0.9, 0.5]
    assert d.label == ["person", "person"] and d.modality == ["both", "both"]


def test_read_yolo(tmp_path):
    p = write(tmp_path, "a.txt", "0 0.5 0.5 0.25 0.5 0.8\n2 0.1 0.1 0.1 0.1\n")
    d = read_yolo(p, 4, SIZES, Policy(), names=["person", "bicycle", "car"])
    assert d.boxes[0] == (30.0, 16.0, 20.0, 32.0) and d.conf == [0.8, 1.0] and d.label == ["person", "car"]
    assert read_yolo(tmp_path / "missing.txt", 4, SIZES, Policy()) is None


def test_read_corners_side_by_side(tmp_path):
    p = write(tmp_path, "c.txt", "10 20 24 34 0.7 person\n90,20,104,34,0.9\n")
    d = read_corners(p, 1, SIZES, Policy())
    assert d.modality == ["rgb", "tir"]
    assert d.boxes == [(10, 20, 14, 14), (10, 20, 14, 14)] and d.label == ["person", None]


BAD = [
    ("mot", "1,-1,10,20,14\n", "missing columns"),
    ("mot", "1,-1,10,20,14,14,0.9,-1,-1,-1,7\n", "extra columns"),
    ("mot", "9,-1,10,20,14,14,0.9\n", "frame 9 outside the sequence"),
    ("mot", "0,-1,10,20,14,14,0.9\n", "frame 0 outside the sequence"),
    ("mot", "1,-1,500,20,14,14,0.9\n", "outside the 80x64 image"),
    ("mot", "1,-1,10,20,-4,14,0.9\n", "negative or zero box size"),
    ("mot", "1,-1,10,20,14,14,1.5\n", "confidence 1.5 outside"),
    ("mot", "1,-1,ten,20,14,14,0.9\n", "cannot parse"),
    ("yolo", "0 0.5 0.5 0.2\n", "missing columns"),
    ("yolo", "0 0.5 0.5 0.2 0.2 0.9 3\n", "extra columns"),
    ("yolo", "0 1.5 0.5 0.2 0.2 0.9\n", "outside the 80x64 image"),
    ("yolo", "0 0.5 0.5 -0.2 0.2 0.9\n", "negative or zero box size"),
    ("yolo", "0 0.5 0.5 0.2 0.2 -0.1\n", "confidence -0.1 outside"),
    ("corners", "10 20 14\n", "missing columns"),
    ("corners", "70 20 90 34 0.9\n", "crosses the RGB|TIR seam"),
    ("corners", "10 20 5 34 0.9\n", "negative or zero box size"),
]


def _read(fmt, p, policy, sizes_=SIZES):
    if fmt == "mot":
        return read_mot(p, 6, lambda f: sizes_ if 0 <= f < 6 else None, policy)
    if fmt == "yolo":
        return read_yolo(p, 0, sizes_, policy)
    return read_corners(p, 0, sizes_, policy)


@pytest.mark.parametrize("fmt,line,message", BAD)
def test_bad_input_names_file_and_line(tmp_path, fmt, line, message):
    p = write(tmp_path, "det.txt", "# comment\n" + ("1,-1,10,20,14,14,0.9\n" if fmt == "mot" else "") + line)
    lineno = 3 if fmt == "mot" else 2
    with pytest.raises(ValueError, match=rf"det\.txt, line {lineno}: .*{message}"):
        _read(fmt, p, Policy("fail"))
    policy = Policy("skip")
    d = _read(fmt, p, policy)
    assert sum(policy.dropped.values()) == 1
    assert len(d) == (1 if fmt == "mot" else 0)


def test_size_mismatch_for_box_of_both_modalities(tmp_path):
    p = write(tmp_path, "det.txt", "1,-1,10,20,14,14,0.9\n")
    with pytest.raises(ValueError, match=r"det\.txt, line 1: image size differs between RGB 80x64 and TIR 90x64"):
        read_mot(p, 6, lambda f: ((80, 64), (90, 64)), Policy())
    d = read_mot(p, 6, lambda f: ((80, 64), (90, 64)), Policy(), modality="rgb")
    assert len(d) == 1


def test_frames_with_size_mismatch_are_counted(tmp_path):
    frames = make_dataset(tmp_path / "ds", seqs=("seqA",), n=3, tir_size=(96, 64))
    with pytest.raises(ValueError, match=r"00001i\.png: image size differs between RGB 80x64 .* and TIR 96x64"):
        generate_pairs(frames, "central")
    r = generate_pairs(frames, "central", {"on_error": "skip"})
    assert r.pairs.num_rows == 0
    assert r.summary["frames_without_pairs"] == {"RGB/TIR size mismatch": 3}


def test_detection_files_in_generation(tmp_path):
    frames = make_dataset(tmp_path / "ds", n=6)
    for seq in ("seqA", "seqB"):
        lines = [f"{f + 1},-1,{','.join(str(v) for v in target_box(f))},0.9" for f in range(6)]
        lines[2] += ",-1,-1,-1,1,1"  # extra columns on line 3
        write(tmp_path, f"dets/{seq}/det.txt", "\n".join(lines) + "\n")
    cfg = {"detector": {"builtin": [], "files": [{"path": str(tmp_path / "dets/{sequence}/det.txt"),
                                                    "format": "mot", "modality": "both"}]}}
    with pytest.raises(ValueError, match=r"seqA/det\.txt, line 3: extra columns"):
        generate_pairs(frames, "detector", cfg)
    cfg["on_error"] = "skip"
    r = generate_pairs(frames, "detector", cfg)
    assert r.summary["dropped_boxes"] == {"extra columns": 2}
    assert r.summary["fallback_frames"] == 2  # frame 2 of each sequence lost its only box
    df = r.pairs.to_pandas()
    own = df[~df["fallback"]]
    assert len(own) == 10 and (own["source"] == "file:mot").all() and (own["label"] == "person").all()


def test_yolo_and_corner_files_in_generation(tmp_path):
    frames = make_dataset(tmp_path / "ds", seqs=("seqA",), n=4)
    for f in range(4):
        x, y, w, h = target_box(f)
        if f != 1:  # frame 1 has no YOLO file: no detections, counted
            write(tmp_path, f"yolo/seqA/{f + 1:05d}v.txt", f"0 {(x + w / 2) / W} {(y + h / 2) / H} {w / W} {h / H} 0.6\n")
        write(tmp_path, f"corners/seqA/{f}.txt", f"{x + W} {y} {x + W + w} {y + h} 0.9 person\n")
    cfg = {"detector": {"builtin": [], "files": [
        {"path": str(tmp_path / "yolo/{sequence}/{stem}.txt"), "format": "yolo", "modality": "rgb",
         "names": ["person"]},
        {"path": str(tmp_path / "corners/{sequence}/{frame}.txt"), "format": "corners"}]}}
    r = generate_pairs(frames, "detector", cfg)
    df = r.pairs.to_pandas()
    assert len(df) == 4 and not df["fallback"].any()
    # the RGB YOLO box and the TIR corner box are one object: the more confident (corners) is kept
    assert (df["source"] == "file:corners").all() and (df["confidence"].round(3) == 0.9).all()
    assert r.summary["dropped_boxes"] == {"duplicate rgb/tir": 3}
    assert r.summary["notes"] == {"image without a detection file": 1}
    boxes = r.boxes.to_pandas()
    assert sorted(boxes["modality"]) == ["both", "both", "both", "tir"]


def test_missing_mot_file(tmp_path):
    frames = make_dataset(tmp_path / "ds", seqs=("seqA",), n=2)
    cfg = {"detector": {"builtin": [], "files": [{"path": str(tmp_path / "{sequence}.txt"), "format": "mot"}]}}
    with pytest.raises(FileNotFoundError, match="seqA.txt"):
        generate_pairs(frames, "detector", cfg)
    r = generate_pairs(frames, "detector", dict(cfg, on_error="skip"))
    assert r.summary["notes"] == {"missing detection file": 1} and r.summary["fallback_frames"] == 2


def test_bad_config():
    with pytest.raises(ValueError, match=r"builtin\[0\].name: 'sift' is not one of"):
        generate_pairs(make_frames_stub(), "detector", {"detector": {"builtin": [{"name": "sift"}]}})
    with pytest.raises(ValueError, match="roles"):
        generate_pairs(make_frames_stub(), "central", {"roles": "sideways"})


def make_frames_stub():
    from test_pairs_helpers import fake_frames
    return fake_frames(1, 2)
