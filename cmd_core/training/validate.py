"""Quick validation of a trained DiMP on held-out labelled frames (no tracker needed).

Draws template/search samples like training (fixed seed, jitter included) and measures, in eval
mode: the fraction of search crops whose final score peak lies within ``radius`` feature cells of
the target centre (``peak_acc``), the same for the initial filter, the mean IoU of the proposal the
IoU-Net ranks highest (``top_iou``) against the mean IoU of all proposals (``mean_iou``). A trained
teacher should beat an untrained network clearly; used to check that the demo preset learns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import processing_settings
from .dataset import TrackingSamplesDataset, stack_collate
from .sampler import SequenceSampler

__all__ = ["validate_net"]


@torch.no_grad()
def validate_net(net: torch.nn.Module, manifest: str | Path, config: dict[str, Any], modality: str = "rgb",
                 samples: int = 64, seed: int = 1234, radius: float = 1.0, batch_size: int = 8) -> dict[str, float]:
    """Localisation and IoU-ranking scores of ``net`` on ``samples`` samples of ``manifest``."""
    sampler = SequenceSampler(manifest, modality, config["num_train_frames"], config["num_test_frames"],
                              config["max_gap"], seed)
    ps = processing_settings(config)
    ps.grayscale_prob, ps.brightness_jitter, ps.flip_prob = 0.0, 0.0, 0.0
    ps.proposal_mode, ps.num_proposals = "iou", 16
    ds = TrackingSamplesDataset(sampler, ps, samples)
    net.eval()
    hits = hits0 = n = 0
    top, mean = [], []
    off = (ps.filter_size % 2) / 2.0
    for start in range(0, samples, batch_size):
        b = stack_collate([ds[(0, i)] for i in range(start, min(samples, start + batch_size))])
        scores, iou = net(b["train_images"], b["test_images"], b["train_anno"], b["test_proposals"])
        c = (b["test_anno"][..., :2] + b["test_anno"][..., 2:] / 2) / 16.0 - off  # (I, S, 2) x, y in cells
        for sc, acc in ((scores[-1], "final"), (scores[0], "init")):
            w = sc.shape[-1]
            idx = sc.flatten(-2).argmax(-1)
            py, px = (idx // w).float(), (idx % w).float()
            ok = ((px - c[..., 0]).abs() <= radius) & ((py - c[..., 1]).abs() <= radius)
            if acc == "final":
                hits += int(ok.sum())
                n += ok.numel()
            else:
                hits0 += int(ok.sum())
        best = iou.argmax(-1, keepdim=True)
        top.append(torch.gather(b["proposal_iou"], -1, best).flatten())
        mean.append(b["proposal_iou"].mean(-1).flatten())
    return {"peak_acc": hits / n, "peak_acc_init_filter": hits0 / n, "top_iou": float(torch.cat(top).mean()),
            "mean_iou": float(torch.cat(mean).mean()), "samples": samples,
            "chance_peak_acc": float(min(1.0, (2 * radius + 1) ** 2 / np.prod(scores[-1].shape[-2:])))}
