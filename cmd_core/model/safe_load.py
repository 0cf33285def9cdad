"""Safe reading of checkpoint files: nothing pickled is ever executed.

Official pytracking files (``dimp18.pth``, ``dimp50.pth``, ``super_dimp.pth.tar``) are torch-pickled
dicts ``{'net': state_dict, 'constructor': NetConstructor, 'net_info': ..., ...}``. The constructor
is a pickled ``ltr.admin.model_constructor.NetConstructor`` (older files: ``dlframework.`` module
names), which ``torch.load(weights_only=True)`` refuses. Unpickling arbitrary objects can run
arbitrary code, so we never do it:

1. ``torch.load(weights_only=True)`` is tried first (plain state dicts, our own checkpoints);
2. otherwise a restricted unpickler (:class:`RestrictedUnpickler`) is used: it resolves only
   tensor-rebuilding helpers, plain containers and the known pytracking bookkeeping classes, which
   it maps to inert stand-ins (:class:`LegacyNetConstructor`, :class:`LegacyObject`); any other
   global is refused with :class:`CheckpointError` naming the file and the global, before anything
   runs.

State dicts load with ``strict=True`` (:func:`load_state_dict_checked`); a mismatch names the
missing / unexpected / mis-shaped keys. Building a network from a checkpoint is
:mod:`cmd_core.model.checkpoint`'s job; this module imports no model code.
"""

from __future__ import annotations

import io
import pickle
import types
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "CheckpointError", "UnsafeCheckpointError", "LegacyNetConstructor", "LegacyObject", "RestrictedUnpickler",
    "read_checkpoint", "load_state_dict_checked", "ALLOWED_LEGACY_CLASSES",
]


class CheckpointError(RuntimeError):
    """A checkpoint could not be read or does not fit the model (message names the file)."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The checkpoint references a global that the restricted unpickler does not allow."""


class LegacyObject:
    """Inert stand-in for pytracking bookkeeping objects (settings, statistics): holds state only."""

    _legacy_name = "?"

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._legacy_name} {sorted(self.__dict__)}>"


class LegacyNetConstructor(LegacyObject):
    """Stand-in for ``ltr.admin.model_constructor.NetConstructor``: the data only, no ``get()``.

    Attributes: ``fun_name`` (e.g. 'dimpnet50'), ``fun_module``, ``args``, ``kwds``.
    """

    _legacy_name = "ltr.admin.model_constructor.NetConstructor"
    fun_name: str = ""
    fun_module: str = ""
    args: tuple = ()
    kwds: dict = {}


def _stand_in(qualname: str, base: type = LegacyObject) -> type:
    return type(f"Legacy_{qualname.rsplit('.', 1)[-1]}", (base,), {"_legacy_name": qualname, "__module__": __name__})


# pytracking classes found in checkpoints, by canonical ('ltr.') name -> stand-in class.
ALLOWED_LEGACY_CLASSES: dict[str, type] = {
    "ltr.admin.model_constructor.NetConstructor": LegacyNetConstructor,
    "ltr.admin.settings.Settings": _stand_in("ltr.admin.settings.Settings"),
    "ltr.admin.stats.AverageMeter": _stand_in("ltr.admin.stats.AverageMeter"),
    "ltr.admin.stats.StatValue": _stand_in("ltr.admin.stats.StatValue"),
    "ltr.admin.local.EnvironmentSettings": _stand_in("ltr.admin.local.EnvironmentSettings"),
    "ltr.admin.environment.EnvSettings": _stand_in("ltr.admin.environment.EnvSettings"),
}


def _canonical_module(module: str) -> str:
    """Map legacy module names onto 'ltr.' ones ('dlframework.common.utils.X' -> 'ltr.admin.X')."""
    if module.startswith("dlframework.common.utils."):
        return "ltr.admin." + module[len("dlframework.common.utils."):]
    if module.startswith("dlframework."):
        return "ltr." + module[len("dlframework."):]
    return module


def _safe_torch_globals() -> dict[tuple[str, str], Any]:
    import torch._utils as tu

    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "slice"): slice,
        ("builtins", "complex"): complex,
        ("torch", "Size"): torch.Size,
        ("torch", "device"): torch.device,
    }
    for fn in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"):
        if hasattr(tu, fn):
            allowed[("torch._utils", fn)] = getattr(tu, fn)
    return allowed


_SAFE_GLOBALS = _safe_torch_globals()


def _numpy_global(module: str, name: str):
    """numpy scalars / arrays in old statistics entries (inert data constructors only)."""
    if module not in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
        return None
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return None
    if module == "numpy" and name in ("dtype", "ndarray"):
        return getattr(np, name)
    if name in ("scalar", "_reconstruct"):
        try:
            from numpy._core import multiarray  # numpy >= 2
        except ImportError:  # pragma: no cover
            from numpy.core import multiarray
        return getattr(multiarray, name)
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only an allow-list of globals (see module docstring)."""

    source = "<checkpoint>"

    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[key]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module in ("copyreg", "copy_reg") and name == "_reconstructor":
            # Protocol 0/1 object reconstruction; the classes it receives pass through find_class too.
            import copyreg

            return copyreg._reconstructor
        stand_in = ALLOWED_LEGACY_CLASSES.get(f"{_canonical_module(module)}.{name}")
        if stand_in is not None:
            return stand_in
        np_global = _numpy_global(module, name)
        if np_global is not None:
            return np_global
        raise UnsafeCheckpointError(
            f"{self.source}: refused to unpickle global '{module}.{name}': only tensors, plain containers "
            f"and the known pytracking classes ({', '.join(sorted(ALLOWED_LEGACY_CLASSES))}) are allowed. "
            "The file may be malicious or not a DiMP checkpoint.")


def _restricted_pickle_module(source: str) -> types.ModuleType:
    """A pickle-like module for ``torch.load(pickle_module=...)`` whose Unpickler is restricted."""
    mod = types.ModuleType("cmd_core_restricted_pickle")
    unpickler = type("RestrictedUnpickler", (RestrictedUnpickler,), {"source": source})
    mod.Unpickler = unpickler
    mod.UnpicklingError = pickle.UnpicklingError

    def load(file, **kwargs):
        return unpickler(file, **kwargs).load()

    def loads(data, **kwargs):
        return unpickler(io.BytesIO(data), **kwargs).load()

    mod.load, mod.loads = load, loads
    return mod


def _looks_truncated(path: Path) -> str | None:
    """Cheap structural check: a torch zip archive without its central directory is truncated."""
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        return f"the zip archive is incomplete ({size} bytes, no central directory)"
    return None


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """Load a checkpoint file safely (never executes pickled code).

    Returns what the file holds: for official files a dict with 'net' (state dict) and
    'constructor' (a :class:`LegacyNetConstructor`). Raises :class:`CheckpointError` for missing,
    truncated or corrupt files and :class:`UnsafeCheckpointError` for disallowed globals.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    problem = _looks_truncated(path)
    if problem:
        raise CheckpointError(f"cannot read checkpoint {path}: {problem} (truncated or corrupt download?)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4"
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass  # has non-tensor objects (e.g. the pickled NetConstructor): use the restricted unpickler
    except Exception as exc:  # noqa: BLE001 - anything else means the bytes are broken
        raise CheckpointError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc} "
                              "(truncated or corrupt file?)") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=False,
                              pickle_module=_restricted_pickle_module(str(path)))
    except UnsafeCheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc} "
                              "(truncated or corrupt file?)") from exc


def load_state_dict_checked(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str = "<state dict>",
                            strict: bool = True):
    """``model.load_state_dict`` with an error that names the missing / unexpected / mis-shaped keys."""
    if not isinstance(state_dict, dict):
        raise CheckpointError(f"{source}: expected a state dict, got {type(state_dict).__name__}")
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}" for k, v in state_dict.items()
                  if k in own and hasattr(v, "shape") and tuple(v.shape) != tuple(own[k].shape)]
    if mismatched or (strict and (missing or unexpected)):
        def _fmt(keys: list[str], limit: int = 12) -> str:
            more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
            return ", ".join(keys[:limit]) + more if keys else "none"

        raise CheckpointError(
            f"{source} does not match the {type(model).__name__} architecture: "
            f"{len(missing)} missing key(s) [{_fmt(missing)}]; {len(unexpected)} unexpected key(s) "
            f"[{_fmt(unexpected)}]; {len(mismatched)} shape mismatch(es) [{_fmt(mismatched)}]")
    return model.load_state_dict(state_dict, strict=strict)
