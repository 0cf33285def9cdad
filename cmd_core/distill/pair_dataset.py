"""Training samples from a pair manifest (unsupervised RGB-T pairs): crops, labels, proposals.

One sample = one pair, drawn as a pure function of ``(seed, epoch, index)`` (reproducible in any
number of DataLoader workers and after a resume, like :mod:`cmd_core.training.dataset`).

- ``official`` mode: the template crop comes from the pair's template modality and frame with its
  own jitter and is annotated with the pair's *template* box; the search crop comes from the
  search modality and frame with its own jitter and is annotated with the *search* box (the release
  supervised the template with the search crop's box: fixed here). A pair generated with swapped
  roles (TIR template -> RGB search) gives the swapped direction.
- ``distill`` mode: template and search geometry as above; each crop is cut from both modalities at
  the same place (RGB for the teacher, TIR for the student), so the maps are aligned cell by cell.

Labels and proposals use :mod:`cmd_core.training.processing`. Only the image columns of the frames
manifest are read (``cmd_core.pairs.generate.read_frames``): the ground truth is never seen.

Size rule: a pair box is one pixel box valid in both modalities, so every frame a pair uses must
have RGB and TIR images of one size. A frame whose two sides differ (a dataset ingested with
``allow_size_mismatch=true``, or files changed since ingest) is refused with
:class:`FrameSizeError` naming both sizes and files - checked on the manifest up front and again on
the decoded images - never cropped at a place that is right in one modality only. (Pair generation
applies the same rule: ``cmd_core.pairs.generate``.)

Several datasets pool: ``pairs`` and ``frames`` may be lists of manifests (``distill.dataset`` as a
list); the pairs keep their ``dataset`` column and every frame is looked up by (dataset, sequence,
frame), so sequences of the same name in two datasets never mix.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from cmd_core.datasets.schema import read_manifest
from cmd_core.training.processing import (ProcessingSettings, augment_color, box_to_crop, crop_geometry, crop_square,
                                          gaussian_label, jitter_box, perturb_boxes, sample_box_gmm, to_gray3,
                                          to_rgb_uint8)

__all__ = ["PairDataset", "read_pairs", "read_pooled_pairs", "read_frame_index", "MissingFrameError",
           "EmptyPairsError", "FrameSizeError", "CMD_JITTER"]

# Official CMD jitter (template: centre 3, scale 0.25; search: 5.5, 0.5).
CMD_JITTER = {"center_jitter": {"train": 3.0, "test": 5.5}, "scale_jitter": {"train": 0.25, "test": 0.5}}


class MissingFrameError(FileNotFoundError):
    """A pair points at a frame that is not in the frames manifest or whose file is missing."""


class EmptyPairsError(ValueError):
    """The pair manifest holds no usable pair."""


class FrameSizeError(ValueError):
    """The RGB and TIR images of a frame a pair uses differ in size (see the module's size rule)."""


def size_mismatch(where: str, rgb_wh, tir_wh, rgb_path, tir_path) -> FrameSizeError:
    """The error for one frame whose RGB and TIR sizes differ, naming both sizes and both files."""
    return FrameSizeError(f"{tir_path}: TIR image is {tir_wh[0]}x{tir_wh[1]} but its RGB image {rgb_path} is "
                          f"{rgb_wh[0]}x{rgb_wh[1]} ({where}); a pair box is one pixel box in both modalities, so "
                          "distillation needs RGB and TIR frames of one size (resize or register them first)")


_PAIR_COLS = ["pair_id", "dataset", "method", "sequence", "template_frame", "template_modality", "search_frame",
              "search_modality", "template_x", "template_y", "template_w", "template_h", "search_x", "search_y",
              "search_w", "search_h"]


def read_pairs(path: str | Path, method: str | None = None) -> pd.DataFrame:
    """The pair manifest as a DataFrame (clear errors: missing, not a pair manifest, empty,
    another method than expected, no pair with a positive-size box)."""
    path = Path(path)
    df = read_manifest(path, "pairs", _PAIR_COLS, " (run the pairs rule first)")
    if len(df) == 0:
        raise EmptyPairsError(f"{path}: the pair manifest is empty - nothing to distil on (did the pair generator "
                              "find no frames, or fallback 'none' drop them all?)")
    if method is not None and (df["method"] != method).any():
        raise ValueError(f"{path}: holds pairs of method(s) {sorted(df['method'].unique())}, expected {method!r}")
    ok = ((df[["template_w", "template_h", "search_w", "search_h"]] > 0).all(axis=1)
          & np.isfinite(df[[f"{r}_{k}" for r in ("template", "search") for k in "xywh"]]).all(axis=1))
    if not ok.any():
        raise EmptyPairsError(f"{path}: no pair has positive-size, finite boxes")
    return df[ok].reset_index(drop=True)


def _paths(x) -> list:
    """One path or a list of paths as a list."""
    return [x] if isinstance(x, (str, Path)) else list(x)


def read_pooled_pairs(paths) -> pd.DataFrame:
    """The pair manifest(s) at ``paths`` (one path or a list, e.g. one per dataset) as one table
    with each pair's ``dataset`` kept; all must hold pairs of one method."""
    frames = [read_pairs(p) for p in _paths(paths)]
    if not frames:
        raise EmptyPairsError("no pair manifest given")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    methods = sorted(df["method"].unique())
    if len(methods) > 1:
        raise ValueError(f"pair manifests {[str(p) for p in _paths(paths)]} hold pairs of several methods {methods}; "
                         "pool manifests of one method")
    return df


def read_frame_index(path) -> pd.DataFrame:
    """Image columns of one frames manifest or a list of them (no ground truth), indexed by
    (dataset, sequence, frame)."""
    from cmd_core.pairs.generate import read_frames

    parts = [read_frames(p) for p in _paths(path)]
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return df.set_index(["dataset", "sequence", "frame"], drop=False).sort_index()


def _describe(x, what: str) -> str:
    """A path, a list of paths joined by ', ', or `what` for an in-memory table (for messages)."""
    if isinstance(x, pd.DataFrame):
        return what
    return ", ".join(str(p) for p in _paths(x))


class PairDataset(Dataset):
    """``dataset[(epoch, index)]`` -> dict of float32 tensors with a leading crops dim.

    args:
        pairs: pair manifest path, a list of them (pooled, see :func:`read_pooled_pairs`) or a DataFrame.
        frames: frames manifest path, a list of them (one per pooled dataset) or the DataFrame of
            :func:`read_frame_index`.
        settings: processing settings (crop size, search area, jitter, proposals ...).
        mode: 'official' or 'distill' (see the module docstring).
        samples_per_epoch: nominal length.
        seed: sample ``(epoch, i)`` uses ``np.random.default_rng([seed, epoch, i])``.
        cache_frames: decoded frame pairs kept per worker (LRU).
        num_template_crops, num_search_crops: independently jittered crops per role.
    returns (per sample):
        train_images, test_images (crops, 3, S, S): official: template / search modality;
        distill: the teacher's RGB crops, plus train_images_student / test_images_student (TIR);
        train_anno, test_anno (crops, 4) boxes in crop pixels, each from its own pair box;
        test_label (crops, Ho, Wo); test_proposals (crops, P, 4) with proposal_iou (or
        proposal_density / gt_density for KL regression); template_rgb (crops,) 1 if the
        template is RGB.
    """

    def __init__(self, pairs: str | Path | pd.DataFrame, frames: str | Path | pd.DataFrame,
                 settings: ProcessingSettings, mode: str = "official", samples_per_epoch: int = 64, seed: int = 0,
                 cache_frames: int = 256, num_template_crops: int = 1, num_search_crops: int = 1):
        if mode not in ("official", "distill"):
            raise ValueError(f"mode must be 'official' or 'distill', got {mode!r}")
        self.pairs_path = _describe(pairs, "<pairs>")
        self.frames_path = _describe(frames, "<frames>")
        self.pairs = read_pooled_pairs(pairs) if not isinstance(pairs, pd.DataFrame) else pairs.reset_index(drop=True)
        if len(self.pairs) == 0:
            raise EmptyPairsError(f"{self.pairs_path}: the pair manifest is empty - nothing to distil on")
        self.frames = read_frame_index(frames) if not isinstance(frames, pd.DataFrame) else frames
        self.s = settings
        self.mode = mode
        self.samples_per_epoch = int(samples_per_epoch)
        self.seed = int(seed)
        self.cache_frames = int(cache_frames)
        self.n_tr, self.n_te = int(num_template_crops), int(num_search_crops)
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()
        self._check_frames()

    def _check_frames(self) -> None:
        """Every (sequence, frame) a pair uses must be in the frames manifest (checked up front)."""
        keys = set()
        for role in ("template", "search"):
            keys |= set(zip(self.pairs["dataset"], self.pairs["sequence"], self.pairs[f"{role}_frame"].astype(int)))
        have = set(self.frames.index)
        missing = sorted(k for k in keys if k not in have)
        if missing:
            d, s, f = missing[0]
            raise MissingFrameError(f"{self.pairs_path}: {len(missing)} pair frame(s) not in the frames manifest "
                                    f"{self.frames_path}, e.g. dataset {d} sequence {s} frame {f}")
        used = self.frames.loc[sorted(keys)]
        sz = used[["rgb_width", "rgb_height", "tir_width", "tir_height"]].astype("float64").to_numpy()
        both = np.isfinite(sz).all(axis=1) & used["packing"].ne("side_by_side").to_numpy()
        differ = np.flatnonzero(both & ((sz[:, 0] != sz[:, 2]) | (sz[:, 1] != sz[:, 3])))
        if len(differ):
            r = used.iloc[differ[0]]
            raise size_mismatch(f"dataset {r['dataset']} sequence {r['sequence']} frame {r['frame']}, one of "
                                f"{len(differ)} such frame(s) used by {self.pairs_path}; frames manifest "
                                f"{self.frames_path}", sz[differ[0], :2].astype(int), sz[differ[0], 2:].astype(int),
                                r["rgb_path"], r["tir_path"])

    def __len__(self) -> int:
        return self.samples_per_epoch

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(epoch), int(index)])

    # ------------------------------------------------------------------------------- frames
    def _load(self, dataset: str, sequence: str, frame: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        from cmd_core.datasets.frames import load_frame_pair

        key = (dataset, sequence, int(frame))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        row = self.frames.loc[key]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        row = row.to_dict()
        for col in ("rgb_path", "tir_path"):
            p = row.get(col)
            if isinstance(p, str) and row["packing"] != "video" and not Path(p).is_file():
                raise MissingFrameError(f"{p}: image file of a pair is missing (dataset {dataset}, sequence "
                                        f"{sequence}, frame {frame}; pairs {self.pairs_path})")
        try:
            imgs = load_frame_pair(row)
        except (OSError, ValueError) as exc:
            raise MissingFrameError(f"cannot read frame {frame} of sequence {sequence} ({row.get('rgb_path')}, "
                                    f"{row.get('tir_path')}): {exc}") from exc
        rgb, tir = imgs
        if rgb is not None and tir is not None and rgb.shape[:2] != tir.shape[:2]:  # files changed since ingest
            raise size_mismatch(f"dataset {dataset} sequence {sequence} frame {frame}, as decoded",
                                rgb.shape[1::-1], tir.shape[1::-1], row.get("rgb_path"), row.get("tir_path"))
        if self.cache_frames > 0:
            self._cache[key] = imgs
            while len(self._cache) > self.cache_frames:
                self._cache.popitem(last=False)
        return imgs

    def _image(self, pair: dict, role: str, modality: str) -> np.ndarray:
        rgb, tir = self._load(pair["dataset"], pair["sequence"], pair[f"{role}_frame"])
        img = rgb if modality == "rgb" else tir
        if img is None:
            raise MissingFrameError(f"no {modality} image for sequence {pair['sequence']} frame {pair[f'{role}_frame']}"
                                    f" (pair {pair['pair_id']} of {self.pairs_path})")
        return to_rgb_uint8(img)

    # ------------------------------------------------------------------------------- crops
    def _geometry(self, box: np.ndarray, mode: str, rng: np.random.Generator) -> tuple[np.ndarray, float, np.ndarray]:
        s = self.s
        jb = jitter_box(box, s.center_jitter[mode], s.scale_jitter[mode], rng)
        center, scale = crop_geometry(jb, s.search_area_factor, s.crop_size)
        return center, scale, box_to_crop(box, center, scale, s.crop_size)

    def _color(self, crop: np.ndarray, rng: np.random.Generator, gray_ok: bool) -> np.ndarray:
        s = self.s
        if gray_ok and s.grayscale_prob > 0 and rng.random() < s.grayscale_prob:
            crop = to_gray3(crop)
        lo, hi = max(0.0, 1.0 - s.brightness_jitter), 1.0 + s.brightness_jitter
        return augment_color(crop, rng.uniform(lo, hi))

    def sample(self, epoch: int, index: int) -> dict[str, np.ndarray]:
        """The sample as numpy arrays (see the class docstring)."""
        s = self.s
        rng = self.rng(epoch, index)
        pair = self.pairs.iloc[int(rng.integers(len(self.pairs)))].to_dict()
        tbox = np.array([pair[f"template_{k}"] for k in "xywh"], dtype=np.float64)
        sbox = np.array([pair[f"search_{k}"] for k in "xywh"], dtype=np.float64)
        out: dict[str, list] = {k: [] for k in ("train_images", "test_images", "train_anno", "test_anno")}
        if self.mode == "distill":
            out["train_images_student"], out["test_images_student"] = [], []
        roles = [("template", tbox, "train", self.n_tr, "train_images", "train_anno"),
                 ("search", sbox, "test", self.n_te, "test_images", "test_anno")]
        for role, box, jmode, n, img_key, anno_key in roles:
            if self.mode == "official":
                src = {img_key: self._image(pair, role, pair[f"{role}_modality"])}
            else:
                src = {img_key: self._image(pair, role, "rgb"), img_key + "_student": self._image(pair, role, "tir")}
            for _ in range(n):
                center, scale, anno = self._geometry(box, jmode, rng)
                for key, img in src.items():
                    gray_ok = self.mode == "official" and pair[f"{role}_modality"] == "rgb"
                    out[key].append(self._color(crop_square(img, center, scale, s.crop_size), rng, gray_ok))
                out[anno_key].append(anno)
        res = {k: np.stack(v).astype(np.float32) for k, v in out.items()}
        res["test_label"] = np.stack([gaussian_label(b, s.output_sigma_factor, s.search_area_factor, s.crop_size,
                                                     s.filter_size) for b in res["test_anno"]])
        if s.proposal_mode == "iou":
            pr = [perturb_boxes(b, s.num_proposals, s.proposal_sigma_factors, s.proposal_min_iou, rng)
                  for b in res["test_anno"]]
            res["test_proposals"] = np.stack([p for p, _ in pr]).astype(np.float32)
            res["proposal_iou"] = np.stack([i for _, i in pr]).astype(np.float32)
        elif s.proposal_mode == "kl":
            pr = [sample_box_gmm(b, s.kl_proposal_sigma, s.kl_gt_sigma, s.num_proposals, rng) for b in res["test_anno"]]
            res["test_proposals"] = np.stack([p for p, _, _ in pr]).astype(np.float32)
            res["proposal_density"] = np.stack([d for _, d, _ in pr]).astype(np.float32)
            res["gt_density"] = np.stack([g for _, _, g in pr]).astype(np.float32)
        else:
            raise ValueError(f"unknown proposal_mode {s.proposal_mode!r}")
        res["template_rgb"] = np.full(self.n_tr, 1.0 if pair["template_modality"] == "rgb" else 0.0, np.float32)
        return res

    def __getitem__(self, key) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.sample(epoch, index).items()}

    def state_dict(self) -> dict[str, Any]:
        """Reproducibility record stored in checkpoints."""
        return {"seed": self.seed, "pairs": self.pairs_path, "frames": self.frames_path, "mode": self.mode,
                "num_pairs": int(len(self.pairs))}
