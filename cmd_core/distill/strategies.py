"""Distillation strategies: a pair method x what is distilled x the losses, named in config.

A strategy is a plain dict (JSON-able, stored in every checkpoint) checked by :func:`resolve_strategy`:

- ``pairs``: the pair method whose manifest supervises it (``results/pairs/<dataset>/<pairs>.parquet``).
- ``mode``: ``official`` (the published CMD recipe: the DiMP loss with the filter learned on the
  template of one modality, scored on the search crop of the other, each crop supervised with its
  own pair box) or ``distill`` (a frozen RGB teacher sees the RGB crops, the student sees the
  aligned TIR crops; losses between their features / responses / IoU predictions).
- ``components``: the trained heads, a subset of ``classifier`` and ``iou`` (the rest is frozen).
- ``backbone``: ``frozen`` or ``trainable``.
- ``batchnorm``: ``train`` (batch statistics; running averages move to the pair crops) or
  ``frozen`` (the teacher's running statistics are kept; affine weights still train).
- ``losses``: weights (0 switches a term off). ``official`` mode: ``clf`` (scales the 100/400/100
  DiMP classification weights) and ``iou`` (scales the IoU-Net loss weight). ``distill`` mode:
  ``feature`` (L2 between channel-normalised layer2 / layer3 / classification features),
  ``response`` (score maps; ``response_type`` ``kl`` over the map with ``temperature``, or ``mse``),
  ``iou`` (student IoU on TIR proposals vs teacher IoU on the same RGB proposals) and ``pair_clf`` /
  ``pair_iou`` (the official pseudo-label DiMP losses on the student's TIR crops, off by default).
- ``lr_scale``: multiplies every learning rate of the teacher's training preset.

No strategy reads ground truth: all boxes come from the pair manifest.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["MODES", "COMPONENTS", "BACKBONE", "FEATURE_LAYERS", "DEFAULT_LOSSES", "DEFAULT_STRATEGIES",
           "resolve_strategy", "resolve_strategies", "strategy_pairs_method", "StrategyError"]

MODES = ("official", "distill")
COMPONENTS = ("classifier", "iou")
BACKBONE = ("frozen", "trainable")
FEATURE_LAYERS = ("layer2", "layer3", "clf")
KNOWN_PAIR_METHODS = ("central", "random", "detector")

DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "official": {"clf": 1.0, "iou": 1.0},
    "distill": {"feature": 0.0, "feature_layers": ["layer2", "layer3", "clf"], "response": 0.0,
                "response_type": "kl", "temperature": 0.1, "iou": 0.0, "pair_clf": 0.0, "pair_iou": 0.0},
}

# The defaults of the demo (mirrored in workflow/schemas/config.schema.yaml).
DEFAULT_STRATEGIES: dict[str, dict[str, Any]] = {
    "official": {"pairs": "detector", "mode": "official", "components": ["classifier", "iou"],
                 "backbone": "frozen", "losses": {"clf": 1.0, "iou": 1.0}, "lr_scale": 0.3},
    "mimic_response": {"pairs": "detector", "mode": "distill", "components": ["classifier", "iou"],
                       "backbone": "trainable", "losses": {"feature": 1.0, "response": 1.0}, "lr_scale": 0.3},
    "full": {"pairs": "detector", "mode": "distill", "components": ["classifier", "iou"],
             "backbone": "trainable", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0}, "lr_scale": 0.3},
    "full_central": {"pairs": "central", "mode": "distill", "components": ["classifier", "iou"],
                     "backbone": "trainable", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0},
                     "lr_scale": 0.3},
    "full_random": {"pairs": "random", "mode": "distill", "components": ["classifier", "iou"],
                    "backbone": "trainable", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0},
                    "lr_scale": 0.3},
    "full_clf_only": {"pairs": "detector", "mode": "distill", "components": ["classifier"],
                      "backbone": "frozen", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0},
                      "lr_scale": 0.3},
    "full_iou_only": {"pairs": "detector", "mode": "distill", "components": ["iou"],
                      "backbone": "frozen", "losses": {"feature": 1.0, "response": 1.0, "iou": 1.0},
                      "lr_scale": 0.3},
}

_KEYS = ("pairs", "mode", "components", "backbone", "batchnorm", "losses", "lr_scale", "description")
BATCHNORM = ("train", "frozen")


class StrategyError(ValueError):
    """A strategy names an unknown pair method, mode, component or loss."""


def resolve_strategy(strategy: str | dict[str, Any], name: str | None = None,
                     pair_methods: list[str] | tuple[str, ...] | None = None,
                     strategies: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A checked, complete strategy dict (defaults filled in, ``name`` added).

    ``strategy``: a name (looked up in ``strategies``, default :data:`DEFAULT_STRATEGIES`) or a
    dict. ``pair_methods``: the configured pair methods (default central / random / detector);
    an unknown one, component, mode, backbone setting or loss key raises :class:`StrategyError`.
    """
    table = DEFAULT_STRATEGIES if strategies is None else strategies
    if isinstance(strategy, str):
        if strategy not in table:
            raise StrategyError(f"unknown distillation strategy {strategy!r} (configured: {sorted(table)})")
        name, strategy = strategy, table[strategy]
    if not isinstance(strategy, dict):
        raise StrategyError(f"strategy {name!r}: expected a mapping, got {type(strategy).__name__}")
    label = f"strategy {name!r}" if name else "strategy"
    unknown = sorted(set(strategy) - set(_KEYS) - {"name"})
    if unknown:
        raise StrategyError(f"{label}: unknown key(s) {unknown} (known: {list(_KEYS)})")
    s = copy.deepcopy(strategy)
    s.setdefault("mode", "distill")
    if s["mode"] not in MODES:
        raise StrategyError(f"{label}: unknown mode {s['mode']!r} (choose from {list(MODES)})")
    methods = tuple(pair_methods) if pair_methods is not None else KNOWN_PAIR_METHODS
    if "pairs" not in s:
        raise StrategyError(f"{label}: 'pairs' (the pair method) is required")
    if s["pairs"] not in methods:
        raise StrategyError(f"{label}: unknown pair method {s['pairs']!r} (configured pair methods: {sorted(methods)})")
    comps = s.setdefault("components", list(COMPONENTS))
    if isinstance(comps, str):
        comps = s["components"] = [comps]
    bad = [c for c in comps if c not in COMPONENTS]
    if bad or not comps:
        raise StrategyError(f"{label}: unknown component(s) {bad or comps} (choose a non-empty subset of "
                            f"{list(COMPONENTS)})")
    s["components"] = [c for c in COMPONENTS if c in comps]
    s.setdefault("backbone", "frozen")
    if s["backbone"] not in BACKBONE:
        raise StrategyError(f"{label}: backbone must be one of {list(BACKBONE)}, got {s['backbone']!r}")
    s.setdefault("batchnorm", "train")
    if s["batchnorm"] not in BATCHNORM:
        raise StrategyError(f"{label}: batchnorm must be one of {list(BATCHNORM)}, got {s['batchnorm']!r}")
    losses = dict(DEFAULT_LOSSES[s["mode"]])
    given = dict(s.get("losses") or {})
    bad = sorted(set(given) - set(losses))
    if bad:
        raise StrategyError(f"{label}: unknown loss(es) {bad} for mode {s['mode']!r} (known: {sorted(losses)})")
    losses.update(given)
    if s["mode"] == "distill":
        if losses["response_type"] not in ("kl", "mse"):
            raise StrategyError(f"{label}: response_type must be 'kl' or 'mse', got {losses['response_type']!r}")
        badl = [x for x in losses["feature_layers"] if x not in FEATURE_LAYERS]
        if badl:
            raise StrategyError(f"{label}: unknown feature layer(s) {badl} (choose from {list(FEATURE_LAYERS)})")
        if float(losses["temperature"]) <= 0:
            raise StrategyError(f"{label}: temperature must be > 0")
        weights = ("feature", "response", "iou", "pair_clf", "pair_iou")
    else:
        weights = ("clf", "iou")
    for k in weights:
        if float(losses[k]) < 0:
            raise StrategyError(f"{label}: loss weight {k} must be >= 0, got {losses[k]}")
    if not any(float(losses[k]) > 0 for k in weights):
        raise StrategyError(f"{label}: every loss weight is 0 (set at least one of {list(weights)})")
    s["losses"] = losses
    s["lr_scale"] = float(s.get("lr_scale", 1.0))
    if s["lr_scale"] <= 0:
        raise StrategyError(f"{label}: lr_scale must be > 0")
    s.setdefault("description", "")
    s["name"] = name or s.get("name") or "custom"
    return s


def resolve_strategies(strategies: dict[str, dict[str, Any]] | None = None,
                       pair_methods: list[str] | tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """Check every strategy of a config section (default: :data:`DEFAULT_STRATEGIES`)."""
    table = DEFAULT_STRATEGIES if strategies is None else strategies
    if not table:
        raise StrategyError("no distillation strategy configured")
    return {n: resolve_strategy(n, pair_methods=pair_methods, strategies=table) for n in table}


def strategy_pairs_method(strategy: str, strategies: dict[str, dict[str, Any]] | None = None) -> str:
    """The pair method a strategy trains on (for the workflow's input functions)."""
    table = DEFAULT_STRATEGIES if strategies is None else strategies
    if strategy not in table:
        raise StrategyError(f"unknown distillation strategy {strategy!r} (configured: {sorted(table)})")
    return table[strategy]["pairs"]
