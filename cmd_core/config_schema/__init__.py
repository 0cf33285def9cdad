"""The configuration schema (``config.schema.yaml``, shipped with the package): the one source of
every config default and check, for the workflow and the library alike.

:func:`validate_config` checks a whole workflow config and fills in every default (a jsonschema
validator extended to set ``default`` values); :func:`validate_section` does the same for one
section (the library's entry points, e.g. :func:`cmd_core.pairs.config.load_config`), so both give
the same values and the same messages. Every message starts with ``config <key path>:``; an
unknown key (every mapping refuses them) is named with its full path.

The dataset helpers (:func:`dataset_registry`, :func:`purpose_dataset`) are the workflow's view
of ``datasets`` and ``synthetic``: which datasets exist and which one serves a purpose.
"""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = ["ConfigError", "SCHEMA_FILE", "load_schema", "validate_config", "validate_section", "section_defaults",
           "validate_strategy", "validate_like", "StrategyError", "resolve_strategy", "resolve_strategies",
           "DEFAULT_LOSSES", "dataset_registry", "purpose_dataset", "purpose_datasets", "SYNTH_SPLITS",
           "RESERVED_PREFIX"]

SCHEMA_FILE = "config.schema.yaml"
# The synthetic benchmark's four splits and the purpose of each (ingested as synth_<split>).
SYNTH_SPLITS = {"rgb_train": "teacher_train", "rgbt_train": "distill", "tir_eval": "eval_tir", "rgbt_eval": "eval_rgbt"}
RESERVED_PREFIX = "synth_"


class ConfigError(ValueError):
    """A config value the schema (or a rule built on it) refuses; the message names the key path."""


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """A fresh copy of the parsed schema."""
    return yaml.safe_load(_schema_text())


def _extend_with_default(cls):
    """A validator class that sets each missing property's ``default`` before validating it."""
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": set_defaults})


_FillingValidator = _extend_with_default(jsonschema.Draft202012Validator)


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    _FillingValidator.check_schema(schema)
    return _FillingValidator(schema)


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _allowed(schema: dict) -> list[str]:
    return sorted((schema.get("properties") or {}).keys())


def _messages(error: jsonschema.ValidationError, prefix: str) -> list[str]:
    """One line per problem: ``config <key path>: <what>`` (``prefix`` is ``config`` or
    ``config.<section>...`` for a part of the config)."""
    head, *base = prefix.split(".")
    parts = [*base, *error.absolute_path]

    def line(extra: list, what: str) -> str:
        path = _path([*parts, *extra])
        return f"{head} {path}: {what}" if path else f"{head}: {what}"

    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        known = _allowed(error.schema)
        extra = sorted(k for k in error.instance if k not in known)
        allowed = ", ".join(known) or "none"
        return [line([k], f"unknown key (allowed here: {allowed})") for k in extra] or [line([], error.message)]
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        if error.validator == "enum":
            return [line([error.instance], f"unknown key (allowed here: {', '.join(map(str, error.validator_value))})")]
        return [line([error.instance], f"bad name ({error.message})")]
    if error.validator in ("anyOf", "oneOf", "allOf") and error.context:
        return _messages(jsonschema.exceptions.best_match(error.context), prefix)
    return [line([], error.message)]


def _check(instance: Any, schema_ref: dict | None, prefix: str) -> Any:
    validator = _validator()
    if schema_ref is not None:
        validator = validator.evolve(schema={**schema_ref, "$defs": validator.schema["$defs"]})
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        lines = []
        for e in errors:
            for m in _messages(e, prefix):
                if m not in lines:
                    lines.append(m)
        raise ConfigError("\n".join(lines))
    return instance


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Check a whole workflow config against the schema and fill in every default, in place
    (returned too). Raises :class:`ConfigError` naming each bad or unknown key by its path."""
    if not isinstance(config, dict):
        raise ConfigError(f"config: expected a mapping, got {type(config).__name__}")
    return _check(config, None, "config")


def _section_schema(name: str) -> dict:
    props = _validator().schema["properties"]
    if name not in props:
        raise KeyError(f"no config section {name!r} (sections: {sorted(props)})")
    return props[name]


def validate_section(name: str, value: dict[str, Any] | None) -> dict[str, Any]:
    """One section of the config (``pairs``, ``distill``, ...) checked and filled with its defaults,
    with the same messages as :func:`validate_config` (a copy; ``value`` is not changed)."""
    value = copy.deepcopy(value) if value is not None else {}
    return _check(value, _section_schema(name), f"config.{name}")


def validate_like(schema_keys: list[str], value: Any, where: str) -> Any:
    """``value`` checked against the schema of another config key (``schema_keys``, e.g.
    ``["pairs", "random"]``) but reported at ``where`` (e.g. ``pairs.methods.my_random``), for
    settings that are merged from several places; a copy, with that key's defaults filled in."""
    schema = {"properties": _validator().schema["properties"]}
    for key in schema_keys:
        schema = schema["properties"][key]
    return _check(copy.deepcopy(value), schema, f"config.{where}")


def section_defaults(name: str) -> dict[str, Any]:
    """Every default of one config section, as the workflow fills them in."""
    return validate_section(name, {})


def validate_strategy(name: str, strategy: Any) -> dict[str, Any]:
    """One distillation strategy checked against ``$defs/strategy`` and filled with its defaults
    (a copy); messages name ``config distill.strategies.<name>...``."""
    value = copy.deepcopy(strategy)
    return _check(value, {"$ref": "#/$defs/strategy"}, f"config.distill.strategies.{name}")


# ----------------------------------------------------------------------------- strategies
KNOWN_PAIR_METHODS = ("central", "random", "detector")
COMPONENTS = ("classifier", "iou")
# Per-mode loss terms and their defaults (the schema leaves loss terms unfilled: which apply depends on the mode).
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "official": {"clf": 1.0, "iou": 1.0},
    "distill": {"feature": 0.0, "feature_layers": ["layer2", "layer3", "clf"], "response": 0.0,
                "response_type": "kl", "temperature": 0.1, "iou": 0.0, "pair_clf": 0.0, "pair_iou": 0.0},
}

class StrategyError(ConfigError):
    """A strategy names an unknown pair method, mode, component or loss."""


def resolve_strategy(strategy: str | dict[str, Any], name: str | None = None,
                     pair_methods: list[str] | tuple[str, ...] | None = None,
                     strategies: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A checked, complete strategy dict (defaults filled in, ``name`` added).

    ``strategy``: a name (looked up in ``strategies``, default :data:`DEFAULT_STRATEGIES`) or a
    dict. The keys and values are checked against the config schema (``$defs/strategy``, the one
    check the workflow runs too, with the same messages); here only what the schema cannot say is
    added: the pair method must be one of ``pair_methods`` (default central / random / detector),
    loss terms must belong to the mode, and at least one loss weight must be positive.
    """
    table = _default_strategies() if strategies is None else strategies
    if isinstance(strategy, str):
        if strategy not in table:
            raise StrategyError(f"unknown distillation strategy {strategy!r} (configured: {sorted(table)})")
        name, strategy = strategy, table[strategy]
    if isinstance(strategy, dict):
        name = name or strategy.get("name") or "custom"
        strategy = {k: v for k, v in strategy.items() if k != "name"}
    label = f"config distill.strategies.{name or 'custom'}"
    try:
        s = validate_strategy(name or "custom", strategy)
    except ConfigError as exc:
        raise StrategyError(str(exc)) from None
    methods = tuple(pair_methods) if pair_methods is not None else KNOWN_PAIR_METHODS
    if s["pairs"] not in methods:
        raise StrategyError(f"{label}.pairs: unknown pair method {s['pairs']!r} (configured pair methods: "
                            f"{sorted(methods)})")
    s["components"] = [c for c in COMPONENTS if c in s["components"]]
    losses = dict(DEFAULT_LOSSES[s["mode"]])
    bad = sorted(set(s["losses"]) - set(losses))
    if bad:
        raise StrategyError(f"{label}.losses: unknown loss(es) {bad} for mode {s['mode']!r} (known: {sorted(losses)})")
    losses.update(s["losses"])
    weights = ("feature", "response", "iou", "pair_clf", "pair_iou") if s["mode"] == "distill" else ("clf", "iou")
    if not any(float(losses[k]) > 0 for k in weights):
        raise StrategyError(f"{label}.losses: every loss weight is 0 (set at least one of {list(weights)})")
    s["losses"] = losses
    s["lr_scale"] = float(s["lr_scale"])
    s["name"] = name
    return s


def resolve_strategies(strategies: dict[str, dict[str, Any]] | None = None,
                       pair_methods: list[str] | tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """Check every strategy of a config section (default: :data:`DEFAULT_STRATEGIES`)."""
    table = _default_strategies() if strategies is None else strategies
    if not table:
        raise StrategyError("config distill.strategies: no distillation strategy configured")
    return {n: resolve_strategy(n, pair_methods=pair_methods, strategies=table) for n in table}


def _default_strategies() -> dict[str, dict[str, Any]]:
    return section_defaults("distill")["strategies"]


# ----------------------------------------------------------------------------- datasets
def dataset_registry(config: dict[str, Any], synth_dir: str | os.PathLike, check_roots: bool = True) -> dict[str, dict]:
    """name -> dataset entry of every dataset of a (validated) config: the synthetic splits
    (``synth_<split>`` under ``synth_dir``, when enabled) plus the configured ones (flagged
    ``synthetic: False``). Names with the reserved ``synth_`` prefix and, with ``check_roots``,
    roots that are not existing folders are refused, so a dry run already fails on them."""
    datasets: dict[str, dict] = {}
    if config["synthetic"]["enabled"]:
        for split, purpose in SYNTH_SPLITS.items():
            datasets[f"{RESERVED_PREFIX}{split}"] = {"format": "synthetic", "root": f"{synth_dir}/{split}", "split": split,
                                                     "purpose": purpose, "options": {}, "synthetic": True}
    for name, entry in config["datasets"].items():
        if name.startswith(RESERVED_PREFIX):
            raise ConfigError(f"config datasets.{name}: the prefix {RESERVED_PREFIX!r} is reserved for the synthetic "
                              "benchmark; rename the dataset")
        root = Path(entry["root"])
        if check_roots and not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise ConfigError(f"config datasets.{name}.root: {root} {what}")
        datasets[name] = dict(entry, synthetic=False)
    return datasets


def purpose_dataset(datasets: dict[str, dict], purpose: str, configured: str | None, key: str,
                    required: bool = False) -> str | None:
    """The dataset that serves ``purpose``: ``configured`` (the config value at ``key``) when set,
    else the synthetic split of that purpose, else the single dataset of that purpose. None when
    there is none (an error with ``required``); several candidates without a configured name are
    an error that asks to set ``key``."""
    if configured is not None:
        if configured not in datasets:
            raise ConfigError(f"config {key}: unknown dataset {configured!r} (known: {sorted(datasets)})")
        return configured
    found = sorted(n for n, d in datasets.items() if d.get("purpose") == purpose)
    synthetic = [n for n in found if datasets[n].get("synthetic")]
    if synthetic:
        return synthetic[0]
    if len(found) == 1:
        return found[0]
    if found or required:
        raise ConfigError(f"config {key}: set it to the dataset to use (datasets with purpose {purpose}: "
                          f"{', '.join(found) or 'none'})")
    return None


def purpose_datasets(datasets: dict[str, dict], purpose: str, configured: str | list[str] | None, key: str,
                     required: bool = False) -> list[str] | None:
    """Like :func:`purpose_dataset` for a key that also takes a list (``distill.dataset``): the
    configured name(s) as a list, each checked (an unknown one is named by its position), else
    the one dataset :func:`purpose_dataset` picks, as a one-element list; None when there is none."""
    if isinstance(configured, (list, tuple)):
        if not configured:
            raise ConfigError(f"config {key}: an empty list; name at least one dataset or use null")
        for i, name in enumerate(configured):
            if name not in datasets:
                raise ConfigError(f"config {key}[{i}]: unknown dataset {name!r} (known: {sorted(datasets)})")
        dups = sorted({n for n in configured if list(configured).count(n) > 1})
        if dups:
            raise ConfigError(f"config {key}: dataset(s) {dups} listed twice")
        return list(configured)
    one = purpose_dataset(datasets, purpose, configured, key, required)
    return None if one is None else [one]
