"""The DiMP online tracker (Bhat et al., ICCV 2019) on top of :class:`cmd_core.model.DiMPNet`.

initialize(image, box): augment the first frame, extract features in one batch, build the
filter with the initializer and ``net_opt_iter`` steepest-descent iterations, compute the
IoU-Net modulation vectors, fill the sample memory. With ``iou_net_min_init_corr`` set (the cpu
preset), the IoU-Net must first rank jittered copies of the first-frame box by their true IoU;
if it cannot, this sequence is tracked without box refinement.

track(image) -> box: crop around the last position at the current scale (with ``scale_factors``
and no box refinement: at each factor of it, in one batch), classify, localise the peak
(not-found / uncertain / hard-negative analysis), refine the box with the IoU-Net by gradient
ascent (without it: size from the crop scale, reference, or kept, ``keep_size_without_iou_net``),
then learn: store the frame in memory (unless not-found or uncertain) and
re-optimise the filter every ``train_skipping`` frames, or at once (``net_opt_hn_iter``, higher
learning rate) on hard negatives.

With the IoU-Net, the position after learning is the refined one (as the reference: when no refined
box survives the aspect-ratio filter, the last refined position is kept). The refined box becomes a
position with the reference's crop centre ``top-left + size / 2``, or with ``symmetric_box_conversion``
the exact inverse of the way in (every crossing between image and crop pixels: :mod:`.params`).

Images are HxW (grayscale, e.g. TIR: replicated to 3 channels) or HxWx3 RGB arrays; boxes are
(x, y, w, h) in pixels. Features run under ``torch.no_grad``; only the box refinement records a
graph (with respect to the boxes: the network's parameters do not require grad).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torchvision.ops import box_convert, box_iou

from .augmentation import augment, expanded_size, feature_dropout
from .box_refinement import jitter_boxes, optimize_boxes, select_box
from .localization import localize
from .memory import SampleMemory
from .params import DiMPParams
from .preprocessing import box_from_crop, box_to_crop, crop, images_to_tensor, to_rgb

__all__ = ["DiMPTracker", "check_init_box", "select_scale"]

FEATURE_STRIDE = 16
INIT_CHECK_BOXES = 32  # jittered first-frame boxes of the IoU-Net check (iou_net_min_init_corr)


def check_init_box(box, image_shape) -> np.ndarray:
    """The first-frame box as floats; ValueError if it is not finite, has no area or lies outside the image."""
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,) or not np.isfinite(b).all():
        raise ValueError(f"initial box must be 4 finite numbers (x, y, w, h), got {box!r}")
    H, W = image_shape[:2]
    if b[2] <= 0 or b[3] <= 0:
        raise ValueError(f"initial box {b.tolist()} has zero or negative size")
    if b[0] >= W or b[1] >= H or b[0] + b[2] <= 0 or b[1] + b[3] <= 0:
        raise ValueError(f"initial box {b.tolist()} lies outside the {W}x{H} image")
    return b


def select_scale(peaks, factors, penalty: float = 1.0) -> int:
    """Index of the scale to take: the highest ``peak * penalty ** (|log f| / max |log f|)`` (the unit
    scale unpenalised, the extreme ones times ``penalty``; ties go to the first)."""
    peaks = np.asarray(peaks, dtype=np.float64).reshape(-1)
    logs = np.abs(np.log(np.asarray(factors, dtype=np.float64).reshape(-1)))
    top = float(logs.max()) if logs.size else 0.0
    weight = penalty ** (logs / top) if top > 0 else np.ones_like(logs)
    return int(np.argmax(peaks * weight))


class DiMPTracker:
    """One-target DiMP tracker; ``initialize`` then ``track`` per frame.

    args:
        net: a DiMPNet (trained; see :func:`cmd_core.tracking.network.load_network`).
        params: a :class:`DiMPParams` preset.
        device: torch device for the network.
        channels_last: run the convolutions in NHWC layout (faster on CPU).
    """

    name = "dimp"

    def __init__(self, net, params: DiMPParams, device: str | torch.device = "cpu", channels_last: bool = True):
        self.params = params
        self.device = torch.device(device)
        self.net = net.eval().to(self.device)
        self.net.requires_grad_(False)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
        self.flag = "init"
        self.max_score = float("nan")

    # ---- geometry helpers ---------------------------------------------------------------
    def _box(self) -> np.ndarray:
        sz = self.target_sz
        return np.array([self.pos[1] - (sz[1] - 1) / 2, self.pos[0] - (sz[0] - 1) / 2, sz[1], sz[0]])

    def _set_scale(self, scale: float) -> None:
        self.target_scale = float(np.clip(scale, self.min_scale_factor, self.max_scale_factor))

    def _features(self, images: np.ndarray):
        x = images_to_tensor(images, self.device)
        feats = self.net.extract_backbone_features(x)
        return feats, self.net.extract_classification_feat(feats)

    # ---- tracker interface --------------------------------------------------------------
    # Each call is split into stages around its network calls, so that the batched tracker
    # (:mod:`.batched`) runs the same per-sequence code with the network calls of many sequences
    # batched together.
    @torch.no_grad()
    def initialize(self, image: np.ndarray, box) -> None:
        images = self._init_begin(image, box)
        feats, clf = self._features(images)
        self._init_end(feats, clf)

    def _init_begin(self, image: np.ndarray, box) -> np.ndarray:
        """State of the first frame; returns the augmented crops (N, out, out, 3) to extract features of."""
        p = self.params
        image = to_rgb(image)
        b = check_init_box(box, image.shape)
        self.rng = np.random.default_rng(p.seed)
        self.gen = torch.Generator().manual_seed(p.seed)
        self.image_shape = image.shape
        self.image_sz = np.array(image.shape[:2], dtype=np.float64)
        self.pos = np.array([b[1] + (b[3] - 1) / 2, b[0] + (b[2] - 1) / 2])
        self.target_sz = np.array([b[3], b[2]])
        out = p.image_sample_size
        self.target_scale = math.sqrt(float(np.prod(self.target_sz * p.search_area_scale))) / out
        self.base_target_sz = self.target_sz / self.target_scale
        self.min_scale_factor = float(np.max(10.0 / self.base_target_sz))
        self.max_scale_factor = max(float(np.min(self.image_sz / self.base_target_sz)), self.min_scale_factor)

        E = expanded_size(p)
        # the reference crops the first frame around the rounded position at the nominal scale
        self.init_sample_pos = np.round(self.pos)
        crop0 = crop(image, self.init_sample_pos, self.target_scale * E, E, cv2_resize=p.crop_resize_cv2)
        samples = augment(crop0.image, p, self.rng)
        if p.init_box_from_crop:  # ours: the expanded crop's actual centre and scale
            init_box = box_to_crop(self.pos, self.target_sz, crop0.pos, crop0.scale, out)
        else:
            init_box = box_to_crop(self.pos, self.target_sz, self.init_sample_pos, self.target_scale, out)
        boxes = np.tile(init_box, (len(samples.shifts), 1))
        boxes[:, 0] += samples.shifts[:, 1]
        boxes[:, 1] += samples.shifts[:, 0]
        self._init_boxes = (boxes, init_box)
        return samples.images

    def _init_modulation_input(self, feats, dtype: torch.dtype) -> tuple[list[torch.Tensor], torch.Tensor]:
        """IoU-Net modulation input of the first frame: the identity sample's features and its box (1, 4)."""
        init_box = self._init_boxes[1]
        init_box_t = torch.as_tensor(init_box, dtype=dtype, device=self.device).reshape(1, 4)
        return [feats[name][:1] for name in self.net.bb_regressor_layer], init_box_t

    def _init_end(self, feats, clf, iou_modulation=None) -> None:
        """Filter, modulation vectors and memory from the first frame's features (``iou_modulation``:
        already computed, by the batched tracker)."""
        p = self.params
        boxes = self._init_boxes[0]
        boxes_t = torch.as_tensor(boxes, dtype=clf.dtype, device=self.device)
        if p.use_augmentation and p.aug_dropout and p.aug_dropout[0] > 0:
            num, prob = p.aug_dropout
            clf = torch.cat((clf, feature_dropout(clf[:1], int(num), float(prob), self.gen)))
            boxes_t = torch.cat((boxes_t, boxes_t[:1].expand(int(num), -1)))
        clf = clf.contiguous()

        self.iou_net_check = float("nan")
        self.refine_boxes = p.use_iou_net
        if p.use_iou_net:
            mod_feat, init_box_t = self._init_modulation_input(feats, clf.dtype)
            if iou_modulation is None:
                iou_modulation = self.net.bb_regressor.get_modulation(mod_feat, init_box_t)
            self.iou_modulation = iou_modulation
            if p.iou_net_min_init_corr is not None:
                self.iou_net_check = self._iou_net_first_frame_corr(mod_feat, init_box_t)
                self.refine_boxes = self.iou_net_check >= p.iou_net_min_init_corr
        self.filter, _, _ = self.net.classifier.get_filter(clf.unsqueeze(1), boxes_t.unsqueeze(1),
                                                           num_iter=p.net_opt_iter, compute_losses=False)
        self.memory = SampleMemory(clf, boxes_t, p.sample_memory_size, p.init_samples_minimum_weight,
                                   reference=not p.memory_decay_weights)
        del self._init_boxes
        ksz = self.filter.shape[-1]
        # reference get_centered_sample_pos: half a cell offset when feature + filter size is odd
        self.center_offset = ((p.feature_size + ksz) % 2) * FEATURE_STRIDE / 2
        self.pos_iounet = None
        self.frame_num = 1
        self.flag = "init"
        self.max_score = float("nan")

    def track(self, image: np.ndarray) -> np.ndarray:
        """Track one frame; returns the box (x, y, w, h)."""
        crops, factors, pyramid = self._track_begin(image)
        with torch.no_grad():
            feats, clf = self._features(np.stack([c.image for c in crops]))
            scores_all = self.net.classifier.classify(self.filter, clf)[:, 0].float().cpu()
        k, loc, refine = self._track_locate(scores_all, crops, factors, pyramid)
        if refine is not None:
            feats_k = {name: v[k:k + 1] for name, v in feats.items()}
            self._refine(feats_k, crops[k], refine)
        return self._track_end(clf[k:k + 1], crops[k], loc)

    def _track_begin(self, image: np.ndarray):
        """Check the frame and cut the search crop(s); returns (crops, scale factors, pyramid)."""
        p = self.params
        image = to_rgb(image)
        if image.shape != self.image_shape:
            raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the first frame's "
                             f"{self.image_shape[1]}x{self.image_shape[0]}")
        self.frame_num += 1
        out = p.image_sample_size
        pyramid = p.scale_factors is not None and not self.refine_boxes
        factors = tuple(p.scale_factors) if pyramid else (1.0,)
        center = self.pos + self.center_offset * self.target_scale
        crops = [crop(image, center, self.target_scale * f * out, out, p.border_mode, p.patch_max_scale_change,
                      cv2_resize=p.crop_resize_cv2) for f in factors]
        return crops, factors, pyramid

    def _track_locate(self, scores_all: torch.Tensor, crops, factors, pyramid: bool):
        """Localise in the score maps (one per crop); moves the target. Returns (crop index, localisation,
        whether box refinement should update the scale, or None when there is no refinement this frame)."""
        p = self.params
        k = select_scale(scores_all.amax(dim=(-2, -1)).numpy(), factors, p.scale_penalty) if pyramid else 0
        crop_k = crops[k]
        cell = FEATURE_STRIDE * crop_k.scale  # image pixels per score cell
        loc = localize(scores_all[k], self.target_sz / cell, (self.pos - crop_k.pos) / cell, p)
        self.flag, self.max_score, self.scale_index = loc.flag, loc.max_score, k

        refine = None
        if loc.flag != "not_found":
            new_pos = crop_k.pos + loc.disp * cell
            if not self.refine_boxes:
                self._update_scale_from_crop(crops[k].scale, factors[k], pyramid)
            inside = (p.target_inside_ratio - 0.5) * self.target_sz
            self.pos = np.maximum(np.minimum(new_pos, self.image_sz - inside), inside)
            if self.refine_boxes:
                refine = p.update_scale_when_uncertain or loc.flag != "uncertain"
        return k, loc, refine

    def _track_end(self, clf_k: torch.Tensor, crop_k, loc) -> np.ndarray:
        """Learn from the frame (unless not found or uncertain); returns the box (x, y, w, h)."""
        p = self.params
        if p.update_classifier and loc.flag not in ("not_found", "uncertain"):
            with torch.no_grad():
                self._learn(clf_k, crop_k, hard_negative=loc.flag == "hard_negative")
        if self.refine_boxes and loc.flag != "not_found" and self.pos_iounet is not None:
            self.pos = self.pos_iounet.copy()  # the reference tracks on from the IoU-Net position
        return self._box()

    def _update_scale_from_crop(self, crop_scale: float, factor: float, pyramid: bool) -> None:
        """Size and scale without box refinement. Reference: scale = the crop's actual scale (clamped),
        size = base size x scale. Ours (``keep_size_without_iou_net``): the size stays, or with a scale
        pyramid moves by the chosen factor. Both damped by ``scale_lr`` towards the chosen scale."""
        p = self.params
        lr = p.scale_lr if pyramid else 1.0
        if p.keep_size_without_iou_net:
            if pyramid:
                ratio = (1.0 - lr) + lr * float(factor)
                self.target_sz = self.target_sz * ratio
                self._set_scale(self.target_scale * ratio)
            return
        self._set_scale((1.0 - lr) * self.target_scale + lr * float(crop_scale))
        self.target_sz = self.base_target_sz * self.target_scale

    # ---- internals ------------------------------------------------------------------------
    def _iou_net_first_frame_corr(self, feats: list[torch.Tensor], box: torch.Tensor) -> float:
        """Pearson correlation of predicted and true IoU for jittered copies of the first-frame box: can
        this IoU-Net rank boxes at all? (An under-trained or off-domain one cannot, and its refinement
        then moves good boxes at random.)"""
        p = self.params
        wide = p.replace(num_init_random_boxes=INIT_CHECK_BOXES, box_jitter_pos=2 * p.box_jitter_pos)
        boxes = jitter_boxes(box.reshape(4).cpu(), wide, torch.Generator().manual_seed(p.seed))
        iou_feat = self.net.bb_regressor.get_iou_feat(feats)
        pred = self.net.bb_regressor.predict_iou(self.iou_modulation, iou_feat,
                                                 boxes.to(self.device, iou_feat[0].dtype).reshape(1, -1, 4))
        true = box_iou(box_convert(boxes, "xywh", "xyxy"), box_convert(box.reshape(1, 4).cpu(), "xywh", "xyxy"))
        pair = torch.stack((pred.reshape(-1).float().cpu(), true.reshape(-1).float()))
        return float(torch.corrcoef(pair)[0, 1].nan_to_num(0.0))

    def _refine(self, feats, sample, update_scale: bool) -> None:
        p = self.params
        with torch.no_grad():
            iou_feat = self.net.bb_regressor.get_iou_feat([feats[name] for name in self.net.bb_regressor_layer])
        boxes = self._refine_start_boxes(sample)
        mod = self.iou_modulation
        dev = self.device

        def predict(b: torch.Tensor) -> torch.Tensor:
            return self.net.bb_regressor.predict_iou(mod, iou_feat, b.to(dev).reshape(1, -1, 4)).reshape(-1).cpu()

        boxes, ious = optimize_boxes(predict, boxes, p.box_refinement_iter, p.box_refinement_step_length,
                                     p.box_refinement_step_decay, p.box_refinement_space,
                                     reject_worse=p.box_refinement_reject_worse)
        self._refine_end(boxes, ious, sample, update_scale)

    def _refine_start_boxes(self, sample) -> torch.Tensor:
        """The refinement's start boxes in crop pixels: the current box and its random jitters."""
        p = self.params
        init_box = torch.as_tensor(box_to_crop(self.pos, self.target_sz, sample.pos, sample.scale,
                                               p.image_sample_size), dtype=torch.float32)
        return jitter_boxes(init_box, p, self.gen)

    def _refine_end(self, boxes: torch.Tensor, ious: torch.Tensor, sample, update_scale: bool) -> None:
        """The refined boxes -> position and size (and scale, with ``update_scale``)."""
        p = self.params
        out = p.image_sample_size
        box = select_box(boxes, ious, p)
        if box is None:
            return
        self.pos, self.target_sz = box_from_crop(box.double().numpy(), sample.pos, sample.scale, out,
                                                 symmetric=p.symmetric_box_conversion)
        self.pos_iounet = self.pos.copy()
        if update_scale:
            scale = math.sqrt(float(np.prod(self.target_sz / self.base_target_sz)))
            if p.clamp_scale_after_refinement:  # ours; the reference does not clamp here
                self._set_scale(scale)
            else:
                self.target_scale = scale

    def _learn(self, clf: torch.Tensor, sample, hard_negative: bool) -> None:
        p = self.params
        box = box_to_crop(self.pos, self.target_sz, sample.pos, sample.scale, p.image_sample_size)
        lr = p.hard_negative_learning_rate if hard_negative else p.learning_rate
        self.memory.add(clf[0], torch.as_tensor(box, dtype=clf.dtype, device=self.device), lr)
        if hard_negative:
            num_iter = p.net_opt_hn_iter
        elif (self.frame_num - 1) % p.train_skipping == 0:
            num_iter = p.net_opt_update_iter
        else:
            num_iter = 0
        if num_iter > 0:
            feat, boxes, weights = self.memory.samples()
            self.filter, _, _ = self.net.classifier.filter_optimizer(
                self.filter, feat=feat.unsqueeze(1), bb=boxes.unsqueeze(1), sample_weight=weights.reshape(-1, 1),
                num_iter=num_iter, compute_losses=False)
