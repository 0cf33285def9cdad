"""The `pairs` configuration: checked and filled with its defaults by the config schema
(`cmd_core/config_schema/config.schema.yaml`, the one source of defaults and checks shared with the
workflow), plus the few checks a schema cannot express.

A method is a named entry of `methods` with a `type` (central, random or detector) and the
settings of that type; `method_settings(cfg, name)` returns the merged settings of one method.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from cmd_core.config_schema import ConfigError, section_defaults, validate_like, validate_section
from cmd_core.mapping import deep_merge

METHOD_TYPES = ("central", "random", "detector")
SHARED_KEYS = ("seed", "roles", "on_error", "frame_step")

# Every default of the section, as the schema fills them in (not a copy kept here).
DEFAULTS: dict[str, Any] = section_defaults("pairs")


def load_config(source: str | Path | dict | None = None) -> dict[str, Any]:
    """The full pairs config: `source` (a dict, or a YAML file holding either a whole workflow
    config with a `pairs` key or just the pairs section) checked and filled by the schema."""
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
    cfg = validate_section("pairs", user)
    if not cfg["methods"]:
        raise ConfigError("config pairs.methods: no pair method configured")
    for name in cfg["methods"]:
        _check_method(method_settings(cfg, name), f"config pairs.methods.{name}")
    return cfg


def _check_method(s: dict[str, Any], label: str) -> None:
    """A method's merged settings against its type's section of the schema, then what the schema
    cannot say: ordered ranges and a detector method with a box source."""
    own = {k: v for k, v in s.items() if k not in ("type", "name", "random", *SHARED_KEYS)}
    validate_like(["pairs", s["type"]], own, label.removeprefix("config "))
    if s["type"] == "random":
        lo, hi = s["size"]
        if not 0 < lo <= hi <= 1:
            raise ConfigError(f"{label}: size must satisfy 0 < min <= max <= 1, got {s['size']}")
    if s["type"] == "detector" and not s["builtin"] and not s["files"]:
        raise ConfigError(f"{label}: a detector method needs built-in detectors or files")


def method_settings(cfg: dict, name: str) -> dict[str, Any]:
    """Settings of method `name`: the section of its type, overridden by the method's own keys,
    plus the shared keys (seed, roles, on_error, frame_step) and, for detectors, the random
    section used by the fallback."""
    if name not in cfg["methods"]:
        raise ValueError(f"unknown pairs method {name!r} (configured: {sorted(cfg['methods'])})")
    own = cfg["methods"][name]
    typ = own["type"]
    s = deep_merge(cfg[typ], {k: v for k, v in own.items() if k != "type"})
    s["type"] = typ
    s["name"] = name
    for k in SHARED_KEYS:
        s.setdefault(k, cfg[k])
    if typ == "detector":
        s.setdefault("random", cfg["random"])
    return s


def job_config(cfg: dict, name: str) -> dict[str, Any]:
    """The part of a (validated) pairs config that one method's job reads: the method entry, its
    type's section (and the random section a detector falls back to) and the shared keys. A job's
    params hold only this, so changing one method's settings reruns that method's jobs alone."""
    own = cfg["methods"][name]
    sections = [own["type"], "random"] if own["type"] == "detector" else [own["type"]]
    return {"methods": {name: copy.deepcopy(own)}, **{k: copy.deepcopy(cfg[k]) for k in (*SHARED_KEYS, *sections)}}


def config_json(settings: dict) -> str:
    """Canonical JSON of settings (stored in the pair manifest's metadata)."""
    return json.dumps(settings, sort_keys=True, default=str)
