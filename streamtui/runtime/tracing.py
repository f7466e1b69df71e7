"""Runs and event sinks: how a runnable reports start, stream, end and error.

A sink receives the events of every run under it (``astream_events`` has one; the bus
has another). A run that has no sink costs nothing: ``start_run`` returns ``None`` and
the runnable skips all bookkeeping, so plain ``invoke``/``stream`` stay fast.

Event dicts follow langchain-core 1.x ``astream_events(version="v2")``: the keys
``event, name, run_id, parent_ids, tags, metadata, data``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamtui.runtime.config import RunnableConfig

__all__ = ["EventFilter", "EventSink", "Run", "RunParent", "child_config", "start_run"]

NO_INPUT: Any = object()
"""Marks a run that starts before its input is known (a step that consumes a stream)."""


class EventFilter:
    """``include_/exclude_`` ``names/types/tags``, decided once per run, not per event."""

    __slots__ = (
        "exclude_names",
        "exclude_tags",
        "exclude_types",
        "include_names",
        "include_tags",
        "include_types",
        "is_open",
    )

    def __init__(
        self,
        *,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> None:
        self.include_names = _as_set(include_names)
        self.include_types = _as_set(include_types)
        self.include_tags = _as_set(include_tags)
        self.exclude_names = _as_set(exclude_names)
        self.exclude_types = _as_set(exclude_types)
        self.exclude_tags = _as_set(exclude_tags)
        self.is_open = all(
            f is None
            for f in (
                self.include_names,
                self.include_types,
                self.include_tags,
                self.exclude_names,
                self.exclude_types,
                self.exclude_tags,
            )
        )

    def accepts(self, name: str, type_: str, tags: Sequence[str]) -> bool:
        if self.is_open:
            return True
        include = (
            self.include_names is None and self.include_types is None and self.include_tags is None
        )
        if self.include_names is not None:
            include = include or name in self.include_names
        if self.include_types is not None:
            include = include or type_ in self.include_types
        if self.include_tags is not None:
            include = include or any(t in self.include_tags for t in tags)
        if self.exclude_names is not None:
            include = include and name not in self.exclude_names
        if self.exclude_types is not None:
            include = include and type_ not in self.exclude_types
        if self.exclude_tags is not None:
            include = include and not any(t in self.exclude_tags for t in tags)
        return include


def _as_set(values: Sequence[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"event filters take a list of strings, not the string {values!r}")
    return frozenset(values)


class EventSink:
    """Where the events of a run tree go. Subclasses decide what to keep and how.

    Events are the same for every sink; ``root_id`` names the run a sink's caller
    started (a root LLM reports its text chunks, as LangChain's tapped root does).
    """

    filter: EventFilter
    root_id: str | None = None

    def put(self, event: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement put(event)")

    def run_failed(self, run: Run, error: BaseException) -> None:
        """A run raised. ``astream_events`` shows only tool errors; the bus shows all."""

    def congested(self) -> bool:
        """True when the consumer is far behind; producers then ``await pace()``."""
        return False

    async def pace(self) -> None:
        """Wait until the consumer has caught up."""


class RunParent:
    """What a child needs from its parent: the sink, its ancestry, a one-off tag, and
    the tags and metadata every descendant inherits (even when a nested call passes a
    config of its own, as in LangChain)."""

    __slots__ = ("local_tag", "metadata", "parent_ids", "run", "sink", "tags")

    def __init__(
        self,
        sink: EventSink,
        parent_ids: list[str],
        run: Run | None = None,
        local_tag: str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.sink = sink
        self.parent_ids = parent_ids
        self.run = run
        self.local_tag = local_tag
        self.tags = tags or []
        self.metadata = metadata or {}

    # configs are copied with copy.deepcopy by some user code; the parent is shared.
    def __deepcopy__(self, memo: dict[int, Any]) -> RunParent:
        return self

    def __copy__(self) -> RunParent:
        return self


class Run:
    """One run of one runnable, reporting to a sink."""

    __slots__ = (
        "_child_ids",
        "_put",
        "_stream_event",
        "inherited_tags",
        "inputs",
        "metadata",
        "name",
        "parent_ids",
        "run_id",
        "run_type",
        "sink",
        "tags",
        "tool_call_id",
        "visible",
    )

    def __init__(
        self,
        sink: EventSink,
        run_id: str,
        name: str,
        run_type: str,
        tags: list[str],
        metadata: dict[str, Any],
        parent_ids: list[str],
    ) -> None:
        self.sink = sink
        self.run_id = run_id
        self.name = name
        self.run_type = run_type
        self.tags = tags
        self.metadata = metadata
        self.parent_ids = parent_ids
        self.inputs: Any = NO_INPUT
        self.inherited_tags: list[str] = tags
        self.tool_call_id: str | None = None
        self.visible = sink.filter.accepts(name, run_type, tags)
        self._child_ids: list[str] | None = None
        # Copying a prebuilt dict is cheaper than building a 7-key literal per token.
        self._stream_event = {
            "event": f"on_{run_type}_stream",
            "name": name,
            "run_id": run_id,
            "parent_ids": parent_ids,
            "tags": tags,
            "metadata": metadata,
            "data": None,
        }
        self._put = sink.put

    @property
    def is_root(self) -> bool:
        return self.run_id == self.sink.root_id

    def child(self, local_tag: str | None = None) -> RunParent:
        ids = self._child_ids
        if ids is None:
            ids = self._child_ids = [*self.parent_ids, self.run_id]
        return RunParent(self.sink, ids, self, local_tag, self.inherited_tags, self.metadata)

    def _send(self, event: str, data: Any) -> None:
        self._put(
            {
                "event": event,
                "name": self.name,
                "run_id": self.run_id,
                "parent_ids": self.parent_ids,
                "tags": self.tags,
                "metadata": self.metadata,
                "data": data,
            }
        )

    def begin(self, inputs: Any) -> None:
        """Report the start; ``NO_INPUT`` for a step whose input is still streaming."""
        self.inputs = inputs
        if self.visible:
            self._send(f"on_{self.run_type}_start", {} if inputs is NO_INPUT else {"input": inputs})

    def stream(self, chunk: Any) -> None:
        if self.visible:
            event = self._stream_event.copy()
            event["data"] = {"chunk": chunk}
            self._put(event)

    def end(self, output: Any, inputs: Any = NO_INPUT) -> None:
        if inputs is NO_INPUT:
            inputs = self.inputs
        if self.visible:
            data = {"output": output, "input": {} if inputs is NO_INPUT else inputs}
            self._send(f"on_{self.run_type}_end", data)

    def error(self, error: BaseException, inputs: Any = NO_INPUT) -> None:
        if inputs is not NO_INPUT:
            self.inputs = inputs
        if self.run_type == "tool" and self.visible:
            self._send(
                "on_tool_error",
                {"error": error, "input": self.inputs, "tool_call_id": self.tool_call_id},
            )
        self.sink.run_failed(self, error)


def new_run_id() -> str:
    return str(uuid.uuid4())


def start_run(
    config: RunnableConfig,
    name: str,
    run_type: str,
    inputs: Any,
) -> Run | None:
    """Start a run if anything is listening; ``None`` (and no cost) otherwise."""
    parent = config.get("callbacks")
    if parent is None:
        return None
    own = config.get("tags") or []
    inherited = parent.tags
    # Inherited tags first, then the call's own (LangChain re-adds a repeated tag last).
    own = [*(t for t in inherited if t not in own), *own] if inherited else list(own)
    metadata = config.get("metadata") or {}
    if parent.metadata:
        metadata = {**parent.metadata, **metadata}
    local = parent.local_tag
    tags = [local, *(t for t in own if t != local)] if local is not None else own
    run = Run(
        parent.sink,
        config.get("run_id") or new_run_id(),
        config.get("run_name") or name,
        run_type,
        tags,
        metadata,
        parent.parent_ids,
    )
    run.inherited_tags = own
    run.begin(inputs)
    return run


def child_config(
    config: RunnableConfig, run: Run | None, local_tag: str | None = None
) -> RunnableConfig:
    """The config a run hands its children: same settings, this run as their parent."""
    out = config.copy()
    out.pop("run_name", None)
    out.pop("run_id", None)
    if run is not None:
        out["callbacks"] = run.child(local_tag)
    return out


class CallbackManagerForRun:
    """What LangChain hands ``run_manager=`` parameters: the run's id and ``get_child()``.

    ``config={"callbacks": run_manager.get_child()}`` makes nested calls children of
    this run, as in LangChain.
    """

    __slots__ = ("run",)

    def __init__(self, run: Run | None) -> None:
        self.run = run

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run is not None else None

    def get_child(self, tag: str | None = None) -> RunParent | None:
        return self.run.child(tag) if self.run is not None else None
