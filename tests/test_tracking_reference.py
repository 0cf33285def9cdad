"""The official presets follow pytracking's DiMP online procedure (one test per point of issue 12,
on hand-made inputs with answers computed by hand from the reference's rules), the deviations stay
available for the cpu preset, and the scale pyramid follows a growing target."""

from __future__ import annotations

import math
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cmd_core.model import dimp18
from cmd_core.tracking import DiMPTracker, get_preset
from cmd_core.tracking.box_refinement import optimize_boxes
from cmd_core.tracking.dimp_tracker import select_scale
from cmd_core.tracking.memory import SampleMemory
from cmd_core.tracking.preprocessing import box_from_crop, box_to_crop, crop_reference, crop_square

pytestmark = pytest.mark.usefixtures("torch_one_thread")

OFFICIAL = ("dimp18", "dimp50", "super_dimp")
DEVIATIONS = ("memory_decay_weights", "crop_resize_cv2", "clamp_scale_after_refinement", "init_box_from_crop",
              "box_refinement_reject_worse", "keep_size_without_iou_net", "symmetric_box_conversion")


def test_official_presets_off_cpu_on():
    for name in OFFICIAL:
        p = get_preset(name)
        assert not any(getattr(p, d) for d in DEVIATIONS) and p.scale_factors is None
    cpu = get_preset("cpu")
    assert all(getattr(cpu, d) for d in DEVIATIONS) and cpu.scale_factors is None


# 1. sample memory weights ------------------------------------------------------------------
def test_point1_reference_memory_weights():
    """Two initial samples, min weight 0.25, lr 0.1 then a hard negative (lr 0.2), then lr 0.1."""
    mem = SampleMemory(torch.zeros(2, 1, 1, 1), torch.zeros(2, 4), capacity=6, min_init_weight=0.25)
    mem.add(torch.ones(1, 1, 1), torch.ones(4), 0.1)
    # first update: w / 0.9 = (0.5/0.9, 0.5/0.9), new = 0.1; normalise by 1/0.9 + 0.1
    z = 1 / 0.9 + 0.1
    expect = np.array([0.5 / 0.9, 0.5 / 0.9, 0.1]) / z
    assert np.allclose(mem.samples()[2].numpy(), expect, atol=1e-7)
    mem.add(torch.ones(1, 1, 1), torch.ones(4), 0.2)  # hard negative: previous new weight / (1 - 0.2)
    w = np.append(expect, expect[2] / 0.8)
    expect = w / w.sum()
    assert np.allclose(mem.samples()[2].numpy(), expect, atol=1e-7)
    assert math.isclose(expect[3] / expect[2], 1.25)  # 1/(1-lr) times the sample before it
    mem.add(torch.ones(1, 1, 1), torch.ones(4), 0.1)
    w = np.append(expect, expect[3] / 0.9)
    expect = w / w.sum()
    assert np.allclose(mem.samples()[2].numpy(), expect, atol=1e-7)
    # our decay rule gives the same first sample lr, and a hard negative 1/(1 - lr) x lr_hn / lr
    ours = SampleMemory(torch.zeros(2, 1, 1, 1), torch.zeros(2, 4), capacity=6, min_init_weight=0.25, reference=False)
    ours.add(torch.ones(1, 1, 1), torch.ones(4), 0.1)
    assert np.allclose(ours.samples()[2].numpy(), [0.45, 0.45, 0.1], atol=1e-7)


def test_point1_reference_min_init_weight_and_replacement():
    """When the initial samples fall below the minimum: divide by (min + rest), initial = min / n;
    a full memory replaces the lowest-weight non-initial sample."""
    mem = SampleMemory(torch.zeros(1, 1, 1, 1), torch.zeros(1, 4), capacity=3, min_init_weight=0.6)
    mem.add(torch.ones(1, 1, 1), torch.ones(4), 0.5)
    # w / 0.5 = [2], new 0.5 -> [0.8, 0.2]: initial 0.8 >= 0.6, unchanged
    assert np.allclose(mem.samples()[2].numpy(), [0.8, 0.2])
    mem.add(torch.ones(1, 1, 1), torch.ones(4), 0.5)
    # new = 0.2 / 0.5 = 0.4 -> [0.8, 0.2, 0.4] / 1.4; initial 0.571 < 0.6: / (0.6 + 0.6/1.4), initial 0.6
    rest = np.array([0.2, 0.4]) / 1.4
    expect = np.concatenate(([0.6], rest / (0.6 + rest.sum())))
    assert np.allclose(mem.samples()[2].numpy(), expect, atol=1e-7)
    idx = mem.add(torch.full((1, 1, 1), 7.0), torch.ones(4), 0.5)
    assert idx == 1  # the lowest-weight non-initial slot
    w = expect.copy()
    w[1] = w[2] / 0.5
    w /= w.sum()
    rest = w[1:]
    assert np.allclose(mem.samples()[2].numpy(), np.concatenate(([0.6], rest / (0.6 + rest.sum()))), atol=1e-7)


# 2. crop extraction -------------------------------------------------------------------------
def _gradient_image(h=50, w=60):
    yy, xx = np.mgrid[0:h, 0:w]
    img = (5 + yy + 2 * xx).astype(np.uint8)  # linear: bilinear resampling reproduces it exactly
    return np.stack([img, img // 2, 255 - img], axis=2)


def test_point2_crop_truncated_centre_and_bilinear_values():
    img = _gradient_image()
    c = crop_reference(img, (20.7, 30.9), 30.0, 16)
    # truncated centre (20, 30), side 30: tl = 20 - 14 = 6 (y), 30 - 14 = 16 (x), br = c + 16
    assert c.image.dtype == np.float32 and c.image.shape == (16, 16, 3)
    assert np.allclose(c.pos, (0.5 * (6 + 36 - 1), 0.5 * (16 + 46 - 1))) and c.scale == 30 / 16
    # F.interpolate (align_corners False): output i samples source (i + 0.5) * 30 / 16 - 0.5
    src = (np.arange(16) + 0.5) * 30 / 16 - 0.5
    expect = 5 + (6 + src)[:, None] + 2 * (16 + src)[None, :]
    assert np.allclose(c.image[:, :, 0], expect, atol=1e-4)
    assert np.allclose(c.image[:, :, 2], 255 - expect, atol=1e-4)
    # ours (cpu preset): rounded centre (21, 31), cv2 area resampling of the uint8 crop
    ours = crop_square(img, (20.7, 30.9), 30.0, 16)
    assert np.allclose(ours.pos, (21.5, 31.5)) and ours.image.dtype == np.uint8


def test_point2_crop_predownsampling_and_replicate_padding():
    img = _gradient_image()
    c = crop_reference(img, (20.2, 30.0), 64.0, 16)
    # df = int(64/16 - 0.1) = 3; offset (20 % 3, 30 % 3) = (2, 0); centre (6, 10) on the subsampled image;
    # side round(64/3) = 21: tl = (-4, 0), br = (17, 21); coordinates x3
    assert np.allclose(c.pos, (0.5 * (-12 + 51 - 1), 0.5 * (0 + 63 - 1))) and c.scale == 3 * 21 / 16
    src = np.maximum((np.arange(16) + 0.5) * 21 / 16 - 0.5, 0)  # in pixels of the 21-pixel patch
    # subsampled row r is image row 2 + 3 r, column c image column 3 c; patch row j is subsampled row
    # clip(j - 4, 0, 15) (replicated top and bottom: 16 subsampled rows), patch column j subsampled
    # column min(j, 19) (replicated right border: 20 subsampled columns)
    y = np.interp(src, np.arange(21), 2 + 3 * np.clip(np.arange(21) - 4, 0, 15))
    x = np.interp(src, np.arange(21), 3 * np.minimum(np.arange(21), 19))
    expect = 5 + y[:, None] + 2 * x[None, :]
    assert np.allclose(c.image[:, :, 0], expect, atol=1e-3)
    assert np.allclose(c.image[:3, :, 0], c.image[0, :, 0])  # rows sampling patch rows 0-4: the replicated top


def test_point2_crop_integer_size_division():
    """The published ``//``: even and odd sides put the crop centre at c + 0.5 and c."""
    img = _gradient_image()
    even, odd = crop_reference(img, (25.0, 30.0), 10.0, 10), crop_reference(img, (25.0, 30.0), 11.0, 11)
    assert np.allclose(even.pos, (25.5, 30.5)) and np.allclose(odd.pos, (25, 30))
    assert even.image[0, 0, 0] == 5 + 21 + 2 * 26 and odd.image[0, 0, 0] == 5 + 20 + 2 * 25  # no resampling


# 3. no scale clamp after the IoU refinement ------------------------------------------------------
class _FixedIoU(nn.Module):
    bb_regressor_layer = ("layer2", "layer3")

    def __init__(self):
        super().__init__()
        self.bb_regressor = SimpleNamespace(get_iou_feat=lambda feats: feats,
                                            predict_iou=lambda mod, feat, b: -(b - 40.0).pow(2).sum(-1))


def _refining_tracker(**overrides):
    p = get_preset("dimp50", num_init_random_boxes=0, box_refinement_iter=0, **overrides)
    t = DiMPTracker.__new__(DiMPTracker)
    t.params, t.device, t.net = p, torch.device("cpu"), _FixedIoU()
    t.gen, t.iou_modulation = torch.Generator().manual_seed(0), None
    t.pos, t.target_sz = np.array([100.0, 120.0]), np.array([60.0, 90.0])
    t.base_target_sz = t.target_sz / 3.0  # the target is 3x its first-frame size
    t.target_scale, t.min_scale_factor, t.max_scale_factor = 3.0, 0.5, 2.0
    t.pos_iounet = None
    return t


@pytest.mark.parametrize("clamp", [False, True])
def test_point3_no_scale_clamp_after_refinement(clamp):
    t = _refining_tracker(clamp_scale_after_refinement=clamp)
    sample = SimpleNamespace(pos=np.array([101.0, 119.0]), scale=1.5)
    t._refine({"layer2": torch.zeros(1), "layer3": torch.zeros(1)}, sample, update_scale=True)
    # the box is the initial one; the reference's way back puts it half a crop pixel (0.5 x 1.5) right and down
    assert np.allclose(t.pos, (100.75, 120.75)) and np.allclose(t.target_sz, (60, 90))
    assert t.target_scale == pytest.approx(2.0 if clamp else 3.0)  # reference: sqrt(prod(sz / base)) = 3


# 4. and 7. first-frame boxes: nominal scale, rounded position -----------------------------------------
@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return dimp18(crop_size=160)


def _init_box(net, from_crop: bool):
    p = get_preset("cpu", use_iou_net=False, init_box_from_crop=from_crop)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (120, 160), dtype=np.uint8)
    t = DiMPTracker(net, p)
    box = (40.3, 30.6, 25.0, 37.0)
    t.initialize(img, box)
    return t, np.array(box), t.memory.boxes[0].double().numpy()  # the identity sample's box


def test_point4_initial_boxes_from_nominal_scale(net):
    t, box, got = _init_box(net, from_crop=False)
    nominal = math.sqrt(25 * 37 * 25) / 160
    assert t.target_scale == pytest.approx(nominal)
    assert np.allclose(got[2:], box[2:] / nominal, atol=1e-4)  # not the crop's side / 320
    _, _, ours = _init_box(net, from_crop=True)
    side = round(nominal * 320)
    assert np.allclose(ours[2:], box[2:] / (side / 320), atol=1e-4) and abs(ours[2] - got[2]) > 1e-3


def test_point7_initial_boxes_from_rounded_position(net):
    t, box, got = _init_box(net, from_crop=False)
    pos = np.array([box[1] + (box[3] - 1) / 2, box[0] + (box[2] - 1) / 2])  # (48.6, 52.3)
    centre = (pos - np.round(pos)) / t.target_scale + (160 - 1) / 2
    assert np.allclose(got[[1, 0]] + (got[[3, 2]] - 1) / 2, centre, atol=1e-4)
    expect = box_to_crop(pos, box[[3, 2]], np.round(pos), t.target_scale, 160)
    assert np.allclose(got, expect, atol=1e-4)
    # ours: the expanded crop's centre, round(pos) + 0.5 for its even side
    side = round(t.target_scale * 320)
    assert side % 2 == 0
    _, _, ours = _init_box(net, from_crop=True)
    assert np.allclose(ours, box_to_crop(pos, box[[3, 2]], np.round(pos) + 0.5, side / 320, 160), atol=1e-4)


# 5. every refinement step is kept ---------------------------------------------------------------------
@pytest.mark.parametrize("space", ["default", "relative"])
def test_point5_reference_keeps_every_step(space):
    """IoU = -(x - 0.2)^2 for a unit box at x = 0 (relative space: of its centre, so the size has no
    gradient), step 1.5: the first step overshoots to 0.6 (worse), the second to -0.6."""
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    def iou(b):
        return -(b[:, 0] - 0.2) ** 2 if space == "default" else -(b[:, 0] + b[:, 2] / 2 - 0.7) ** 2

    hist: list = []
    out, ious = optimize_boxes(iou, boxes, 2, 1.5, space=space, history=hist, reject_worse=False)
    # default: x += 1.5 * dIoU/dx * w; relative: the centre (x + 0.5) / 1 moves the same way (w = 1 stays)
    x1 = 0 + 1.5 * 0.4
    x2 = x1 + 1.5 * (-2 * (x1 - 0.2))
    assert out[0, 0].item() == pytest.approx(x2) and out[0, 2].item() == pytest.approx(1.0)
    assert ious.item() == pytest.approx(-(x1 - 0.2) ** 2)  # the IoU of the last forward pass, before the step
    assert [h.item() for h in hist] == pytest.approx([-0.04, -(x1 - 0.2) ** 2])
    _, safe_iou = optimize_boxes(iou, boxes, 2, 1.5, space=space, reject_worse=True)
    assert safe_iou.item() >= -0.04 - 1e-12  # ours never ends below the start


# 6. without the IoU-Net the size follows the crop's actual scale ----------------------------------------
@pytest.mark.parametrize("keep", [False, True])
def test_point6_size_reset_without_iou_net(net, keep):
    p = get_preset("cpu", use_iou_net=False, update_classifier=False, target_not_found_threshold=-1e9,
                   keep_size_without_iou_net=keep, crop_resize_cv2=False)
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (300, 320), dtype=np.uint8) for _ in range(2)]
    t = DiMPTracker(net, p)
    t.initialize(frames[0], (100, 80, 53, 130))
    nominal = math.sqrt(53 * 130 * 25) / 160  # 2.594: crop 415.03 px, df = 2, side round(207.5) = 208
    assert t.target_scale == pytest.approx(nominal)
    out = t.track(frames[1])
    actual = 2 * 208 / 160
    if keep:
        assert np.allclose(out[2:], (53, 130)) and t.target_scale == pytest.approx(nominal)
    else:
        assert np.allclose(out[2:], np.array([53, 130]) * actual / nominal)
        assert t.target_scale == pytest.approx(actual)


# 8. box <-> position between image and crop pixels (issue 22) -------------------------------------------
# Worked example: target centre (201.5, 449.0) (y, x), size 129 x 54 (h x w); crop centre (200, 446),
# 1.5 image px per crop px, 288-px crop (centre 143.5). Way in (both conventions):
# centre ((201.5 - 200) / 1.5 + 143.5, (449 - 446) / 1.5 + 143.5) = (144.5, 145.5), size (86, 36),
# top-left = centre - (size - 1) / 2 = (102, 128): box (128, 102, 36, 86).
EXAMPLE_POS, EXAMPLE_SZ, EXAMPLE_CROP_POS, EXAMPLE_SCALE = (201.5, 449.0), (129.0, 54.0), (200.0, 446.0), 1.5
EXAMPLE_BOX = (128.0, 102.0, 36.0, 86.0)


def test_point8_box_conversion_both_ways():
    assert np.allclose(box_to_crop(EXAMPLE_POS, EXAMPLE_SZ, EXAMPLE_CROP_POS, EXAMPLE_SCALE, 288), EXAMPLE_BOX)
    # way back, reference: centre = top-left + size / 2 = (102 + 43, 128 + 18) = (145, 146);
    # pos = ((145 - 143.5) * 1.5 + 200, (146 - 143.5) * 1.5 + 446) = (202.25, 449.75): +0.75 on each axis
    pos, sz = box_from_crop(EXAMPLE_BOX, EXAMPLE_CROP_POS, EXAMPLE_SCALE, 288, symmetric=False)
    assert np.allclose(pos, (202.25, 449.75)) and np.allclose(sz, (129, 54))
    # ours: centre = top-left + (size - 1) / 2 = (144.5, 145.5), back to the start
    pos, sz = box_from_crop(EXAMPLE_BOX, EXAMPLE_CROP_POS, EXAMPLE_SCALE, 288, symmetric=True)
    assert np.allclose(pos, EXAMPLE_POS) and np.allclose(sz, (129, 54))
    # a refined box (130, 100, 40, 80): reference centre (140, 150) -> ((140 - 143.5) * 1.5 + 200,
    # (150 - 143.5) * 1.5 + 446) = (194.75, 455.75); ours (139.5, 149.5) -> (194.0, 455.0); size (120, 60)
    for symmetric, expect in ((False, (194.75, 455.75)), (True, (194.0, 455.0))):
        pos, sz = box_from_crop((130, 100, 40, 80), EXAMPLE_CROP_POS, EXAMPLE_SCALE, 288, symmetric=symmetric)
        assert np.allclose(pos, expect) and np.allclose(sz, (120, 60))


class _RecordingIoU(nn.Module):
    """IoU-Net stand-in that records the modulation box and the proposals; every box scores the same."""

    def __init__(self):
        super().__init__()
        self.modulation_boxes, self.proposals = [], []

    def get_modulation(self, feats, box):
        self.modulation_boxes.append(box.detach().double().reshape(-1, 4).clone())
        return None

    def get_iou_feat(self, feats):
        return feats

    def predict_iou(self, mod, feat, boxes):
        self.proposals.append(boxes.detach().double().reshape(-1, 4).clone())
        return boxes.sum(-1) * 0.0


@pytest.mark.parametrize("preset,symmetric", [("dimp18", False), ("dimp50", False), ("super_dimp", False),
                                              ("cpu", True), ("cpu_mobilenet", True)])
def test_point8_refinement_start_box_and_returned_box(preset, symmetric):
    """The refinement starts from the worked example's box; a refinement that keeps it returns the
    reference's position (+0.75 px on each axis) in the official presets, the start in the cpu presets."""
    assert get_preset(preset).symmetric_box_conversion is symmetric
    t = _refining_tracker(symmetric_box_conversion=symmetric)  # dimp50 geometry: 288-px crop
    t.net.bb_regressor = _RecordingIoU()
    t.pos, t.target_sz = np.array(EXAMPLE_POS), np.array(EXAMPLE_SZ)
    sample = SimpleNamespace(pos=np.array(EXAMPLE_CROP_POS), scale=EXAMPLE_SCALE)
    t._refine({"layer2": torch.zeros(1), "layer3": torch.zeros(1)}, sample, update_scale=True)
    assert np.allclose(t.net.bb_regressor.proposals[0].numpy(), [EXAMPLE_BOX])
    # returned box: pos - (size - 1) / 2 = (449.75 - 26.5, 202.25 - 64) (reference) or (449 - 26.5, 201.5 - 64)
    expect = (422.5, 137.5, 54, 129) if symmetric else (423.25, 138.25, 54, 129)
    assert np.allclose(t._box(), expect) and np.allclose(t.pos_iounet, t.pos)


@pytest.mark.parametrize("preset,expect", [("dimp50", (63.8, 64.1, 32, 32)), ("cpu", (63.3, 63.6, 32, 32))])
def test_point8_first_frame_modulation_box(net, preset, expect):
    """Box (40.3, 30.6, 32, 32): centre (46.1, 55.8), scale sqrt(32 * 32 * 25) / 160 = 1. Reference: around
    the rounded centre (46, 56): crop centre (79.6, 79.3), top-left (64.1, 63.8). Ours (init_box_from_crop):
    the 320-px expanded crop's centre (46.5, 56.5): crop centre (79.1, 78.8), top-left (63.6, 63.3). The
    modulation box is the identity sample's classifier box."""
    import copy
    model = copy.deepcopy(net)
    model.bb_regressor = _RecordingIoU()
    p = get_preset(preset, image_sample_size=160, iou_net_min_init_corr=None)
    t = DiMPTracker(model, p)
    t.initialize(np.random.default_rng(0).integers(0, 255, (120, 160), dtype=np.uint8), (40.3, 30.6, 32, 32))
    (box,) = model.bb_regressor.modulation_boxes
    assert np.allclose(box.numpy(), [expect], atol=1e-5)
    assert np.allclose(t.memory.boxes[0].double().numpy(), expect, atol=1e-5)


# scale pyramid ------------------------------------------------------------------------------------------
def test_select_scale_with_penalty():
    f = (0.95, 1.0, 1.05)
    assert select_scale([0.5, 0.6, 0.55], f) == 1
    assert select_scale([0.7, 0.6, 0.5], f) == 0
    assert select_scale([0.7, 0.6, 0.5], f, penalty=0.8) == 1  # 0.7 * 0.8 = 0.56 < 0.6
    assert select_scale([0.7, 0.6, 0.5], f, penalty=0.9) == 0  # 0.63 > 0.6
    # |log 1.05| / |log 0.9| = 0.463: 0.8 * 0.5^0.463 = 0.58 < 0.6, 0.8 * 0.8^0.463 = 0.72 > 0.7 * 0.8 and 0.6
    assert select_scale([0.7, 0.6, 0.8], (0.9, 1.0, 1.05), penalty=0.5) == 1
    assert select_scale([0.7, 0.6, 0.8], (0.9, 1.0, 1.05), penalty=0.8) == 2


def _growing_square(n: int, growth: float = 1.05, size=(240, 320), side0: float = 40.0):
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    cy, cx = 119.5, 159.5
    frames, boxes = [], []
    for i in range(n):
        s = side0 * growth ** i
        # textured square of exact side s: border pixels weighted by the share of them it covers
        cover = np.clip(s / 2 - np.abs(yy - cy) + 0.5, 0, 1) * np.clip(s / 2 - np.abs(xx - cx) + 0.5, 0, 1)
        square = 200 + 20 * np.sin(xx / 2.0) * np.cos(yy / 3.0)
        img = cover * square + (1 - cover) * (20 + rng.normal(0, 2, size))
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
        boxes.append((cx - (s - 1) / 2, cy - (s - 1) / 2, s, s))
    return frames, np.array(boxes)


class _AreaWeightedBrightness(nn.Module):
    """Stub backbone whose score is a known function of the crop: the brightness map (so the peak is on
    the square) times ``exp(-10 |a / a0 - 1|)``, with ``a`` the share of bright crop pixels and ``a0`` =
    (crop / search_area_scale)^2 / crop^2 = 1/25 its share at the first-frame scale."""

    def forward(self, x, layers=None):
        g = x.mean(dim=1, keepdim=True)
        share = (g > 0).float().mean(dim=(-2, -1), keepdim=True)
        weight = torch.exp(-10 * (share * 25 - 1).abs())
        b = g + 3  # positive brightness
        return OrderedDict(layer2=F.avg_pool2d(b, 8).expand(-1, 128, -1, -1),
                           layer3=(F.avg_pool2d(b, 16) * weight).expand(-1, 256, -1, -1))


def _area_model():
    torch.manual_seed(0)
    model = dimp18(crop_size=160)
    model.feature_extractor = _AreaWeightedBrightness()
    model.classifier.feature_extractor = nn.Identity()
    filt = torch.zeros(1, 256, 4, 4)
    filt[:, :, 1:3, 1:3] = 1.0 / 256
    return model, filt


@pytest.mark.parametrize("keep", [True, False])
def test_scale_pyramid_follows_growing_target(keep):
    model, filt = _area_model()
    frames, boxes = _growing_square(9)
    widths = {}
    for factors in (None, (1 / 1.05, 1.0, 1.05)):
        p = get_preset("cpu", use_iou_net=False, update_classifier=False, target_not_found_threshold=-1e9,
                       scale_factors=factors, keep_size_without_iou_net=keep, crop_resize_cv2=keep)
        t = DiMPTracker(model, p)
        t.initialize(frames[0], boxes[0])
        t.filter = filt
        out = np.array([t.track(f) for f in frames[1:]])
        widths[factors is not None] = out[:, 2]
    gt = boxes[1:, 2]
    assert np.abs(widths[True] / gt - 1).max() < 0.03, widths[True] / gt  # follows 5 % per frame
    if keep:
        assert np.allclose(widths[False], 40) and widths[False][-1] / gt[-1] < 0.7  # without: the size stays


def test_scale_pyramid_unused_with_box_refinement(net):
    p = get_preset("cpu", iou_net_min_init_corr=None, scale_factors=(0.95, 1.0, 1.05), target_not_found_threshold=-1e9)
    frames, boxes = _growing_square(2)
    t = DiMPTracker(net, p)
    t.initialize(frames[0], boxes[0])
    assert t.refine_boxes
    t.track(frames[1])
    assert t.scale_index == 0  # one crop: the IoU-Net sets the scale
