"""Cross-modal distillation (CMD) of an RGB DiMP teacher into a TIR student.

:mod:`.strategies` (named strategies and their checks), :mod:`.pair_dataset` (samples from a pair
manifest), :mod:`.actors` (official CMD recipe and teacher -> student distillation), :mod:`.train`
(one job on the training package's Trainer), :mod:`.supervised` (the label-using TIR upper bound),
:mod:`.cli` (``cmd-tir distill``).
"""

from .actors import DistillActor, OfficialCMDActor, feature_mimic_loss, response_kl, response_mse
from .pair_dataset import EmptyPairsError, MissingFrameError, PairDataset, read_pairs
from .strategies import DEFAULT_STRATEGIES, StrategyError, resolve_strategies, resolve_strategy
from .supervised import train_supervised_tir
from .train import DistillOOMError, distill

__all__ = [
    "DEFAULT_STRATEGIES", "DistillActor", "DistillOOMError", "EmptyPairsError", "MissingFrameError",
    "OfficialCMDActor", "PairDataset", "StrategyError", "distill", "feature_mimic_loss", "read_pairs",
    "resolve_strategies", "resolve_strategy", "response_kl", "response_mse", "train_supervised_tir",
]
