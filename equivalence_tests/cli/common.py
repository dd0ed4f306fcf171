"""What every ``refnn`` command shares: exit statuses, the usage error, option parsing and loading
the user's modules (``MODULE:NAME`` or ``path/to/file.py:NAME``)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


# ------------------------------------------------------------------------ argument parsing
def parse_sizes(text: str, what: str, separators: str = ",-x") -> tuple[int, ...]:
    """``"4-8-8-1"``, ``"4,8,8,1"`` or ``"3x5"`` -> ``(4, 8, 8, 1)``; every size must be an int >= 1."""
    normalized = text.strip()
    for separator in separators:
        normalized = normalized.replace(separator, " ")
    parts = normalized.split()
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise UsageError(f"{what} must be positive integers like 4-8-8-1 or 3x5, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise UsageError(f"{what} must be positive integers like 4-8-8-1 or 3x5, got {text!r}")
    return sizes


def parse_names(text: str, what: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise UsageError(f"{what} must be a comma-separated list of names, got {text!r}")
    return names


def parse_shape_option(text: str) -> tuple[str, tuple[int, ...]]:
    """``"W1=4x3"`` -> ``("W1", (4, 3))``."""
    name, equals, shape = text.partition("=")
    if not equals or not name.strip():
        raise UsageError(f"--shape must look like NAME=4x3 (e.g. --shape W1=4x3 --shape b1=4x1), got {text!r}")
    return name.strip(), parse_sizes(shape, f"--shape {name.strip()}", separators="x,")


# ------------------------------------------------------------------------ loading user code
def load_object(spec: str, what: str) -> Any:
    """``"module:name"``, ``"package.module:Class.attr"`` or ``"path/to/file.py:name"`` -> the object.

    The current directory is importable (as with ``python -m``)."""
    module_name, colon, attribute = spec.rpartition(":")
    if not colon or not module_name or not attribute:
        raise UsageError(f"{what} must look like MODULE:NAME (e.g. my_layer:loss), got {spec!r}")
    module = _import_user_module(module_name)
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            public = sorted(name for name in vars(module) if not name.startswith("_"))
            raise UsageError(
                f"{what}: module {module_name!r} has no attribute {attribute!r} (it defines: {', '.join(public)})"
            )
        value = getattr(value, part)
    return value


def _import_user_module(module_name: str) -> Any:
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise UsageError(f"module file {module_name!r} does not exist")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        return _run_user_import(module_name, lambda: spec.loader.exec_module(module)) or module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    return _run_user_import(module_name, lambda: importlib.import_module(module_name))


def _run_user_import(module_name: str, do_import: Callable[[], Any]) -> Any:
    try:
        return do_import()
    except ModuleNotFoundError as error:
        if error.name and module_name.split(".")[0] == error.name.split(".")[0]:
            raise UsageError(
                f"cannot import module {module_name!r}: not found from {os.getcwd()} "
                f"(run refnn from the folder that holds it, or give a file path like path/to/{module_name}.py:NAME)"
            ) from None
        raise UsageError(f"importing {module_name!r} failed: {error}") from None
    except Exception as error:  # the user's module raised while importing: say so in one line
        raise UsageError(f"importing {module_name!r} raised {type(error).__name__}: {error}") from None
