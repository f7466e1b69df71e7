"""What the TUI tests share: runs recorded through the bus, polling Pilot until a
condition holds, and keeping what the app told the user."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App

from streamtui.bus import EventBus
from streamtui.envelope import Part
from streamtui.session import stream_to_bus


def bus_parts(target: Any, value: Any, **kwargs: Any) -> list[Part]:
    """Every part a run of ``target`` puts on the bus (a failing run's too)."""

    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        try:
            await stream_to_bus(target, value, bus, **kwargs)
        except Exception:
            pass  # the failure is in the parts, as the UI sees it
        finally:
            bus.close()
        return sub.drain()

    return asyncio.run(main())


async def until(pilot: Any, done: Any, timeout: float = 10.0) -> None:
    """Frames until ``done()`` — never a fixed sleep, which a busy machine can outrun."""
    for _ in range(int(timeout / 0.02)):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app did not get there in time")


def listen(app: App[Any]) -> list[str]:
    """What the app tells the user (toasts expire; this keeps them)."""
    said: list[str] = []
    notify = app.notify

    def spy(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = spy  # type: ignore[method-assign]
    return said
