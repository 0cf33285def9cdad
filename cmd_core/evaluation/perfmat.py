"""LSOTB-TIR / OTB MATLAB toolkit curves (``perfMat/*.mat``) and reporting from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .engine import scores_from_curves
from .protocols import Protocol, get_protocol

_FILES = {
    "success": "aveSuccessRatePlot_{n}alg_overlap_OPE.mat",
    "precision": "aveSuccessRatePlot_{n}alg_error_OPE.mat",
    "norm_precision": "aveSuccessRatePlot_{n}alg_norm_error_OPE.mat",
}


def read_perfmat(directory: str | Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """Tracker names and per-sequence curves {kind: (n_trackers, n_sequences, n_thresholds)} from
    the toolkit's ``aveSuccessRatePlot_<N>alg_{overlap,error,norm_error}_OPE.mat`` files."""
    from scipy.io import loadmat

    directory = Path(directory)
    found = sorted(directory.glob("aveSuccessRatePlot_*alg_overlap_OPE.mat"))
    if not found:
        raise FileNotFoundError(f"{directory}: no aveSuccessRatePlot_*alg_overlap_OPE.mat")
    n = found[0].name.split("_")[1].replace("alg", "")
    names, curves = None, {}
    for kind, pattern in _FILES.items():
        f = directory / pattern.format(n=n)
        if not f.is_file():
            if kind == "norm_precision":
                continue
            raise FileNotFoundError(f"{f}: missing")
        m = loadmat(f)
        key = next((k for k in ("aveSuccessRatePlot", "ave_success_rate_plot") if k in m), None)
        if key is None:
            raise ValueError(f"{f}: no aveSuccessRatePlot array")
        curves[kind] = np.asarray(m[key], dtype=np.float64)
        if "nameTrkAll" in m and names is None:
            names = [str(np.asarray(x).ravel()[0]) for x in m["nameTrkAll"].ravel()]
    if names is None:
        names = [f"tracker{i + 1}" for i in range(curves["success"].shape[0])]
    return names, curves


def scores_from_perfmat(directory: str | Path, protocol: Protocol | str = "lsotb") -> dict[str, dict[str, float]]:
    """{tracker: scores} from the per-sequence curves in ``perfMat/``, reported per ``protocol``."""
    p = get_protocol(protocol)
    names, curves = read_perfmat(directory)
    out = {}
    for i, name in enumerate(names):
        norm = curves["norm_precision"][i] if "norm_precision" in curves else None
        out[name] = scores_from_curves(curves["success"][i], curves["precision"][i], norm, p)
    return out
