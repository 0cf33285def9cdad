"""Training-pair processing: jittered square crops, Gaussian labels, IoU proposals, augmentation.

Coordinates are continuous pixel-edge coordinates: a box (x, y, w, h) covers [x, x+w) x [y, y+h),
pixel i spans [i, i+1). A crop maps image point p to ``(p - c) * s + out/2`` (``c`` the jittered
box centre, ``s = out / side``), so a box transforms exactly with the crop and the labels, proposals
and images agree. Everything takes an explicit ``numpy.random.Generator`` so a sample is a pure
function of its seed (reproducible across workers and after resume).

Facts follow the official DiMP training settings (see shared/docs/dimp-reference.md): crop side
``ceil(sqrt(w*h) * search_area_factor)``, replicate padding, centre jitter ``(U-0.5) * sqrt(w'h') *
factor`` and scale jitter ``exp(N(0,1) * factor)``, Gaussian label of sigma ``sigma_factor /
search_area_factor * feature_size`` cells, 8 perturbed proposals per frame (ATOM/DiMP) or 128
Gaussian-mixture proposals with densities (PrDiMP / Super DiMP KL regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from cmd_core.pairs.boxes import box_iou

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "ProcessingSettings", "DiMPProcessing", "jitter_box", "crop_square",
    "box_to_crop", "gaussian_label", "perturb_boxes", "sample_box_gmm", "augment_color",
]

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
FEATURE_STRIDE = 16


@dataclass
class ProcessingSettings:
    """Parameters of :class:`DiMPProcessing` (official DiMP-50 values by default)."""

    crop_size: int = 288
    search_area_factor: float = 5.0
    output_sigma_factor: float = 0.25
    filter_size: int = 4
    center_jitter: dict[str, float] = field(default_factory=lambda: {"train": 3.0, "test": 4.5})
    scale_jitter: dict[str, float] = field(default_factory=lambda: {"train": 0.25, "test": 0.5})
    proposal_mode: str = "iou"            # 'iou' (DiMP: perturbed boxes, target 2*IoU-1) or 'kl' (Super DiMP)
    num_proposals: int = 8
    proposal_min_iou: float = 0.1
    proposal_sigma_factors: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.3)
    kl_gt_sigma: tuple[float, float] = (0.05, 0.05)
    kl_proposal_sigma: tuple[tuple[float, float], ...] = ((0.05, 0.05), (0.5, 0.5))
    grayscale_prob: float = 0.05
    brightness_jitter: float = 0.2
    flip_prob: float = 0.0                # Super DiMP: 0.5 (joint on the images, then per crop)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProcessingSettings":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key in ("proposal_sigma_factors", "kl_gt_sigma"):
            if key in known:
                known[key] = tuple(known[key])
        if "kl_proposal_sigma" in known:
            known["kl_proposal_sigma"] = tuple(tuple(s) for s in known["kl_proposal_sigma"])
        return cls(**known)

    @property
    def feature_size(self) -> int:
        return self.crop_size // FEATURE_STRIDE

    @property
    def label_size(self) -> int:
        """Score-map side: feature size + 1 for even filters (padding filter_size // 2)."""
        return self.feature_size + (self.filter_size + 1) % 2


# ----------------------------------------------------------------------------------------- geometry
def jitter_box(box: np.ndarray, center_factor: float, scale_factor: float, rng: np.random.Generator) -> np.ndarray:
    """Jittered box (official scheme): size * exp(N(0,1)*scale_factor), centre moved by
    (U(0,1)-0.5) * sqrt(jittered area) * center_factor in each axis."""
    box = np.asarray(box, dtype=np.float64)
    size = box[2:4] * np.exp(rng.standard_normal(2) * scale_factor)
    max_offset = math.sqrt(float(size[0] * size[1])) * center_factor
    center = box[:2] + 0.5 * box[2:4] + max_offset * (rng.random(2) - 0.5)
    return np.concatenate([center - 0.5 * size, size])


def crop_geometry(ref_box: np.ndarray, search_area_factor: float, out_size: int) -> tuple[np.ndarray, float]:
    """(crop centre in the image, scale image->crop) of the square crop around ``ref_box``."""
    ref_box = np.asarray(ref_box, dtype=np.float64)
    side = math.ceil(math.sqrt(max(float(ref_box[2] * ref_box[3]), 1e-6)) * search_area_factor)
    side = max(side, 1)
    center = ref_box[:2] + 0.5 * ref_box[2:4]
    return center, out_size / side


def crop_square(image: np.ndarray, center: np.ndarray, scale: float, out_size: int) -> np.ndarray:
    """Square crop of side ``out_size/scale`` centred at ``center``, resized to ``out_size``
    (bilinear, replicate padding outside the image); one affine warp."""
    # crop pixel u (centre u+0.5) <- image edge coordinate c + (u+0.5-out/2)/s, i.e. pixel centre -0.5
    inv = 1.0 / scale
    off = center - 0.5 + (0.5 - out_size / 2.0) * inv
    m = np.array([[inv, 0.0, off[0]], [0.0, inv, off[1]]], dtype=np.float64)
    interp = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:
        # INTER_AREA is not supported by warpAffine: downscale the image first, then warp.
        f = scale * 1.5
        small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / image.shape[1], small.shape[0] / image.shape[0]
        return crop_square(small, np.array([center[0] * fx, center[1] * fy]), scale / f, out_size)
    return cv2.warpAffine(image, m, (out_size, out_size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def box_to_crop(box: np.ndarray, center: np.ndarray, scale: float, out_size: int) -> np.ndarray:
    """Box (..., 4) xywh in image coordinates -> crop coordinates."""
    box = np.asarray(box, dtype=np.float64)
    out = np.empty_like(box)
    out[..., :2] = (box[..., :2] - center) * scale + out_size / 2.0
    out[..., 2:] = box[..., 2:] * scale
    return out


def gaussian_label(box: np.ndarray, sigma_factor: float, search_area_factor: float, crop_size: int,
                   filter_size: int = 4, stride: int = FEATURE_STRIDE) -> np.ndarray:
    """Gaussian classification label (Ho, Wo) for a box xywh in crop pixels.

    sigma = sigma_factor / search_area_factor * feature_size cells; score cell k is centred at the
    target when (box centre)/stride - (filter_size % 2)/2 == k (the model's own convention).
    """
    feat = crop_size // stride
    size = feat + (filter_size + 1) % 2
    sigma = sigma_factor / search_area_factor * feat
    off = (filter_size % 2) / 2.0
    cx = (box[0] + 0.5 * box[2]) / stride - off
    cy = (box[1] + 0.5 * box[3]) / stride - off
    k = np.arange(size, dtype=np.float64)
    gx = np.exp(-0.5 * ((k - cx) / sigma) ** 2)
    gy = np.exp(-0.5 * ((k - cy) / sigma) ** 2)
    return (gy[:, None] * gx[None, :]).astype(np.float32)


def perturb_boxes(box: np.ndarray, num: int, sigma_factors, min_iou: float, rng: np.random.Generator,
                  max_tries: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """DiMP/ATOM proposals: ``num`` boxes with centre and size perturbed by N(0, (sigma*sqrt(wh))^2),
    sigma drawn from ``sigma_factors`` per box, shrinking the noise by 0.9 until IoU > min_iou.
    Returns (proposals (num, 4), IoU with ``box`` (num,))."""
    box = np.asarray(box, dtype=np.float64)
    props = np.empty((num, 4))
    ious = np.empty(num)
    c = box[:2] + 0.5 * box[2:]
    base = math.sqrt(float(box[2] * box[3]))
    for i in range(num):
        std = base * float(rng.choice(np.asarray(sigma_factors, dtype=np.float64)))
        for _ in range(max_tries):
            cc = c + rng.standard_normal(2) * std
            wh = box[2:] + rng.standard_normal(2) * std
            small = wh <= 1.0
            if small.any():
                wh[small] = box[2:][small] * rng.uniform(0.15, 0.5, size=int(small.sum()))
            cand = np.concatenate([cc - 0.5 * wh, wh])
            iou = float(box_iou(box, cand)[0, 0])
            if iou > min_iou:
                break
            std *= 0.9
        props[i], ious[i] = cand, iou
    return props, ious


def _gauss_density(x: np.ndarray, std: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (x / std) ** 2) / (math.sqrt(2 * math.pi) * std)


def sample_box_gmm(box: np.ndarray, proposal_sigma, gt_sigma, num: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Super DiMP / PrDiMP proposals for KL regression.

    Boxes are sampled in the relative space (centre / box size, log size) from an equal-weight
    Gaussian mixture with per-component (centre std, size std) ``proposal_sigma``; the first
    proposal is the box itself. Returns (proposals (num, 4), proposal density (num,),
    ground-truth density (num,) with std ``gt_sigma``), densities in the relative space.
    """
    box = np.asarray(box, dtype=np.float64)
    sz = box[2:]
    center = box[:2] + 0.5 * sz
    comps = np.asarray(proposal_sigma, dtype=np.float64)  # (K, 2)
    std = np.stack([comps[:, 0], comps[:, 0], comps[:, 1], comps[:, 1]], axis=1)  # (K, 4)
    k = rng.integers(0, len(comps), size=num)
    delta = rng.standard_normal((num, 4)) * std[k]
    delta[0] = 0.0
    new_center = center + delta[:, :2] * sz
    new_sz = sz * np.exp(delta[:, 2:])
    props = np.concatenate([new_center - 0.5 * new_sz, new_sz], axis=1)
    dens = np.mean(np.prod(_gauss_density(delta[None, :, :], std[:, None, :]), axis=2), axis=0)
    gt_std = np.array([gt_sigma[0], gt_sigma[0], gt_sigma[1], gt_sigma[1]], dtype=np.float64)
    gt_dens = np.prod(_gauss_density(delta, gt_std), axis=1)
    return props, dens, gt_dens


# ------------------------------------------------------------------------------------- augmentation
def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Any frame (BGR uint8, gray 8/16-bit) -> RGB uint8 HxWx3; 16-bit is min-max scaled per frame."""
    img = image
    if img.dtype != np.uint8:
        f = img.astype(np.float32)
        lo, hi = float(f.min()), float(f.max())
        img = ((f - lo) * (255.0 / max(hi - lo, 1e-6))).clip(0, 255).astype(np.uint8)
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def to_gray3(image: np.ndarray) -> np.ndarray:
    """RGB -> grayscale replicated to three channels (the official ToGrayscale)."""
    g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.repeat(g[:, :, None], 3, axis=2)


def augment_color(crop: np.ndarray, brightness: float) -> np.ndarray:
    """uint8 RGB crop -> float32 CHW normalised: x * brightness / 255, clamped to [0,1], ImageNet mean/std."""
    x = crop.astype(np.float32) * (brightness / 255.0)
    np.clip(x, 0.0, 1.0, out=x)
    x = (x - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def _flip_image_and_boxes(img: np.ndarray, boxes: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.array(boxes, dtype=np.float64, copy=True)
    boxes[..., 0] = width - boxes[..., 0] - boxes[..., 2]
    return np.ascontiguousarray(img[:, ::-1]), boxes


# ----------------------------------------------------------------------------------------- pipeline
class DiMPProcessing:
    """Turn sampled frames + boxes into the network's training tensors (one sequence sample).

    ``__call__(train_frames, train_boxes, test_frames, test_boxes, rng)`` with frames as RGB uint8
    arrays (or any layout accepted by :func:`to_rgb_uint8`) and boxes xywh in image pixels returns a
    dict of numpy arrays: ``train_images`` (I,3,S,S), ``train_anno`` (I,4), ``test_images``,
    ``test_anno``, ``test_label`` (I,Ho,Wo), ``test_proposals`` (I,P,4) and either
    ``proposal_iou`` (I,P) (targets 2*IoU-1 are formed in the loss) or ``proposal_density`` /
    ``gt_density`` (I,P) for KL regression.
    """

    def __init__(self, settings: ProcessingSettings):
        self.s = settings

    def _crop_set(self, frames, boxes, mode: str, rng: np.random.Generator):
        s = self.s
        crops, annos = [], []
        for img, box in zip(frames, boxes):
            jb = jitter_box(box, s.center_jitter[mode], s.scale_jitter[mode], rng)
            center, scale = crop_geometry(jb, s.search_area_factor, s.crop_size)
            crop = crop_square(img, center, scale, s.crop_size)
            anno = box_to_crop(box, center, scale, s.crop_size)
            if s.flip_prob > 0 and rng.random() < s.flip_prob:
                crop, anno = _flip_image_and_boxes(crop, anno, float(s.crop_size))
            crops.append(crop)
            annos.append(anno)
        return crops, np.stack(annos)

    def __call__(self, train_frames, train_boxes, test_frames, test_boxes, rng: np.random.Generator) -> dict:
        s = self.s
        frames = [to_rgb_uint8(f) for f in list(train_frames) + list(test_frames)]
        boxes = [np.asarray(b, dtype=np.float64) for b in list(train_boxes) + list(test_boxes)]
        # joint transforms (same for every frame of the sample): grayscale, flip
        if s.grayscale_prob > 0 and rng.random() < s.grayscale_prob:
            frames = [to_gray3(f) for f in frames]
        if s.flip_prob > 0 and rng.random() < s.flip_prob:
            flipped = [_flip_image_and_boxes(f, b, float(f.shape[1])) for f, b in zip(frames, boxes)]
            frames, boxes = [f for f, _ in flipped], [b for _, b in flipped]
        n_tr = len(train_frames)
        tr_crops, tr_anno = self._crop_set(frames[:n_tr], boxes[:n_tr], "train", rng)
        te_crops, te_anno = self._crop_set(frames[n_tr:], boxes[n_tr:], "test", rng)
        lo, hi = max(0.0, 1.0 - s.brightness_jitter), 1.0 + s.brightness_jitter
        out = {
            "train_images": np.stack([augment_color(c, rng.uniform(lo, hi)) for c in tr_crops]),
            "test_images": np.stack([augment_color(c, rng.uniform(lo, hi)) for c in te_crops]),
            "train_anno": tr_anno.astype(np.float32),
            "test_anno": te_anno.astype(np.float32),
            "test_label": np.stack([gaussian_label(b, s.output_sigma_factor, s.search_area_factor, s.crop_size,
                                                   s.filter_size) for b in te_anno]),
        }
        if s.proposal_mode == "iou":
            pr = [perturb_boxes(b, s.num_proposals, s.proposal_sigma_factors, s.proposal_min_iou, rng) for b in te_anno]
            out["test_proposals"] = np.stack([p for p, _ in pr]).astype(np.float32)
            out["proposal_iou"] = np.stack([i for _, i in pr]).astype(np.float32)
        elif s.proposal_mode == "kl":
            pr = [sample_box_gmm(b, s.kl_proposal_sigma, s.kl_gt_sigma, s.num_proposals, rng) for b in te_anno]
            out["test_proposals"] = np.stack([p for p, _, _ in pr]).astype(np.float32)
            out["proposal_density"] = np.stack([d for _, d, _ in pr]).astype(np.float32)
            out["gt_density"] = np.stack([g for _, _, g in pr]).astype(np.float32)
        else:
            raise ValueError(f"unknown proposal_mode {s.proposal_mode!r} (use 'iou' or 'kl')")
        return out
