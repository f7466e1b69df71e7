"""The event bus: one run's parts, numbered and fanned out to every subscriber.

Each subscriber picks a policy, because viewers and recorders want different things:

- ``lossless`` (the recorder, the ``--no-tui`` printer): keeps everything. When its
  buffer is over ``capacity`` the runtime waits — a worker thread blocks in ``publish``,
  the event loop waits in ``pace()`` (the runtime calls it between tokens) — so memory
  stays bounded and nothing is dropped.
- ``coalescing`` (a viewer): never makes the runtime wait. While it is behind by more than
  ``coalesce_after`` parts, token chunks of one run are added together into the pending
  chunk of that run, never across another kind of part, so the order of starts, ends and
  everything else is kept and each run's text stays in order. Folded chunks are counted.
- ``latest``: keeps only the newest part per (mode, namespace), for state views.

Publishing is safe from the runtime's task and from any thread: the sequence number and
the hand-off to every subscriber happen under one lock, so all subscribers see the parts
in the same order. No Textual here.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from streamtui.envelope import Part

__all__ = ["EventBus", "Policy", "Subscription"]

Policy = Literal["lossless", "coalescing", "latest"]

_TOKEN_EVENTS = frozenset({"on_chat_model_stream", "on_llm_stream"})


class Subscription(abc.ABC):
    """A subscriber's queue of parts. Consumers ``drain()`` (non-blocking, e.g. once per
    frame) or ``wait()`` (blocking, from a writer thread) and then drain."""

    policy: Policy
    received: int
    """Parts offered to this subscriber (before any coalescing)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._wake = threading.Event()
        self._sleeping = False
        self.dropped = 0
        """Parts folded into others (coalescing) or replaced (latest); 0 when lossless."""

    @abc.abstractmethod
    def _offer(self, part: Part) -> None: ...

    @abc.abstractmethod
    def _take(self) -> list[Part]: ...

    @abc.abstractmethod
    def pending(self) -> int: ...

    def drain(self) -> list[Part]:
        """Everything waiting, oldest first; ``[]`` when nothing is."""
        items = self._take()
        if items:
            self._bus._room_made()
        return items

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a part is waiting or the bus is closed; False on timeout."""
        while not self.pending():
            if self._bus.closed:
                return False
            self._wake.clear()
            self._sleeping = True
            # Check again: a publisher may have added a part before it saw the flag.
            if self.pending() or self._bus.closed:
                self._sleeping = False
                break
            woke = self._wake.wait(timeout)
            self._sleeping = False
            if not woke:
                return bool(self.pending())
        return True


class _Lossless(Subscription):
    policy: Policy = "lossless"

    def __init__(self, bus: EventBus, capacity: int) -> None:
        super().__init__(bus)
        self.capacity = capacity
        self._items: deque[Part] = deque()
        self._taken = 0

    def _offer(self, part: Part) -> None:
        self._items.append(part)
        if self._sleeping:
            # Once per sleep: the flag stays up until the consumer gets the GIL back,
            # and setting the event again for every part in between cost a third.
            self._sleeping = False
            self._wake.set()

    def _take(self) -> list[Part]:
        # Swapped under the bus lock, which every publisher holds while it appends, so
        # nothing can land in the old buffer after it was taken.
        with self._bus._lock:
            items, self._items = self._items, deque()
        self._taken += len(items)
        return list(items)

    @property  # type: ignore[override]
    def received(self) -> int:
        # Counted per batch, not per part: the publisher's path stays one append.
        return self._taken + len(self._items)

    def pending(self) -> int:
        return len(self._items)

    def full(self) -> bool:
        return len(self._items) > self.capacity


class _Coalescing(Subscription):
    policy: Policy = "coalescing"

    def __init__(self, bus: EventBus, coalesce_after: int) -> None:
        super().__init__(bus)
        self.coalesce_after = coalesce_after
        self.received = 0
        self._items: list[Part] = []
        # run_id -> index of its pending token chunk, since the last other kind of part.
        self._tail: dict[str, int] = {}
        # index -> the chunks folded into that part, added up once, when it is taken
        # (adding on every token would copy the growing text each time).
        self._folded: dict[int, list[Any]] = {}
        self._merged: dict[int, int] = {}

    def _offer(self, part: Part) -> None:
        # Called under the bus lock; ``_take`` swaps the list under the same lock.
        self.received += 1
        items = self._items
        data = part.data
        if part.mode == "events" and type(data) is dict and data.get("event") in _TOKEN_EVENTS:
            run_id = data["run_id"]
            at = self._tail.get(run_id)
            if at is not None and len(items) > self.coalesce_after:
                folded = self._folded.get(at)
                if folded is None:
                    folded = self._folded[at] = []
                folded.append(data["data"].get("chunk"))
                self._merged[at] = self._merged.get(at, 0) + 1
                if len(folded) >= 512:
                    # A viewer that never drains must not hold every token object: add
                    # them up now and then (linear overall, a few objects kept).
                    folded[:] = [_fold({"data": {"chunk": folded[0]}}, folded[1:])["data"]["chunk"]]
                self.dropped += 1
                return
            self._tail[run_id] = len(items)
        elif self._tail:
            self._tail = {}
        items.append(part)
        if self._sleeping:
            self._sleeping = False
            self._wake.set()

    def _take(self) -> list[Part]:
        with self._bus._lock:
            items, self._items = self._items, []
            folded, self._folded = self._folded, {}
            merged, self._merged = self._merged, {}
            self._tail = {}
        for at, chunks in folded.items():
            held = items[at]
            data = _fold(held.data, chunks)
            items[at] = Part(held.seq, held.ts, held.mode, held.ns, data, merged[at])
        return items

    def pending(self) -> int:
        return len(self._items)


def _fold(event: dict[str, Any], chunks: list[Any]) -> dict[str, Any]:
    """The event with its chunk and ``chunks`` added up, in linear time."""
    from streamtui.runtime.messages import BaseMessageChunk, merge_chunks
    from streamtui.runtime.outputs import GenerationChunk

    first = event["data"].get("chunk")
    every = [first, *chunks]
    try:
        if all(isinstance(c, str) for c in every):
            total: Any = "".join(every)
        elif all(isinstance(c, BaseMessageChunk) for c in every):
            total = merge_chunks(every)
        elif all(isinstance(c, GenerationChunk) for c in every):
            total = GenerationChunk.merge(every)
        else:
            total = first
            for c in chunks:
                total = total + c
    except (TypeError, ValueError):
        total = first  # chunks that do not add up: keep the first, the count says what went
    return {**event, "data": {**event["data"], "chunk": total}}


class _Latest(Subscription):
    policy: Policy = "latest"

    def __init__(self, bus: EventBus) -> None:
        super().__init__(bus)
        self.received = 0
        self._latest: dict[tuple[str, tuple[str, ...]], Part] = {}

    def _offer(self, part: Part) -> None:
        self.received += 1
        key = (part.mode, part.ns)
        if key in self._latest:
            self.dropped += 1
        self._latest[key] = part
        if self._sleeping:
            self._sleeping = False
            self._wake.set()

    def _take(self) -> list[Part]:
        with self._bus._lock:
            latest, self._latest = self._latest, {}
        return sorted(latest.values(), key=lambda p: p.seq)

    def pending(self) -> int:
        return len(self._latest)


class EventBus:
    """Numbers one run's parts and hands each to every subscriber, in one order."""

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.started = clock()
        self._seq = 0
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._offers: list[Callable[[Part], None]] = []
        self._lossless: list[_Lossless] = []
        self._room = threading.Condition(threading.Lock())
        self._room_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._blocked = 0
        self.closed = False

    @property
    def seq(self) -> int:
        """The number of parts published so far (the last part's ``seq``)."""
        return self._seq

    def subscribe(
        self, policy: Policy = "lossless", *, capacity: int = 4096, coalesce_after: int = 1024
    ) -> Subscription:
        """Add a subscriber; it sees the parts published from now on."""
        sub: Subscription
        if policy == "lossless":
            sub = _Lossless(self, capacity)
            self._lossless.append(sub)  # type: ignore[arg-type]
        elif policy == "coalescing":
            sub = _Coalescing(self, coalesce_after)
        elif policy == "latest":
            sub = _Latest(self)
        else:
            raise ValueError(f"unknown policy {policy!r}: use lossless, coalescing or latest")
        with self._lock:
            self._subs.append(sub)
            self._offers = [s._offer for s in self._subs]
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]
            self._offers = [s._offer for s in self._subs]
            self._lossless = [s for s in self._lossless if s is not sub]
        self._room_made()

    def publish(self, mode: str, data: Any, ns: tuple[str, ...] = ()) -> Part:
        """Number ``data`` and hand it to every subscriber.

        From a thread without an event loop this blocks while a lossless subscriber is
        full; inside an event loop it never blocks (the loop may be the consumer), and
        the runtime waits in ``pace()`` instead.
        """
        with self._lock:
            seq = self._seq = self._seq + 1
            part = Part(seq, self._clock() - self.started, mode, ns, data)
            for offer in self._offers:
                offer(part)
        if self._lossless and self.congested() and not _in_event_loop():
            self._wait_for_room()
        return part

    def congested(self) -> bool:
        """True when some lossless subscriber holds more than its capacity."""
        return any(sub.full() for sub in self._lossless)

    async def pace(self) -> None:
        """Wait (in the event loop) until every lossless subscriber has room again."""
        loop = asyncio.get_running_loop()
        while self.congested() and not self.closed:
            future = loop.create_future()
            with self._room:
                self._room_waiters.append((loop, future))
            if not self.congested():
                break
            # The timeout is a safety net only; draining wakes the future.
            await asyncio.wait([future], timeout=0.05)

    def _wait_for_room(self) -> None:
        with self._room:
            self._blocked += 1
            try:
                while self.congested() and not self.closed:
                    self._room.wait(0.05)
            finally:
                self._blocked -= 1

    def _room_made(self) -> None:
        if not (self._blocked or self._room_waiters):
            return
        with self._room:
            waiters, self._room_waiters = self._room_waiters, []
            self._room.notify_all()
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop has closed; nobody is waiting any more
                pass

    def close(self) -> None:
        """No more parts: waiting consumers wake, blocked publishers return."""
        self.closed = True
        for sub in self._subs:
            sub._wake.set()
        self._room_made()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
