"""Processing: crops follow their boxes under jitter, labels peak at the target, proposal IoUs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou as tv_box_iou

from cmd_core.training.processing import (
    IMAGENET_MEAN, IMAGENET_STD, DiMPProcessing, ProcessingSettings, box_iou, box_to_crop, crop_geometry,
    crop_square, gaussian_label, jitter_box, perturb_boxes, sample_box_gmm,
)

RED = (255, 0, 0)


def _image_with_rect(box, size=(200, 240)):
    """Grey image (RGB) with a red rectangle covering exactly the pixels of box xywh (integers)."""
    img = np.full((*size, 3), 90, np.uint8)
    x, y, w, h = map(int, box)
    img[y:y + h, x:x + w] = RED
    return img


def _check_box_matches_content(crop, cbox, margin=1.5):
    red = (crop[..., 0] > 200) & (crop[..., 1] < 60)
    x0, y0 = cbox[0], cbox[1]
    x1, y1 = x0 + cbox[2], y0 + cbox[3]
    yy, xx = np.mgrid[0:crop.shape[0], 0:crop.shape[1]] + 0.5  # pixel centres
    inside = (xx > x0 + margin) & (xx < x1 - margin) & (yy > y0 + margin) & (yy < y1 - margin)
    outside = (xx < x0 - margin) | (xx > x1 + margin) | (yy < y0 - margin) | (yy > y1 + margin)
    assert inside.sum() > 0
    assert red[inside].all(), "pixels inside the transformed box must be the rectangle"
    assert not red[outside].any(), "no rectangle pixel may lie outside the transformed box"


@pytest.mark.parametrize("seed", range(6))
def test_jittered_crop_box_lands_on_the_rectangle(seed):
    rng = np.random.default_rng(seed)
    box = np.array([70.0, 60.0, 48.0, 30.0])
    img = _image_with_rect(box)
    jb = jitter_box(box, 3.0, 0.25, rng)
    for out in (64, 96):
        center, scale = crop_geometry(jb, 2.5, out)  # small factor: the rectangle is large in the crop
        crop = crop_square(img, center, scale, out)
        cbox = box_to_crop(box, center, scale, out)
        _check_box_matches_content(crop, cbox, margin=1.5)


def test_crop_near_border_replicates_and_keeps_geometry():
    box = np.array([0.0, 3.0, 20.0, 16.0])  # at the left edge: the crop needs padding
    img = _image_with_rect(box, size=(80, 90))
    center, scale = crop_geometry(box, 5.0, 96)
    crop = crop_square(img, center, scale, 96)
    cbox = box_to_crop(box, center, scale, 96)
    assert crop.shape == (96, 96, 3)
    np.testing.assert_allclose(cbox[:2] + cbox[2:] / 2, 48.0)  # unjittered: target centred
    # replicate padding: the left border column of the image (red rows of the rectangle) is repeated
    red = (crop[..., 0] > 200) & (crop[..., 1] < 60)
    assert red[int(cbox[1]) + 3, 1]  # left of the image edge, inside the rectangle's rows


def test_processing_outputs_and_downscaled_crops():
    box = np.array([40.0, 50.0, 100.0, 80.0])
    img = _image_with_rect(box)
    s = ProcessingSettings(crop_size=64, search_area_factor=5.0, grayscale_prob=0.0, brightness_jitter=0.0)
    out = DiMPProcessing(s)([img[..., ::-1]] * 2, [box] * 2, [img[..., ::-1]] * 3, [box] * 3,
                            np.random.default_rng(0))
    assert out["train_images"].shape == (2, 3, 64, 64) and out["test_images"].shape == (3, 3, 64, 64)
    assert out["test_label"].shape == (3, 5, 5) and out["test_proposals"].shape == (3, 8, 4)
    # undo normalisation: red inside every test box
    for im, b in zip(out["test_images"], out["test_anno"]):
        rgb = ((im.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN) * 255).round().clip(0, 255).astype(np.uint8)
        _check_box_matches_content(rgb, b, margin=2.0)


def test_grayscale_and_flip_augmentations():
    box = np.array([70.0, 60.0, 48.0, 30.0])
    img = _image_with_rect(box)
    s = ProcessingSettings(crop_size=64, search_area_factor=3.0, grayscale_prob=1.0, brightness_jitter=0.0)
    out = DiMPProcessing(s)([img], [box], [img], [box], np.random.default_rng(1))
    raw = out["test_images"][0] * IMAGENET_STD[:, None, None] + IMAGENET_MEAN[:, None, None]
    np.testing.assert_allclose(raw[0], raw[1], atol=1e-5)
    np.testing.assert_allclose(raw[1], raw[2], atol=1e-5)
    s = ProcessingSettings(crop_size=64, search_area_factor=3.0, grayscale_prob=0.0, brightness_jitter=0.0,
                           flip_prob=1.0)
    out = DiMPProcessing(s)([img[..., ::-1]], [box], [img[..., ::-1]], [box], np.random.default_rng(2))
    rgb = ((out["test_images"][0].transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN) * 255).round().astype(np.uint8)
    _check_box_matches_content(rgb, out["test_anno"][0], margin=2.0)


def test_brightness_factor_range():
    img = np.full((50, 50, 3), 100, np.uint8)
    box = np.array([20.0, 20.0, 10.0, 10.0])
    s = ProcessingSettings(crop_size=64, grayscale_prob=0.0, brightness_jitter=0.2)
    for seed in range(10):
        out = DiMPProcessing(s)([img], [box], [img], [box], np.random.default_rng(seed))
        raw = out["train_images"][0, 0] * IMAGENET_STD[0] + IMAGENET_MEAN[0]
        assert 0.8 * 100 / 255 - 1e-4 <= raw.mean() <= 1.2 * 100 / 255 + 1e-4


@pytest.mark.parametrize("crop,filt", [(288, 4), (128, 4), (64, 4), (96, 3)])
def test_label_peaks_at_target(crop, filt):
    rng = np.random.default_rng(0)
    for _ in range(10):
        c = rng.uniform(0.2, 0.8, 2) * crop
        box = np.array([c[0] - 10, c[1] - 7, 20, 14])
        lab = gaussian_label(box, 0.25, 5.0, crop, filt)
        feat = crop // 16
        assert lab.shape == (feat + (filt + 1) % 2,) * 2
        iy, ix = np.unravel_index(np.argmax(lab), lab.shape)
        off = (filt % 2) / 2
        assert abs(ix - (c[0] / 16 - off)) <= 0.5 + 1e-9 and abs(iy - (c[1] / 16 - off)) <= 0.5 + 1e-9
    # centred target at the official size: peak 1 at the map centre, sigma 0.9 cells
    lab = gaussian_label(np.array([134.0, 134.0, 20.0, 20.0]), 0.25, 5.0, 288, 4)
    assert lab[9, 9] == pytest.approx(1.0) and lab[9, 10] == pytest.approx(np.exp(-0.5 / 0.81), rel=1e-5)


def test_proposal_ious_are_correct():
    rng = np.random.default_rng(3)
    box = np.array([30.0, 40.0, 50.0, 25.0])
    props, ious = perturb_boxes(box, 64, (0.01, 0.05, 0.1, 0.2, 0.3), 0.1, rng)
    xyxy = lambda b: torch.tensor(np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], -1))  # noqa: E731
    ref = tv_box_iou(xyxy(box[None]), xyxy(props))[0].numpy()
    np.testing.assert_allclose(ious, ref, rtol=1e-6, atol=1e-9)
    assert (ious > 0.1).all() and (props[:, 2:] > 0).all()
    assert box_iou(box, box) == pytest.approx(1.0)


def test_kl_proposals():
    rng = np.random.default_rng(0)
    box = np.array([30.0, 40.0, 50.0, 25.0])
    props, dens, gt = sample_box_gmm(box, ((0.05, 0.05), (0.5, 0.5)), (0.05, 0.05), 128, rng)
    assert props.shape == (128, 4) and (dens > 0).all() and (gt >= 0).all()
    np.testing.assert_allclose(props[0], box)
    assert gt[0] == gt.max()  # the ground-truth density peaks at the box itself
    s = ProcessingSettings(crop_size=64, proposal_mode="kl", num_proposals=16)
    img = _image_with_rect(box)
    out = DiMPProcessing(s)([img], [box], [img], [box], np.random.default_rng(0))
    assert out["test_proposals"].shape == (1, 16, 4) and out["gt_density"].shape == (1, 16)
