"""How far is a TIR set from its RGB set? Samples frames of a paired frames manifest and measures the
modality gap at two levels.

Scene level (any paired set, no labels needed): random boxes, the same normalised box in both
modalities (a pair whose two images differ in size is registered but resized, so a box maps by the
ratio of the sizes):
- `feature_gap`: the cosine similarity of the RGB box's embedding (`features.BoxEmbedder`) with its
  TIR box, normalised between the grey copy of the RGB box (gap 0: TIR looks like grey RGB) and the
  TIR box of another place of the same frame (gap 1: unrelated content, same scene and sensor): (mean s_grey - mean s_tir) / (mean s_grey - mean s_unrelated);
- `grad_corr`: correlation of gradient magnitudes of the grey RGB box and the TIR box;
- `tir_hf_share`, `tir_noise` (and the RGB figures beside them): high-frequency share and noise
  level of whole frames (`measures`).

Object level (where a modality has ground truth): `<m>_distractor_sim`, the highest embedding
similarity between the target and same-size windows elsewhere in the frame (look-alikes), and
`<m>_contrast`, target-versus-surround contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd
import torch
from torchvision.ops import box_iou
from tqdm import tqdm

from cmd_core.datasets.frames import load_frame_pair

from .features import BoxEmbedder
from .measures import gradient_correlation, high_frequency_share, noise_sigma, surround_contrast, to_grey

__all__ = ["GapSettings", "measure_frames", "summarise", "SCENE_STATISTICS", "OBJECT_STATISTICS"]

SCENE_STATISTICS = ("feature_gap", "grad_corr", "tir_hf_share", "tir_noise")
OBJECT_STATISTICS = ("tir_distractor_sim", "rgb_distractor_sim", "tir_contrast", "rgb_contrast")


@dataclass(frozen=True)
class GapSettings:
    """How many frames and boxes are sampled (reproducibly, from `seed`)."""

    frames: int = 200
    boxes_per_frame: int = 4  # at least 2: each box's unrelated reference is another box of its frame
    distractor_windows: int = 12
    min_box: float = 0.15  # box side as a fraction of the image's shorter side
    max_box: float = 0.40
    seed: int = 0

    def __post_init__(self) -> None:
        if self.boxes_per_frame < 2:
            raise ValueError(f"boxes_per_frame must be at least 2 (the unrelated reference is another box of the "
                             f"same frame), got {self.boxes_per_frame}")


def _tir_rows(frames: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rows that have a TIR image (ValueError naming `source` when none has)."""
    if "tir_path" not in frames.columns or "packing" not in frames.columns:
        raise ValueError(f"{source}: not a frames manifest (no tir_path / packing column)")
    has_tir = frames["tir_path"].notna() | frames["packing"].eq("side_by_side")
    if not has_tir.any():
        raise ValueError(f"{source}: no frame has a TIR image (an RGB-only manifest); the modality gap needs the "
                         f"TIR side, and the RGB side for the scene-level statistics")
    return frames[has_tir]


def _sample(rows: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Up to n rows spread evenly over the set (every k-th after a random offset), in manifest order."""
    if len(rows) <= n:
        return rows
    step = len(rows) / n
    idx = (rng.uniform(0, step) + step * np.arange(n)).astype(int)
    return rows.iloc[np.minimum(idx, len(rows) - 1)]


def _scene_boxes(rng: np.random.Generator, k: int, s: GapSettings, aspect: float) -> np.ndarray:
    """k boxes (x, y, w, h) in normalised image coordinates (0..1), inside an image of width / height
    `aspect`: sides between min_box and max_box of the shorter image side, aspect ratios 1:2 to 2:1."""
    side = rng.uniform(s.min_box, s.max_box, k)
    ratio = np.sqrt(np.exp(rng.uniform(np.log(0.5), np.log(2.0), k)))
    w = np.minimum(side * ratio * min(1.0, 1.0 / aspect), 0.95)
    h = np.minimum(side / ratio * min(1.0, aspect), 0.95)
    return np.stack([rng.uniform(0, 1 - w), rng.uniform(0, 1 - h), w, h], axis=1)


def _scaled(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    return boxes * np.array([width, height, width, height], np.float64)


def _distractor_windows(rng: np.random.Generator, box, width: int, height: int, k: int) -> np.ndarray:
    """Up to k windows of the box's size inside the image that overlap it by IoU < 0.1."""
    x, y, w, h = (float(v) for v in box)
    if w >= width or h >= height:
        return np.zeros((0, 4))
    cand = np.stack([rng.uniform(0, width - w, 4 * k), rng.uniform(0, height - h, 4 * k),
                     np.full(4 * k, w), np.full(4 * k, h)], axis=1)
    xyxy = torch.from_numpy(np.concatenate([cand[:, :2], cand[:, :2] + cand[:, 2:]], axis=1))
    target = torch.tensor([[x, y, x + w, y + h]], dtype=xyxy.dtype)
    keep = (box_iou(xyxy, target)[:, 0] < 0.1).numpy()
    return cand[keep][:k]


def _gt_box(row, modality: str):
    if not bool(row.get(f"gt_{modality}_valid", False)):
        return None
    box = [row[f"gt_{modality}_{k}"] for k in "xywh"]
    if any(v is None or v != v for v in box) or box[2] < 2 or box[3] < 2:
        return None
    return box


def _scene_boxes_measured(embedder: BoxEmbedder, rng: np.random.Generator, settings: GapSettings, rgb: np.ndarray,
                          grey_rgb: np.ndarray, tir: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Random boxes of one paired frame, per box (s_grey, s_tir, s_unrelated, grad_corr). The unrelated
    crop of box i is the TIR crop of the frame's next random box: the same scene, another place, so the
    reference does not depend on which other frames or sequences were sampled."""
    (hr, wr), (ht, wt) = rgb.shape[:2], tir.shape
    norm = _scene_boxes(rng, settings.boxes_per_frame, settings, wr / hr)
    b_rgb, b_tir = _scaled(norm, wr, hr), _scaled(norm, wt, ht)
    c_rgb = embedder.crops(rgb, b_rgb)
    c_grey = embedder.crops(np.clip(grey_rgb, 0, 255).astype(np.uint8), b_rgb)
    c_tir = embedder.crops(tir, b_tir)
    f_rgb, f_grey, f_tir = embedder.embed(c_rgb), embedder.embed(c_grey), embedder.embed(c_tir)
    k = len(norm)
    return [(float(f_rgb[i] @ f_grey[i]), float(f_rgb[i] @ f_tir[i]), float(f_rgb[i] @ f_tir[(i + 1) % k]),
             gradient_correlation(c_grey[i][:, :, 0].astype(np.float32), c_tir[i][:, :, 0].astype(np.float32)))
            for i in range(k)]


def measure_frames(frames: pd.DataFrame, dataset: str, settings: GapSettings = GapSettings(),
                   embedder: BoxEmbedder | None = None, source: str | None = None,
                   progress: bool = True) -> dict[str, pd.DataFrame]:
    """Per-sample measurements of one paired frames manifest: {'boxes': one row per scene box,
    'frames': one row per frame, 'objects': one row per (frame, modality) with ground truth}."""
    source = source or dataset
    rows = _tir_rows(frames, source)
    rng = np.random.default_rng(settings.seed)
    rows = _sample(rows, settings.frames, rng)
    embedder = embedder or BoxEmbedder()
    box_rows, frame_rows, object_rows = [], [], []
    for _, row in tqdm(rows.iterrows(), total=len(rows), desc=f"gap {dataset}", disable=not progress):
        bgr, tir_raw = load_frame_pair(row)
        tir = np.clip(to_grey(tir_raw), 0, 255).astype(np.uint8)
        tir_f = tir.astype(np.float32)
        key = {"dataset": dataset, "sequence": str(row["sequence"]), "frame": int(row["frame"])}
        frame_row = {**key, "tir_hf_share": high_frequency_share(tir_f), "tir_noise": noise_sigma(tir_f)}
        sides = [("tir", tir, tir_f)]
        if bgr is not None:
            rgb, grey_rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), to_grey(bgr)
            frame_row.update(rgb_hf_share=high_frequency_share(grey_rgb), rgb_noise=noise_sigma(grey_rgb))
            sides.insert(0, ("rgb", rgb, grey_rgb))
            box_rows += [{**key, "s_grey": s_grey, "s_tir": s_tir, "s_unrelated": s_unrel, "grad_corr": g}
                         for s_grey, s_tir, s_unrel, g in _scene_boxes_measured(embedder, rng, settings, rgb, grey_rgb, tir)]
        frame_rows.append(frame_row)
        for modality, image, grey in sides:
            box = _gt_box(row, modality)
            if box is None:
                continue
            windows = _distractor_windows(rng, box, image.shape[1], image.shape[0], settings.distractor_windows)
            emb = embedder.embed(embedder.crops(image, [box, *windows]))
            object_rows.append({**key, "modality": modality,
                                "distractor_sim": float((emb[1:] @ emb[0]).max()) if len(windows) else float("nan"),
                                "contrast": surround_contrast(grey, box)})
    boxes = pd.DataFrame(box_rows, columns=["dataset", "sequence", "frame", "s_grey", "s_tir", "s_unrelated",
                                            "grad_corr"])
    frames_out = pd.DataFrame(frame_rows, columns=["dataset", "sequence", "frame", "tir_hf_share", "tir_noise",
                                                   "rgb_hf_share", "rgb_noise"])
    return {"boxes": boxes, "frames": frames_out,
            "objects": pd.DataFrame(object_rows, columns=[*["dataset", "sequence", "frame"], "modality",
                                                          "distractor_sim", "contrast"])}


def summarise(measured: dict[str, pd.DataFrame], by: tuple[str, ...] = ("dataset",)) -> pd.DataFrame:
    """One row per group (dataset, or dataset and sequence): the statistics of the module docstring,
    plus the sample counts."""
    boxes, frames, objects = measured["boxes"], measured["frames"], measured["objects"]
    keys = list(by)
    scene = boxes.groupby(keys).agg(boxes=("s_tir", "size"), s_grey=("s_grey", "mean"), s_tir=("s_tir", "mean"),
                                    s_unrelated=("s_unrelated", "mean"), grad_corr=("grad_corr", "mean"))
    scene["feature_gap"] = (scene["s_grey"] - scene["s_tir"]) / (scene["s_grey"] - scene["s_unrelated"])
    per_frame = frames.groupby(keys).agg(frames=("frame", "size"), tir_hf_share=("tir_hf_share", "mean"),
                                         tir_noise=("tir_noise", "mean"), rgb_hf_share=("rgb_hf_share", "mean"),
                                         rgb_noise=("rgb_noise", "mean"))
    out = per_frame.join(scene)
    for modality in ("tir", "rgb"):
        sub = objects[objects["modality"] == modality]
        agg = sub.groupby(keys).agg(**{f"{modality}_objects": ("contrast", "size"),
                                       f"{modality}_distractor_sim": ("distractor_sim", "mean"),
                                       f"{modality}_contrast": ("contrast", "mean")})
        out = out.join(agg)
    for modality in ("tir", "rgb"):
        out[f"{modality}_objects"] = out[f"{modality}_objects"].fillna(0).astype(int)
    columns = ["frames", "boxes", *SCENE_STATISTICS, "rgb_hf_share", "rgb_noise", "s_grey", "s_tir", "s_unrelated",
               "tir_objects", "rgb_objects", *OBJECT_STATISTICS]
    return out[columns].reset_index()
