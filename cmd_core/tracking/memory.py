"""Sample memory of the DiMP tracker: stored training features, their target boxes and weights.

Two weighting rules:

- reference (official presets, pytracking's ``update_sample_weights``): the first update divides
  all weights by ``1 - lr`` and gives the new sample ``lr``; later ones give the new sample the
  weight of the previously added sample divided by ``1 - lr`` (each sample weighs ``1/(1-lr)``
  times the one before it, hard negatives with their own rate); then the weights are normalised
  to sum 1. If the initial samples then weigh less than ``min_init_weight`` in total, all weights
  are divided by ``min_init_weight + (weight of the others)`` and each initial sample is set to
  ``min_init_weight / num_init`` (as the reference does: the total is then close to, not exactly, 1).
  With ``min_init_weight > 0`` the initial samples are never replaced; with 0 they may be.
- decay (ours, ``memory_decay_weights``): old weights decay by ``1 - lr`` and the new sample gets
  ``lr``; normalised to 1, the initial samples are rescaled to keep ``min_init_weight`` in total
  and are never replaced.

When the memory is full, the lowest-weight replaceable sample is replaced.
"""

from __future__ import annotations

import torch

__all__ = ["SampleMemory"]


class SampleMemory:
    """Fixed-capacity memory of (feature, box, weight) samples; ``reference`` picks the weighting rule."""

    def __init__(self, init_features: torch.Tensor, init_boxes: torch.Tensor, capacity: int,
                 min_init_weight: float = 0.0, reference: bool = True):
        n = init_features.shape[0]
        if capacity <= n:
            raise ValueError(f"memory capacity {capacity} must exceed the {n} initial samples")
        self.capacity = int(capacity)
        self.num_init = n
        self.num_stored = n
        self.min_init_weight = float(min_init_weight)
        self.reference = bool(reference)
        self.previous_index: int | None = None
        self.features = init_features.new_zeros((capacity, *init_features.shape[1:]))
        self.features[:n] = init_features
        self.boxes = init_boxes.new_zeros((capacity, 4))
        self.boxes[:n] = init_boxes
        self.weights = init_features.new_zeros(capacity)
        self.weights[:n] = 1.0 / n

    def _next_index(self) -> int:
        if self.num_stored < self.capacity:
            return self.num_stored
        first = self.num_init if (self.min_init_weight > 0 or not self.reference) else 0
        return first + int(torch.argmin(self.weights[first:]))

    def _reference_weights(self, idx: int, lr: float) -> None:
        w, n0, iw = self.weights, self.num_init, self.min_init_weight
        if lr == 1:
            w[:] = 0
            w[idx] = 1
        elif self.previous_index is None:
            w /= 1.0 - lr
            w[idx] = lr
        else:
            w[idx] = w[self.previous_index] / (1.0 - lr)
        w /= w.sum()
        if iw > 0 and float(w[:n0].sum()) < iw:
            w /= iw + w[n0:].sum()
            w[:n0] = iw / n0

    def _decay_weights(self, idx: int, lr: float) -> None:
        w = self.weights
        w[: self.num_stored] *= 1.0 - lr
        w[idx] = lr
        self.num_stored = max(self.num_stored, idx + 1)
        w[: self.num_stored] /= w[: self.num_stored].sum()
        init_sum = float(w[: self.num_init].sum())
        if self.min_init_weight > 0 and init_sum < self.min_init_weight:
            rest = w[self.num_init: self.num_stored]
            rest *= (1.0 - self.min_init_weight) / max(float(rest.sum()), 1e-12)
            w[: self.num_init] *= self.min_init_weight / max(init_sum, 1e-12)

    def add(self, feature: torch.Tensor, box: torch.Tensor, learning_rate: float) -> int:
        """Store one sample (1, C, H, W) with its box (4,); returns the slot it went to."""
        idx = self._next_index()
        if self.reference:
            self._reference_weights(idx, float(learning_rate))
            self.num_stored = max(self.num_stored, idx + 1)
        else:
            self._decay_weights(idx, float(learning_rate))
        self.previous_index = idx
        self.features[idx] = feature.reshape(self.features.shape[1:])
        self.boxes[idx] = box.reshape(4)
        return idx

    def samples(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(features (n, C, H, W), boxes (n, 4), weights (n,)) of the stored samples."""
        n = self.num_stored
        return self.features[:n], self.boxes[:n], self.weights[:n]
