"""Box embeddings under the frozen ImageNet MobileNetV2: the feature view of the modality gap.

A box (with some context) is warped to a fixed square crop, run through `features[:14]` (the
teacher's stride-16 tap) and flattened into one L2-normalised vector, so that the cosine of two
embeddings compares what the same box looks like to the backbone, place by place. Grey and TIR
images are fed as three equal channels, as the trackers feed them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from cmd_core.model.mobilenet import mobilenet_v2_backbone
from cmd_core.training.processing import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["BoxEmbedder", "crop_box"]


def crop_box(image: np.ndarray, box, size: int, context: float) -> np.ndarray:
    """The box grown by `context` times its width and height around its centre, warped to
    `size` x `size` (borders replicated). `image` is HxWx3 or HxW; the result keeps its channels."""
    x, y, w, h = (float(v) for v in box)
    cw, ch = w * context, h * context
    x0, y0 = x + w / 2 - cw / 2, y + h / 2 - ch / 2
    sx, sy = size / cw, size / ch
    mat = np.array([[sx, 0.0, -x0 * sx], [0.0, sy, -y0 * sy]], np.float32)
    return cv2.warpAffine(image, mat, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class BoxEmbedder:
    """Embeds boxes of RGB (HxWx3, RGB order, uint8) or grey (HxW uint8) images; `weights` is
    'imagenet' (the packaged MobileNetV2) or a local file of the same layout."""

    def __init__(self, weights: str | Path = "imagenet", size: int = 128, context: float = 1.5,
                 batch: int = 32):
        self.backbone = mobilenet_v2_backbone(weights=weights, output_layers=("layer3",)).eval()
        self.size, self.context, self.batch = int(size), float(context), int(batch)
        self._mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)

    def crops(self, image: np.ndarray, boxes) -> list[np.ndarray]:
        """One size x size x 3 uint8 crop per box (grey images replicated to three channels)."""
        out = []
        for box in boxes:
            c = crop_box(image, box, self.size, self.context)
            out.append(np.repeat(c[:, :, None], 3, axis=2) if c.ndim == 2 else c)
        return out

    @torch.no_grad()
    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, D) float32 unit vectors for N crops from :meth:`crops`."""
        if not crops:
            return np.zeros((0, 0), np.float32)
        parts = []
        for i in range(0, len(crops), self.batch):
            x = torch.from_numpy(np.stack(crops[i:i + self.batch])).permute(0, 3, 1, 2).float() / 255.0
            x = (x - self._mean) / self._std
            f = self.backbone(x)["layer3"].flatten(1)
            parts.append(torch.nn.functional.normalize(f, dim=1))
        return torch.cat(parts).numpy()
