"""Distillation strategies: a pair method x what is distilled x the losses, named in config.

A strategy is a plain dict (JSON-able, stored in every checkpoint) checked by :func:`resolve_strategy`
against the config schema (``cmd_core/config_schema/config.schema.yaml``, ``$defs/strategy``):

- ``pairs``: the pair method whose manifest supervises it (``results/pairs/<dataset>/<pairs>.parquet``).
- ``mode``: ``official`` (the published CMD recipe: the DiMP loss with the filter learned on the
  template of one modality, scored on the search crop of the other, each crop supervised with its
  own pair box) or ``distill`` (a frozen RGB teacher sees the RGB crops, the student sees the
  aligned TIR crops; losses between their features / responses / IoU predictions).
- ``components``: the trained heads, a subset of ``classifier`` and ``iou`` (the rest is frozen).
- ``backbone``: ``frozen`` or ``trainable``.
- ``batchnorm``: ``frozen`` (default: the teacher's running statistics are kept; affine weights still
  train) or ``train`` (batch statistics; running averages move to the pair crops). It applies to
  the IoU-Net head and a trainable ResNet backbone; a MobileNetV2 backbone keeps its BatchNorm fixed.
- ``losses``: weights (0 switches a term off). ``official`` mode: ``clf`` (scales the 100/400/100
  DiMP classification weights) and ``iou`` (scales the IoU-Net loss weight). ``distill`` mode:
  ``feature`` (L2 between channel-normalised layer2 / layer3 / classification features),
  ``response`` (score maps; ``response_type`` ``kl`` over the map with ``temperature``, or ``mse``),
  ``iou`` (student IoU on TIR proposals vs teacher IoU on the same RGB proposals) and ``pair_clf`` /
  ``pair_iou`` (the official pseudo-label DiMP losses on the student's TIR crops, off by default).
- ``lr_scale``: multiplies every learning rate of the teacher's training preset (default 0.3).

No strategy reads ground truth: all boxes come from the pair manifest.
"""

from __future__ import annotations

from typing import Any

from cmd_core.config_schema import DEFAULT_LOSSES, StrategyError, resolve_strategies, resolve_strategy, section_defaults

__all__ = ["MODES", "COMPONENTS", "BACKBONE", "FEATURE_LAYERS", "DEFAULT_LOSSES", "DEFAULT_STRATEGIES",
           "resolve_strategy", "resolve_strategies", "StrategyError"]

# A strategy is checked in one place, cmd_core.config_schema (the schema's $defs/strategy plus the
# checks a schema cannot express), for the library and the workflow alike; these names are its
# choices, for readers of the code.
MODES = ("official", "distill")
COMPONENTS = ("classifier", "iou")
BACKBONE = ("frozen", "trainable")
FEATURE_LAYERS = ("layer2", "layer3", "clf")

# The demo's strategies: the schema's default of distill.strategies (not a copy of it).
DEFAULT_STRATEGIES: dict[str, dict[str, Any]] = section_defaults("distill")["strategies"]


