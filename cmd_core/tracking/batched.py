"""Batched DiMP tracking: B sequences advance one frame together through shared network calls.

:class:`BatchedDiMPTracker` keeps one :class:`~cmd_core.tracking.DiMPTracker` state per sequence
(slot) and runs that tracker's own per-sequence stages (``_init_begin`` / ``_init_end``,
``_track_begin`` / ``_track_locate`` / ``_refine_end`` / ``_track_end``), so every per-sequence
decision - target not found, uncertain, hard negative, memory update and replacement, filter
re-optimisation schedule - is the unbatched tracker's code, taken per slot. Only the network calls
are batched over the slots of a step:

- first frames: the augmented crops of every sequence starting in this step in one backbone call
  (in chunks of ``max_crops_per_call``);
- later frames: the search crops of every sequence in one backbone call; the IoU-Net test features
  in one call; box refinement as one gradient ascent over all sequences' proposals
  (:func:`~cmd_core.tracking.box_refinement.optimize_boxes` on (B, N, 4) boxes, one backward pass
  per step for all of them; the IoU prediction itself runs per sequence, see :func:`_predict_iou`).

Per slot (small, not batched): crops and augmentation (OpenCV, per image), classification scores
(one small convolution with the slot's own filter), localisation, the first-frame IoU-Net
modulation vectors and check (``iou_net_min_init_corr``), the IoU prediction inside the
refinement, and filter initialisation / optimisation (every ``train_skipping`` frames or on hard
negatives).

The unbatched tracker is the reference: the batched one gives the same boxes, bit for bit where the
batched convolutions give each image the result it gets alone (measured on CPU with 1 and 2
threads; tests compare every preset). Only what is batch-invariant is batched: the backbone, the
classification head and the IoU-Net's convolutions; matrix products whose rounding depends on the
batch (the IoU-Net's fully connected layers, the modulation vectors) and reductions whose thread
split depends on it (precise RoI pooling's backward) run per sequence.

The sequences of a step may differ in frame size and length; :func:`cmd_core.tracking.runner.
track_manifest_batched` refills a finished sequence's slot with the next sequence.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch

from torchvision.models.resnet import BasicBlock

from .box_refinement import optimize_boxes
from .dimp_tracker import DiMPTracker
from .params import DiMPParams
from .preprocessing import images_to_tensor

__all__ = ["BatchedDiMPTracker"]

# head layers that give each sample the same result in any batch (convolutions, eval-mode
# BatchNorm, activations); any other layer of the classification head runs per slot
_BATCH_INVARIANT = (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.ReLU, torch.nn.ReLU6, torch.nn.Identity,
                    BasicBlock)


class BatchedDiMPTracker:
    """DiMP over many sequences at once: ``new_state()`` per sequence, then ``initialize(states, images,
    boxes)`` for sequences at their first frame and ``track(states, images)`` for the others.

    Both return one entry per state: the box (``track``) or None (``initialize``), or the ValueError
    that rejected that sequence's frame (bad first box, frame size change); the other sequences go on.

    args:
        net, params, device, channels_last: as :class:`DiMPTracker`.
        max_crops_per_call: largest backbone batch (first frames bring ``num_init_samples`` crops each).
    """

    name = "dimp"

    def __init__(self, net, params: DiMPParams, device: str | torch.device = "cpu", channels_last: bool = True,
                 max_crops_per_call: int = 64):
        if max_crops_per_call < 1:
            raise ValueError(f"max_crops_per_call must be >= 1, got {max_crops_per_call}")
        self._template = DiMPTracker(net, params, device=device, channels_last=channels_last)
        self.params = params
        self.device = self._template.device
        self.net = self._template.net
        self.max_crops_per_call = int(max_crops_per_call)

    def new_state(self) -> DiMPTracker:
        """A fresh per-sequence tracker sharing this network (also usable alone, unbatched)."""
        return copy.copy(self._template)

    # ---- network calls over all slots -----------------------------------------------------
    def _features(self, images: list[np.ndarray]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Backbone and classification features of every slot's crops (a list of (n_i, out, out, 3)).

        The backbone runs on all crops at once (in chunks of ``max_crops_per_call``); so do the
        classification head's convolutions, but its per-sample normalisation (a sum over each
        sample's features, whose thread split depends on the batch) runs on each slot's n_i crops,
        as the unbatched tracker calls it."""
        arr = np.concatenate(images) if len(images) > 1 else images[0]
        step = self.max_crops_per_call
        parts = [self.net.extract_backbone_features(images_to_tensor(arr[i:i + step], self.device))
                 for i in range(0, len(arr), step)]
        feats = parts[0] if len(parts) == 1 else {name: torch.cat([f[name] for f in parts]) for name in parts[0]}
        sizes = [len(im) for im in images]
        return feats, _classification_feat(self.net.classifier, feats[self.net.classification_layer], sizes)

    # ---- tracker interface ------------------------------------------------------------------
    @torch.no_grad()
    def initialize(self, states: Sequence[DiMPTracker], images: Sequence[np.ndarray], boxes) -> list:
        results: list = [None] * len(states)
        crops: dict[int, np.ndarray] = {}
        for i, (st, image, box) in enumerate(zip(states, images, boxes)):
            try:
                crops[i] = st._init_begin(image, box)
            except ValueError as exc:
                results[i] = exc
        if not crops:
            return results
        ok = list(crops)
        feats, clf = self._features([crops[i] for i in ok])
        bounds = np.cumsum([0] + [len(crops[i]) for i in ok])
        slot_feats = {i: ({name: v[a:b] for name, v in feats.items()}, clf[a:b])
                      for i, a, b in zip(ok, bounds[:-1], bounds[1:])}
        for i in ok:  # filter, modulation vectors (fully connected: per sequence, see _predict_iou), memory
            f, c = slot_feats[i]
            states[i]._init_end(f, c)
        return results

    def track(self, states: Sequence[DiMPTracker], images: Sequence[np.ndarray]) -> list:
        results: list = [None] * len(states)
        begun: dict[int, tuple] = {}
        for i, (st, image) in enumerate(zip(states, images)):
            try:
                begun[i] = st._track_begin(image)
            except ValueError as exc:
                results[i] = exc
        if not begun:
            return results
        ok = list(begun)
        with torch.no_grad():
            feats, clf = self._features([np.stack([c.image for c in begun[i][0]]) for i in ok])
        bounds = np.cumsum([0] + [len(begun[i][0]) for i in ok])
        located: dict[int, tuple] = {}
        refine: list[tuple[int, int, bool]] = []  # (slot, row of its chosen crop, update scale)
        for i, a, b in zip(ok, bounds[:-1], bounds[1:]):
            st, (crops, factors, pyramid) = states[i], begun[i]
            with torch.no_grad():
                scores = self.net.classifier.classify(st.filter, clf[a:b])[:, 0].float().cpu()
            k, loc, update = st._track_locate(scores, crops, factors, pyramid)
            located[i] = (int(a) + k, crops[k], loc)
            if update is not None:
                refine.append((i, int(a) + k, update))
        if refine:
            self._refine(states, refine, feats, located)
        for i in ok:
            row, crop_k, loc = located[i]
            results[i] = states[i]._track_end(clf[row:row + 1], crop_k, loc)
        return results

    def _refine(self, states, jobs: list[tuple[int, int, bool]], feats, located) -> None:
        """IoU-Net box refinement of all ``jobs`` at once: one feature call, one gradient ascent."""
        p = self.params
        rows = torch.tensor([row for _, row, _ in jobs], device=self.device)
        with torch.no_grad():
            iou_feat = self.net.bb_regressor.get_iou_feat(
                [feats[name].index_select(0, rows).contiguous(memory_format=_layout(feats[name]))
                 for name in self.net.bb_regressor_layer])
        boxes = torch.stack([states[i]._refine_start_boxes(located[i][1]) for i, _, _ in jobs])
        mod = [torch.cat([states[i].iou_modulation[j] for i, _, _ in jobs]) for j in range(2)]
        dev = self.device

        def predict(b: torch.Tensor) -> torch.Tensor:
            return _predict_iou(self.net.bb_regressor, mod, iou_feat, b.to(dev)).cpu()

        boxes, ious = optimize_boxes(predict, boxes, p.box_refinement_iter, p.box_refinement_step_length,
                                     p.box_refinement_step_decay, p.box_refinement_space,
                                     reject_worse=p.box_refinement_reject_worse)
        for j, (i, _, update) in enumerate(jobs):
            states[i]._refine_end(boxes[j], ious[j], located[i][1], update)


def _classification_feat(classifier, feat: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """``classifier.extract_classification_feat`` of all slots' crops, with every layer that is not known
    to be batch-invariant (e.g. :class:`~cmd_core.model.classifier.InstanceL2Norm`) applied per slot
    (``sizes``: crops per slot)."""
    head = classifier.feature_extractor
    if head is None:
        return feat
    modules = list(head) if isinstance(head, torch.nn.Sequential) else [head]
    bounds = np.cumsum([0] + sizes)
    x = feat
    for m in modules:
        if not isinstance(m, _BATCH_INVARIANT):  # e.g. InstanceL2Norm
            x = torch.cat([m(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]) if len(sizes) > 1 else m(x)
        else:
            x = m(x)
    return x


def _layout(t: torch.Tensor) -> torch.memory_format:
    """The memory format of a 4-d tensor (the batched crops keep the unbatched tracker's)."""
    return torch.channels_last if t.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format


def _predict_iou(bb, modulation, feat, proposals: torch.Tensor) -> torch.Tensor:
    """``AtomIoUNet.predict_iou`` for B sequences' proposals (B, N, 4) -> (B, N), called per sequence.

    The IoU-Net's test features come from one batched call (the convolutions give each image the
    same result in any batch), but the prediction and its gradient run per sequence, with the
    unbatched tracker's shapes: the fully connected layers' rounding depends on their number of rows,
    and with several threads so does the parallel split of precise RoI pooling's backward reductions
    (measured: 1e-6 px differences that a long sequence can amplify to tens of pixels through the
    tracker's discrete decisions). Per sequence, the boxes are bit for bit the unbatched ones."""
    mod3, mod4 = modulation
    c3_t, c4_t = feat
    return torch.stack([bb.predict_iou((mod3[i:i + 1], mod4[i:i + 1]), (c3_t[i:i + 1], c4_t[i:i + 1]),
                                       proposals[i:i + 1]).reshape(-1) for i in range(proposals.shape[0])])
