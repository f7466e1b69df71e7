"""Load a runnable from a Python file: ``app.py[:name]`` (``streamtui run`` and the
spec's ``entrypoint:``).

Existing LangChain and LangGraph apps must run unchanged, so besides streamtui runnables
any object with ``astream_events`` or ``astream`` is accepted (duck typing: streamtui
never imports langchain).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from streamtui.spec.errors import SpecError, did_you_mean, quote_list
from streamtui.spec.imports import ImportProblem, import_object, on_sys_path, public_names

__all__ = ["DEFAULT_NAMES", "is_runnable", "load_entrypoint", "split_target"]

DEFAULT_NAMES = ("chain", "graph", "app")


def is_runnable(obj: Any) -> bool:
    """A streamtui ``Runnable``, or an instance that streams like LangChain/LangGraph."""
    from streamtui.runtime.base import Runnable

    if isinstance(obj, type):
        return False
    if isinstance(obj, Runnable):
        return True
    return callable(getattr(obj, "astream_events", None)) or callable(getattr(obj, "astream", None))


def split_target(target: str) -> tuple[str, str]:
    """``"dir/app.py:graph"`` -> ``("dir/app.py", "graph")``; the name may be absent."""
    head, sep, tail = target.rpartition(":")
    if sep and head and tail and all(p.isidentifier() for p in tail.split(".")):
        return head, tail
    return target, ""


def load_entrypoint(target: str, base_dir: str | Path | None = None) -> tuple[Any, Any]:
    """The runnable ``target`` names (``path.py[:name]`` or ``package.module:name``) and
    the default input (the file's ``INPUT``, ``{}`` when it has none).

    ``base_dir``: where a relative path starts (the spec file's directory). Without a name
    the first runnable of ``chain``, ``graph``, ``app`` is used.
    """
    path_text, attr = split_target(target)
    base = Path(base_dir) if base_dir is not None else None
    path = Path(path_text)
    if base is not None and not path.is_absolute():
        path = base / path
    if path.suffix != ".py":
        if attr and not path.exists() and "/" not in path_text and "\\" not in path_text:
            return _from_import_path(target, base)
        raise SpecError(
            "expected a Python file defining a runnable, like app.py:chain "
            "(or package.module:name)",
            path=path,
        )
    if not path.is_file():
        raise SpecError("no such file (give a Python file like demos/joke.py)", path=path)
    module = _exec_file(path)
    return _pick(module, attr, str(path), path)


def _from_import_path(target: str, base: Path | None) -> tuple[Any, Any]:
    try:
        value = import_object(target, base)
    except ImportProblem as e:
        raise SpecError(f"{target}: {e}") from None
    if not is_runnable(value):
        raise SpecError(f"{target}: {_not_runnable(value)}")
    module = sys.modules.get(target.partition(":")[0])
    return value, _default_input(module)


def _exec_file(path: Path) -> ModuleType:
    name = f"_streamtui_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    if spec is None or spec.loader is None:
        raise SpecError("cannot be imported as a Python module", path=path)
    module = importlib.util.module_from_spec(spec)
    # Registered like any import, so dataclasses and pickling can find the module.
    sys.modules[name] = module
    try:
        with on_sys_path(path.parent):
            spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        in_file = e.filename is not None and Path(e.filename).resolve() == path.resolve()
        raise SpecError(
            f"syntax error: {e.msg}" if in_file else f"syntax error in {e.filename}: {e.msg}",
            path=path if in_file else Path(e.filename or path),
            line=e.lineno,
            column=e.offset,
        ) from None
    except (Exception, SystemExit) as e:
        sys.modules.pop(name, None)
        raise SpecError(
            f"importing the file raised {type(e).__name__}: {e}",
            path=path,
            line=_line_in(e, path),
        ) from None
    return module


def _line_in(error: BaseException, path: Path) -> int | None:
    """The line of ``path`` where ``error`` was raised (the innermost such frame)."""
    target = str(path.resolve())
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _pick(module: ModuleType, attr: str, shown: str, path: Path) -> tuple[Any, Any]:
    names = [attr] if attr else list(DEFAULT_NAMES)
    for name in names:
        if name in vars(module) and is_runnable(getattr(module, name)):
            return getattr(module, name), _default_input(module)
    runnables = [n for n in public_names(module) if is_runnable(getattr(module, n))]
    if attr:
        if not hasattr(module, attr):
            hint = did_you_mean(attr, public_names(module))
            if not hint and runnables:
                hint = f" (runnables in the file: {quote_list(runnables, 'and')})"
            raise SpecError(f"no attribute '{attr}'{hint}", path=path)
        raise SpecError(f"'{attr}' {_not_runnable(getattr(module, attr))}", path=path)
    present = [n for n in DEFAULT_NAMES if n in vars(module)]
    if present:
        name = present[0]
        raise SpecError(f"'{name}' {_not_runnable(getattr(module, name))}", path=path)
    found = f"; runnables in the file: {quote_list(runnables, 'and')}" if runnables else ""
    raise SpecError(
        f"no runnable named 'chain', 'graph' or 'app' (write {shown}:NAME to pick another{found})",
        path=path,
    )


def _not_runnable(value: Any) -> str:
    kind = type(value).__name__
    if isinstance(value, type):
        return f"is a class ({value.__name__}), not a runnable: point at an instance"
    if callable(getattr(value, "compile", None)):
        return (
            f"is a {kind} that is not compiled: point at graph.compile() "
            "(e.g. app = graph.compile())"
        )
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return (
        f"is {article} {kind}, not a runnable: point at a Runnable, a compiled graph or any object "
        "with astream_events() or astream()"
    )


def _default_input(module: ModuleType | None) -> Any:
    default = getattr(module, "INPUT", {}) if module is not None else {}
    return dict(default) if isinstance(default, dict) else default
