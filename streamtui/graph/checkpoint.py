"""Checkpoints and human-in-the-loop: ``InMemorySaver``, ``interrupt``, ``Command``.

A graph compiled with a checkpointer saves its state after the input and after every
step, per ``thread_id``. ``interrupt(value)`` inside a node stops the run (the stream
ends normally with an ``__interrupt__`` item); ``Command(resume=...)`` as the next input
re-runs that node, where ``interrupt`` now returns the resume value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "Command",
    "GraphInterrupt",
    "InMemorySaver",
    "Interrupt",
    "PregelTask",
    "StateSnapshot",
    "interrupt",
]


@dataclass
class Interrupt:
    """A pause asked for by a node: the ``value`` is shown to whoever resumes."""

    value: Any
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    response_schema: Any = None


@dataclass
class Command:
    """Input that resumes an interrupted thread: ``interrupt()`` returns ``resume``."""

    resume: Any = None


class GraphInterrupt(Exception):
    """Raised by ``interrupt()`` to stop the node; the executor turns it into items."""

    def __init__(self, interrupt: Interrupt) -> None:
        super().__init__(interrupt)
        self.interrupt = interrupt


class PregelTask(NamedTuple):
    id: str
    name: str
    path: tuple[Any, ...]
    error: Any = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any = None


class StateSnapshot(NamedTuple):
    values: dict[str, Any]
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: dict[str, Any]
    created_at: str
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...]


@dataclass
class Checkpoint:
    """What a thread needs to go on: channel values, the next tasks, and for an
    interrupted step the writes of the tasks that finished and the interrupts."""

    id: str
    step: int
    source: str  # "input" or "loop"
    values: dict[str, Any]
    barriers: dict[Any, set[str]]
    next: list[Any]  # task specs: (name, order, arg, trigger, id)
    created_at: str
    parent_id: str | None
    pending: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)  # task id → writes
    interrupts: dict[str, list[Interrupt]] = field(default_factory=dict)  # task id → asked
    resumes: dict[str, list[Any]] = field(default_factory=dict)  # task id → answers so far
    shown: dict[str, Any] | None = None  # the state shown while paused (finished writes in)


class InMemorySaver:
    """Keeps every checkpoint of every thread in memory."""

    def __init__(self) -> None:
        self.threads: dict[str, list[Checkpoint]] = {}

    def latest(self, thread_id: str) -> Checkpoint | None:
        history = self.threads.get(thread_id)
        return history[-1] if history else None

    def put(self, thread_id: str, checkpoint: Checkpoint) -> None:
        self.threads.setdefault(thread_id, []).append(checkpoint)

    def history(self, thread_id: str) -> Iterator[Checkpoint]:
        return reversed(self.threads.get(thread_id, []))


# The interrupt bookkeeping of the node task running in this context.
class TaskScratch:
    __slots__ = ("asked", "resume", "used")

    def __init__(self, resume: list[Any]) -> None:
        self.resume = resume
        self.used = 0
        self.asked: list[Interrupt] = []


task_scratch: ContextVar[TaskScratch | None] = ContextVar("streamtui_graph_task", default=None)


def interrupt(value: Any) -> Any:
    """Pause the graph here and show ``value``; returns the answer once resumed."""
    scratch = task_scratch.get()
    if scratch is None:
        raise RuntimeError("interrupt() is called inside a graph node")
    index = scratch.used
    scratch.used += 1
    if index < len(scratch.resume):
        return scratch.resume[index]
    asked = Interrupt(value)
    scratch.asked.append(asked)
    raise GraphInterrupt(asked)
