"""Image preparation for the DiMP tracker: 8-bit RGB conversion, square crops with replicate
padding, resizing, and ImageNet-normalised tensors.

Two crop extractors: :func:`crop_reference` (official presets) follows pytracking's
``sample_patch`` (truncated integer centre, pre-downsampling by striding when the crop is at least
2.1x the output, replicate padding at the integer crop size, bilinear ``F.interpolate`` on float
pixels, the published ``//`` arithmetic); :func:`crop_square` (``crop_resize_cv2``, cpu preset) rounds
the centre and resizes the uint8 crop with cv2 (INTER_AREA when shrinking).

Conventions (as pytracking): positions are (y, x) pixel centres, a box (x, y, w, h) has centre
(x + (w-1)/2, y + (h-1)/2). A crop of integer side S around position p is resized to ``out``
pixels; crop pixel c maps to image pixel ``(c - (out-1)/2) * scale + sample_pos`` with
``scale = S / out`` and ``sample_pos`` the crop centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "to_uint8", "to_rgb", "Crop", "crop_square", "crop_reference", "crop",
           "images_to_tensor",
           "box_to_crop", "box_from_crop", "crop_to_image_pos"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_uint8(image: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """8-bit copy of an image: uint8 passes through; other types are mapped linearly from
    [lo, hi] (default: the image's 0.5 / 99.5 percentiles, e.g. for 16-bit TIR) and clipped."""
    if image.dtype == np.uint8:
        return image
    img = image.astype(np.float32)
    if lo is None or hi is None:
        lo, hi = np.percentile(img, (0.5, 99.5)) if img.size else (0.0, 1.0)
    scale = 255.0 / max(float(hi) - float(lo), 1e-6)
    return np.clip((img - float(lo)) * scale, 0, 255).astype(np.uint8)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 from a grayscale (HxW or HxWx1) or 3-channel image; gray is replicated so TIR
    frames go through the RGB-trained network unchanged."""
    img = to_uint8(np.asarray(image))
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_GRAY2RGB)
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    if img.ndim == 3 and img.shape[2] == 4:
        return img[:, :, :3]
    raise ValueError(f"expected a grayscale or 3-channel image, got shape {img.shape}")


@dataclass(frozen=True)
class Crop:
    """A resized square crop (HxWx3, uint8 or float32 0-255) and its geometry: ``pos`` (y, x) centre and
    ``scale`` image px / crop px."""

    image: np.ndarray
    pos: np.ndarray
    scale: float


def crop_square(image: np.ndarray, pos, sample_size: float, out_size: int, mode: str = "replicate",
                max_scale_change: float | None = None) -> Crop:
    """Crop a square of side ``sample_size`` image pixels centred on ``pos`` (y, x) and resize it to
    ``out_size``. Outside the image the border pixels are replicated.

    ``mode='inside_major'`` (Super DiMP) shrinks a crop larger than the image by at most
    ``max_scale_change`` (the smaller axis ratio decides) and shifts it to lie inside the image
    where possible, so less of the crop is padding.
    """
    H, W = image.shape[:2]
    side = max(int(round(float(sample_size))), 2)
    posi = np.round(np.asarray(pos, dtype=np.float64)).astype(np.int64)
    if mode == "inside_major":
        shrink = min(side / H, side / W)
        shrink = min(max(shrink, 1.0), max_scale_change or 1.0)
        side = max(int(side / shrink), 2)
    tl = posi - (side - 1) // 2
    if mode == "inside_major":
        im_sz = np.array([H, W])
        br = tl + side
        tl = tl + np.maximum(-tl, 0) - np.maximum(br - im_sz, 0)
        br = tl + side
        outside = (np.maximum(-tl, 0) + np.maximum(br - im_sz, 0)) // 2
        tl = np.where(outside > 0, -outside, tl)
    patch = _replicate_window(image, int(tl[0]), int(tl[1]), side)
    if side != out_size:
        interp = cv2.INTER_AREA if side > out_size else cv2.INTER_LINEAR
        patch = cv2.resize(np.ascontiguousarray(patch), (out_size, out_size), interpolation=interp)
    center = tl.astype(np.float64) + (side - 1) / 2.0
    return Crop(np.ascontiguousarray(patch), center, side / out_size)


def _replicate_window(image: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """The ``side`` x ``side`` window at (top, left), border pixels replicated outside the image: a
    view when it lies inside; otherwise the part inside, padded by ``cv2.copyMakeBorder`` (the same
    pixels as gathering clipped indices, several times faster for the large crops of a small image)."""
    H, W = image.shape[:2]
    bottom, right = top + side, left + side
    if top >= 0 and left >= 0 and bottom <= H and right <= W:
        return image[top:bottom, left:right]
    y0, y1 = min(max(top, 0), H - 1), max(min(bottom, H), 1)
    x0, x1 = min(max(left, 0), W - 1), max(min(right, W), 1)
    y1, x1 = max(y1, y0 + 1), max(x1, x0 + 1)  # a window wholly outside keeps the nearest row / column
    inside = np.ascontiguousarray(image[y0:y1, x0:x1])
    pads = (y0 - top, bottom - y1, x0 - left, right - x1)
    if any(p < 0 for p in pads):  # window smaller than the nearest row / column it keeps: gather
        ys = np.clip(np.arange(top, bottom), 0, H - 1)
        xs = np.clip(np.arange(left, right), 0, W - 1)
        return image[ys[:, None], xs[None, :]]
    return cv2.copyMakeBorder(inside, *pads, borderType=cv2.BORDER_REPLICATE)


def crop_reference(image: np.ndarray, pos, sample_size: float, out_size: int, mode: str = "replicate",
                   max_scale_change: float | None = None) -> Crop:
    """pytracking's ``sample_patch`` for a square crop of ``sample_size`` image pixels around ``pos`` (y, x),
    resized to ``out_size``; the image is HxWx3 (uint8 or float), the crop float32 0-255.

    Steps: centre truncated to integers; ``inside_major`` shrinks the size by the smaller axis ratio
    (1 to ``max_scale_change``) and truncates it; pre-downsampling factor ``df = max(int(size / out -
    0.1), 1)`` (every df-th pixel from offset ``centre % df``); side ``max(round(size / df), 2)``,
    ``tl = c - (side - 1) // 2``, ``br = c + side // 2 + 1``; replicate padding; bilinear
    ``F.interpolate`` (align_corners False) unless the side already equals the output. The geometry
    is the reference's ``patch_coord = df * (tl, br)``: centre ``(tl + br - 1) / 2``, scale ``df * side / out``.
    """
    import torch.nn.functional as F

    H, W = image.shape[:2]
    posl = np.trunc(np.asarray(pos, dtype=np.float64)).astype(np.int64)
    sz = np.full(2, float(sample_size))
    if mode == "inside_major":
        shrink = float(np.min(sz / np.array([H, W], dtype=np.float64)))
        shrink = max(shrink, 1.0) if max_scale_change is None else min(max(shrink, 1.0), float(max_scale_change))
        sz = np.trunc(sz / shrink)
    df = int(max(int(float(np.min(sz / out_size)) - 0.1), 1))
    im2 = image
    if df > 1:
        off = posl % df
        posl = (posl - off) // df
        im2 = image[off[0]::df, off[1]::df]
    H2, W2 = im2.shape[:2]
    szl = np.maximum(np.round(sz / df), 2).astype(np.int64)
    tl = posl - (szl - 1) // 2
    br = posl + szl // 2 + 1
    if mode == "inside_major":
        im_sz = np.array([H2, W2])
        shift = np.maximum(-tl, 0) - np.maximum(br - im_sz, 0)
        tl, br = tl + shift, br + shift
        outside = (np.maximum(-tl, 0) + np.maximum(br - im_sz, 0)) // 2
        shift = (-tl - outside) * (outside > 0)
        tl, br = tl + shift, br + shift
    ys = np.clip(np.arange(tl[0], br[0]), 0, H2 - 1)
    xs = np.clip(np.arange(tl[1], br[1]), 0, W2 - 1)
    patch = np.asarray(im2[ys[:, None], xs[None, :]], dtype=np.float32)
    if patch.ndim == 2:
        patch = patch[:, :, None]
    if patch.shape[0] != out_size or patch.shape[1] != out_size:
        t = torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1)[None]
        t = F.interpolate(t, (out_size, out_size), mode="bilinear", align_corners=False)
        patch = t[0].permute(1, 2, 0).numpy()
    coord = df * np.concatenate((tl, br)).astype(np.float64)
    center = 0.5 * (coord[:2] + coord[2:] - 1)
    scale = float(np.sqrt(np.prod((coord[2:] - coord[:2]) / out_size)))
    return Crop(np.ascontiguousarray(patch), center, scale)


def crop(image: np.ndarray, pos, sample_size: float, out_size: int, mode: str = "replicate",
         max_scale_change: float | None = None, cv2_resize: bool = False) -> Crop:
    """:func:`crop_square` (``cv2_resize``) or :func:`crop_reference`."""
    fn = crop_square if cv2_resize else crop_reference
    return fn(image, pos, sample_size, out_size, mode, max_scale_change)


def box_to_crop(pos, target_sz, crop_pos, crop_scale: float, out_size: int) -> np.ndarray:
    """Target (centre ``pos`` (y, x), size ``target_sz`` (h, w)) as an (x, y, w, h) box in crop pixels."""
    pos, target_sz, crop_pos = (np.asarray(v, dtype=np.float64) for v in (pos, target_sz, crop_pos))
    center = (pos - crop_pos) / crop_scale + (out_size - 1) / 2.0
    size = target_sz / crop_scale
    tl = center - (size - 1) / 2.0
    return np.array([tl[1], tl[0], size[1], size[0]])


def crop_to_image_pos(crop_yx, crop_pos, crop_scale: float, out_size: int) -> np.ndarray:
    """Crop coordinates (y, x) -> image coordinates."""
    return (np.asarray(crop_yx, dtype=np.float64) - (out_size - 1) / 2.0) * crop_scale + np.asarray(crop_pos)


def box_from_crop(box, crop_pos, crop_scale: float, out_size: int, *, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """An (x, y, w, h) box in crop pixels as the target's centre ``pos`` (y, x) and size (h, w) in the image.

    ``symmetric`` (ours): crop centre = top-left + (size - 1) / 2, the exact inverse of :func:`box_to_crop`.
    Otherwise the reference's ``refine_target_box``: top-left + size / 2, half a crop pixel further
    right and down on each axis (the asymmetry is part of the published numbers).
    """
    box = np.asarray(box, dtype=np.float64).reshape(4)
    size = box[[3, 2]]
    center = box[[1, 0]] + ((size - 1) / 2.0 if symmetric else size / 2.0)
    return crop_to_image_pos(center, crop_pos, crop_scale, out_size), size * crop_scale


_MEAN = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1) * 255.0
_INV_STD = 1.0 / (torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1) * 255.0)


def images_to_tensor(images, device: torch.device | str = "cpu") -> torch.Tensor:
    """Stack HxWx3 uint8 RGB images into an ImageNet-normalised (N, 3, H, W) float tensor.

    The result is channels_last in memory (it comes from NHWC data), which the convolutions
    prefer on CPU.
    """
    arr = np.stack([np.asarray(im) for im in images]) if not isinstance(images, np.ndarray) else images
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device).permute(0, 3, 1, 2).float()
    return (t - _MEAN.to(t.device)) * _INV_STD.to(t.device)
