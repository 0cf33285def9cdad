"""Small helpers for nested mappings (configuration dicts)."""

from __future__ import annotations

import copy
from collections.abc import Container, Mapping
from typing import Any

__all__ = ["deep_merge"]


def deep_merge(base: dict, over: Mapping | None, replace: Container[str] = ()) -> dict[str, Any]:
    """`over` merged into a deep copy of `base`: where both hold a dict under a key the two are merged
    key by key (recursively), anything else in `over` replaces the value (as a deep copy). Keys in
    `replace` are always replaced whole, at any depth. `base` and `over` are left unchanged."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in replace:
            out[k] = deep_merge(out[k], v, replace)
        else:
            out[k] = copy.deepcopy(v)
    return out
