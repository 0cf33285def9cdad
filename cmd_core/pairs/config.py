"""The `pairs` configuration: defaults (mirrored by the pairs section of workflow/schemas/config.schema.yaml), deep
merge of user settings over them, and checks with clear messages.

A method is a named entry of `methods` with a `type` (central, random or detector) and the
settings of that type; `method_settings(cfg, name)` returns the merged settings of one method.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

METHOD_TYPES = ("central", "random", "detector")
BUILTIN_DETECTORS = ("thermal", "motion", "hog", "ultralytics")
FILE_FORMATS = ("mot", "yolo", "corners")
ROLES = ("rgb_to_tir", "tir_to_rgb", "both", "random")

DEFAULTS: dict[str, Any] = {
    "methods": {
        "central": {"type": "central"},
        "random": {"type": "random"},
        "detector": {"type": "detector"},
    },
    "seed": 0,
    "threads": 2,
    "on_error": "fail",
    "roles": "rgb_to_tir",
    "frame_step": 1,
    "central": {"scale": [0.3, 0.3]},
    "random": {"boxes_per_frame": 3, "size": [0.15, 0.3], "aspect": [0.5, 2.0], "min_separation": 0.25},
    "detector": {
        "builtin": [
            {"name": "thermal", "polarity": "hot", "block": 0.35, "offset": 12.0, "min_area": 30},
            {"name": "motion", "history": 50, "var_threshold": 25.0, "warmup": 3, "min_area": 30},
        ],
        "files": [],
        "duplicate_iou": 0.8,
        "min_size": 6.0,
        "max_area": 0.25,
        "border_limit": 0.25,
        "person_labels": ["person", "pedestrian", "people", "0"],
        "other_per_person": 1.0,
        "min_other": 3,
        "max_boxes_per_frame": 8,
        "min_confidence": 0.0,
        "fallback": "random",
        "temporal": {"enabled": False, "max_gap": 10, "min_iou": 0.3, "max_age": 2},
    },
    "contact_sheet": {"pairs": 8, "seed": 0},
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "methods":
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(source: str | Path | dict | None = None) -> dict[str, Any]:
    """The full pairs config: `source` (a dict, or a YAML file holding either a whole workflow
    config with a `pairs` key or just the pairs section) merged over `DEFAULTS`, then checked."""
    if source is None:
        user: dict = {}
    elif isinstance(source, dict):
        user = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: config file does not exist")
        with open(path, encoding="utf-8") as fh:
            user = yaml.safe_load(fh) or {}
        if not isinstance(user, dict):
            raise ValueError(f"{path}: config must be a mapping")
    if "pairs" in user:
        user = user["pairs"] or {}
    cfg = _merge(DEFAULTS, user)
    check_config(cfg)
    return cfg


def check_config(cfg: dict) -> None:
    """Raise ValueError for settings the generator cannot honour."""
    if cfg["on_error"] not in ("fail", "skip"):
        raise ValueError(f"pairs.on_error must be 'fail' or 'skip', got {cfg['on_error']!r}")
    if cfg["roles"] not in ROLES:
        raise ValueError(f"pairs.roles must be one of {ROLES}, got {cfg['roles']!r}")
    if int(cfg["frame_step"]) < 1:
        raise ValueError("pairs.frame_step must be >= 1")
    if not cfg["methods"]:
        raise ValueError("pairs.methods is empty")
    for name, m in cfg["methods"].items():
        if not isinstance(m, dict) or m.get("type") not in METHOD_TYPES:
            raise ValueError(f"pairs.methods.{name}: 'type' must be one of {METHOD_TYPES}")
    for name in cfg["methods"]:
        s = method_settings(cfg, name)
        if s["type"] == "random":
            lo, hi = s["size"]
            if not 0 < lo <= hi <= 1:
                raise ValueError(f"pairs.methods.{name}: size must satisfy 0 < min <= max <= 1, got {s['size']}")
            if int(s["boxes_per_frame"]) < 1:
                raise ValueError(f"pairs.methods.{name}: boxes_per_frame must be >= 1")
        if s["type"] == "central" and not all(0 < float(v) <= 1 for v in s["scale"]):
            raise ValueError(f"pairs.methods.{name}: scale values must be in (0, 1], got {s['scale']}")
        if s["type"] == "detector":
            for det in s["builtin"]:
                if det.get("name") not in BUILTIN_DETECTORS:
                    raise ValueError(f"pairs.methods.{name}: unknown built-in detector {det.get('name')!r} "
                                     f"(one of {BUILTIN_DETECTORS})")
            for f in s["files"]:
                if f.get("format") not in FILE_FORMATS:
                    raise ValueError(f"pairs.methods.{name}: detection file format must be one of {FILE_FORMATS}")
                if f.get("modality", "both") not in ("rgb", "tir", "both"):
                    raise ValueError(f"pairs.methods.{name}: detection file modality must be rgb, tir or both")
                if not f.get("path"):
                    raise ValueError(f"pairs.methods.{name}: a detection file entry needs 'path'")
            if not s["builtin"] and not s["files"]:
                raise ValueError(f"pairs.methods.{name}: a detector method needs built-in detectors or files")
            if s["fallback"] not in ("random", "none"):
                raise ValueError(f"pairs.methods.{name}: fallback must be 'random' or 'none'")


def method_settings(cfg: dict, name: str) -> dict[str, Any]:
    """Settings of method `name`: the section of its type, overridden by the method's own keys,
    plus the shared keys (seed, roles, on_error, frame_step) and, for detectors, the random
    section used by the fallback."""
    if name not in cfg["methods"]:
        raise ValueError(f"unknown pairs method {name!r} (configured: {sorted(cfg['methods'])})")
    own = cfg["methods"][name]
    typ = own["type"]
    s = _merge(cfg[typ], {k: v for k, v in own.items() if k != "type"})
    s["type"] = typ
    s["name"] = name
    for k in ("seed", "roles", "on_error", "frame_step"):
        s.setdefault(k, cfg[k])
    if typ == "detector":
        s.setdefault("random", cfg["random"])
    return s


def config_json(settings: dict) -> str:
    """Canonical JSON of settings (stored in the pair manifest's metadata)."""
    return json.dumps(settings, sort_keys=True, default=str)
