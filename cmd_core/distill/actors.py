"""Distillation actors (the :class:`cmd_core.training.actors.Actor` interface of the Trainer).

- :class:`OfficialCMDActor`: the published CMD recipe - the DiMP classification loss on the search
  crop (TIR) with the filter learned on the template crop (RGB), and the IoU-Net modulated by the
  template and trained on search proposals (targets from the pair's own search box); backbone
  frozen by default.
- :class:`DistillActor`: a frozen copy of the RGB teacher sees the RGB crops, the student sees the
  aligned TIR crops; feature mimicking, response distillation and IoU distillation with weights.

Both train only the configured components (``classifier`` / ``iou``) and optionally the backbone:
frozen parts get ``requires_grad=False`` and stay in eval mode (their batch-norm statistics do not
move either), so their tensors stay bitwise unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmd_core.training.actors import Actor
from cmd_core.training.losses import DEFAULT_LOSS_WEIGHTS, classification_losses, iou_mse, kl_regression

__all__ = ["OfficialCMDActor", "DistillActor", "freeze_parts", "feature_mimic_loss", "response_kl", "response_mse",
           "run_dimp"]

_PARTS = {"backbone": "feature_extractor", "classifier": "classifier", "iou": "bb_regressor"}


def freeze_parts(net: nn.Module, components: Sequence[str], backbone: str) -> list[nn.Module]:
    """Set ``requires_grad`` per part; returns the frozen sub-modules (to keep in eval mode)."""
    trainable = set(components) | ({"backbone"} if backbone == "trainable" else set())
    frozen = []
    for part, attr in _PARTS.items():
        module = getattr(net, attr)
        on = part in trainable
        for p in module.parameters():
            p.requires_grad_(on)
        if not on:
            frozen.append(module)
    if len(frozen) == len(_PARTS):
        raise ValueError(f"nothing to train (components {list(components)}, backbone {backbone})")
    # Layers the backbone itself freezes (e.g. Super DiMP's conv1..layer2) stay frozen. A MobileNetV2
    # backbone names its own fixed part (its BatchNorm at ImageNet statistics): its blocks, frozen while the
    # RGB teacher trained its heads, are what the TIR student adapts.
    fe = net.feature_extractor
    if hasattr(fe, "fixed_modules"):
        fixed = fe.fixed_modules()
    else:
        children = dict(fe.named_children())
        fixed = [children[name] for name in getattr(fe, "frozen_layers", [])]
    for module in fixed:
        for p in module.parameters():
            p.requires_grad_(False)
    return frozen


def run_dimp(net: nn.Module, train_imgs: Tensor, test_imgs: Tensor, train_bb: Tensor, proposals: Tensor,
             need_iou: bool = True) -> dict[str, Any]:
    """DiMPNet training pass that also returns its intermediate features.

    Returns ``{'train': {layer2, layer3, clf}, 'test': {...}, 'scores': [iterates (I,S,Ho,Wo)],
    'iou': (I,S,P) or None}`` (features flattened to (I*S, C, H, W)).
    """
    S = train_bb.shape[1]
    tr = net.extract_backbone_features(train_imgs.reshape(-1, *train_imgs.shape[-3:]))
    te = net.extract_backbone_features(test_imgs.reshape(-1, *test_imgs.shape[-3:]))
    cls_layer = net.classification_layer
    tr_clf = net.classifier.extract_classification_feat(tr[cls_layer])
    te_clf = net.classifier.extract_classification_feat(te[cls_layer])
    _, iterates, _ = net.classifier.get_filter(tr_clf.reshape(-1, S, *tr_clf.shape[-3:]), train_bb)
    te5 = te_clf.reshape(-1, S, *te_clf.shape[-3:])
    scores = [net.classifier.classify(f, te5) for f in iterates]
    iou = None
    if need_iou:
        iou = net.bb_regressor(net.get_backbone_bbreg_feat(tr), net.get_backbone_bbreg_feat(te), train_bb, proposals)
    return {"train": {**tr, "clf": tr_clf}, "test": {**te, "clf": te_clf}, "scores": scores, "iou": iou}


def feature_mimic_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """L2 between channel-normalised feature maps: sum over channels of the squared difference of
    unit vectors, mean over positions and images (0 for identical maps, at most 4)."""
    s = F.normalize(student.float(), dim=1)
    t = F.normalize(teacher.float(), dim=1)
    return (s - t).pow(2).sum(dim=1).mean()


def response_kl(student: Tensor, teacher: Tensor, temperature: float = 0.1) -> Tensor:
    """KL(teacher || student) of the score maps as distributions over the map (softmax of
    score / temperature), mean over images; 0 for identical maps."""
    s = student.float().flatten(-2) / temperature
    t = teacher.float().flatten(-2) / temperature
    p_t = F.softmax(t, dim=-1)
    return (p_t * (F.log_softmax(t, dim=-1) - F.log_softmax(s, dim=-1))).sum(-1).mean()


def response_mse(student: Tensor, teacher: Tensor) -> Tensor:
    """MSE between score maps."""
    return F.mse_loss(student.float(), teacher.float())


def _check_bn(mode: str) -> str:
    if mode not in ("train", "frozen"):
        raise ValueError(f"batchnorm must be 'train' or 'frozen', got {mode!r}")
    return mode


class _PartsActor(Actor):
    """Shared: a trained ``net`` with frozen parts kept in eval mode."""

    net: nn.Module
    frozen: list[nn.Module]
    batchnorm: str = "frozen"

    def train(self, mode: bool = True) -> "_PartsActor":
        self.net.train(mode)
        for m in self.frozen:
            m.eval()
        if self.batchnorm == "frozen":  # running statistics stay the teacher's; affine weights still train
            for m in self.net.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def _iou_loss(self, iou_pred: Tensor, batch: dict[str, Tensor]) -> tuple[Tensor, str]:
        if self.iou_loss == "mse":
            return iou_mse(iou_pred, batch["proposal_iou"]), "iou"
        return kl_regression(iou_pred, batch["proposal_density"], batch["gt_density"], mc_dim=-1), "bb_ce"


class OfficialCMDActor(_PartsActor):
    """The published CMD recipe on pair batches (each crop annotated with its own pair box).

    args:
        net: the student DiMPNet (initialised from the RGB teacher).
        components: trained heads, subset of ('classifier', 'iou').
        backbone: 'frozen' (official) or 'trainable'.
        batchnorm: 'frozen' (the teacher's running statistics kept in every trained part; the
            schema's default) or 'train' (batch statistics, running averages updated).
        loss_weights: DiMP weights (100/400/100, iou 1 or bb_ce 0.01).
        clf_scale, iou_scale: strategy weights multiplying the classification / IoU terms.
        iou_loss: 'mse' or 'kl' (the teacher's).
    """

    def __init__(self, net: nn.Module, components: Sequence[str] = ("classifier", "iou"), backbone: str = "frozen",
                 loss_weights: dict[str, float] | None = None, clf_scale: float = 1.0, iou_scale: float = 1.0,
                 iou_loss: str = "mse", hinge_threshold: float = 0.05, batchnorm: str = "frozen"):
        if iou_loss not in ("mse", "kl"):
            raise ValueError(f"iou_loss must be 'mse' or 'kl', got {iou_loss!r}")
        self.net = net
        self.batchnorm = _check_bn(batchnorm)
        self.components = list(components)
        self.frozen = freeze_parts(net, self.components, backbone)
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.clf_scale = float(clf_scale) if "classifier" in self.components else 0.0
        self.iou_scale = float(iou_scale) if "iou" in self.components else 0.0
        self.iou_loss = iou_loss
        self.hinge_threshold = hinge_threshold
        self.train(True)

    def __call__(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        out = run_dimp(self.net, batch["train_images"], batch["test_images"], batch["train_anno"],
                       batch["test_proposals"], need_iou=self.iou_scale > 0)
        clf_loss, terms = classification_losses(out["scores"], batch["test_label"], self.loss_weights,
                                                self.hinge_threshold)
        loss = self.clf_scale * clf_loss
        stats: dict[str, Any] = {"loss_clf": clf_loss.detach()}
        stats.update({k: v.detach() for k, v in terms.items()})
        if self.iou_scale > 0:
            bb_raw, key = self._iou_loss(out["iou"], batch)
            w = self.loss_weights["iou" if key == "iou" else "bb_ce"]
            loss = loss + self.iou_scale * w * bb_raw
            stats["loss_bb"] = (w * bb_raw).detach()
            stats[key] = bb_raw.detach()
        stats["loss"] = loss.detach()
        return loss, stats


class DistillActor(_PartsActor):
    """Teacher (frozen RGB model on RGB crops) -> student (TIR crops at the same geometry).

    args:
        student: the trained DiMPNet (initialised from the teacher).
        teacher: the RGB teacher; a frozen deep copy is kept (never trained, always eval).
        losses: strategy loss settings (see :mod:`.strategies`): ``feature``, ``feature_layers``,
            ``response``, ``response_type``, ``temperature``, ``iou``, ``pair_clf``, ``pair_iou``.
        components, backbone: what the student trains (the rest is frozen).
        batchnorm: 'train' or 'frozen' (see :class:`OfficialCMDActor`).
        loss_weights, iou_loss: DiMP weights for the optional pair (pseudo-label) losses.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, losses: dict[str, Any],
                 components: Sequence[str] = ("classifier", "iou"), backbone: str = "trainable",
                 loss_weights: dict[str, float] | None = None, iou_loss: str = "mse", hinge_threshold: float = 0.05,
                 batchnorm: str = "frozen"):
        if iou_loss not in ("mse", "kl"):
            raise ValueError(f"iou_loss must be 'mse' or 'kl', got {iou_loss!r}")
        self.net = student
        self.batchnorm = _check_bn(batchnorm)
        self.teacher = copy.deepcopy(teacher)
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.components = list(components)
        self.frozen = freeze_parts(student, self.components, backbone)
        self.losses = dict(losses)
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.iou_loss = iou_loss
        self.hinge_threshold = hinge_threshold
        self.train(True)

    def train(self, mode: bool = True) -> "DistillActor":
        super().train(mode)
        self.teacher.eval()
        return self

    def to(self, device: torch.device | str) -> "DistillActor":
        self.net.to(device)
        self.teacher.to(device)
        return self

    def _w(self, key: str) -> float:
        return float(self.losses.get(key, 0.0) or 0.0)

    def __call__(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        need_iou = self._w("iou") > 0 or self._w("pair_iou") > 0
        with torch.no_grad():
            t = run_dimp(self.teacher, batch["train_images"], batch["test_images"], batch["train_anno"],
                         batch["test_proposals"], need_iou=self._w("iou") > 0)
        s = run_dimp(self.net, batch["train_images_student"], batch["test_images_student"], batch["train_anno"],
                     batch["test_proposals"], need_iou=need_iou)
        loss = torch.zeros((), device=batch["train_anno"].device)
        stats: dict[str, Any] = {}
        if self._w("feature") > 0:
            parts = [feature_mimic_loss(s[role][layer], t[role][layer])
                     for layer in self.losses.get("feature_layers", ("layer2", "layer3", "clf"))
                     for role in ("train", "test")]
            feat = torch.stack(parts).mean()
            loss = loss + self._w("feature") * feat
            stats["feature"] = feat.detach()
        if self._w("response") > 0:
            if self.losses.get("response_type", "kl") == "kl":
                temp = float(self.losses.get("temperature", 0.1))
                terms = [response_kl(ss, tt, temp) for ss, tt in zip(s["scores"], t["scores"])]
            else:
                terms = [response_mse(ss, tt) for ss, tt in zip(s["scores"], t["scores"])]
            resp = torch.stack(terms).mean()
            loss = loss + self._w("response") * resp
            stats["response"] = resp.detach()
        if self._w("iou") > 0:
            iou_d = F.mse_loss(s["iou"].float(), t["iou"].float())
            loss = loss + self._w("iou") * iou_d
            stats["iou_distill"] = iou_d.detach()
        if self._w("pair_clf") > 0:
            clf_loss, _ = classification_losses(s["scores"], batch["test_label"], self.loss_weights,
                                                self.hinge_threshold)
            loss = loss + self._w("pair_clf") * clf_loss
            stats["pair_clf"] = clf_loss.detach()
        if self._w("pair_iou") > 0:
            bb_raw, key = self._iou_loss(s["iou"], batch)
            w = self.loss_weights["iou" if key == "iou" else "bb_ce"]
            loss = loss + self._w("pair_iou") * w * bb_raw
            stats["pair_iou"] = bb_raw.detach()
        stats["loss"] = loss.detach()
        return loss, stats
