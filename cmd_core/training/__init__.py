"""Supervised DiMP training (the RGB teacher) and the training loop reused by distillation.

pytracking's split: :mod:`.sampler` draws template/search frames, :mod:`.processing` makes crops,
labels and proposals, :mod:`.dataset` batches them, an actor (:mod:`.actors`) computes the losses
(:mod:`.losses`), and :class:`~.trainer.Trainer` runs the loop (checkpoints, logs, resume).
"""

from .actors import Actor, DiMPActor
from .config import PRESETS, build_net, processing_settings, resolve_config
from .dataset import EpochBatchSampler, TrackingSamplesDataset, make_loader, stack_collate
from .losses import classification_losses, hinge_mse, iou_mse, iterate_weights, kl_regression
from .optim import build_optimizer, build_scheduler, param_groups
from .processing import DiMPProcessing, ProcessingSettings
from .sampler import SequenceSampler
from .teacher import build_teacher_trainer, train_teacher
from .trainer import Trainer, choose_device, find_checkpoints, save_training_checkpoint, seed_everything

__all__ = [
    "Actor", "DiMPActor", "DiMPProcessing", "EpochBatchSampler", "PRESETS", "ProcessingSettings", "SequenceSampler",
    "TrackingSamplesDataset", "Trainer", "build_net", "build_optimizer", "build_scheduler", "build_teacher_trainer",
    "choose_device", "classification_losses", "find_checkpoints", "hinge_mse", "iou_mse", "iterate_weights",
    "kl_regression", "make_loader", "param_groups", "processing_settings", "resolve_config",
    "save_training_checkpoint", "seed_everything", "stack_collate", "train_teacher",
]
