"""Run one target onto an event bus, with a recorder and any other consumers attached.

``stream_to_bus`` knows how to watch each kind of target: a streamtui runnable (its runs
report straight to the bus, no intermediate queue), a streamtui graph (graph stream modes
and run events from the same run), and — duck-typed, without importing langchain — any
object with LangChain's ``astream_events`` or LangGraph's ``astream``. ``run_session``
wires a run to its recorder and printers and always writes the log's footer: when the run
ends, fails, or is cancelled (Ctrl-C). No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamtui.bus import EventBus
from streamtui.envelope import Part, Redactor, error_info
from streamtui.eventlog import EventLogWriter, PartPump, Tally
from streamtui.runtime.config import ensure_config
from streamtui.runtime.event_stream import root_view
from streamtui.runtime.tracing import EventFilter, EventSink, Run, RunParent, new_run_id

__all__ = [
    "DEFAULT_GRAPH_MODES",
    "BusSink",
    "RunOutcome",
    "failure_event",
    "run_session",
    "stream_to_bus",
    "target_kind",
]

GRAPH_MODES = frozenset(
    {"values", "updates", "custom", "messages", "tasks", "debug", "checkpoints"}
)
DEFAULT_GRAPH_MODES: tuple[str, ...] = ("events", "updates", "values", "custom")
_QUIET_ERRORS = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)


def failure_event(
    run_type: str,
    name: str,
    run_id: str,
    parent_ids: Sequence[str],
    tags: Sequence[str],
    metadata: Mapping[str, Any],
    error: BaseException,
) -> dict[str, Any]:
    """The bus's record of a failed run: ``on_<run_type>_error`` with type and message
    (an extension: ``astream_events`` itself reports only tool errors)."""
    return {
        "event": f"on_{run_type}_error",
        "name": name,
        "run_id": run_id,
        "parent_ids": list(parent_ids),
        "tags": list(tags),
        "metadata": dict(metadata),
        "data": {"error": error_info(error)},
    }


class BusSink(EventSink):
    """The runtime's events, straight onto the bus, with the root shown as its caller
    sees it (as ``astream_events`` does)."""

    def __init__(
        self, bus: EventBus, event_filter: EventFilter, root_id: str, root_input: Any
    ) -> None:
        self.bus = bus
        self.filter = event_filter
        self.root_id = root_id
        self._root_input = root_input
        self._publish = bus.publish

    def put(self, event: dict[str, Any]) -> None:
        if event["run_id"] == self.root_id:
            event = root_view(event, self._root_input)
        self._publish("events", event)

    def run_failed(self, run: Run, error: BaseException) -> None:
        if isinstance(error, _QUIET_ERRORS):
            return  # a cancelled run did not fail; the footer says it was interrupted
        if run.run_type == "tool" and run.visible:
            return  # ``on_tool_error`` went out already, as in LangChain
        self._publish(
            "events",
            failure_event(
                run.run_type, run.name, run.run_id, run.parent_ids, run.tags, run.metadata, error
            ),
        )

    def congested(self) -> bool:
        return self.bus.congested()

    async def pace(self) -> None:
        await self.bus.pace()


def target_kind(target: Any) -> str:
    """``graph``, ``runnable`` (streamtui), ``langgraph`` (a LangGraph app), ``events``
    (anything LangChain-like) or ``graph-like`` (only ``astream``); ``ValueError`` for
    anything that cannot be streamed."""
    from streamtui.graph.pregel import CompiledStateGraph
    from streamtui.runtime.base import Runnable

    if isinstance(target, CompiledStateGraph):
        return "graph"
    if isinstance(target, Runnable):
        return "runnable"
    if callable(getattr(target, "astream_events", None)):
        # A LangGraph app: events plus graph modes by default, as for our own graphs.
        return "langgraph" if hasattr(target, "stream_mode") else "events"
    if callable(getattr(target, "astream", None)):
        return "graph-like"
    raise ValueError(
        f"a {type(target).__name__} cannot be streamed: give a runnable, a graph, or an "
        "object with astream_events() or astream()"
    )


def check_modes(kind: str, modes: Sequence[str] | None) -> tuple[str, ...]:
    """The modes to stream for a target of ``kind``, or ``ValueError`` saying why not."""
    if modes is None:
        return DEFAULT_GRAPH_MODES if kind in ("graph", "langgraph") else ("events",)
    unknown = [m for m in modes if m != "events" and m not in GRAPH_MODES]
    if unknown:
        allowed = ", ".join(["events", *sorted(GRAPH_MODES)])
        raise ValueError(f"unknown stream mode {unknown[0]!r}; use one of: {allowed}")
    if not modes:
        raise ValueError("stream modes are empty; list at least one, e.g. [events]")
    if kind == "runnable" and any(m != "events" for m in modes):
        raise ValueError(
            f"stream mode {next(m for m in modes if m != 'events')!r} is for graphs; "
            "a chain streams only [events]"
        )
    return tuple(dict.fromkeys(modes))


async def stream_to_bus(
    target: Any,
    input: Any,
    bus: EventBus,
    *,
    modes: Sequence[str] | None = None,
    event_filter: Mapping[str, Sequence[str] | None] | None = None,
) -> None:
    """Run ``target`` on ``input``, publishing every part to ``bus``.

    A failing run's exception propagates unchanged, after the parts already streamed and
    an ``on_<type>_error`` part for every run it failed.
    """
    kind = target_kind(target)
    wanted = check_modes(kind, modes)
    filters = dict(event_filter or {})
    if kind in ("graph", "runnable"):
        await _stream_native(target, input, bus, kind, wanted, filters)
    elif kind in ("events", "langgraph") and "events" in wanted:
        await _stream_foreign_events(target, input, bus, wanted, filters)
    else:
        await _stream_foreign_graph(target, input, bus, wanted)


async def _stream_native(
    target: Any,
    input: Any,
    bus: EventBus,
    kind: str,
    modes: tuple[str, ...],
    filters: dict[str, Any],
) -> None:
    # Without "events" runs still report failures: a filter that shows nothing keeps the
    # runs (and their error records) but never builds an event.
    shown = EventFilter(**filters) if "events" in modes else EventFilter(include_names=())
    root_id = new_run_id()
    config = ensure_config({"run_id": root_id})
    config["callbacks"] = RunParent(BusSink(bus, shown, root_id, input), [], None, None)
    if kind == "runnable":
        stream = target.astream(input, config)
        try:
            async for _ in stream:
                # Models pace themselves per token; a chain without one (a generator, a
                # lambda over a long input) waits here for a full recorder instead.
                if bus.congested():
                    await bus.pace()
        finally:
            await stream.aclose()
        return
    graph_modes = [m for m in modes if m != "events"]
    if not graph_modes:
        await target.ainvoke(input, config)
        return
    await _publish_graph_parts(
        target.astream(input, config, stream_mode=graph_modes, subgraphs=True), bus
    )


async def _publish_graph_parts(stream: Any, bus: EventBus) -> None:
    try:
        async for ns, mode, payload in stream:
            bus.publish(mode, payload, tuple(ns))
            if bus.congested():
                await bus.pace()
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


async def _stream_foreign_events(
    target: Any, input: Any, bus: EventBus, modes: tuple[str, ...], filters: dict[str, Any]
) -> None:
    """A LangChain-style app. With graph modes too (a LangGraph app), they are asked for
    through ``astream_events``' pass-through kwargs and taken from the root's stream
    events, so one run gives both."""
    graph_modes = [m for m in modes if m != "events"]
    kwargs: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    if graph_modes:
        kwargs.update(stream_mode=graph_modes, subgraphs=True)
    open_runs: dict[str, dict[str, Any]] = {}
    stream = target.astream_events(input, version="v2", **kwargs)
    try:
        async for event in stream:
            kind = event.get("event", "")
            if kind.endswith("_start"):
                open_runs[event.get("run_id", "")] = event
            elif kind.endswith("_end"):
                open_runs.pop(event.get("run_id", ""), None)
            if graph_modes and kind == "on_chain_stream" and not event.get("parent_ids"):
                part = _graph_part(event.get("data", {}).get("chunk"))
                if part is not None:
                    bus.publish(part[1], part[2], part[0])
                    continue
            bus.publish("events", event)
            if bus.congested():
                await bus.pace()
    except BaseException as e:
        if not isinstance(e, _QUIET_ERRORS):
            # The innermost open runs failed first, as the exception travelled outwards.
            for started in reversed(list(open_runs.values())):
                run_type = started["event"][3 : -len("_start")]
                bus.publish(
                    "events",
                    failure_event(
                        run_type,
                        started.get("name", "?"),
                        started.get("run_id", ""),
                        started.get("parent_ids", []),
                        started.get("tags", []),
                        started.get("metadata", {}),
                        e,
                    ),
                )
        raise
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _graph_part(chunk: Any) -> tuple[tuple[str, ...], str, Any] | None:
    if isinstance(chunk, tuple) and len(chunk) == 3 and isinstance(chunk[1], str):
        ns, mode, payload = chunk
        if mode in GRAPH_MODES:
            return tuple(ns), mode, payload
    return None


async def _stream_foreign_graph(
    target: Any, input: Any, bus: EventBus, modes: tuple[str, ...]
) -> None:
    graph_modes = [m for m in modes if m != "events"] or ["updates", "values", "custom"]
    await _publish_graph_parts(target.astream(input, stream_mode=graph_modes, subgraphs=True), bus)


# --- a whole run: bus, recorder, printers, footer --------------------------------------


@dataclass
class RunOutcome:
    """How a run ended and what it produced."""

    status: str  # done | error | interrupted
    error: BaseException | None
    duration: float
    tally: Tally
    log_path: Path | None
    consumer_failures: list[tuple[str, BaseException]] = field(default_factory=list)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while the log is finished (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        if previous is not None:  # None: the old handler was not set from Python
            signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def make_header(
    *, name: str, path: str | None, spec_hash: str | None, input: Any, modes: Sequence[str] | None
) -> dict[str, Any]:
    """The header fields of a log (``format`` is added by the writer)."""
    from streamtui import __version__

    return {
        "streamtui": __version__,
        "spec": {"name": name, "path": path, "hash": spec_hash},
        "input": input,
        "modes": list(modes) if modes is not None else None,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
    }


async def run_session(
    target: Any,
    input: Any,
    *,
    header: dict[str, Any],
    record_to: Path | None = None,
    redactor: Redactor | None = None,
    consumers: Sequence[tuple[str, Callable[[list[Part]], None]]] = (),
    modes: Sequence[str] | None = None,
    event_filter: Mapping[str, Sequence[str] | None] | None = None,
    bus: EventBus | None = None,
) -> RunOutcome:
    """Run ``target`` with a lossless recorder and one lossless pump per consumer.

    Returns the outcome instead of raising for a failed run; re-raises cancellation
    after the footer is written, so Ctrl-C keeps the log.
    """
    bus = bus or EventBus()
    redactor = redactor or Redactor()
    tally = Tally()
    writer = EventLogWriter(record_to, header, redactor) if record_to is not None else None

    def record(parts: list[Part]) -> None:
        if writer is not None:
            writer.write(parts)
        tally.add(parts)

    recorder = PartPump(bus.subscribe("lossless"), record, "recorder").start()
    others = [PartPump(bus.subscribe("lossless"), fn, name).start() for name, fn in consumers]
    started = time.perf_counter()
    status, error = "done", None
    try:
        await stream_to_bus(target, input, bus, modes=modes, event_filter=event_filter)
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    except BaseException as e:  # SystemExit from user code too: the run did not finish
        status, error = "error", e
    finally:
        duration = time.perf_counter() - started
        bus.close()
        # The footer first, and out of a second Ctrl-C's reach: a stalled terminal
        # (``| less``) must not keep the log from being finished.
        with _sigint_deferred():
            recorder.join()
            if writer is not None:
                footer = {
                    "status": status,
                    "error": error_info(error) if error is not None else None,
                    "ended_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "duration": round(duration, 6),
                    "counts": tally.as_footer(),
                }
                if recorder.failure is not None:
                    footer["recorder_error"] = error_info(recorder.failure)
                try:
                    writer.close(footer)
                except OSError as e:
                    recorder.failure = recorder.failure or e
        for pump in others:
            pump.join()
    failures = [(name, p.failure) for (name, _), p in zip(consumers, others) if p.failure]
    if recorder.failure is not None:
        failures.insert(0, ("recorder", recorder.failure))
    return RunOutcome(status, error, duration, tally, record_to, failures)
