"""An asyncio event loop on a daemon thread, for servers whose callers may be sync code,
async code on another loop, or a test: the mock provider server and the SSE server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["start_loop_thread"]

Opener = Callable[[], Coroutine[Any, Any, Any]]


def start_loop_thread(
    opener: Opener,
    *,
    name: str,
    on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    closer: Opener | None = None,
    timeout: float | None = None,
) -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
    """Start a loop on a new daemon thread and run ``opener()`` on it; return once it has
    (its exception is raised here instead). The loop then runs until ``loop.stop()``;
    ``closer()`` runs on it before it closes. ``on_loop`` sees the loop before
    ``opener`` runs (for code that needs it while opening)."""
    ready = threading.Event()
    failure: list[BaseException] = []
    loops: list[asyncio.AbstractEventLoop] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        if on_loop is not None:
            on_loop(loop)
        try:
            loop.run_until_complete(opener())
        except BaseException as e:  # reported to the starter
            failure.append(e)
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            if closer is not None:
                loop.run_until_complete(closer())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"{name} did not start within {timeout} s")
    if failure:
        thread.join(1.0)
        raise failure[0]
    return thread, loops[0]
