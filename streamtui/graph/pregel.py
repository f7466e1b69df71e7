"""The superstep executor behind a compiled graph, and its stream modes.

LangGraph's model: the nodes triggered by step n-1 run concurrently in step n; their
writes are applied together at the end of the step (reducers in node-name order, then
``Send`` tasks in the order they were sent), so no node sees a sibling's writes before the
next step. Items reach the consumer as they happen: a node's ``custom`` writes, then its
``updates`` item when it finishes, then ``values`` once the step's writes are applied.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import dataclasses
import functools
import inspect
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from streamtui.graph.builder import END, START, Send, StateGraph, accepts_positional
from streamtui.graph.channels import Channel, channels_for
from streamtui.graph.checkpoint import (
    Checkpoint,
    Command,
    GraphInterrupt,
    Interrupt,
    PregelTask,
    StateSnapshot,
    TaskScratch,
    task_scratch,
)
from streamtui.graph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError
from streamtui.runtime.base import Runnable
from streamtui.runtime.config import (
    RunnableConfig,
    accepts_config,
    child_config_var,
    ensure_config,
    iterate_async_sync,
)
from streamtui.runtime.event_stream import TeeSink
from streamtui.runtime.messages import BaseMessage
from streamtui.runtime.tracing import (
    EventFilter,
    EventSink,
    Run,
    RunParent,
    child_config,
    start_run,
)

__all__ = ["STREAM_MODES", "CompiledStateGraph", "get_stream_writer"]

STREAM_MODES = ("values", "updates", "custom", "messages", "tasks", "debug", "checkpoints")
DEFAULT_RECURSION_LIMIT = 10007  # LangGraph 1.x's default when the config sets none

_writer_var: ContextVar[Callable[[Any], None] | None] = ContextVar(
    "streamtui_graph_writer", default=None
)
# Inside a node of a graph streamed with subgraphs=True: where a graph run there (a
# subgraph) sends its items, and under which namespace.
_parent_var: ContextVar[tuple[_Run, tuple[str, ...]] | None] = ContextVar(
    "streamtui_graph_parent", default=None
)


def _discard(item: Any) -> None:
    pass


def get_stream_writer() -> Callable[[Any], None]:
    """Inside a node: a function that sends items to the graph's ``custom`` stream.

    When nobody asked for ``custom``, the writer does nothing (and costs nothing).
    """
    writer = _writer_var.get()
    return _discard if writer is None else writer


class _Task:
    """One node execution in one step."""

    __slots__ = (
        "arg",
        "branch_targets",
        "cached",
        "id",
        "interrupts",
        "name",
        "order",
        "resume",
        "sends",
        "trigger",
        "writes",
    )

    def __init__(self, name: str, order: tuple[int, Any], arg: Any, trigger: str) -> None:
        self.id = str(uuid.uuid4())
        self.name = name
        self.order = order  # pulls sort by name, then pushes (Send) by position
        self.arg = arg  # the Send argument, or _STATE for "the state"
        self.trigger = trigger  # what made it run, as LangGraph names it
        self.writes: list[tuple[str, Any]] = []
        self.branch_targets: list[tuple[str, str]] = []  # (node, trigger) from its branches
        self.sends: list[Send] = []
        self.resume: list[Any] = []  # answers to this task's interrupts, when resumed
        self.interrupts: list[Interrupt] = []  # asked in this run
        self.cached = False  # finished before an interrupt: its writes are replayed

    def spec(self) -> tuple[Any, ...]:
        return (self.name, self.order, self.arg, self.trigger, self.id)

    @classmethod
    def from_spec(cls, spec: tuple[Any, ...]) -> _Task:
        name, order, arg, trigger, task_id = spec
        task = cls(name, order, arg, trigger)
        task.id = task_id
        return task

    @property
    def path(self) -> tuple[Any, ...]:
        if self.order[0] == 0:
            return ("__pregel_pull", self.name)
        return ("__pregel_push", self.order[1], False)


_STATE: Any = object()  # a task's input: "the state", resolved when its step starts
_MISSING: Any = object()


class _Run:
    """One execution of a graph: channels, pending tasks and the output queue."""

    def __init__(
        self, graph: CompiledStateGraph, config: RunnableConfig, modes: frozenset[str]
    ) -> None:
        self.graph = graph
        self.config = config
        self.modes = modes
        self.channels: dict[str, Channel] = channels_for(graph.builder.state_schema)
        self.barriers: dict[tuple[tuple[str, ...], str], set[str]] = {}
        self.tasks: list[_Task] = []
        self.step = 0
        self.limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        self.out: deque[tuple[tuple[str, ...], str, Any]] = deque()
        self.ns: tuple[str, ...] = ()
        self.root = self  # the run whose consumer gets the items (a subgraph's parent's)
        self.subgraphs = False
        self.failure: BaseException | None = None  # raised once the queue is drained
        self.wake: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = 0
        self.wake_pending = False  # a worker thread has asked the loop to wake
        self.writer = functools.partial(self.emit, "custom") if "custom" in modes else None
        self.saver = graph.checkpointer
        self.thread_id: str | None = None
        if self.saver is not None:
            self.thread_id = (config.get("configurable") or {}).get("thread_id")
            if self.thread_id is None:
                raise ValueError(
                    "this graph has a checkpointer: pass a thread, e.g. "
                    "config={'configurable': {'thread_id': '1'}}"
                )
        self.checkpoint: Checkpoint | None = None  # the latest one, saved or loaded
        self.first_step = 0
        self.interrupted: tuple[Interrupt, ...] = ()
        self.paused_state: dict[str, Any] = {}
        self.pool: ThreadPoolExecutor | None = None  # this run's threads for sync nodes
        self.graph_run: Run | None = None  # the "LangGraph" run, when someone listens
        self.node_runs: set[str] = set()

    # --- output -------------------------------------------------------------------

    def emit(self, mode: str, payload: Any) -> None:
        if mode in self.modes:
            root = self.root
            root.out.append((self.ns, mode, payload))
            root._signal()

    def emit_task_starts(self, tasks: list[_Task]) -> None:
        """``tasks``/``debug`` items for a step about to run (its inputs are now fixed)."""
        state: dict[str, Any] | None = None
        for task in tasks:
            if task.arg is _STATE:
                state = state if state is not None else self.state()
                task.arg = self.node_input(dict(state))
        if "tasks" in self.modes or "debug" in self.modes:
            items = [
                {"id": t.id, "name": t.name, "input": t.arg, "triggers": (t.trigger,)}
                for t in tasks
            ]
            self._emit_task_items("task", items)

    def emit_task_result(self, task: _Task, error: BaseException | None) -> None:
        if "tasks" in self.modes or "debug" in self.modes:
            self._emit_task_items("task_result", [self._result_item(task, error)])

    def _result_item(self, task: _Task, error: BaseException | None) -> dict[str, Any]:
        return {
            "id": task.id,
            "name": task.name,
            "error": error,
            "result": dict(task.writes),
            "interrupts": [dataclasses.asdict(i) for i in task.interrupts],
        }

    def _emit_task_items(self, kind: str, items: list[dict[str, Any]]) -> None:
        debug = "debug" in self.modes
        for item in items:
            self.emit("tasks", item)
            if debug:
                stamp = datetime.now(timezone.utc).isoformat()
                self.emit(
                    "debug",
                    {"step": self.step + 1, "timestamp": stamp, "type": kind, "payload": item},
                )

    def _signal(self) -> None:
        wake = self.wake
        if wake is None:
            return
        if threading.get_ident() == self.loop_thread:
            wake.set()
        elif not self.wake_pending:  # one wake-up per batch, not one per token
            self.wake_pending = True
            try:
                self.loop.call_soon_threadsafe(wake.set)  # type: ignore[union-attr]
            except RuntimeError:
                pass  # the run is over (a sibling failed): nobody is waiting

    @property
    def live(self) -> bool:
        """Some requested item is produced inside nodes while they run."""
        root = self.root
        return root.subgraphs or bool(root.modes & {"custom", "messages"})

    def executor(self) -> ThreadPoolExecutor:
        """This run's own threads for sync nodes: a subgraph called from a sync node
        never waits for a thread its parent holds (a shared pool could deadlock)."""
        if self.pool is None:
            workers = self.config.get("max_concurrency") or 32
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="streamtui-graph")
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool = None

    # --- state --------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        """What ``invoke`` returns: the state, with the interrupts if the run paused."""
        if self.interrupted:
            return {**self.paused_state, "__interrupt__": list(self.interrupted)}
        return self.state()

    def state(self, channels: dict[str, Channel] | None = None) -> dict[str, Any]:
        chans = self.channels if channels is None else channels
        return {key: c.value for key, c in chans.items() if c.filled}

    def node_input(self, state: dict[str, Any]) -> Any:
        schema = self.graph.builder.state_schema
        if isinstance(schema, type) and not _is_typeddict(schema):
            return schema(**state)  # a dataclass or pydantic model gets an instance
        return state

    def writes_of(self, name: str, result: Any) -> list[tuple[str, Any]]:
        if result is None:
            return []
        channels = self.channels
        if isinstance(result, dict):
            return [(key, value) for key, value in result.items() if key in channels]
        if hasattr(type(result), "model_fields") or dataclasses.is_dataclass(result):
            return _fields_as_writes(result, channels)
        raise InvalidUpdateError(
            f"node {name!r} returned {type(result).__name__}; a node returns a dict of state "
            "updates (or None)"
        )

    def apply(self, writes: Sequence[tuple[str, Any]], channels: dict[str, Channel]) -> bool:
        """Apply writes (in order) to ``channels``; True if any channel was written."""
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, values in grouped.items():
            channels[key].update(values)
        return bool(grouped)

    # --- steps --------------------------------------------------------------------

    async def start(self, input: Any) -> None:
        if input is None:
            raise EmptyInputError("Received no input for __start__")
        if isinstance(input, Command):
            self._resume(input)
            return
        schema = self.graph.builder.state_schema
        if isinstance(input, dict) and (
            hasattr(schema, "model_fields") or dataclasses.is_dataclass(schema)
        ):
            schema(**input)  # LangGraph validates the input, then writes it as given
        latest = self.saver.latest(self.thread_id) if self.saver is not None else None  # type: ignore[arg-type]
        if latest is not None:
            self._restore(latest)  # a thread goes on from where it was
        self.step = latest.step + 1 if latest is not None else -1
        writes = self.writes_of(START, input)
        start = _Task(START, (0, START), input, "")
        start.writes = writes
        self._save("input", [start])
        await self.run_branches(start)  # before the input is applied: it sees state + input
        if self.apply(writes, self.channels):
            self.emit("values", self.state())
        self.tasks = self.next_tasks([start])
        self.step += 1
        self.first_step = self.step
        self._save("loop", self.tasks)

    def _resume(self, command: Command) -> None:
        latest = self.saver.latest(self.thread_id) if self.saver is not None else None  # type: ignore[arg-type]
        if latest is None or not latest.next:
            raise ValueError(
                "Command(resume=...) needs an interrupted thread: compile the graph with a "
                "checkpointer and pass the thread_id of the run that was interrupted"
            )
        self._restore(latest)
        self.checkpoint = latest
        self.step = latest.step
        # LangGraph counts a resumed run's recursion limit two steps more generously than a
        # fresh one (it starts from the resumed checkpoint and spends no input step).
        self.first_step = latest.step + 2
        self.emit("values", self.state())
        self._emit_checkpoint(latest, loaded=True)
        tasks = [_Task.from_spec(spec) for spec in latest.next]
        answers = _answers(command.resume, latest)
        for task in tasks:
            if task.id in latest.pending:
                task.writes = latest.pending[task.id]
                task.cached = True
            elif task.id in latest.interrupts:
                asked = latest.interrupts[task.id][-1]
                task.resume = [*latest.resumes.get(task.id, []), answers[asked.id]]
        self.tasks = tasks

    def _restore(self, checkpoint: Checkpoint) -> None:
        for key, value in copy.deepcopy(checkpoint.values).items():
            self.channels[key].value = value
        self.barriers = {key: set(seen) for key, seen in checkpoint.barriers.items()}

    def _save(self, source: str, tasks: list[_Task]) -> None:
        if self.saver is None:
            return
        parent = self.checkpoint
        checkpoint = Checkpoint(
            id=str(uuid.uuid4()),
            step=self.step,
            source=source,
            values=copy.deepcopy(self.state()),  # nobody's later changes reach it
            barriers={key: set(seen) for key, seen in self.barriers.items()},
            next=[task.spec() for task in tasks],
            created_at=datetime.now(timezone.utc).isoformat(),
            parent_id=parent.id if parent is not None else None,
        )
        self.saver.put(self.thread_id, checkpoint)  # type: ignore[arg-type]
        self.checkpoint = checkpoint
        self._emit_checkpoint(checkpoint)

    def _emit_checkpoint(self, checkpoint: Checkpoint, loaded: bool = False) -> None:
        if "checkpoints" not in self.modes and "debug" not in self.modes:
            return
        thread = self.thread_id
        parent_ids = {"checkpoint_ns": "", "thread_id": thread}
        if loaded:  # read back from the saver, LangGraph orders these keys differently
            parent_ids = {"thread_id": thread, "checkpoint_ns": ""}
        item = {
            "config": {
                "configurable": {
                    "checkpoint_ns": "",
                    "thread_id": thread,
                    "checkpoint_id": checkpoint.id,
                }
            },
            "parent_config": None
            if checkpoint.parent_id is None
            else {"configurable": {**parent_ids, "checkpoint_id": checkpoint.parent_id}},
            "values": copy.deepcopy(checkpoint.values),
            "metadata": {"source": checkpoint.source, "step": checkpoint.step, "parents": {}},
            "next": [spec[0] for spec in checkpoint.next],
            "tasks": [
                {
                    "id": spec[4],
                    "name": spec[0],
                    "interrupts": tuple(
                        dataclasses.asdict(i) for i in checkpoint.interrupts.get(spec[4], ())
                    ),
                    "state": None,
                }
                for spec in checkpoint.next
            ],
        }
        self.emit("checkpoints", item)
        if "debug" in self.modes:
            stamp = datetime.now(timezone.utc).isoformat()
            self.emit(
                "debug",
                {
                    "step": checkpoint.step,
                    "timestamp": stamp,
                    "type": "checkpoint",
                    "payload": item,
                },
            )

    def next_tasks(self, finished: Sequence[_Task]) -> list[_Task]:
        """The tasks of the next step, from the edges of the tasks that just ran."""
        builder = self.graph.builder
        pulls: dict[str, str] = {}  # node → trigger
        pushes: list[Send] = []
        for task in finished:
            name = task.name
            for source, target in builder.edges:
                if source == name and target != END:
                    pulls.setdefault(target, f"branch:to:{target}")
            for key in builder.waiting_edges:
                starts, target = key
                if name in starts:
                    seen = self.barriers.setdefault(key, set())
                    seen.add(name)
                    if seen.issuperset(starts):
                        seen.clear()
                        if target != END:
                            pulls.setdefault(target, f"join:{'+'.join(starts)}:{target}")
            for target, trigger in task.branch_targets:
                pulls.setdefault(target, trigger)
            pushes.extend(task.sends)
        tasks = [_Task(n, (0, n), _STATE, pulls[n]) for n in sorted(pulls)]
        for i, send in enumerate(pushes):
            tasks.append(_Task(send.node, (1, i), send.arg, "__pregel_push"))
        return tasks

    async def run_branches(self, task: _Task) -> None:
        """Evaluate the conditional edges out of ``task``'s node, as part of its task: on
        the state before the step plus this task's own writes."""
        branches = self.graph.builder.branches.get(task.name)
        if not branches:
            return
        nodes = self.graph.builder.nodes
        fresh = self._fresh_state(task.writes)
        for branch in branches:
            path = branch.path
            result = _with_config(path, self.config)(fresh)
            if inspect.isawaitable(result):
                result = await result
            for dest in result if isinstance(result, list | tuple) else [result]:
                if isinstance(dest, Send):
                    if dest.node not in nodes:
                        raise ValueError(f"Send to {dest.node!r}, which is not a node")
                    task.sends.append(dest)
                    continue
                target = branch.path_map[dest] if branch.path_map is not None else dest
                if target == END:
                    continue
                if target not in nodes:
                    raise ValueError(
                        f"the conditional edge from {task.name!r} returned {dest!r}, which is "
                        "not a node (add it, or map it with path_map)"
                    )
                task.branch_targets.append((target, f"branch:to:{target}"))

    def _fresh_state(self, writes: list[tuple[str, Any]]) -> Any:
        """The state as a node's conditional edge sees it: with that node's own writes."""
        return self.node_input(self._fresh_values(writes))

    def finish_step(self) -> None:
        tasks = sorted(self.tasks, key=lambda t: t.order)
        asked = tuple(i for task in tasks for i in task.interrupts)
        if asked:
            self._pause(tasks, asked)
            return
        writes = [w for task in tasks for w in task.writes]
        if self.apply(writes, self.channels):
            self.emit("values", self.state())
        self.tasks = self.next_tasks(tasks)
        self.step += 1
        self._save("loop", self.tasks)
        if self.step - self.first_step >= self.limit:
            self.tasks = []
            self.failure = GraphRecursionError(
                f"Recursion limit of {self.limit} reached without hitting a stop condition. "
                "You can increase the limit by setting the `recursion_limit` config key."
            )

    def _pause(self, tasks: list[_Task], asked: tuple[Interrupt, ...]) -> None:
        """A node asked for input: the step is not applied; the tasks that finished keep
        their writes for the resume, and the stream ends with ``__interrupt__``."""
        finished = [w for task in tasks if not task.interrupts for w in task.writes]
        self.paused_state = self._fresh_values(finished)  # shown as LangGraph shows it
        checkpoint = self.checkpoint
        if checkpoint is not None:
            for task in tasks:
                if task.interrupts:
                    checkpoint.interrupts[task.id] = task.interrupts
                    checkpoint.resumes[task.id] = task.resume
                else:
                    checkpoint.pending[task.id] = task.writes
            checkpoint.shown = copy.deepcopy(self.paused_state)
        self.interrupted = asked
        if "values" in self.modes:  # as LangGraph: the step's state, then the finished writes
            self.emit("values", {**self.state(), "__interrupt__": asked})
            if finished:
                self.emit("values", self.paused_state)
        self.tasks = []

    def _fresh_values(self, writes: list[tuple[str, Any]]) -> dict[str, Any]:
        """The state with ``writes`` applied to copies of the channels (not committed)."""
        if not writes:
            return self.state()
        channels = dict(self.channels)
        for key in {k for k, _ in writes}:
            channels[key] = channels[key].copy()
        self.apply(writes, channels)
        return self.state(channels)

    def snapshot(self, checkpoint: Checkpoint) -> StateSnapshot:
        def config(checkpoint_id: str) -> dict[str, Any]:
            ids = {"thread_id": self.thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}
            return {"configurable": ids}

        waiting = [spec for spec in checkpoint.next if spec[4] not in checkpoint.pending]
        tasks = tuple(
            PregelTask(
                spec[4],
                spec[0],
                _Task.from_spec(spec).path,
                interrupts=tuple(checkpoint.interrupts.get(spec[4], ())),
            )
            for spec in checkpoint.next
        )
        shown = checkpoint.shown if checkpoint.shown is not None else checkpoint.values
        return StateSnapshot(
            values=copy.deepcopy(shown),
            next=tuple(spec[0] for spec in waiting),
            config=config(checkpoint.id),
            metadata={"source": checkpoint.source, "step": checkpoint.step, "parents": {}},
            created_at=checkpoint.created_at,
            parent_config=config(checkpoint.parent_id) if checkpoint.parent_id else None,
            tasks=tasks,
            interrupts=tuple(i for task in tasks for i in task.interrupts),
        )

    async def run_task(self, task: _Task, inline: bool) -> None:
        if task.cached:  # finished before the interrupt: replayed, not re-run
            update = {task.name: dict(task.writes) or None, "__metadata__": {"cached": True}}
            self.emit("updates", update)
            return
        action = self.graph.builder.nodes[task.name]
        arg = task.arg  # fixed when the step started
        config, node_run = self._node_config(task, arg)
        scratch = TaskScratch(task.resume)
        asking = task_scratch.set(scratch)
        token = _writer_var.set(self.writer)
        ambient = child_config_var.set(config)  # get_config() inside the node
        inner_ns = (*self.ns, f"{task.name}:{task.id}")
        parent = _parent_var.set((self, inner_ns) if self.root.subgraphs else None)
        wrote = False
        try:
            result = await _call_node(action, arg, config, inline, self)
            task.writes = self.writes_of(task.name, result)
            wrote = True
            await self.run_branches(task)  # part of the task: its custom items come first
        except GraphInterrupt:
            task.interrupts = scratch.asked
            task.resume = scratch.resume
            if node_run is not None:
                node_run.end(None)
            self.emit("updates", {"__interrupt__": tuple(task.interrupts)})
            if "tasks" in self.modes or "debug" in self.modes:
                self._emit_task_items("task_result", [self._result_item(task, None)])
            return
        except BaseException as e:
            if node_run is not None:
                node_run.error(e)
            if wrote:  # LangGraph still reports what the node wrote when its edge fails
                self.emit_update(task)
            if isinstance(e, Exception):
                self.emit_task_result(task, e)
            raise
        finally:
            _writer_var.reset(token)
            _parent_var.reset(parent)
            task_scratch.reset(asking)
            child_config_var.reset(ambient)
        if node_run is not None:
            if result is not None:
                node_run.stream(result)
            node_run.end(result)
        self.emit_update(task)
        self.emit_task_result(task, None)

    def emit_update(self, task: _Task) -> None:
        update = {task.name: dict(task.writes) or None}  # keys outside the schema dropped
        if self.graph_run is not None:
            self.graph_run.stream(update)
        self.emit("updates", update)

    def _node_config(self, task: _Task, arg: Any) -> tuple[RunnableConfig, Run | None]:
        """The config a node's code sees (with LangGraph's ``langgraph_*`` metadata) and,
        when someone listens, the node's run: a chain run tagged ``graph:step:N``."""
        graph_run = self.graph_run
        step = self.step + 1
        namespace = f"{task.name}:{task.id}"
        metadata = {
            **(self.config.get("metadata") or {}),
            "langgraph_step": step,
            "langgraph_node": task.name,
            "langgraph_triggers": (task.trigger,),
            "langgraph_path": task.path,
            "langgraph_checkpoint_ns": namespace,
        }
        node_run = None
        if graph_run is None:
            inner: dict[str, Any] = {**self.config}
            inner.pop("run_id", None)
        else:
            config = {**self.config, "metadata": metadata, "run_name": task.name}
            config.pop("run_id", None)
            config["callbacks"] = graph_run.child(f"graph:step:{step}")
            node_run = start_run(config, task.name, "chain", arg)  # type: ignore[arg-type]
            self.node_runs.add(node_run.run_id)  # type: ignore[union-attr]
            inner = child_config(config, node_run)  # type: ignore[arg-type,assignment]
        # As in LangGraph, the node's code sees its checkpoint namespace, and what it calls
        # is tagged as the first step of the node's internal sequence.
        inner["metadata"] = {**metadata, "checkpoint_ns": namespace}  # not the run's dict
        inner["tags"] = [*(self.config.get("tags") or []), "seq:step:1"]
        return inner, node_run  # type: ignore[return-value]


async def _call_node(action: Any, arg: Any, config: RunnableConfig, inline: bool, run: _Run) -> Any:
    if isinstance(action, Runnable):
        return await action.ainvoke(arg, config)
    call = _with_config(action, config)
    if asyncio.iscoroutinefunction(action) or asyncio.iscoroutinefunction(
        getattr(action, "__call__", None)  # noqa: B004 - async callable objects
    ):
        return await call(arg)
    if inline:
        return call(arg)
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(run.executor(), ctx.run, call, arg)


def _with_config(fn: Callable[..., Any], config: RunnableConfig) -> Callable[[Any], Any]:
    """``fn`` as a one-argument function, handing it ``config`` if it takes one (as the
    second positional parameter or by keyword)."""
    if not accepts_config(fn):
        return fn
    if accepts_positional(fn, 2):
        return lambda arg: fn(arg, config)
    return lambda arg: fn(arg, config=config)


def _fields_as_writes(value: Any, channels: dict[str, Channel]) -> list[tuple[str, Any]]:
    """A pydantic model or dataclass instance as an update, by LangGraph's rule: every
    schema field it has, except a pydantic field left at a ``None`` default."""
    if hasattr(type(value), "model_fields"):
        fields = type(value).model_fields
        explicit = value.model_fields_set
        defaults = {key: field.default for key, field in fields.items()}
    else:
        explicit, defaults = None, {}
    writes = []
    for key in channels:
        if not hasattr(value, key):
            continue
        item = getattr(value, key)
        if (
            item is not None
            or defaults.get(key, _MISSING) is not None
            or (explicit is not None and key in explicit)
        ):
            writes.append((key, item))
    return writes


def _is_typeddict(schema: type) -> bool:
    return isinstance(schema, type) and issubclass(schema, dict)


def _modes(stream_mode: str | Sequence[str]) -> tuple[frozenset[str], bool]:
    requested = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
    for mode in requested:
        if mode not in STREAM_MODES:
            raise ValueError(f"unknown stream_mode {mode!r}; supported: {', '.join(STREAM_MODES)}")
    return frozenset(requested), not isinstance(stream_mode, str)


class CompiledStateGraph(Runnable[Any, Any]):
    """A runnable graph: ``invoke`` returns the final state; ``stream`` yields its
    progress in LangGraph's stream modes."""

    def __init__(self, builder: StateGraph, *, name: str, checkpointer: Any = None) -> None:
        self.builder = builder
        self.name = name
        self.checkpointer = checkpointer

    def _thread_run(self, config: RunnableConfig) -> _Run:
        if self.checkpointer is None:
            raise ValueError("get_state needs a graph compiled with a checkpointer")
        return _Run(self, ensure_config(config), frozenset())

    def get_state(self, config: RunnableConfig) -> StateSnapshot | None:
        """The thread's latest checkpoint: values, next nodes, pending interrupts."""
        run = self._thread_run(config)
        latest = self.checkpointer.latest(run.thread_id)
        return None if latest is None else run.snapshot(latest)

    def get_state_history(self, config: RunnableConfig) -> Iterator[StateSnapshot]:
        """Every checkpoint of the thread, newest first."""
        run = self._thread_run(config)
        return (run.snapshot(c) for c in self.checkpointer.history(run.thread_id))

    def get_graph(self) -> Any:
        """The nodes and edges, as LangGraph lists them (``.nodes``, ``.edges``,
        ``.draw_ascii()``)."""
        from streamtui.graph.drawing import topology

        return topology(self.builder)

    async def _drive(self, run: _Run, input: Any, sync: bool) -> AsyncIterator[list[Any]]:
        """Run the steps, yielding the ``(ns, mode, payload)`` items produced so far, in
        batches: every item as soon as it exists, without a loop turn per item."""
        run.loop = asyncio.get_running_loop()
        run.loop_thread = threading.get_ident()
        wake = run.wake = asyncio.Event()
        out = run.out
        graph_run = run.graph_run = start_run(run.config, self.name, "chain", input)
        step: asyncio.Future[None] | None = None
        try:
            await run.start(input)
            while True:
                if out:
                    yield _take(out)
                if run.failure is not None:
                    raise run.failure
                tasks = run.tasks
                if not tasks:
                    break
                run.emit_task_starts(tasks)
                if out:
                    yield _take(out)
                # A lone sync node in a sync stream runs right here (no thread hop) unless
                # a live mode wants its items while it runs, not when it returns.
                inline = sync and len(tasks) == 1 and not run.live
                step = asyncio.ensure_future(_gather(run, tasks, inline))
                step.add_done_callback(lambda _: wake.set())
                while not step.done():
                    await wake.wait()
                    wake.clear()
                    run.wake_pending = False  # before draining: later items wake us again
                    if out:
                        yield _take(out)
                if out:  # the step's last items, before its failure or its values
                    yield _take(out)
                step.result()  # a node's own exception, after the items it produced
                run.finish_step()
        except BaseException as e:
            if graph_run is not None:
                graph_run.error(e)
            raise
        finally:
            # Closed early or cancelled: stop the step still running (sync nodes already in
            # a thread finish there; their results are dropped).
            if step is not None:
                if not step.done():
                    step.cancel()
                    await asyncio.gather(step, return_exceptions=True)
                elif not step.cancelled():
                    step.exception()  # seen: no "exception was never retrieved"
            run.close()
        if graph_run is not None:
            graph_run.end(run.state())

    def _prepare(
        self,
        config: RunnableConfig | None,
        stream_mode: str | Sequence[str],
        version: str,
        subgraphs: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> tuple[_Run, bool]:
        _refuse(extra)
        if version not in ("v1", "v2"):
            raise ValueError(f'version is "v1" or "v2", not {version!r}')
        modes, as_pairs = _modes(stream_mode)
        config = ensure_config(config)
        parent = _parent_var.get()
        if parent is not None and not modes:
            # Run as a node of a graph streamed with subgraphs=True: our items are theirs.
            outer, ns = parent
            run = _Run(self, config, outer.root.modes - {"messages"})
            run.root, run.ns = outer.root, ns
            return run, as_pairs
        run = _Run(self, config, modes)
        run.subgraphs = subgraphs
        if "messages" in modes:
            run.config = _listen_for_messages(config, _MessagesSink(run))
        return run, as_pairs

    async def astream(  # type: ignore[override]
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stream_mode: str | Sequence[str] = "updates",
        version: str = "v1",
        subgraphs: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        run, as_pairs = self._prepare(config, stream_mode, version, subgraphs, kwargs)
        async for batch in self._drive(run, input, sync=False):
            for ns, mode, payload in batch:
                yield _shape(ns, mode, payload, as_pairs, version, subgraphs)

    def stream(  # type: ignore[override]
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stream_mode: str | Sequence[str] = "updates",
        version: str = "v1",
        subgraphs: bool = False,
        **kwargs: Any,
    ) -> Iterator[Any]:
        run, as_pairs = self._prepare(config, stream_mode, version, subgraphs, kwargs)
        for batch in iterate_async_sync(lambda: self._drive(run, input, sync=True)):
            for ns, mode, payload in batch:
                yield _shape(ns, mode, payload, as_pairs, version, subgraphs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        run, _ = self._prepare(config, (), "v1", extra=kwargs)
        async for _ in self._drive(run, input, sync=False):
            pass
        return run.result()

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        run, _ = self._prepare(config, (), "v1", extra=kwargs)
        for _ in iterate_async_sync(lambda: self._drive(run, input, sync=True)):
            pass
        return run.result()


def _refuse(options: dict[str, Any] | None) -> None:
    """Options LangGraph has and we do not yet: an error, never silently ignored."""
    if not options:
        return
    names = ", ".join(sorted(options))
    if set(options) & {"interrupt_before", "interrupt_after"}:
        raise NotImplementedError(
            f"{names}: breakpoints are not supported yet; call interrupt() in the node"
        )
    raise TypeError(f"unexpected argument(s) {names}")


def _answers(resume: Any, checkpoint: Checkpoint) -> dict[str, Any]:
    """Which answer goes to which pending interrupt: one value for a single interrupt, or
    a dict by interrupt id when several nodes asked."""
    open_ids = [asked[-1].id for asked in checkpoint.interrupts.values()]
    if isinstance(resume, dict) and resume and set(resume) <= set(open_ids):
        missing = [i for i in open_ids if i not in resume]
        if missing:
            raise ValueError(f"Command(resume=...) has no answer for interrupt(s) {missing}")
        return dict(resume)
    if len(open_ids) > 1:
        raise ValueError(
            f"{len(open_ids)} interrupts are waiting: answer each by its id, "
            "Command(resume={interrupt.id: answer, ...})"
        )
    return {open_ids[0]: resume}


def _shape(
    ns: tuple[str, ...], mode: str, payload: Any, as_pairs: bool, version: str, subgraphs: bool
) -> Any:
    """An item as the caller asked for it: the payload, ``(mode, payload)``, with the
    namespace in front when ``subgraphs=True``, or a v2 part."""
    if version == "v2":
        if mode == "values":
            return {"type": mode, "ns": ns, "data": payload, "interrupts": ()}
        return {"type": mode, "ns": ns, "data": payload}
    if subgraphs:
        return (ns, mode, payload) if as_pairs else (ns, payload)
    return (mode, payload) if as_pairs else payload


def _take(out: deque[Any]) -> list[Any]:
    """Everything queued now (worker threads may append meanwhile: those wait)."""
    return [out.popleft() for _ in range(len(out))]


async def _gather(run: _Run, tasks: list[_Task], inline: bool) -> None:
    """Run one step's tasks concurrently; the first failure cancels the others."""
    if len(tasks) == 1:
        await run.run_task(tasks[0], inline)
        return
    limit = run.config.get("max_concurrency")
    if limit:
        gate = asyncio.Semaphore(limit)

        async def gated(task: _Task) -> None:
            async with gate:
                await run.run_task(task, False)

        pending = {asyncio.ensure_future(gated(task)) for task in tasks}
    else:
        pending = {asyncio.ensure_future(run.run_task(task, False)) for task in tasks}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for finished in done:
                finished.result()
    except BaseException:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise


class _MessagesSink(EventSink):
    """Turns the chat model runs inside a graph into ``messages`` items: each token as
    ``(AIMessageChunk, metadata)``; a message that was not streamed (a model that did not
    stream, or one a node made by hand) once, whole, when its run or node ends."""

    def __init__(self, run: _Run) -> None:
        self.filter = EventFilter()
        self.run = run
        self.seen: set[str] = set()  # ids of messages already sent
        self.streamed: set[str] = set()  # model runs that streamed

    def put(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "on_chat_model_stream":
            chunk = event["data"]["chunk"]
            self.streamed.add(event["run_id"])
            if chunk.id is not None:
                self.seen.add(chunk.id)
            self.run.emit("messages", (chunk, event["metadata"]))
        elif kind == "on_chat_model_end":
            if event["run_id"] not in self.streamed:
                self._send_unseen([event["data"]["output"]], event["metadata"])
        elif kind == "on_chain_end" and event["run_id"] in self.run.node_runs:
            self._send_unseen(_messages_in(event["data"]["output"]), event["metadata"])

    def _send_unseen(self, messages: list[BaseMessage], metadata: dict[str, Any]) -> None:
        for message in messages:
            if message.id is not None:
                if message.id in self.seen:
                    continue
                self.seen.add(message.id)
            self.run.emit("messages", (message, metadata))


def _messages_in(output: Any) -> list[BaseMessage]:
    """The messages a node returned: as its output, or as values of its update dict."""
    values = list(output.values()) if isinstance(output, dict) else [output]
    found: list[BaseMessage] = []
    for value in values:
        if isinstance(value, BaseMessage):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(v for v in value if isinstance(v, BaseMessage))
    return found


def _listen_for_messages(config: RunnableConfig, sink: _MessagesSink) -> RunnableConfig:
    """``config`` with ``sink`` watching every run (beside any watcher already there)."""
    outer = config.get("callbacks")
    config = {**config}
    if outer is None:
        config["callbacks"] = RunParent(sink, [])
    else:
        sink.root_id = outer.sink.root_id
        both = TeeSink(sink, outer.sink)
        config["callbacks"] = RunParent(
            both, outer.parent_ids, outer.run, outer.local_tag, outer.tags, outer.metadata
        )
    return config
