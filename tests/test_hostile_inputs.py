"""Hostile-input suite (issue 14): bad inputs over every stage, each with its exact outcome.

Every case runs the real command line in-process (`cmd_core.cli.main`) and asserts one of three
outcomes:
- error: exit code 2 and one stderr line `cmd-tir <sub>: error: <file>[:line]: <what>` naming
  the exact file (and line where the input is line-based);
- rejected: with `--on-error skip` the command succeeds, the bad input is one rejected row (file,
  line, frame, reason) and the summary counts it, while nothing else shifts or disappears;
- warning: the command succeeds and a warning naming the file says what was not used.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

import dataset_fixtures as fx
from cmd_core.cli import main


@dataclass
class Err:
    sub: str
    file: str
    line: int | None
    what: str  # regex searched in the text after `<file>[:line]: `


@dataclass
class Rejected:
    out: Path  # --out-dir of the ingest
    name: str
    file: str  # rejected row's file (exact)
    frame: int | None
    line: int | None
    what: str
    rows: int  # rejected rows in total
    frames: int  # frames kept in the manifest
    rejected_frames: int
    rejected_sequences: int = 0


@dataclass
class Dropped:
    """`pairs generate --on-error skip`: the bad detection lines are dropped and counted by reason."""

    summary: Path
    dropped: dict[str, int]
    pairs: int


@dataclass
class Warn:
    file: str
    what: str


CASES: dict[str, object] = {}


def case(name):
    def deco(fn):
        assert name not in CASES
        CASES[name] = fn
        return fn
    return deco


def ingest_argv(fmt, root, out, *extra, name="d"):
    return ["ingest", "--format", fmt, "--root", str(root), "--name", name, "--out-dir", str(out),
            "--no-progress", "--threads", "1", *extra]


def skip_argv(fmt, root, out, *extra, name="d"):
    return ingest_argv(fmt, root, out, "--on-error", "skip", *extra, name=name)


def lsotb(tmp, n=4):
    root = fx.make_lsotb_eval(tmp / "lsotb", n=n)
    return root, root / "anno" / "airplane_H_001.txt", root / "sequences" / "airplane_H_001" / "img"


def set_line(path: Path, lineno: int, text: str) -> Path:
    lines = path.read_text().splitlines()
    lines[lineno - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


def zero_middle(path: Path, n: int = 200) -> Path:
    """Zero `n` bytes in the middle of the entropy-coded data; the end marker stays intact."""
    data = bytearray(path.read_bytes())
    m = len(data) // 2
    data[m:m + n] = b"\0" * n
    path.write_bytes(bytes(data))
    return path


def smooth_jpeg(path: Path, w=160, h=128) -> Path:
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur((rng.random((h, w, 3)) * 255).astype(np.uint8), (5, 5), 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)
    return path


# --------------------------------------------------------------------------------- ingest: errors
# (case, GT line, new text, expected message)
GT_LINE_EDITS = [
    ("ingest-gt-non-numeric", 2, "12,abc,3,4", "cannot parse '12,abc,3,4'"),
    ("ingest-gt-extra-column", 3, "3,2,10,8,7", "expected 4 values x,y,w,h, got 5"),
    ("ingest-gt-blank-middle-line", 2, "   ", "empty line"),
    ("ingest-gt-missing-value", 4, "4,2,10", "expected 4 values x,y,w,h, got 3"),
]

for _name, _line, _text, _what in GT_LINE_EDITS:
    def _gt_edit(tmp, line=_line, text=_text, what=_what):
        root, gt, _ = lsotb(tmp)
        set_line(gt, line, text)
        return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(gt), line, what)
    CASES[_name] = _gt_edit


@case("ingest-gt-too-long")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    gt.write_text(gt.read_text() + "9,2,10,8\n")
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(gt), 5, "5 lines for 4 frames")


@case("ingest-gt-too-short")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    gt.write_text("\n".join(gt.read_text().splitlines()[:3]) + "\n")
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(gt), None, "3 lines for 4 frames")


@case("ingest-gt-non-utf8")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    gt.write_bytes(gt.read_bytes().replace(b"3,2,10,8", b"3,\xff\xfe,10,8"))
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(gt), 3, "cannot parse")


# (case, frame file removed, extra file added, expected message naming the frame folder)
FRAME_FOLDER_EDITS = [
    ("ingest-lsotb-missing-middle-frame", "0003.jpg", None, r"missing frame file: no file numbered 3 .*\(frame 2\)"),
    ("ingest-lsotb-missing-first-frame", "0001.jpg", None, r"no file numbered 1 .*\(frame 0\)"),
    ("ingest-lsotb-missing-second-frame", "0002.jpg", None, r"no file numbered 2 .*\(frame 1\)"),
    ("ingest-lsotb-duplicate-frame-number", None, "3.jpg", r"two files for frame number 3: 0003\.jpg and 3\.jpg"),
]

for _name, _removed, _added, _what in FRAME_FOLDER_EDITS:
    def _frame_edit(tmp, removed=_removed, added=_added, what=_what):
        root, _, img = lsotb(tmp)
        if removed:
            os.remove(img / removed)
        if added:
            fx.write_img(img / added, gray=True)
        return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(img), None, what)
    CASES[_name] = _frame_edit


@case("ingest-attribute-flags-count")
def _(tmp):
    root, _, _ = lsotb(tmp)
    att = fx.write_lines(root / "anno" / "att" / "airplane_H_001.txt", ["0,1,0"])
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(att), 1, "expected 16 attribute flags, got 3")


@case("ingest-attribute-file-missing")
def _(tmp):
    root, _, _ = lsotb(tmp)
    att = root / "anno" / "att" / "airplane_H_001.txt"
    att.unlink()
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(att), None, "attribute file does not exist")


@case("ingest-corrupt-jpeg-zeroed-bytes")
def _(tmp):
    root, _, img = lsotb(tmp)
    for i in (1, 2, 3, 4):
        smooth_jpeg(img / f"{i:04d}.jpg")
    bad = zero_middle(img / "0002.jpg")
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(bad), None,
                                                           r"corrupt JPEG \(libjpeg: Corrupt JPEG data")


@case("ingest-truncated-jpeg")
def _(tmp):
    root, _, img = lsotb(tmp)
    p = img / "0002.jpg"
    p.write_bytes(p.read_bytes()[:300])
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(p), None, r"truncated JPEG")


@case("ingest-empty-image")
def _(tmp):
    root, _, img = lsotb(tmp)
    p = img / "0004.jpg"
    p.write_bytes(b"")
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(p), None, "empty file")


@case("ingest-not-an-image")
def _(tmp):
    root, _, img = lsotb(tmp)
    p = img / "0004.jpg"
    p.write_text("hello")
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(p), None, "cannot decode image")


@case("ingest-root-is-a-file")
def _(tmp):
    f = tmp / "root.txt"
    f.write_text("x")
    return ingest_argv("lsotb_eval", f, tmp / "o"), Err("ingest", str(f), None, "dataset root is a file")


@case("ingest-root-missing")
def _(tmp):
    return ingest_argv("lsotb_eval", tmp / "nope", tmp / "o"), Err("ingest", str(tmp / "nope"), None,
                                                                   "dataset root does not exist")


@case("ingest-out-dir-is-a-file")
def _(tmp):
    root, _, _ = lsotb(tmp)
    out = tmp / "out"
    out.write_text("x")
    return ingest_argv("lsotb_eval", root, out), Err("ingest", str(out), None, "output folder is an existing file")


@case("ingest-gt-unreadable")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    return ingest_argv("lsotb_eval", root, tmp / "o"), Err("ingest", str(gt), None, "Permission denied")


@case("ingest-rgbt234-missing-infrared-gt")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",))
    (root / "seqA" / "infrared.txt").unlink()
    return ingest_argv("rgbt234", root, tmp / "o"), Err("ingest", str(root / "seqA" / "infrared.txt"), None,
                                                        "ground-truth file does not exist")


@case("ingest-rgbt234-empty-folders")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA", "seqB"))
    for d in ("visible", "infrared"):
        for p in (root / "seqB" / d).iterdir():
            p.unlink()
    return ingest_argv("rgbt234", root, tmp / "o"), Err("ingest", str(root / "seqB" / "visible"), None,
                                                        "no image files in frame folder")


@case("ingest-rgbt234-missing-tir-frame")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",))
    (root / "seqA" / "infrared" / "00002i.jpg").unlink()
    return ingest_argv("rgbt234", root, tmp / "o"), Err("ingest", str(root / "seqA" / "infrared"), None,
                                                        r"missing TIR frame matching 00002v\.jpg")


@case("ingest-rgbt234-resolution-mismatch")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",))
    p = fx.write_img(root / "seqA" / "infrared" / "00002i.jpg", w=40, gray=True)
    return ingest_argv("rgbt234", root, tmp / "o"), Err("ingest", str(p), None,
                                                        "resolution mismatch between modalities: RGB 32x24, TIR 40x24")


@case("ingest-ptb-missing-gt-file")
def _(tmp):
    seq = tmp / "ptb" / "airplane"
    for i in range(1, 4):
        fx.write_img(seq / "img" / f"{i:04d}.jpg", gray=True)
    return ingest_argv("ptb_tir", seq.parent, tmp / "o"), Err("ingest", str(seq / "groundtruth_rect.txt"), None,
                                                              "ground-truth file does not exist")


@case("ingest-got10k-no-list-missing-gt")
def _(tmp):
    base = fx.make_got10k(tmp / "got")
    (base / "train" / "list.txt").unlink()
    gt = base / "train" / "GOT-10k_Train_000001" / "groundtruth.txt"
    gt.unlink()
    return ingest_argv("got10k", base / "train", tmp / "o"), Err("ingest", str(gt), None,
                                                                 "ground-truth file does not exist")


# (case, GOT-10k label file, line, new value, expected message)
GOT_LABEL_EDITS = [
    ("ingest-got10k-cover-out-of-range", "cover.label", 2, "12", "label '12' out of range: expected a whole number 0..8"),
    ("ingest-got10k-absence-out-of-range", "absence.label", 3, "-4",
     "label '-4' out of range: expected a whole number 0..1"),
    ("ingest-got10k-cover-fraction", "cover.label", 1, "2.5", "label '2.5' out of range"),
    ("ingest-got10k-cover-text", "cover.label", 2, "half", "cannot parse label 'half'"),
]

for _name, _label, _line, _value, _what in GOT_LABEL_EDITS:
    def _got_edit(tmp, label=_label, line=_line, value=_value, what=_what):
        base = fx.make_got10k(tmp / "got")
        lab = set_line(base / "train" / "GOT-10k_Train_000001" / label, line, value)
        return ingest_argv("got10k", base / "train", tmp / "o"), Err("ingest", str(lab), line, what)
    CASES[_name] = _got_edit


@case("ingest-lasher-absence-out-of-range")
def _(tmp):
    root = fx.make_lasher(tmp / "l")
    seq = root / "testingset" / "1boygo"
    lab = fx.write_lines(seq / "absence.label", ["0", "3", "0"])
    return ingest_argv("lasher", root / "testingset", tmp / "o"), Err("ingest", str(lab), 2, "label '3' out of range")


@case("ingest-lasot-occlusion-out-of-range")
def _(tmp):
    root = fx.make_lasot(tmp / "la")
    lab = fx.write_lines(root / "airplane" / "airplane-1" / "full_occlusion.txt", ["0,2,1"])
    return ingest_argv("lasot", root, tmp / "o"), Err("ingest", str(lab), 1, "label '2' out of range")


@case("ingest-gtot-bad-corner-line")
def _(tmp):
    root = fx.make_gtot(tmp / "g")
    gt = set_line(root / "BlackCar" / "groundTruth_i.txt", 2, "1 2 3")
    return ingest_argv("gtot", root, tmp / "o"), Err("ingest", str(gt), 2, "expected 4 values x1 y1 x2 y2, got 3")


@case("ingest-kaist-bad-bbgt-row")
def _(tmp):
    root = fx.make_kaist(tmp / "k")
    ann = sorted((root / "annotations").rglob("*.txt"))[0]
    ann.write_text("% bbGt version=3\nperson 1 2 x 4 0\n")
    return ingest_argv("kaist", root, tmp / "o"), Err("ingest", str(ann), 2, "cannot parse bbGt row")


@case("ingest-llvip-bad-xml")
def _(tmp):
    root = fx.make_llvip(tmp / "v")
    xml = sorted((root / "Annotations").glob("*.xml"))[0]
    xml.write_text("<annotation><object>\n<name>person</name>\n</annotation>")
    return ingest_argv("llvip", root, tmp / "o"), Err("ingest", str(xml), None, "XML does not parse")


@case("ingest-generic-pairs-duplicate-number")
def _(tmp):
    root = fx.make_generic_pairs(tmp / "g")
    fx.write_img(root / "clip" / "tir" / "c_1.jpg")
    return ingest_argv("generic_pairs", root, tmp / "o"), Err("ingest", str(root / "clip" / "tir"), None,
                                                              r"two files for frame number 1: b_1\.jpg and c_1\.jpg")


@case("ingest-side-by-side-odd-width")
def _(tmp):
    root = fx.make_side_by_side(tmp / "s")
    p = sorted(next(root.iterdir()).iterdir())[0] if not any(root.glob("*.jpg")) else sorted(root.glob("*.jpg"))[0]
    fx.write_img(p, w=63)
    return ingest_argv("cmd_side_by_side", root, tmp / "o"), Err("ingest", str(p), None,
                                                                 "side-by-side image has odd width 63")


@case("ingest-threads-negative")
def _(tmp):
    root, _, _ = lsotb(tmp)
    argv = ingest_argv("lsotb_eval", root, tmp / "o")
    argv[argv.index("--threads") + 1] = "-1"
    return argv, Err("ingest", "argument --threads", None, "expected a whole number >= 1, got -1")


@case("ingest-option-without-equals")
def _(tmp):
    root, _, _ = lsotb(tmp)
    return ingest_argv("lsotb_eval", root, tmp / "o", "--option", "foo"), Err("ingest", "--option 'foo'", None,
                                                                               "expected key=value")


@case("ingest-unknown-option")
def _(tmp):
    root, _, _ = lsotb(tmp)
    return (ingest_argv("lsotb_eval", root, tmp / "o", "--option", "colour=red"),
            Err("ingest", "format 'lsotb_eval'", None, r"unknown option\(s\) \['colour'\]"))


# ------------------------------------------------------------------------------ ingest: rejected
@case("skip-lsotb-missing-middle-frame")
def _(tmp):
    root, _, img = lsotb(tmp, n=5)
    os.remove(img / "0003.jpg")
    return skip_argv("lsotb_eval", root, tmp / "o"), Rejected(tmp / "o", "d", str(img), 2, None,
                                                              "missing frame file: no file numbered 3", 1, 4, 1)


@case("skip-gt-non-numeric")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    set_line(gt, 2, "nan?,2,3,4")
    return skip_argv("lsotb_eval", root, tmp / "o"), Rejected(tmp / "o", "d", str(gt), 1, 2, "cannot parse", 1, 3, 1)


@case("skip-gt-too-long")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    gt.write_text(gt.read_text() + "9,2,10,8\n8,2,10,8\n")
    return skip_argv("lsotb_eval", root, tmp / "o"), Rejected(tmp / "o", "d", str(gt), None, 5,
                                                              "6 lines for 4 frames", 1, 4, 0)


@case("skip-gt-too-short")
def _(tmp):
    root, gt, _ = lsotb(tmp)
    gt.write_text("\n".join(gt.read_text().splitlines()[:3]) + "\n")
    return skip_argv("lsotb_eval", root, tmp / "o"), Rejected(tmp / "o", "d", str(gt), 3, None,
                                                              "3 lines for 4 frames: no line for this frame", 1, 3, 1)


@case("skip-corrupt-jpeg")
def _(tmp):
    root, _, img = lsotb(tmp)
    for i in (1, 2, 3, 4):
        smooth_jpeg(img / f"{i:04d}.jpg")
    bad = zero_middle(img / "0002.jpg")
    return skip_argv("lsotb_eval", root, tmp / "o"), Rejected(tmp / "o", "d", str(bad), 1, None,
                                                              "Corrupt JPEG data", 1, 3, 1)


@case("skip-generic-pairs-gap")
def _(tmp):
    root = fx.make_generic_pairs(tmp / "g", n=5)
    (root / "clip" / "tir" / "b_2.jpg").unlink()
    return skip_argv("generic_pairs", root, tmp / "o"), Rejected(tmp / "o", "d", str(root / "clip" / "tir"), 2, None,
                                                                 r"missing TIR frame matching a_2\.jpg", 1, 4, 1)


@case("skip-rgbt234-gap-both")
def _(tmp):
    # labelled: ground-truth line 2 meets no frame. (In unlabelled generic_pairs the same gap is no
    # error: tests/test_real_pairs.py::test_gap_on_both_sides_keeps_numbers.)
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",), n=4)
    (root / "seqA" / "visible" / "00002v.jpg").unlink()
    (root / "seqA" / "infrared" / "00002i.jpg").unlink()
    return skip_argv("rgbt234", root, tmp / "o"), Rejected(tmp / "o", "d", str(root / "seqA" / "visible"), 1, None,
                                                           "missing frame number 2 in both modalities", 1, 3, 1)


@case("skip-rgbt234-empty-sequence")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA", "seqB"))
    for d in ("visible", "infrared"):
        for p in (root / "seqB" / d).iterdir():
            p.unlink()
    return skip_argv("rgbt234", root, tmp / "o"), Rejected(tmp / "o", "d", str(root / "seqB" / "visible"), None,
                                                           None, "no image files in frame folder", 2, 3, 0, 1)


@case("skip-rgbt234-missing-infrared-gt")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA", "seqB"))
    (root / "seqB" / "infrared.txt").unlink()
    return skip_argv("rgbt234", root, tmp / "o"), Rejected(tmp / "o", "d", str(root / "seqB" / "infrared.txt"), None,
                                                           None, "ground-truth file does not exist", 1, 3, 0, 1)


@case("skip-ptb-missing-gt-file")
def _(tmp):
    root = tmp / "ptb"
    for s in ("a", "b"):
        for i in range(1, 4):
            fx.write_img(root / s / "img" / f"{i:04d}.jpg", gray=True)
    fx.write_lines(root / "a" / "groundtruth_rect.txt", fx.boxes(3))
    return skip_argv("ptb_tir", root, tmp / "o"), Rejected(tmp / "o", "d", str(root / "b" / "groundtruth_rect.txt"),
                                                           None, None, "ground-truth file does not exist", 1, 3, 0, 1)


@case("skip-got10k-cover-out-of-range")
def _(tmp):
    base = fx.make_got10k(tmp / "got")
    lab = set_line(base / "train" / "GOT-10k_Train_000001" / "cover.label", 2, "12")
    return skip_argv("got10k", base / "train", tmp / "o"), Rejected(tmp / "o", "d", str(lab), 1, 2,
                                                                    "out of range", 1, 2, 1)


@case("skip-lasot-out-of-view-out-of-range")
def _(tmp):
    root = fx.make_lasot(tmp / "la")
    lab = fx.write_lines(root / "airplane" / "airplane-1" / "out_of_view.txt", ["0,0,7"])
    return skip_argv("lasot", root, tmp / "o"), Rejected(tmp / "o", "d", str(lab), 2, 1, "label '7' out of range",
                                                         1, 2, 1)


@case("skip-rgbt234-resolution-mismatch")
def _(tmp):
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",))
    p = fx.write_img(root / "seqA" / "infrared" / "00003i.jpg", w=40, gray=True)
    return skip_argv("rgbt234", root, tmp / "o"), Rejected(tmp / "o", "d", str(p), 2, None, "resolution mismatch",
                                                           1, 2, 1)


# --------------------------------------------------------------------------- pairs inputs (CLI)
def pairs_world(tmp, det_text: bytes | None = None):
    """An ingested 1-sequence RGB-T dataset and a detector config reading `<seq>/det.txt`."""
    root = fx.make_rgbt234(tmp / "r", seqs=("seqA",), n=3)
    assert main(ingest_argv("rgbt234", root, tmp / "m")) == 0
    cfg = tmp / "pairs.yaml"
    cfg.write_text("pairs:\n  methods:\n    detector:\n      type: detector\n      builtin: []\n      files:\n"
                   f"        - {{path: '{tmp}/dets/{{sequence}}/det.txt', format: mot, modality: both}}\n")
    det = tmp / "dets" / "seqA" / "det.txt"
    det.parent.mkdir(parents=True)
    det.write_bytes(det_text if det_text is not None else b"1,-1,2,2,10,8,0.9\n")
    return tmp / "m" / "d.frames.parquet", cfg, det


def pairs_argv(frames, cfg, tmp, *extra):
    return ["pairs", "generate", str(frames), "--method", "detector", "--config", str(cfg),
            "--out", str(tmp / "p" / "detector.parquet"), *extra]


@case("pairs-detection-non-utf8")
def _(tmp):
    frames, cfg, det = pairs_world(tmp, b"1,-1,2,2,10,8,0.9\n2,-1,2,\xff\xfe,10,8,0.9\n")
    return pairs_argv(frames, cfg, tmp), Err("pairs", str(det), 2, r"not UTF-8 text \(byte 0xff at column 8\)")


@case("pairs-detection-non-numeric")
def _(tmp):
    frames, cfg, det = pairs_world(tmp, b"1,-1,2,2,10,8,0.9\n2,-1,two,2,10,8,0.9\n")
    return pairs_argv(frames, cfg, tmp), Err("pairs", str(det), 2, "cannot parse a number")


@case("pairs-detection-extra-columns")
def _(tmp):
    frames, cfg, det = pairs_world(tmp, b"1,-1,2,2,10,8,0.9,-1,-1,-1,5\n")
    return pairs_argv(frames, cfg, tmp), Err("pairs", str(det), 1, "extra columns")


@case("pairs-detection-frame-outside")
def _(tmp):
    frames, cfg, det = pairs_world(tmp, b"1,-1,2,2,10,8,0.9\n9,-1,2,2,10,8,0.9\n")
    return pairs_argv(frames, cfg, tmp), Err("pairs", str(det), 2, "frame 9 outside the sequence")


# (case, det.txt content, dropped reason -> count); the 7 pairs stay (frames without a box fall back)
PAIRS_SKIPS = [
    ("skip-pairs-non-utf8", b"1,-1,2,2,10,8,0.9\n2,-1,\xff,2,10,8,0.9\n", {"unparseable line": 1}),
    ("skip-pairs-non-numeric", b"1,-1,2,2,10,8,0.9\n2,-1,x,2,10,8,0.9\n3,-1,y,2,10,8,0.9\n",
     {"unparseable line": 2}),
    ("skip-pairs-extra-columns", b"1,-1,2,2,10,8,0.9,-1,-1,-1,9\n2,-1,2,2,10,8,0.9\n", {"extra columns": 1}),
    ("skip-pairs-frame-outside", b"4,-1,2,2,10,8,0.9\n0,-1,2,2,10,8,0.9\n2,-1,2,2,10,8,0.9\n",
     {"frame outside the sequence": 2}),
]

for _name, _text, _dropped in PAIRS_SKIPS:
    def _pairs_skip(tmp, text=_text, dropped=_dropped):
        frames, cfg, _ = pairs_world(tmp, text)
        return (pairs_argv(frames, cfg, tmp, "--on-error", "skip"),
                Dropped(tmp / "p" / "detector.summary.json", dropped, 7))
    CASES[_name] = _pairs_skip


@case("pairs-threads-zero")
def _(tmp):
    return (["pairs", "generate", "f.parquet", "--method", "central", "--out", str(tmp / "p.parquet"), "--threads",
             "0"], Err("pairs generate", "argument --threads", None, "expected a whole number >= 1, got 0"))


@case("pairs-frames-not-parquet")
def _(tmp):
    frames = tmp / "x.frames.parquet"
    frames.write_text("frame,sequence\n0,a\n")
    cfg = tmp / "pairs.yaml"
    cfg.write_text("pairs: {}\n")
    return (["pairs", "generate", str(frames), "--method", "central", "--out", str(tmp / "p.parquet")],
            Err("pairs", str(frames), None, "not a readable Parquet file"))


@case("pairs-frames-missing")
def _(tmp):
    frames = tmp / "none.frames.parquet"
    return (["pairs", "generate", str(frames), "--method", "central", "--out", str(tmp / "p.parquet")],
            Err("pairs", str(frames), None, "frames manifest does not exist"))


@case("pairs-out-parent-is-a-file")
def _(tmp):
    frames, cfg, det = pairs_world(tmp)
    (tmp / "p").write_text("x")
    return pairs_argv(frames, cfg, tmp), Err("pairs", str(tmp / "p"), None, "output folder is an existing file")


# --------------------------------------------------------------------------------------- evaluate
def eval_world(tmp, n_gt=10, n_res=10):
    gt = tmp / "gt"
    gt.mkdir()
    box = "10,10,20,20"
    (gt / "seq1.txt").write_text("\n".join([box] * n_gt) + "\n")
    res = tmp / "res"
    res.mkdir()
    (res / "seq1.txt").write_text("\n".join(["10\t10\t20\t20"] * n_res) + "\n")
    return gt, res


def eval_argv(gt, res, tmp, protocol="lsotb", *extra):
    return ["evaluate", "--protocol", protocol, "--gt", str(gt), "--gt-format", "flat", "--results", f"T={res}",
            "--out", str(tmp / "ev"), "--no-plots", *extra]


# (case, file edited: gt or res, line, new text, expected message)
EVAL_LINE_EDITS = [
    ("evaluate-result-non-numeric", "res", 4, "10\tx\t20\t20", "non-numeric value"),
    ("evaluate-gt-non-numeric", "gt", 7, "10,10,twenty,20", "non-numeric value"),
    ("evaluate-gt-blank-line", "gt", 3, "", "blank line between boxes"),
    ("evaluate-result-3-values", "res", 2, "10\t10\t20", "3 values, but line 1 has 4"),
]

for _name, _which, _line, _text, _what in EVAL_LINE_EDITS:
    def _eval_edit(tmp, which=_which, line=_line, text=_text, what=_what):
        gt, res = eval_world(tmp)
        target = (gt if which == "gt" else res) / "seq1.txt"
        set_line(target, line, text)
        return eval_argv(gt, res, tmp), Err("evaluate", str(target), line, what)
    CASES[_name] = _eval_edit


@case("evaluate-results-shorter-than-gt")
def _(tmp):
    gt, res = eval_world(tmp, n_res=8)
    return eval_argv(gt, res, tmp), Err("evaluate", str(res / "seq1.txt"), None,
                                        "8 result lines but the GT .*seq1.txt has 10 frames")


@case("evaluate-gt-non-utf8")
def _(tmp):
    gt, res = eval_world(tmp)
    (gt / "seq1.txt").write_bytes((gt / "seq1.txt").read_bytes().replace(b"10,10,20,20\n", b"10,\xff,20,20\n", 1))
    return eval_argv(gt, res, tmp), Err("evaluate", str(gt / "seq1.txt"), 1, "non-numeric value")


@case("evaluate-gt-unreadable")
def _(tmp):
    gt, res = eval_world(tmp)
    return eval_argv(gt, res, tmp), Err("evaluate", str(gt / "seq1.txt"), None, "Permission denied")


@case("evaluate-gt-folder-missing")
def _(tmp):
    _, res = eval_world(tmp)
    return eval_argv(tmp / "nogt", res, tmp), Err("evaluate", str(tmp / "nogt"), None, "ground-truth folder not found")


@case("evaluate-manifest-not-parquet")
def _(tmp):
    _, res = eval_world(tmp)
    m = tmp / "x.frames.parquet"
    m.write_bytes(b"PAR1 but not really")
    argv = eval_argv(m, res, tmp)
    argv[argv.index("--gt-format") + 1] = "manifest"
    return argv, Err("evaluate", str(m), None, "not a readable Parquet file")


@case("evaluate-out-is-a-file")
def _(tmp):
    gt, res = eval_world(tmp)
    (tmp / "ev").write_text("x")
    return eval_argv(gt, res, tmp), Err("evaluate", str(tmp / "ev"), None, "existing file")


@case("evaluate-results-longer-than-gt-warns")
def _(tmp):
    gt, res = eval_world(tmp, n_gt=4, n_res=10)
    return eval_argv(gt, res, tmp), Warn(str(res / "seq1.txt"),
                                         "10 result lines but the GT .*seq1.txt has 4 frames .*last 6 result lines "
                                         "are not scored")


# ------------------------------------------------------------------------------ model checkpoints
class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def bad_checkpoint(tmp, kind: str) -> Path:
    import torch

    p = tmp / f"{kind}.pth"
    if kind == "malicious":
        with open(p, "wb") as fh:
            pickle.dump({"net": _Evil()}, fh)
    elif kind == "truncated":
        torch.save({"net": {"w": torch.zeros(64, 64)}, "config": {}}, p)
        p.write_bytes(p.read_bytes()[:200])
    elif kind == "wrong-architecture":  # a real DiMP config with another network's weights
        from cmd_core.model import save_checkpoint
        from cmd_core.training.config import resolve_config
        from cmd_core.training.teacher import build_net

        save_checkpoint(p, build_net(resolve_config("cpu_demo")))
        ckpt = torch.load(p, weights_only=True)
        ckpt["net"] = {"classifier.weight": torch.zeros(3, 3), "backbone.conv1.weight": torch.zeros(8, 3, 3, 3)}
        torch.save(ckpt, p)
    elif kind == "text":
        p.write_text("not a checkpoint")
    return p


def tiny_manifest(tmp) -> Path:
    root = fx.make_got10k(tmp / "got", n=3)
    assert main(ingest_argv("got10k", root / "train", tmp / "m", name="t")) == 0
    return tmp / "m" / "t.frames.parquet"


CHECKPOINT_ERRORS = {
    "malicious": "refused to unpickle global 'posix.system'",
    "truncated": r"cannot read checkpoint: the zip archive is incomplete \(200 bytes",
    "wrong-architecture": r"does not match the DiMPNet architecture: \d+ missing key\(s\)",
    "text": "cannot read checkpoint: UnpicklingError",
}

for _kind, _what in CHECKPOINT_ERRORS.items():
    def _distill(tmp, kind=_kind, what=_what):
        t = bad_checkpoint(tmp, kind)
        frames = tiny_manifest(tmp)
        return (["distill", "supervised", "--manifest", str(frames), "--teacher", str(t), "--out", str(tmp / "d"),
                 "--no-progress"], Err("distill", str(t), None, what))
    CASES[f"distill-teacher-{_kind}"] = _distill

    def _track(tmp, kind=_kind, what=_what):
        t = bad_checkpoint(tmp, kind)
        frames = tiny_manifest(tmp)
        return (["track", "--manifest", str(frames), "--modality", "rgb", "--preset", "cpu", "--checkpoint", str(t),
                 "--out", str(tmp / "trk")], Err("track", str(t), None, what))
    CASES[f"track-checkpoint-{_kind}"] = _track


@case("distill-threads-negative")
def _(tmp):
    return (["distill", "supervised", "--manifest", "m.parquet", "--teacher", "t.pth", "--out", str(tmp / "d"),
             "--threads", "-1"], Err("distill supervised", "argument --threads", None, "got -1"))


@case("train-threads-negative")
def _(tmp):
    return (["train", "--manifest", "m.parquet", "--out", str(tmp / "t"), "--threads", "-1"],
            Err("train", "argument --threads", None, "expected a whole number >= 1, got -1"))


@case("train-manifest-not-parquet")
def _(tmp):
    m = tmp / "m.frames.parquet"
    m.write_text("nope")
    return (["train", "--manifest", str(m), "--out", str(tmp / "t"), "--no-progress", "--epochs", "1"],
            Err("train", str(m), None, r"not a readable Parquet file \(Parquet file size is 4 bytes"))


@case("train-manifest-missing")
def _(tmp):
    m = tmp / "missing.frames.parquet"
    return (["train", "--manifest", str(m), "--out", str(tmp / "t"), "--no-progress"],
            Err("train", str(m), None, "--manifest does not exist"))


@case("track-threads-negative")
def _(tmp):
    return (["track", "--manifest", "m.parquet", "--modality", "tir", "--tracker", "static", "--out",
             str(tmp / "t"), "--threads", "0"], Err("track", "argument --threads", None, "got 0"))


# ------------------------------------------------------------------------------------------ runner
def _patch_unreadable(monkeypatch, name: str) -> None:
    """Make reading files called `name` fail as an unreadable (mode 000) file does for a normal
    user; chmod alone does not stop root, which CI containers often are."""
    real_open = open
    real_read_text = Path.read_text

    def fake_open(file, *args, **kwargs):
        if Path(str(file)).name == name:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def fake_read_text(self, *args, **kwargs):
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    monkeypatch.setattr(Path, "read_text", fake_read_text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name, tmp_path, capsys, caplog, monkeypatch):
    argv, expected = CASES[name](tmp_path)
    capsys.readouterr()
    if name == "ingest-gt-unreadable":
        _patch_unreadable(monkeypatch, "airplane_H_001.txt")
    if name == "evaluate-gt-unreadable":
        _patch_unreadable(monkeypatch, "seq1.txt")
    caplog.set_level("WARNING")
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err
    if isinstance(expected, Err):
        assert rc == 2, err
        lines = [ln for ln in err.splitlines() if ln.startswith("cmd-tir ")]
        assert lines, err
        where = re.escape(expected.file) + (f":{expected.line}" if expected.line is not None else "")
        if expected.file.startswith(("argument ", "--option", "format ")):
            pattern = rf"^(usage: .*\n)?cmd-tir {expected.sub}: error: {where}(:| ).*{expected.what}"
            assert re.search(pattern, lines[-1]), lines[-1]
        else:
            pattern = rf"^cmd-tir {expected.sub}: error: {where}: .*{expected.what}"
            assert re.search(pattern, lines[-1]), lines[-1]
            if expected.line is None:  # a file without a line: nothing that looks like a line number
                assert not re.match(rf"^cmd-tir {expected.sub}: error: {re.escape(expected.file)}:\d+:", lines[-1])
        assert "Traceback" not in err
    elif isinstance(expected, Rejected):
        assert rc == 0, err
        rej = pd.read_parquet(expected.out / f"{expected.name}.rejected.parquet")
        summary = json.loads((expected.out / f"{expected.name}.summary.json").read_text())
        assert len(rej) == expected.rows, rej.to_dict("records")
        match = rej[(rej["file"] == expected.file) & rej["reason"].str.contains(expected.what)]
        assert len(match) >= 1, rej.to_dict("records")
        row = match.iloc[0]
        assert (None if pd.isna(row["frame"]) else int(row["frame"])) == expected.frame
        assert (None if pd.isna(row["line"]) else int(row["line"])) == expected.line
        assert summary["rejected_rows"] == expected.rows
        assert summary["frames"] == expected.frames
        assert summary["rejected_frames"] == expected.rejected_frames
        assert summary["rejected_sequences"] == expected.rejected_sequences
    elif isinstance(expected, Dropped):
        assert rc == 0, err
        summary = json.loads(expected.summary.read_text())
        assert summary["dropped_boxes"] == expected.dropped
        assert summary["dropped_boxes_total"] == sum(expected.dropped.values())
        assert summary["pairs"] == expected.pairs
    else:
        assert rc == 0, err
        msgs = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any(m.startswith(expected.file) and re.search(expected.what, m) for m in msgs), msgs


def test_suite_size_and_classes():
    """The suite keeps at least 60 cases (issue 14)."""
    assert len(CASES) >= 60


# ----------------------------------------------------------------------------- train --resume
@case("train-resume-other-preset")
def _(tmp):
    import torch

    from cmd_core.training.config import resolve_config

    frames = tiny_manifest(tmp)
    out = tmp / "t"
    out.mkdir()
    old = resolve_config("cpu_demo", epochs=1, samples_per_epoch=2, batch_size=2, seed=3)
    ckpt = out / "checkpoint_e001.pth"
    torch.save({"train_config": old, "epoch": 1}, ckpt)
    return (["train", "--manifest", str(frames), "--out", str(out), "--resume", "--no-progress", "--epochs", "2",
             "--samples-per-epoch", "2", "--batch-size", "1", "--seed", "4"],
            Err("train", str(ckpt), None, r"cannot resume: the run's settings differ from the checkpoint's in 2 "
                r"key\(s\): batch_size \(checkpoint 2, now 1\), seed \(checkpoint 3, now 4\)"))


@case("track-manifest-not-parquet")
def _(tmp):
    m = tmp / "x.frames.parquet"
    m.write_text("frame,sequence\n0,a\n")
    return (["track", "--manifest", str(m), "--modality", "tir", "--tracker", "static", "--out", str(tmp / "t")],
            Err("track", str(m), None, "not a readable Parquet file"))


def test_stale_checkpoint_temporaries_removed_on_start(tmp_path, capsys):
    """A kill during a checkpoint write leaves `.checkpoint_eNNN.pth.XXXX.tmp`; the next start
    removes it (here the start then refuses the resume, see train-resume-other-preset)."""
    argv, expected = CASES["train-resume-other-preset"](tmp_path)
    out = tmp_path / "t"
    stale = [out / ".checkpoint_e002.pth.x7k2_q.tmp", out / "checkpoint.pth.tmp"]
    for p in stale:
        p.write_bytes(b"\x80half a pickle")
    (out / "log.csv").write_text("epoch\n1\n")
    assert main(argv) == 2
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint_e001.pth", "log.csv"]
    assert expected.what.split(":")[0] in capsys.readouterr().err
