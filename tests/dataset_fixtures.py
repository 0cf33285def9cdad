"""Tiny on-disk datasets in the exact layouts of the real ones, for the ingest tests.

Every builder writes 32x24 images (2-4 frames per sequence) with cv2 and returns the root.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

W, H = 32, 24


def write_img(path: Path, w: int = W, h: int = H, gray: bool = False, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w) if gray else (h, w, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def boxes(n: int, sep: str = ",") -> list[str]:
    return [sep.join(str(v) for v in (1 + i, 2, 10, 8)) for i in range(n)]


def make_rgbt234(root: Path, seqs=("seqA", "seqB"), n: int = 3) -> Path:
    for s in seqs:
        for i in range(1, n + 1):
            write_img(root / s / "visible" / f"{i:05d}v.jpg", seed=i)
            write_img(root / s / "infrared" / f"{i:05d}i.jpg", gray=True, seed=i)
        write_lines(root / s / "visible.txt", boxes(n))
        write_lines(root / s / "infrared.txt", boxes(n))
        write_lines(root / s / "init.txt", boxes(n))
    return root


def make_lasher(root: Path, n: int = 3) -> Path:
    s = root / "testingset" / "1boygo"
    for i in range(n):
        write_img(s / "visible" / f"v{i:03d}.jpg", seed=i)
        write_img(s / "infrared" / f"i{i:03d}.jpg", seed=i)
    gt = boxes(n)
    gt[1] = "5,5,0,8"  # LasHeR rows with w = 0
    write_lines(s / "visible.txt", gt)
    write_lines(s / "infrared.txt", boxes(n))
    write_lines(s / "init.txt", boxes(n))
    return root


def make_gtot(root: Path, n: int = 3) -> Path:
    s = root / "BlackCar"
    for i in range(1, n + 1):
        write_img(s / "v" / f"{i:05d}_v.png", seed=i)
        write_img(s / "i" / f"{i:05d}_i.png", seed=i)
    write_lines(s / "groundTruth_v.txt", [f"{2 + i} 3 {12 + i} 13" for i in range(n)])
    write_lines(s / "groundTruth_i.txt", [f"{2 + i} 3 {14 + i} 13" for i in range(n)])
    write_lines(s / "init.txt", ["2 3 12 13"])
    return root


def make_kaist(root: Path, n: int = 2) -> Path:
    for st in ("set00", "set06"):
        v = root / "images" / st / "V000"
        for i in range(n):
            write_img(v / "visible" / f"I{i:05d}.jpg", seed=i)
            write_img(v / "lwir" / f"I{i:05d}.jpg", seed=i)
            ann = ["% bbGt version=3",
                   "person 10 5 8 16 0 0 0 0 0 0 0",
                   "people 1 1 5 5 1 0 0 0 0 1 0"]
            write_lines(root / "annotations" / st / "V000" / f"I{i:05d}.txt", ann if i == 0 else ann[:1])
    return root


VOC = """<annotation><filename>{name}.jpg</filename><size><width>32</width><height>24</height></size>
<object><name>person</name><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>13</xmax><ymax>20</ymax></bndbox>
<difficult>0</difficult></object></annotation>"""


def make_llvip(root: Path, n: int = 2) -> Path:
    for split, start in (("train", 10001), ("test", 190001)):
        for i in range(n):
            name = f"{start + i:06d}"
            write_img(root / "visible" / split / f"{name}.jpg", seed=i)
            write_img(root / "infrared" / split / f"{name}.jpg", seed=i)
            (root / "Annotations").mkdir(parents=True, exist_ok=True)
            (root / "Annotations" / f"{name}.xml").write_text(VOC.format(name=name))
    return root


def make_vot_rgbt(root: Path, n: int = 3) -> Path:
    s = root / "afterrain"
    write_lines(s / "sequence", ["channels.color=color/%08d.jpg", "channels.ir=ir/%08d.jpg",
                                 "format=default", "fps=30", "name=afterrain"])
    for i in range(1, n + 1):
        write_img(s / "color" / f"{i:08d}.jpg", seed=i)
        write_img(s / "ir" / f"{i:08d}.jpg", seed=i)
    gt = ["1,2,10,8", "1,2,11,3,11,9,1,8", "0,0,0,0"][:n]
    write_lines(s / "groundtruth.txt", gt)
    write_lines(s / "occlusion.tag", ["0", "1", "0"][:n])
    return root


def make_vot(root: Path, n: int = 3, frame_list: bool = True) -> Path:
    s = root / "ball"
    for i in range(1, n + 1):
        write_img(s / "imgs" / f"{i:08d}.jpg", seed=i)
    write_lines(s / "groundtruth.txt", ["1,9,1,2,11,2,11,9", "2,2,10,8", "NaN,NaN,NaN,NaN"][:n])
    if frame_list:
        write_lines(s / "ball_frames.txt", [f"1,{n}"])
    return root


def make_side_by_side(root: Path, n: int = 3) -> Path:
    for i in range(n):
        write_img(root / "drive01" / f"{i:06d}.jpg", w=2 * W, h=H, seed=i)
    return root


def make_generic_pairs(root: Path, n: int = 3, video: bool = False) -> Path:
    s = root / "clip"
    if not video:
        for i in range(n):
            write_img(s / "rgb" / f"a_{i}.jpg", seed=i)
            write_img(s / "tir" / f"b_{i}.jpg", seed=i)
        return root
    s.mkdir(parents=True, exist_ok=True)
    for name in ("rgb", "tir"):
        vw = cv2.VideoWriter(str(s / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
        assert vw.isOpened()
        for i in range(n):
            vw.write(np.full((H, W, 3), 40 * i, np.uint8))
        vw.release()
    return root


def make_lsotb_eval(root: Path, seqs=("airplane_H_001",), n: int = 3) -> Path:
    for s in seqs:
        for i in range(1, n + 1):
            write_img(root / "sequences" / s / "img" / f"{i:04d}.jpg", gray=True, seed=i)
        write_lines(root / "anno" / f"{s}.txt", boxes(n))
        write_lines(root / "anno" / "att" / f"{s}.txt", ["0,1,0,0,1,0,0,0,0,0,0,0,0,0,0,1"])
    write_lines(root / "sequences.txt", list(seqs))
    return root


XML_VID = """<annotation><folder>x</folder><filename>{name}</filename>
<size><width>32</width><height>24</height></size>{objects}</annotation>"""
OBJ_VID = """<object><trackid>{tid}</trackid><name>{label}</name><bndbox><xmin>{x1}</xmin><ymin>4</ymin>
<xmax>{x2}</xmax><ymax>20</ymax></bndbox><occluded>{occ}</occluded><generated>0</generated></object>"""


def make_lsotb_train(root: Path, n: int = 3) -> Path:
    v = "TIR_training_001/person_001"
    for i in range(n):
        write_img(root / "TrainingData" / v / f"{i:08d}.jpg", gray=True, seed=i)
        objs = "" if i == n - 1 else OBJ_VID.format(tid=0, label="person", x1=3 + i, x2=13 + i, occ=i % 2)
        xml = root / "Annotations" / v / f"{i:08d}.xml"
        xml.parent.mkdir(parents=True, exist_ok=True)
        xml.write_text(XML_VID.format(name=f"{i:08d}", objects=objs))
    return root


def make_ptb_tir(root: Path, n: int = 3) -> Path:
    s = "campus2"
    for i in range(1, n + 1):
        write_img(root / "tirsequences" / s / "img" / f"{i:08d}.jpg", gray=True, seed=i)
    write_lines(root / "tiranno" / f"{s}.txt", boxes(n))
    write_lines(root / "tiranno" / "att" / f"{s}.txt", ["1,0,0,0,0,0,0,0,0,1"])
    return root


def make_got10k(base: Path, split: str = "train", n: int = 3, seq: str = "GOT-10k_Train_000001") -> Path:
    s = base / split / seq
    for i in range(1, n + 1):
        write_img(s / f"{i:08d}.jpg", seed=i)
    write_lines(s / "groundtruth.txt", boxes(n) if split != "test" else boxes(1))
    if split != "test":
        write_lines(s / "absence.label", ["0", "1", "0", "0"][:n])
        write_lines(s / "cover.label", ["8", "0", "6", "8"][:n])
    write_lines(base / split / "list.txt", [seq])
    return base


def make_lasot(root: Path, n: int = 3) -> Path:
    s = root / "airplane" / "airplane-1"
    for i in range(1, n + 1):
        write_img(s / "img" / f"{i:08d}.jpg", seed=i)
    gt = boxes(n)
    gt[-1] = "0,0,0,0"
    write_lines(s / "groundtruth.txt", gt)
    write_lines(s / "full_occlusion.txt", [",".join(["0"] * (n - 1) + ["1"])])
    write_lines(s / "out_of_view.txt", [",".join(["0"] * (n - 1) + ["1"])])
    return root


def make_synthetic(out: Path, n: int = 3) -> Path:
    (out / "synth.json").parent.mkdir(parents=True, exist_ok=True)
    (out / "synth.json").write_text("{}")
    make_got10k(out, "rgb_train", n=n, seq="synth_rgb_0000")
    for split in ("rgbt_train", "rgbt_eval"):
        make_rgbt234(out / split, seqs=("synth_0000",), n=n)
        write_lines(out / split / "synth_0000" / "objects.csv",
                    ["frame,object_id,kind,x,y,w,h,occlusion"]
                    + [f"{i},{k},{'car' if k else 'person'},{1 + i},2,10,8,{0.25 * k}" for i in range(n) for k in (0, 1)])
    lsotb = out / "tir_eval"
    make_lsotb_eval(lsotb, seqs=("synth_tir_0000",), n=n)
    return out
