"""Shared fixtures: fail a test on any 'Task exception was never retrieved'."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Errors the event loop reported on its own (orphan task exceptions and the like)."""
    errors: list[dict[str, Any]] = []
    yield errors


def run_async(coro: Any, errors: list[dict[str, Any]] | None = None) -> Any:
    """Run a coroutine on a fresh loop, collecting what the loop's exception handler sees."""
    loop = asyncio.new_event_loop()
    if errors is not None:
        loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture(autouse=True)
def _no_user_keymap(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The tester's own keymap (``~/.config``, ``$STREAMTUI_KEYMAP``) never reaches a test."""
    monkeypatch.delenv("STREAMTUI_KEYMAP", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))
