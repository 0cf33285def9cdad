"""The modality-gap diagnostic (`cmd-tir gap`): how far a set's TIR images are from its RGB images,
under the frozen ImageNet backbone and in plain image statistics; see `measure`."""

from .measure import OBJECT_STATISTICS, SCENE_STATISTICS, GapSettings, measure_frames, summarise

__all__ = ["GapSettings", "measure_frames", "summarise", "SCENE_STATISTICS", "OBJECT_STATISTICS"]
