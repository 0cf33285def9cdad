"""IoU-Net box refinement: gradient ascent on the predicted IoU with respect to box coordinates.

The IoU predictor is differentiable in the box through precise RoI pooling. Starting from the
classifier's box plus random jitters of it, each box climbs the predicted IoU for a few steps;
the final box is the mean of the top-k boxes.

Two parameterisations (as the official tracker): ``default`` - pixel coordinates with the
gradient scaled by the box size (x, y, w, h += step * grad * (w, h, w, h)); ``relative`` (Super
DiMP) - centre in units of the first box's size and log size.

The official procedure (``reject_worse=False``) keeps every step: ``iterations`` forward /
backward passes, the boxes after the last step, ranked by the IoU of the last forward pass (the
state before that step). Ours (``box_refinement_reject_worse``, cpu preset) rejects a step that
lowers a box's predicted IoU (the box keeps its previous value and its step is halved, growing
back after accepted steps); the predicted IoU of every box is then monotone non-decreasing, at the
cost of one more IoU evaluation (the last, without gradient).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .params import DiMPParams

__all__ = ["optimize_boxes", "jitter_boxes", "select_box", "rect_to_rel", "rel_to_rect"]


def rect_to_rel(bb: Tensor, sz_norm: Tensor) -> Tensor:
    """(x, y, w, h) -> (cx / sz_norm, cy / sz_norm, log w, log h)."""
    c = bb[..., :2] + 0.5 * bb[..., 2:]
    return torch.cat((c / sz_norm, torch.log(bb[..., 2:])), dim=-1)


def rel_to_rect(rel: Tensor, sz_norm: Tensor) -> Tensor:
    sz = torch.exp(rel[..., 2:])
    c = rel[..., :2] * sz_norm
    return torch.cat((c - 0.5 * sz, sz), dim=-1)


def jitter_boxes(init_box: Tensor, params: DiMPParams, generator: torch.Generator | None = None) -> Tensor:
    """The initial box (x, y, w, h) followed by ``num_init_random_boxes`` random jitters of it."""
    init_box = init_box.reshape(4)
    n = params.num_init_random_boxes
    if n <= 0:
        return init_box.reshape(1, 4).clone()
    square = torch.sqrt(init_box[2] * init_box[3])
    factor = square * torch.tensor([params.box_jitter_pos] * 2 + [params.box_jitter_sz] * 2, dtype=init_box.dtype)
    rand = (torch.rand((n, 4), generator=generator, dtype=init_box.dtype) - 0.5) * factor
    min_edge = init_box[2:].min() / 3
    size = (init_box[2:] + rand[:, 2:]).clamp(min=float(min_edge))
    center = init_box[:2] + init_box[2:] / 2 + rand[:, :2]
    return torch.cat((init_box.reshape(1, 4), torch.cat((center - size / 2, size), dim=1)), dim=0)


def optimize_boxes(predict_iou: Callable[[Tensor], Tensor], boxes: Tensor, iterations: int, step_length: float,
                   step_decay: float = 1.0, space: str = "default",
                   history: list | None = None, reject_worse: bool = True) -> tuple[Tensor, Tensor]:
    """Gradient ascent of ``predict_iou`` ((N, 4) xywh -> (N,)) over the boxes.

    Boxes may also be (B, N, 4): B independent sets (``predict_iou`` then maps (B, N, 4) -> (B, N)),
    each normalised by its own first box, every element updated exactly as in the (N, 4) case
    (the batched tracker refines the boxes of many sequences at once this way).

    ``reject_worse``: safeguarded (ours): returns (boxes (N, 4), predicted IoU (N,)) of the best
    evaluated state of every box. Otherwise the reference: every step kept, returns the final boxes
    and the IoU of the last evaluated state. When ``history`` is a list, the per-box IoU after each
    step is appended (for tests).
    """
    if not reject_worse:
        return _optimize_boxes_reference(predict_iou, boxes, iterations, step_length, step_decay, space, history)
    boxes = _as_box_sets(boxes)
    n = boxes.shape[:-1]
    sz_norm = boxes[..., :1, 2:].clone()
    if space == "relative":
        to_state, to_rect = (lambda b: rect_to_rel(b, sz_norm)), (lambda s: rel_to_rect(s, sz_norm))
    else:
        to_state, to_rect = (lambda b: b), (lambda s: s)
    state = to_state(boxes)
    step = torch.full((*n, 1), float(step_length), dtype=boxes.dtype)
    nominal = float(step_length)
    best_state = state.clone()
    best_iou = torch.full(n, -float("inf"), dtype=boxes.dtype)
    best_grad = torch.zeros_like(state)
    for i in range(iterations + 1):
        last = i == iterations
        with torch.enable_grad():
            s = state.detach().requires_grad_(not last)
            iou = predict_iou(to_rect(s)).reshape(n)
            grad = torch.autograd.grad(iou.sum(), s)[0] if not last else torch.zeros_like(s)
        iou = iou.detach()
        better = iou >= best_iou
        best_state = torch.where(better[..., None], s.detach(), best_state)
        best_grad = torch.where(better[..., None], grad, best_grad)
        best_iou = torch.where(better, iou, best_iou)
        # rejected: halve the box's step; accepted: let it grow back towards the nominal step
        step = torch.where(better[..., None], torch.clamp(step * 2.0, max=nominal), step * 0.5)
        if history is not None:
            history.append(best_iou.clone())
        if last:
            break
        if space == "relative":
            update = best_grad
        else:
            update = best_grad * _size_twice(best_state)
        state = best_state + step * update
        if space != "relative":  # keep sizes positive
            state = torch.cat((state[..., :2], state[..., 2:].clamp(min=1e-3)), dim=-1)
        step = step * step_decay
        nominal *= step_decay
    return to_rect(best_state).detach(), best_iou


def _optimize_boxes_reference(predict_iou, boxes: Tensor, iterations: int, step_length: float,
                              step_decay: float, space: str, history: list | None) -> tuple[Tensor, Tensor]:
    """pytracking's ``optimize_boxes_default`` / ``_relative``: ``state += step * grad`` (default:
    ``grad * (w, h, w, h)``), every step kept; the IoU returned is that of the last forward pass."""
    boxes = _as_box_sets(boxes)
    n = boxes.shape[:-1]
    sz_norm = boxes[..., :1, 2:].clone()
    relative = space == "relative"
    state = rect_to_rel(boxes, sz_norm) if relative else boxes
    to_rect = (lambda s: rel_to_rect(s, sz_norm)) if relative else (lambda s: s)
    step = float(step_length)
    iou = None
    for _ in range(iterations):
        with torch.enable_grad():
            s = state.detach().requires_grad_(True)
            out = predict_iou(to_rect(s)).reshape(n)
            grad = torch.autograd.grad(out.sum(), s)[0]
        iou = out.detach()
        if history is not None:
            history.append(iou.clone())
        update = grad if relative else grad * _size_twice(s.detach())
        state = s.detach() + step * update
        step *= step_decay
    if iou is None:  # no iterations: rank the initial boxes
        with torch.no_grad():
            iou = predict_iou(to_rect(state)).reshape(n).detach()
    return to_rect(state).detach(), iou


def _as_box_sets(boxes: Tensor) -> Tensor:
    """A detached copy, (N, 4) or (B, N, 4) (anything else is read as (N, 4))."""
    boxes = boxes.detach()
    return (boxes if boxes.dim() == 3 else boxes.reshape(-1, 4)).clone()


def _size_twice(state: Tensor) -> Tensor:
    """(w, h, w, h) of (..., 4) boxes."""
    size = state[..., 2:]
    return torch.cat((size, size), dim=-1)


def select_box(boxes: Tensor, ious: Tensor, params: DiMPParams) -> Tensor | None:
    """Drop boxes with extreme aspect ratios, return the mean of the top-k (None if none is left)."""
    boxes = boxes.clone()
    boxes[:, 2:] = boxes[:, 2:].clamp(min=1)
    ar = boxes[:, 2] / boxes[:, 3]
    keep = (ar < params.maximal_aspect_ratio) & (ar > 1.0 / params.maximal_aspect_ratio) & torch.isfinite(ious)
    boxes, ious = boxes[keep], ious[keep]
    if boxes.shape[0] == 0:
        return None
    k = min(params.iounet_k, boxes.shape[0])
    idx = torch.topk(ious, k).indices
    return boxes[idx].mean(dim=0)
