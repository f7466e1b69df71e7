"""``astream_events``: run a runnable in a task and hand its events to the caller.

The producer appends finished event dicts to a deque and wakes the consumer only when
it is waiting, so a token costs an append, not a queue round trip. The producer yields
to the consumer when more than ``buffer_size`` events are waiting. Keeping that small
(128) bounds memory, and it also keeps events from living long enough to be promoted to
older garbage-collector generations: with 2,048, full collections made the per-token
cost grow with the length of the run (see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from streamtui.runtime.config import RunnableConfig, ensure_config
from streamtui.runtime.tracing import EventFilter, EventSink, RunParent, new_run_id

if TYPE_CHECKING:
    from streamtui.runtime.base import Runnable

__all__ = ["EventQueueSink", "TeeSink", "astream_events", "root_view"]

_DONE = object()


class EventQueueSink(EventSink):
    """Buffers events for one async consumer; safe to ``put`` from worker threads."""

    def __init__(self, event_filter: EventFilter, buffer_size: int = 128) -> None:
        self.filter = event_filter
        self.buffer_size = buffer_size
        self._items: deque[Any] = deque()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    def put(self, event: Any) -> None:
        self._items.append(event)
        waiter = self._waiter
        if waiter is not None:
            # Only the consumer clears ``_waiter``: a worker thread clearing it could
            # erase a newer waiter published in between and leave the consumer asleep.
            if threading.get_ident() == self._thread:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                self._loop.call_soon_threadsafe(_wake, waiter)

    def close(self) -> None:
        self.put(_DONE)

    def congested(self) -> bool:
        return len(self._items) > self.buffer_size

    async def pace(self) -> None:
        if len(self._items) > self.buffer_size and threading.get_ident() == self._thread:
            room = self._room
            if room is None or room.done():
                room = self._room = self._loop.create_future()
            await room

    async def batches(self) -> AsyncIterator[list[Any]]:
        """Yield everything buffered so far, waiting when nothing is.

        Items are taken with ``popleft`` (atomic), never by swapping the deque, so a
        worker thread appending at the same moment can neither be lost nor mutate a
        batch being read.
        """
        items = self._items
        popleft = items.popleft
        while True:
            if not items:
                waiter = self._waiter = self._loop.create_future()
                # Check again: a worker thread may have appended between the test above
                # and publishing the waiter, and would not have seen it.
                if not items:
                    await waiter
                self._waiter = None
            batch = [popleft() for _ in range(len(items))]
            room = self._room
            if room is not None and not room.done():
                room.set_result(None)
            yield batch


class TeeSink(EventSink):
    """Sends each event to an inner sink (a nested ``astream_events``, a graph's
    ``messages`` listener) and to the sink of the run it is nested in, each under its own
    filter."""

    def __init__(self, inner: EventSink, outer: EventSink) -> None:
        self.inner = inner
        self.outer = outer
        self.filter = _EitherFilter(inner.filter, outer.filter)
        self.root_id = inner.root_id

    def put(self, event: Any) -> None:
        name = event["name"]
        kind = event["event"]
        run_type = name if kind == "on_custom_event" else kind[3 : kind.rindex("_")]
        tags = event["tags"]
        for sink in (self.inner, self.outer):
            if sink.filter.accepts(name, run_type, tags):
                sink.put(event)

    def run_failed(self, run: Any, error: BaseException) -> None:
        self.inner.run_failed(run, error)
        self.outer.run_failed(run, error)

    def congested(self) -> bool:
        return self.inner.congested()

    async def pace(self) -> None:
        await self.inner.pace()


class _EitherFilter(EventFilter):
    def __init__(self, first: EventFilter, second: EventFilter) -> None:
        self.first = first
        self.second = second
        self.is_open = first.is_open or second.is_open

    def accepts(self, name: str, type_: str, tags: Sequence[str]) -> bool:
        return self.first.accepts(name, type_, tags) or self.second.accepts(name, type_, tags)


def root_view(event: dict[str, Any], input: Any) -> dict[str, Any]:
    """The caller's view of its own root run, as LangChain gives it: the start reports
    the caller's input (a lazily started root has not seen it yet) and the end omits
    it. A copy: other watchers (a nested stream's outer one) see the plain child run."""
    kind = event["event"]
    if kind.endswith("_start"):
        return {**event, "data": {"input": input}}
    if kind.endswith("_end") and "input" in event["data"]:
        data = {k: v for k, v in event["data"].items() if k != "input"}
        return {**event, "data": data}
    return event


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def astream_events(
    runnable: Runnable[Any, Any],
    input: Any,
    config: RunnableConfig | None = None,
    *,
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    sink_factory: Callable[[EventFilter], EventQueueSink] = EventQueueSink,
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Stream every run's events while ``runnable.astream(input)`` is consumed."""
    sink = sink_factory(
        EventFilter(
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
        )
    )
    config = ensure_config(config)
    root_id = config.get("run_id") or new_run_id()
    config["run_id"] = root_id
    sink.root_id = root_id
    outer = config.get("callbacks")
    if outer is None:
        config["callbacks"] = RunParent(sink, [], None, None)
    else:
        # Called inside a watched run: whoever watches that run sees these events too.
        both = TeeSink(sink, outer.sink)
        config["callbacks"] = RunParent(
            both, outer.parent_ids, outer.run, outer.local_tag, outer.tags, outer.metadata
        )

    async def produce() -> None:
        try:
            stream = runnable.astream(input, config, **kwargs)
            try:
                async for _ in stream:
                    pass
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
        finally:
            sink.close()

    task = asyncio.ensure_future(produce())
    try:
        async for batch in sink.batches():
            for event in batch:
                if event is _DONE:
                    return
                if event["run_id"] == root_id:
                    event = root_view(event, input)
                yield event
    finally:
        if not task.done():
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
