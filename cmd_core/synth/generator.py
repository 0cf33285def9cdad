"""Generate the four-split synthetic benchmark on disk, in parallel and atomically.

Each sequence is generated independently from np.random.default_rng([seed, split_index, seq_index])
so sequences can run in any order in worker processes and the bytes never depend on `threads`.
Each split is written into a hidden temporary directory next to its destination and renamed into
place when all its sequences succeeded; `synth.json` (the completion marker the workflow waits for)
is removed at the start and written last, atomically. A killed or failed run therefore never leaves
a `synth.json` behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import logging
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..io import write_text
from .attributes import LSOTB_ATTRIBUTES, attribute_line, compute_attributes
from .background import build_world
from .config import SPLITS, SynthConfig
from .layouts import LAYOUT_OF_SPLIT, MODALITIES_OF_SPLIT, SequenceWriter, got10k_meta_info, write_split_index
from .raster import rasterize
from .render_rgb import RGBRenderer
from .render_tir import TIRRenderer
from .scene import Scene, sample_scene

log = logging.getLogger(__name__)

# 1.2.1: the GOT-10k-layout split (rgb_train) also has each sequence's meta_info.ini and cut_by_image.label,
# which the GOT-10k toolkit needs; every file 1.2.0 wrote (images included) is byte for byte the same.
GENERATOR_VERSION = "1.2.1"
MARKER = "synth.json"


def sequence_name(split: str, seq_index: int, kind: str) -> str:
    return f"{split}_{seq_index:04d}_{kind}"


# The first frame initialises the tracker, so (as in the real benchmarks, whose annotators start on a
# visible target) it must show the target: a scene whose first frame hides more than this share of the
# target behind an occluder or the image border is drawn again.
MAX_FIRST_FRAME_HIDDEN = 0.1
SCENE_ATTEMPTS = 20


def first_frame_hidden(scene: Scene) -> float:
    """Share of the target hidden (occluded or outside the image) in the scene's first frame."""
    r = rasterize(scene, build_world(scene.world, scene.unit), 0).by_id[0]
    return 1.0 if not r.visible_area else float(max(r.occlusion, r.truncation))


def make_scene(config: SynthConfig, split: str, seq_index: int, force: dict | None = None) -> Scene:
    """The scene of one sequence, deterministic in (seed, split, seq_index), with a visible target in
    its first frame (up to ``SCENE_ATTEMPTS`` draws; attempt 0 is the original draw)."""
    for attempt in range(SCENE_ATTEMPTS):
        key = [config.seed, SPLITS.index(split), seq_index] + ([attempt] if attempt else [])
        scene = sample_scene(np.random.default_rng(key), split, config.width, config.height,
                             config.splits[split].frames, force)
        if first_frame_hidden(scene) <= MAX_FIRST_FRAME_HIDDEN:
            return scene
    raise RuntimeError(f"{split} sequence {seq_index}: no scene with a visible first-frame target in "
                       f"{SCENE_ATTEMPTS} draws (forced settings {force})")


def _ring(box: tuple[int, int, int, int], w: int, h: int) -> tuple[slice, slice]:
    x, y, bw, bh = box
    x0, y0 = max(0, int(x - 0.5 * bw)), max(0, int(y - 0.5 * bh))
    x1, y1 = min(w, int(x + 1.5 * bw) + 1), min(h, int(y + 1.5 * bh) + 1)
    return slice(y0, y1), slice(x0, x1)


def _contrast(img: np.ndarray, owner: np.ndarray, box, w: int, h: int) -> tuple[float, float, float]:
    """(target mean - background ring mean, ring std, target mean) of a grey image."""
    sy, sx = _ring(box, w, h)
    own = owner[sy, sx]
    patch = img[sy, sx].astype(np.float32)
    tgt, bg = patch[own == 1], patch[own == 0]
    if len(tgt) == 0 or len(bg) == 0:
        return float("nan"), float("nan"), float("nan")
    return float(tgt.mean() - bg.mean()), float(bg.std()), float(tgt.mean())


def render_sequence(scene: Scene, modalities: tuple[str, ...], writer: SequenceWriter | None = None,
                    jpeg_quality: int = 90, keep_frames: bool = False) -> dict[str, Any]:
    """Render every frame (writing JPEGs through `writer` if given) and gather per-frame annotations.

    Returns a dict of per-frame arrays for the target (see attributes.compute_attributes), plus
    'objects_rows' (all objects' boxes) and, with keep_frames, the decoded-free frames themselves.
    """
    world = build_world(scene.world, scene.unit)
    rgb_r = RGBRenderer(scene, world) if "rgb" in modalities else None
    tir_r = TIRRenderer(scene, world) if "tir" in modalities else None
    n, w, h = scene.n_frames, scene.width, scene.height
    tr: dict[str, Any] = {k: np.zeros((n, 4)) for k in ("box", "full_box")}
    for k in ("occlusion", "truncation", "visible", "visible_fraction", "blurred", "others_lookalike"):
        tr[k] = np.zeros(n)
    for k in ("tir_contrast", "ring_std", "target_level", "agc_span", "rgb_contrast", "rgb_ring_std"):
        tr[k] = np.full(n, np.nan)
    tr["rgb_target_colour"] = np.full((n, 3), np.nan)
    rows: list[tuple] = []
    frames: dict[str, list[np.ndarray]] = {"rgb": [], "tir": [], "owner": []}
    tgt = scene.target
    lookalike_ids = [o.object_id for o in scene.objects[1:]
                     if o.kind == tgt.kind and abs(float(np.mean(o.temps)) - float(np.mean(tgt.temps))) < 3.0]
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)]
    for t in range(n):
        fr = rasterize(scene, world, t)
        r = fr.by_id[0]
        box = r.box or (0, 0, 0, 0)
        tr["box"][t] = box
        tr["full_box"][t] = r.full_box
        tr["occlusion"][t] = r.occlusion
        tr["truncation"][t] = r.truncation
        tr["visible"][t] = r.visible_area
        tr["visible_fraction"][t] = r.visible_fraction
        tr["blurred"][t] = float(r.in_area > 0 and np.hypot(*r.blur) >= 1.5)
        if r.visible_area and any(fr.by_id[i].visible_area > 0 for i in lookalike_ids):
            tr["others_lookalike"][t] = 1.0
        for o in sorted(fr.objects, key=lambda o: o.object_id):
            x, y, bw, bh = o.box or (0, 0, 0, 0)
            rows.append((t, o.object_id, scene.objects[o.object_id].kind, x, y, bw, bh, o.occlusion))
        if rgb_r is not None:
            img = rgb_r.render(fr)
            if r.box is not None and r.visible_area:
                luma = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
                c, s, _ = _contrast(luma, fr.owner, r.box, w, h)
                tr["rgb_contrast"][t], tr["rgb_ring_std"][t] = c, s
                tr["rgb_target_colour"][t] = img[fr.owner == 1].mean(axis=0)
            if writer is not None:
                ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params)
                writer.frame_path(t, "rgb").write_bytes(buf.tobytes())
            if keep_frames:
                frames["rgb"].append(img)
        if tir_r is not None:
            g = tir_r.render(fr)
            lo, hi = tir_r.last_range
            tr["agc_span"][t] = hi - lo
            if r.box is not None and r.visible_area:
                tr["tir_contrast"][t], tr["ring_std"][t], tr["target_level"][t] = _contrast(g, fr.owner, r.box, w, h)
            if writer is not None:
                ok, buf = cv2.imencode(".jpg", g, params)
                writer.frame_path(t, "tir").write_bytes(buf.tobytes())
            if keep_frames:
                frames["tir"].append(g)
        if keep_frames:
            frames["owner"].append(fr.owner.copy())
    tr["objects_rows"] = rows
    if keep_frames:
        tr["frames"] = frames
    return tr


def _cover(visible_fraction: np.ndarray, visible: np.ndarray) -> np.ndarray:
    cover = np.floor(np.clip(visible_fraction, 0, 1) * 8 + 1e-9).astype(int)
    return np.where(visible > 0, np.maximum(cover, 1), 0)


def _nan_to_none(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 3)


def generate_sequence(config: SynthConfig, split: str, seq_index: int, split_dir: str | os.PathLike) -> dict[str, Any]:
    """Generate one sequence into `split_dir` (the split's temporary directory); return its meta."""
    cv2.setNumThreads(1)
    scene = make_scene(config, split, seq_index)
    name = sequence_name(split, seq_index, scene.target.kind)
    writer = SequenceWriter(split, Path(split_dir), name)
    modalities = MODALITIES_OF_SPLIT[split]
    tr = render_sequence(scene, modalities, writer, config.jpeg_quality)
    absent = (tr["visible"] == 0).astype(int)
    cover = _cover(tr["visible_fraction"], tr["visible"])
    attrs = compute_attributes(scene, tr) if "tir" in modalities else None
    cut = ((tr["truncation"] > 0) & (tr["visible"] > 0)).astype(int)  # seen, and partly outside the image
    writer.finish(tr["box"], absent, cover, tr["objects_rows"], attribute_line(attrs) if attrs else None,
                  cut_by_image=cut, meta_info=got10k_meta_info(scene.width, scene.height, scene.target.kind))
    meta = {"name": name, "frames": scene.n_frames, **scene.summary(),
            "occlusion_frame": scene.occlusion_frame, "crossover_frame": scene.crossover_frame,
            "max_occlusion": round(float(tr["occlusion"].max()), 3),
            "max_truncation": round(float(tr["truncation"].max()), 3),
            "absent_frames": int(absent.sum())}
    if "tir" in modalities:
        meta["attributes"] = attrs
        meta["min_abs_tir_contrast"] = _nan_to_none(np.nanmin(np.abs(tr["tir_contrast"])) if np.isfinite(tr["tir_contrast"]).any() else np.nan)
    if "rgb" in modalities and np.isfinite(tr["rgb_contrast"]).any():
        meta["mean_rgb_contrast"] = _nan_to_none(np.nanmean(tr["rgb_contrast"]))
    if "tir" in modalities and np.isfinite(tr["tir_contrast"]).any():
        meta["mean_tir_contrast"] = _nan_to_none(np.nanmean(tr["tir_contrast"]))
    return meta


def _task(config_dict: dict, split: str, seq_index: int, split_dir: str) -> dict[str, Any]:
    """Process-pool entry point (a plain function of picklable arguments)."""
    return generate_sequence(SynthConfig.from_mapping(config_dict), split, seq_index, split_dir)


def _replace_dir(src: Path, dest: Path) -> None:
    if dest.exists():
        trash = dest.parent / f".{dest.name}.old-{os.getpid()}"
        if trash.exists():
            shutil.rmtree(trash)
        os.replace(dest, trash)
        os.replace(src, dest)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(src, dest)


def generate_benchmark(out_dir: str | os.PathLike, config: SynthConfig | None = None, threads: int = 1,
                       progress: bool = True) -> dict[str, Any]:
    """Write all four splits under `out_dir`, then `synth.json`; return the synth.json content."""
    config = config or SynthConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (out / MARKER).unlink()  # the old marker must not survive a failed rerun
    cfg_dict = config.to_dict()
    tmp_dirs = {s: out / f".{s}.tmp-{os.getpid()}" for s in SPLITS}
    tasks = [(s, i) for s in SPLITS for i in range(config.splits[s].sequences)]
    metas: dict[tuple[str, int], dict] = {}
    try:
        for s, d in tmp_dirs.items():
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(tasks), desc="synth", unit="seq")
        try:
            if threads <= 1 or len(tasks) <= 1:
                for s, i in tasks:
                    metas[(s, i)] = generate_sequence(config, s, i, tmp_dirs[s])
                    if bar is not None:
                        bar.update(1)
            else:
                ctx = multiprocessing.get_context("spawn")
                with cf.ProcessPoolExecutor(max_workers=int(threads), mp_context=ctx) as pool:
                    futs = {pool.submit(_task, cfg_dict, s, i, str(tmp_dirs[s])): (s, i) for s, i in tasks}
                    try:
                        for fut in cf.as_completed(futs):
                            metas[futs[fut]] = fut.result()
                            if bar is not None:
                                bar.update(1)
                    except BaseException:
                        for f in futs:
                            f.cancel()
                        raise
        finally:
            if bar is not None:
                bar.close()
        total_frames = 0
        splits_info: dict[str, Any] = {}
        for s in SPLITS:
            seqs = [metas[(s, i)] for i in range(config.splits[s].sequences)]
            write_split_index(s, tmp_dirs[s], [m["name"] for m in seqs])
            meta = {"generator": "cmd_core.synth", "version": GENERATOR_VERSION, "seed": config.seed,
                    "split": s, "layout": LAYOUT_OF_SPLIT[s], "modalities": list(MODALITIES_OF_SPLIT[s]),
                    "config": cfg_dict, "attribute_names": list(LSOTB_ATTRIBUTES), "sequences": seqs}
            write_text(tmp_dirs[s] / "meta.json", json.dumps(meta, indent=1) + "\n")
            frames = sum(m["frames"] for m in seqs)
            total_frames += frames
            splits_info[s] = {"path": s, "layout": LAYOUT_OF_SPLIT[s], "modalities": list(MODALITIES_OF_SPLIT[s]),
                              "sequences": len(seqs), "frames": frames}
        for s in SPLITS:
            _replace_dir(tmp_dirs[s], out / s)
        summary = {"generator": "cmd_core.synth", "version": GENERATOR_VERSION, "seed": config.seed,
                   "config": cfg_dict, "splits": splits_info, "total_frames": total_frames}
        write_text(out / MARKER, json.dumps(summary, indent=1) + "\n")
        return summary
    finally:
        for d in tmp_dirs.values():
            if d.exists():
                shutil.rmtree(d, ignore_errors=True)
