"""The DiMP tracker network in pure PyTorch (CPU and GPU; needs only torch and torchvision).

Configurations: :func:`dimp18`, :func:`dimp50`, :func:`super_dimp` (keyword options, e.g.
``crop_size=128`` for a small CPU model). State-dict names equal the official pytracking
checkpoints, which :func:`load_dimp_checkpoint` reads without executing pickled code.
"""

from .backbone import ResNetBackbone, resnet18_backbone, resnet50_backbone
from .bbreg import AtomIoUNet, IoUNet
from .checkpoint import build_from_constructor, load_dimp_checkpoint, save_checkpoint
from .classifier import (
    DiMPSteepestDescentGN,
    FilterInitializerLinear,
    InstanceL2Norm,
    LinearFilter,
    apply_filter,
    apply_filter_transpose,
)
from .dimpnet import CONFIGS, DiMPNet, build_dimp, count_parameters, dimp18, dimp50, dimp_mobilenet, super_dimp
from .prroi_pool import PrRoIPool2D, prroi_pool2d, prroi_pool2d_rois
from .safe_load import CheckpointError, LegacyNetConstructor, UnsafeCheckpointError, load_state_dict_checked, read_checkpoint

__all__ = [
    "AtomIoUNet", "CONFIGS", "CheckpointError", "DiMPNet", "DiMPSteepestDescentGN", "FilterInitializerLinear",
    "InstanceL2Norm", "IoUNet", "LegacyNetConstructor", "LinearFilter", "PrRoIPool2D", "ResNetBackbone",
    "UnsafeCheckpointError", "apply_filter", "apply_filter_transpose", "build_dimp", "build_from_constructor",
    "count_parameters", "dimp18", "dimp50", "dimp_mobilenet", "load_dimp_checkpoint", "load_state_dict_checked", "prroi_pool2d",
    "prroi_pool2d_rois", "read_checkpoint", "resnet18_backbone", "resnet50_backbone", "save_checkpoint",
    "super_dimp",
]
