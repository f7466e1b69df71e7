"""Helpers for the spec tests: write a spec (and helper modules) into tmp_path."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamtui.spec import LoadedSpec, load_spec

_ids = itertools.count()


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[..., Path]:
    """``spec_file(yaml_text, name="chain.yaml")`` -> the path written."""

    def write(text: str, name: str = "chain.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(spec_file: Callable[..., Path]) -> Callable[..., LoadedSpec]:
    """``load(yaml_text, env={...})`` -> the loaded spec (env defaults to empty)."""

    def run(text: str, env: dict[str, str] | None = None) -> LoadedSpec:
        return load_spec(spec_file(text), env=env or {})

    return run


@pytest.fixture
def helper_module(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``helper_module(source)`` writes a uniquely named module beside the spec and
    returns its name (unique, so no test sees another's cached module)."""
    names: list[str] = []

    def write(source: str) -> str:
        name = f"spec_helpers_{next(_ids)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def no_latency(target: Any) -> Any:
    """Zero every scripted model's latencies inside a chain (tests need not wait)."""
    from streamtui.models.scripted import ScriptedChatModel

    seen: set[int] = set()

    def walk(obj: Any) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, ScriptedChatModel):
            obj._script.first_chunk_latency = 0.0
            obj._script.chunk_latency = 0.0
            return
        for child in getattr(obj, "steps", None) or []:
            walk(child)
        steps = getattr(obj, "steps__", None)
        if isinstance(steps, dict):
            for child in steps.values():
                walk(child)

    walk(target)
    return target
