"""cmd_core: Cross-Modal Distillation (CMD) for thermal-infrared tracking.

The library behind the `cmd-tir` command and the Snakemake workflow: synthetic RGB-T data,
dataset ingestion into Parquet manifests, evaluation with the benchmarks' own protocols, and
(in later modules) pair generation, the DiMP model, training and distillation.
"""

__version__ = "0.1.0"
