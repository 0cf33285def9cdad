"""Sample memory of the DiMP tracker: stored training features, their target boxes and weights.

A new sample gets weight ``learning_rate`` while all others decay by ``1 - learning_rate``
(exponential forgetting). When the memory is full, the lowest-weight non-initial sample is
replaced. The initial (augmented first-frame) samples are never replaced and together keep at
least ``min_init_weight`` of the total weight, so the tracker cannot forget the first frame.
"""

from __future__ import annotations

import torch

__all__ = ["SampleMemory"]


class SampleMemory:
    """Fixed-capacity memory; weights always sum to 1 over the stored samples."""

    def __init__(self, init_features: torch.Tensor, init_boxes: torch.Tensor, capacity: int,
                 min_init_weight: float = 0.0):
        n = init_features.shape[0]
        if capacity <= n:
            raise ValueError(f"memory capacity {capacity} must exceed the {n} initial samples")
        self.capacity = int(capacity)
        self.num_init = n
        self.num_stored = n
        self.min_init_weight = float(min_init_weight)
        self.features = init_features.new_zeros((capacity, *init_features.shape[1:]))
        self.features[:n] = init_features
        self.boxes = init_boxes.new_zeros((capacity, 4))
        self.boxes[:n] = init_boxes
        self.weights = init_features.new_zeros(capacity)
        self.weights[:n] = 1.0 / n

    def _next_index(self) -> int:
        if self.num_stored < self.capacity:
            return self.num_stored
        return self.num_init + int(torch.argmin(self.weights[self.num_init:]))

    def add(self, feature: torch.Tensor, box: torch.Tensor, learning_rate: float) -> int:
        """Store one sample (1, C, H, W) with its box (4,); returns the slot it went to."""
        idx = self._next_index()
        w = self.weights
        w[: self.num_stored] *= 1.0 - learning_rate
        w[idx] = learning_rate
        self.num_stored = max(self.num_stored, idx + 1)
        w[: self.num_stored] /= w[: self.num_stored].sum()
        init_sum = float(w[: self.num_init].sum())
        if self.min_init_weight > 0 and init_sum < self.min_init_weight:
            rest = w[self.num_init: self.num_stored]
            rest *= (1.0 - self.min_init_weight) / max(float(rest.sum()), 1e-12)
            w[: self.num_init] *= self.min_init_weight / max(init_sum, 1e-12)
        self.features[idx] = feature.reshape(self.features.shape[1:])
        self.boxes[idx] = box.reshape(4)
        return idx

    def samples(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(features (n, C, H, W), boxes (n, 4), weights (n,)) of the stored samples."""
        n = self.num_stored
        return self.features[:n], self.boxes[:n], self.weights[:n]
