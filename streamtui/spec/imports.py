"""``package.module:attr`` import paths, resolved next to the spec file.

The spec's directory goes on ``sys.path`` only while importing, so a file's helpers
(``demos/demo_nodes.py``) import as ``demo_nodes`` without installing anything.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from streamtui.spec.errors import did_you_mean

__all__ = ["ImportProblem", "import_object", "on_sys_path", "public_names"]


class ImportProblem(Exception):
    """An import path that does not resolve; the message names the module or attribute.

    ``in_attribute``: the module imported but the attribute is missing (so an error can
    point at the part after the colon)."""

    def __init__(self, message: str, *, in_attribute: bool = False) -> None:
        super().__init__(message)
        self.in_attribute = in_attribute


@contextlib.contextmanager
def on_sys_path(directory: Path | None) -> Iterator[None]:
    """``directory`` first on ``sys.path`` for the duration (nothing when None)."""
    if directory is None:
        yield
        return
    entry = str(directory.resolve())
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def public_names(module: ModuleType) -> list[str]:
    return [n for n in vars(module) if not n.startswith("_")]


def import_object(path: str, base_dir: Path | None) -> Any:
    """The object ``path`` (``package.module:attr.sub``) names."""
    module_name, _, attr = path.partition(":")
    with on_sys_path(base_dir):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            missing = e.name or module_name
            if module_name == missing or module_name.startswith(f"{missing}."):
                where = f" (looked in {base_dir} and the installed packages)" if base_dir else ""
                raise ImportProblem(f"no module named '{missing}'{where}") from None
            raise ImportProblem(
                f"importing '{module_name}' failed: it needs the module '{missing}', "
                "which is not installed"
            ) from None
        except SyntaxError as e:
            raise ImportProblem(
                f"'{module_name}' has a syntax error at {e.filename}:{e.lineno}: {e.msg}"
            ) from None
        except Exception as e:
            raise ImportProblem(
                f"importing '{module_name}' raised {type(e).__name__}: {e}{_raised_at(e)}"
            ) from None
    value: Any = module
    walked = module_name
    for part in attr.split("."):
        if not hasattr(value, part):
            names = public_names(value) if isinstance(value, ModuleType) else dir(value)
            raise ImportProblem(
                f"'{walked}' has no attribute '{part}'{did_you_mean(part, names)}",
                in_attribute=True,
            )
        value = getattr(value, part)
        walked = f"{walked}:{part}" if walked == module_name else f"{walked}.{part}"
    return value


def _raised_at(error: BaseException) -> str:
    """`` (at file:line)`` of the innermost frame, to find the failing line."""
    tb = error.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    return f" (at {last.tb_frame.f_code.co_filename}:{last.tb_lineno})"
