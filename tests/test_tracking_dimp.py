"""Mechanics of the DiMP online tracker: crop geometry, sample memory, peak analysis, IoU-Net
box refinement, and localisation of a moving target with a hand-built and with a learned filter."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_tracking_runner import SIDE, iou, square_frames
from torch import nn

from cmd_core.model import dimp18
from cmd_core.tracking import DiMPTracker, get_preset
from cmd_core.tracking.box_refinement import jitter_boxes, optimize_boxes, select_box
from cmd_core.tracking.localization import localize
from cmd_core.tracking.memory import SampleMemory
from cmd_core.tracking.preprocessing import box_to_crop, crop_square, crop_to_image_pos, to_rgb


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return dimp18(crop_size=160)


def test_crop_geometry_round_trip():
    img = np.zeros((50, 70), np.uint8)
    img[20, 30] = 255
    crop = crop_square(to_rgb(img), (20, 30), 41, 41)  # 1:1 crop, odd side: the pixel lands in the middle
    assert crop.scale == 1 and crop.image.shape == (41, 41, 3)
    assert np.unravel_index(crop.image[:, :, 0].argmax(), (41, 41)) == (20, 20)
    assert np.allclose(crop_to_image_pos((20, 20), crop.pos, crop.scale, 41), (20, 30))
    big = crop_square(to_rgb(img), (20, 30), 200, 50)  # mostly outside: replicate padding, 4 px per px
    assert big.image.shape == (50, 50, 3) and big.scale == 4
    box = box_to_crop((20, 30), (8, 12), big.pos, big.scale, 50)
    assert np.allclose(box[2:], (3, 2)) and np.allclose(box[:2] + (box[2:] - 1) / 2, (24.5, 24.5), atol=0.5)


def test_sample_memory_weights_and_replacement():
    """Our decay rule (cpu preset); the reference rule is tested in test_tracking_reference.py."""
    mem = SampleMemory(torch.zeros(3, 2, 1, 1), torch.zeros(3, 4), capacity=5, min_init_weight=0.5, reference=False)
    for i in range(6):
        idx = mem.add(torch.full((2, 1, 1), float(i + 1)), torch.ones(4), 0.3)
        _, _, w = mem.samples()
        assert abs(float(w.sum()) - 1) < 1e-6 and float(w[:3].sum()) >= 0.5 - 1e-6
        assert idx >= 3  # initial samples are never replaced
    assert mem.num_stored == 5
    feats, _, w = mem.samples()
    assert float(feats[int(torch.argmax(w[3:])) + 3, 0]) == 6.0  # the newest sample weighs most


def _peaks(*peaks, size=19):
    s = torch.zeros(size, size)
    for y, x, v in peaks:
        s[y, x] = v
    return s


def test_localization_flags():
    p = get_preset("dimp50")
    assert localize(_peaks((9, 9, 0.1)), (2, 2), (0, 0), p).flag == "not_found"
    loc = localize(_peaks((12, 5, 0.9)), (2, 2), (0, 0), p)
    assert loc.flag == "normal" and tuple(loc.disp) == (3, -4)
    assert localize(_peaks((9, 9, 0.9), (2, 2, 0.6)), (2, 2), (0, 0), p).flag == "hard_negative"
    # two equal, distant peaks, and neither is where the target was: uncertain
    assert localize(_peaks((1, 1, 0.9), (17, 17, 0.85)), (2, 2), (0, 0), p).flag == "uncertain"
    # the distractor is far from the previous position, the main peak near it: hard negative, main peak
    loc = localize(_peaks((9, 9, 0.85), (1, 1, 0.9)), (2, 2), (0, 0), p)
    assert loc.flag == "hard_negative" and tuple(loc.disp) == (0, 0)


@pytest.mark.parametrize("cy,cx", [(9.3, 8.6), (4.0, 12.45), (13.8, 9.0)])
def test_subcell_peak_recovers_gaussian_centre(cy, cx):
    yy, xx = torch.meshgrid(torch.arange(19.0), torch.arange(19.0), indexing="ij")
    scores = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.0 ** 2))
    exact = localize(scores, (2, 2), (0, 0), get_preset("dimp50", subcell_peak=True))
    assert np.abs(exact.disp - (np.array([cy, cx]) - 9)).max() < 0.12  # a parabola fits the log-free peak
    official = localize(scores, (2, 2), (0, 0), get_preset("dimp50"))  # official: the integer cell
    assert tuple(official.disp) == (round(cy) - 9, round(cx) - 9)
    # a peak at the border, or a flat top, keeps the integer cell
    edge = localize(_peaks((0, 5, 0.9)), (2, 2), (0, 0), get_preset("dimp50", subcell_peak=True))
    assert tuple(edge.disp) == (-9, -4)


def _box_iou(b, gt):
    x0 = torch.maximum(b[:, 0], gt[0])
    y0 = torch.maximum(b[:, 1], gt[1])
    x1 = torch.minimum(b[:, 0] + b[:, 2], gt[0] + gt[2])
    y1 = torch.minimum(b[:, 1] + b[:, 3], gt[1] + gt[3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    return inter / (b[:, 2] * b[:, 3] + gt[2] * gt[3] - inter)


@pytest.mark.parametrize("space,step", [("default", 1.0), ("relative", 0.05)])
def test_refinement_climbs_true_iou(space, step):
    """With the true IoU as the 'predictor', ascent moves perturbed boxes onto the target."""
    gt = torch.tensor([40.0, 30.0, 20.0, 30.0])
    boxes = torch.tensor([[44.0, 27.0, 16.0, 36.0], [37.0, 35.0, 24.0, 25.0]], dtype=torch.float64)
    history: list = []
    out, ious = optimize_boxes(lambda b: _box_iou(b, gt.double()), boxes, 30, step, space=space, history=history,
                               reject_worse=True)
    h = torch.stack(history)
    assert (h[1:] >= h[:-1] - 1e-12).all()
    assert (ious > h[0] + 0.1).all() and (ious > 0.9).all()


def test_iounet_refinement_is_monotone(net):
    """Gradient ascent through PrRoIPool on the (untrained) IoU-Net never lowers the predicted IoU
    and raises it for a perturbed box."""
    torch.manual_seed(1)
    net.eval()
    img = torch.randn(1, 3, 160, 160)
    with torch.no_grad():
        feats = net.extract_backbone_features(img)
        layers = [feats["layer2"], feats["layer3"]]
        mod = net.bb_regressor.get_modulation(layers, torch.tensor([[60.0, 60.0, 40.0, 40.0]]))
        iou_feat = net.bb_regressor.get_iou_feat(layers)
    net.requires_grad_(False)

    def predict(b):
        return net.bb_regressor.predict_iou(mod, iou_feat, b.reshape(1, -1, 4).float()).reshape(-1)

    p = get_preset("dimp50")
    boxes = jitter_boxes(torch.tensor([66.0, 52.0, 30.0, 50.0]), p, torch.Generator().manual_seed(0))
    assert boxes.shape == (10, 4)
    history: list = []
    out, ious = optimize_boxes(predict, boxes, 8, 1.0, history=history, reject_worse=True)
    h = torch.stack(history)
    assert (h[1:] >= h[:-1]).all()
    gain = ious - h[0]
    assert (gain > 1e-3).sum() >= 8 and float(gain.max()) > 0.05, gain
    with torch.no_grad():
        assert torch.allclose(predict(out), ious, atol=1e-4)  # the returned IoU is that of the returned boxes
    assert select_box(out, ious, p).shape == (4,)


class _Brightness(nn.Module):
    """Stub backbone: mean brightness pooled to stride 8 / 16, repeated to the ResNet-18 widths."""

    def forward(self, x, layers=None):
        g = x.mean(dim=1, keepdim=True)
        return OrderedDict(layer2=F.avg_pool2d(g, 8).expand(-1, 128, -1, -1),
                           layer3=F.avg_pool2d(g, 16).expand(-1, 256, -1, -1))


def _centres(boxes):
    return boxes[:, :2] + (boxes[:, 2:] - 1) / 2


def _track(tracker, frames, boxes, set_filter=None):
    tracker.initialize(frames[0], boxes[0])
    if set_filter is not None:
        tracker.filter = set_filter
    return np.array([boxes[0]] + [tracker.track(f) for f in frames[1:]])


def test_hand_built_filter_localises_target():
    """Brightness features + a filter that sums the central 2x2 cells: the score peak is the
    bright square, so the tracker must follow it (errors below half a cell, while it moves 54 px)."""
    torch.manual_seed(0)
    model = dimp18(crop_size=160)
    model.feature_extractor = _Brightness()
    model.classifier.feature_extractor = nn.Identity()
    p = get_preset("cpu", use_iou_net=False, update_classifier=False, target_not_found_threshold=-1e9)
    filt = torch.zeros(1, 256, 4, 4)
    filt[:, :, 1:3, 1:3] = 1.0 / 256
    frames, boxes = square_frames(10, step=(6, -3))
    pred = _track(DiMPTracker(model, p), frames, boxes, filt)
    err = np.linalg.norm(_centres(pred) - _centres(boxes), axis=1)
    assert err.max() <= 8 * 2 ** 0.5 + 0.5, err  # half a 16-px cell per axis
    assert np.allclose(pred[:, 2:], SIDE)  # no IoU-Net: the size stays
    # The check can fail: a filter that prefers dark regions does not follow the square.
    pred = _track(DiMPTracker(model, p), frames, boxes, -filt)
    assert np.linalg.norm(_centres(pred) - _centres(boxes), axis=1)[-1] > 20


def test_learned_filter_localises_target(net):
    """Initialisation (augmentation + filter optimisation) on a distinctive target learns a filter
    that finds it in later frames, even with untrained backbone weights."""
    p = get_preset("cpu", use_iou_net=False, target_not_found_threshold=-1e9)
    frames, boxes = square_frames(10, step=(5, 2))
    pred = _track(DiMPTracker(net, p), frames, boxes)
    err = np.linalg.norm(_centres(pred) - _centres(boxes), axis=1)
    assert err.mean() < 8 and err[-1] < 12, err


@pytest.mark.parametrize("colour", [True, False])
def test_full_tracker_with_iou_net_follows_the_target(colour):
    """The whole default procedure (cpu_mobilenet: IoU-Net and its first-frame check included) on the
    packaged ImageNet features follows a moving square closely, where the first box soon misses it."""
    from cmd_core.model.dimpnet import dimp_mobilenet

    torch.manual_seed(0)
    p = get_preset("cpu_mobilenet", target_not_found_threshold=-1e9)
    frames, boxes = square_frames(10, step=(5, 2), colour=colour)
    tracker = DiMPTracker(dimp_mobilenet().eval(), p)
    pred = _track(tracker, frames, boxes)
    assert np.isfinite(pred).all() and (pred[:, 2:] > 0).all()
    assert tracker.memory.num_stored > p.num_init_samples  # frames were learned
    overlap = iou(pred, boxes)
    assert overlap.mean() > 0.85 and overlap.min() > 0.7, overlap
    assert iou(np.repeat(boxes[:1], len(boxes), 0), boxes)[-1] < 0.3  # not a tracker that never moves


class _OracleIoUNet(nn.Module):
    """A stand-in IoU-Net whose 'modulation' is the first-frame box and whose prediction is
    ``sign`` x the true IoU with it: a perfect (sign=1) or an inverted (sign=-1) ranker."""

    def __init__(self, sign: float):
        super().__init__()
        self.sign = sign

    def get_modulation(self, feats, box):
        return box.reshape(1, 4)

    def get_iou_feat(self, feats):
        return feats

    def predict_iou(self, mod, feat, boxes):
        b = boxes.reshape(-1, 4)
        return self.sign * _box_iou(b, mod.reshape(4).to(b.dtype)).reshape(1, -1)


@pytest.mark.parametrize("sign,refines", [(1.0, True), (-1.0, False)])
def test_first_frame_iou_net_check_gates_refinement(net, sign, refines):
    import copy
    model = copy.deepcopy(net)
    model.bb_regressor = _OracleIoUNet(sign)
    frames, boxes = square_frames(4)
    p = get_preset("cpu", iou_net_min_init_corr=0.5, target_not_found_threshold=-1e9)
    tracker = DiMPTracker(model, p)
    tracker.initialize(frames[0], boxes[0])
    assert tracker.iou_net_check == pytest.approx(sign, abs=1e-4)  # perfect (inverted) ranking: corr +1 (-1)
    assert tracker.refine_boxes is refines
    official = DiMPTracker(model, get_preset("dimp50"))
    official.initialize(frames[0], boxes[0])
    assert np.isnan(official.iou_net_check) and official.refine_boxes  # official presets: no check


def test_replicate_window_equals_clipped_gather():
    """The padded window (cv2.copyMakeBorder) has the pixels of gathering clipped indices, for windows
    inside, straddling, larger than and wholly outside the image, gray and colour."""
    from cmd_core.tracking.preprocessing import _replicate_window

    rng = np.random.default_rng(3)
    for shape in [(37, 53), (37, 53, 3), (4, 3, 3), (1, 1)]:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        H, W = shape[:2]
        for _ in range(400):
            side = int(rng.integers(1, 3 * max(H, W) + 3))
            top, left = (int(rng.integers(-2 * side - 5, n + 5)) for n in (H, W))
            ys = np.clip(np.arange(top, top + side), 0, H - 1)
            xs = np.clip(np.arange(left, left + side), 0, W - 1)
            np.testing.assert_array_equal(_replicate_window(image, top, left, side), image[ys[:, None], xs[None, :]])
