"""Property tests (issue 14): the GT and detection parsers and the frame / GT / modality join
never shift a row or drop one silently, whatever gaps, duplicates, separators or extra columns
the input has. Each test is small (<= 50 examples) so the suite stays fast."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmd_core.datasets.ingest import ingest_dataset
from cmd_core.datasets.parsers import read_boxes
from cmd_core.pairs.detections import Policy, read_mot

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEPARATORS = st.sampled_from([",", "\t", " ", ", ", ";", "  "])
coord = st.integers(min_value=-50, max_value=500) | st.floats(min_value=-50, max_value=500, allow_nan=False, allow_subnormal=False).map(
    lambda v: round(v, 3))
box = st.tuples(coord, coord, coord, coord)
# a bad GT line: garbage, a missing value, an extra column, or an empty (whitespace) line
bad_line = st.sampled_from(["abc", "1,2,3", "1,2,3,4,5", "   ", "1,2,x,4", "nan?,1,2,3"])
gt_row = st.one_of(box.map(lambda b: ("box", b)), bad_line.map(lambda t: ("bad", t)))


@FAST
@given(rows=st.lists(gt_row, min_size=1, max_size=30), sep=SEPARATORS, trailing=st.integers(0, 3))
def test_gt_parser_keeps_every_row_in_place(tmp_path_factory, rows, sep, trailing):
    path = tmp_path_factory.mktemp("gt") / "gt.txt"
    if rows[-1][0] == "bad" and not rows[-1][1].strip():
        rows[-1] = ("box", (1, 2, 3, 4))  # trailing blank lines are not frames (tested by `trailing`)
    text = [sep.join(str(v) for v in r[1]) if r[0] == "box" else r[1] for r in rows]
    path.write_text("\n".join(text) + "\n" * (1 + trailing))
    track = read_boxes(path)
    assert track.boxes.shape == (len(rows), 4)
    assert track.lines.tolist() == list(range(1, len(rows) + 1))
    bad_rows = {row for row, _, _ in track.errors}
    for i, (kind, value) in enumerate(rows):
        if kind == "box":
            assert track.boxes[i].tolist() == [float(v) for v in value]
            assert i not in bad_rows
        else:
            assert np.isnan(track.boxes[i]).all()
            assert (i, i + 1) in {(row, line) for row, line, _ in track.errors}


det_row = st.fixed_dictionaries({
    "frame": st.integers(-1, 12), "x": st.integers(-5, 90), "y": st.integers(-5, 70),
    "w": st.integers(-2, 30), "h": st.integers(-2, 30), "conf": st.sampled_from([0.5, 0.9, 1.0, 1.5]),
    "extra": st.integers(0, 5), "garbage": st.booleans(),
})


@FAST
@given(rows=st.lists(det_row, max_size=25), spaces=st.booleans())
def test_detection_parser_drops_only_bad_lines_and_counts_them(tmp_path_factory, rows, spaces):
    n_frames, W, H = 10, 80, 64
    lines, expected, n_bad = [], [], 0
    for r in rows:
        vals = [str(r["frame"]), "-1", str(r["x"]), str(r["y"]), str(r["w"]), str(r["h"]), str(r["conf"])]
        vals += ["-1"] * r["extra"]
        if r["garbage"]:
            vals[2] = "x1"
        lines.append((", " if spaces else ",").join(vals))
        ok = (not r["garbage"] and 7 + r["extra"] <= 10 and 1 <= r["frame"] <= n_frames and r["w"] > 0 and r["h"] > 0
              and 0 <= r["conf"] <= 1 and r["x"] < W and r["y"] < H and r["x"] + r["w"] > 0 and r["y"] + r["h"] > 0)
        if ok:
            expected.append((r["frame"] - 1, (float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"]))))
        else:
            n_bad += 1
    path = tmp_path_factory.mktemp("det") / "det.txt"
    path.write_text("\n".join(lines) + "\n")
    policy = Policy("skip")
    d = read_mot(path, n_frames, lambda f: ((W, H), (W, H)) if 0 <= f < n_frames else None, policy)
    got = list(zip(d.frame, d.boxes))
    # every kept box is exactly one valid line, in file order; partly-outside boxes may be clipped
    assert [f for f, _ in got] == [f for f, _ in expected]
    for (_, b), (_, e) in zip(got, expected):
        x1, y1 = max(e[0], 0), max(e[1], 0)
        x2, y2 = min(e[0] + e[2], W), min(e[1] + e[3], H)
        assert b == e or b == (x1, y1, x2 - x1, y2 - y1)
    assert sum(policy.dropped.values()) == n_bad


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@FAST
@given(n=st.integers(2, 14), data=st.data())
def test_frames_gt_and_modalities_join_by_frame_number(tmp_path_factory, n, data):
    """RGBT234 layout with random missing frames per modality, duplicate numbers and bad GT lines
    (verify='none': only names matter). Every manifest row has RGB file number == TIR file number
    == frame + 1 == the GT line its box came from; every frame number that is not a clean pair is
    exactly one rejected frame."""
    numbers = range(1, n + 1)
    miss_rgb = data.draw(st.sets(st.sampled_from(numbers)), label="missing RGB")
    miss_tir = data.draw(st.sets(st.sampled_from(numbers)), label="missing TIR")
    dups = data.draw(st.sets(st.sampled_from(numbers), max_size=2), label="duplicate RGB numbers") - miss_rgb
    bad_gt = data.draw(st.sets(st.sampled_from(numbers), max_size=3), label="bad GT lines")
    sep = data.draw(SEPARATORS, label="separator")
    seq = tmp_path_factory.mktemp("rgbt") / "seqA"
    seq.mkdir()
    for i in numbers:
        if i not in miss_rgb:
            _touch(seq / "visible" / f"{i:05d}v.jpg")
        if i not in miss_tir:
            _touch(seq / "infrared" / f"{i:05d}i.jpg")
        if i in dups:
            _touch(seq / "visible" / f"{i}v_copy.png")
    gt = [("x,y" if i in bad_gt else sep.join(str(v) for v in (i, 2 * i, 10, 8))) for i in numbers]
    (seq / "visible.txt").write_text("\n".join(gt) + "\n")
    (seq / "infrared.txt").write_text("\n".join(gt) + "\n")
    present = sorted(set(numbers) - (miss_rgb & miss_tir))
    if not present:
        return
    r = ingest_dataset("d", "rgbt234", seq.parent, on_error="skip", verify="none")
    df = r.frames.to_pandas()
    if miss_rgb == set(numbers) or miss_tir == set(numbers):  # an empty modality folder: the sequence
        assert df.empty and r.summary["rejected_sequences"] == 1  # is one counted rejection as a whole
        reasons = set(r.rejected.to_pandas()["reason"])  # (the fixture never made the folder)
        assert reasons & {"modality frame folder does not exist", "no image files in frame folder"}
        return
    num = re.compile(r"(\d+)")
    for row in df.itertuples():
        assert int(num.findall(Path(row.rgb_path).stem)[0]) == row.frame + 1
        assert int(num.findall(Path(row.tir_path).stem)[0]) == row.frame + 1
        assert (row.gt_rgb_x, row.gt_rgb_y) == (row.frame + 1, 2 * (row.frame + 1))
        assert (row.gt_tir_x, row.gt_tir_y) == (row.frame + 1, 2 * (row.frame + 1))
    last = max(present)
    clean = {i for i in numbers if i <= last and i not in miss_rgb | miss_tir | dups | bad_gt}
    assert set(df["frame"] + 1) == clean
    rej = r.rejected.to_pandas()
    rejected_frames = set(rej["frame"].dropna().astype(int) + 1)
    assert rejected_frames == {i for i in numbers if i <= last} - clean
    assert r.summary["rejected_frames"] == len(rejected_frames)
    # GT lines beyond the last frame file are one counted sequence-level row, never dropped silently
    if last < n:
        assert any(math.isnan(f) and f"{n} lines for {last} frames" in reason
                   for f, reason in zip(rej["frame"].astype(float), rej["reason"]))


@FAST
@given(n=st.integers(1, 14), data=st.data())
def test_single_modality_frames_meet_their_gt_line(tmp_path_factory, n, data):
    """LSOTB-TIR layout with random gaps: frame file 000k.jpg always gets GT line k."""
    missing = data.draw(st.sets(st.sampled_from(range(1, n + 1)), max_size=n - 1), label="missing frames")
    root = tmp_path_factory.mktemp("lsotb")
    for i in range(1, n + 1):
        if i not in missing:
            _touch(root / "sequences" / "s" / "img" / f"{i:04d}.jpg")
    (root / "anno" / "att").mkdir(parents=True)
    (root / "anno" / "s.txt").write_text("".join(f"{i},{3 * i},5,5\n" for i in range(1, n + 1)))
    (root / "anno" / "att" / "s.txt").write_text(",".join(["0"] * 16) + "\n")
    r = ingest_dataset("d", "lsotb_eval", root, on_error="skip", verify="none")
    df = r.frames.to_pandas()
    last = max(set(range(1, n + 1)) - missing)
    assert (df["frame"] + 1).tolist() == [i for i in range(1, last + 1) if i not in missing]
    assert (df["gt_tir_x"] == df["frame"] + 1).all() and (df["gt_tir_y"] == 3 * (df["frame"] + 1)).all()
    rej = r.rejected.to_pandas()
    assert sorted(rej["frame"].dropna().astype(int) + 1) == sorted(i for i in missing if i < last)
