"""Embedded synthetic RGB-T benchmark, generated on the fly (real RGB-T data cannot ship).

Paired, pixel-aligned RGB and thermal sequences with a real modality gap (colour and texture vs
temperature; colour twins that are cold, thermal twins in other colours, camouflage, night,
thermal crossover, AGC swings), written as JPEGs in the real dataset layouts (GOT-10k, RGBT234,
LSOTB-TIR) so the project's dataset adapters read them like the real benchmarks.
"""

from .attributes import LSOTB_ATTRIBUTES
from .config import SPLITS, SplitConfig, SynthConfig
from .generator import GENERATOR_VERSION, generate_benchmark

__all__ = ["SPLITS", "LSOTB_ATTRIBUTES", "SplitConfig", "SynthConfig", "generate_benchmark", "GENERATOR_VERSION"]
