"""The UI's canonical data: every part of a run, the run tree, token text, graph state.

Textual-free and append-only, so the live runtime, a replayed log and a remote attach feed
it the same way (through one queue drained once per frame), and tests need no terminal.
``ingest`` returns what changed, so each pane redraws only that: new rows, the runs
whose status or text moved, whether the graph state did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streamtui.envelope import Part
from streamtui.transcript import chunk_pieces

__all__ = ["Changes", "RunNode", "RunStore"]

_TOKEN_EVENTS = frozenset({"on_chat_model_stream", "on_llm_stream"})


@dataclass(slots=True)
class RunNode:
    """One run in the tree: a chain, a model, a tool, a retriever, a graph node."""

    run_id: str
    name: str
    run_type: str
    parent_id: str | None
    started: float
    children: list[str] = field(default_factory=list)
    status: str = "running"  # running | done | failed | interrupted
    ended: float | None = None
    first_token: float | None = None
    chunks: int = 0
    """Token chunks that showed something (text, reasoning or tool arguments)."""
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_args: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    step: int | None = None
    node: str | None = None
    parts: list[int] = field(default_factory=list)
    """Positions in ``RunStore.parts`` of this run's events."""

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def answer(self) -> str:
        return "".join(self.text)


@dataclass(slots=True)
class Changes:
    """What one ``ingest`` added or moved (what the panes must redraw)."""

    first: int = 0
    """Position of the first new part; the new ones are ``parts[first:]``."""
    added_runs: list[str] = field(default_factory=list)
    changed_runs: set[str] = field(default_factory=set)
    token_runs: set[str] = field(default_factory=set)
    state: bool = False

    def __bool__(self) -> bool:
        return bool(self.added_runs or self.changed_runs or self.token_runs or self.state)


class RunStore:
    """Everything the UI shows, indexed by event type, mode and run."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.runs: dict[str, RunNode] = {}
        self.roots: list[str] = []
        self.by_event: dict[str, list[int]] = {}
        self.by_mode: dict[str, list[int]] = {}
        self.states: list[int] = []
        """Positions of the top-level graph ``values`` parts, one per superstep."""
        self.status = "running"
        self.error: dict[str, Any] | None = None
        self.tokens = 0
        self.first_token: float | None = None
        self.last_ts = 0.0
        self.merged = 0
        """Token chunks a coalescing subscription folded into others (shown as 'dropped')."""
        self.tokens_per_second: list[int] = []
        """Token chunks in each whole second of the run, for the header's sparkline."""

    # --- ingest ---------------------------------------------------------------------

    def ingest(self, parts: Iterable[Part]) -> Changes:
        changes = Changes(first=len(self.parts))
        store = self.parts
        for part in parts:
            position = len(store)
            store.append(part)
            self.by_mode.setdefault(part.mode, []).append(position)
            if part.ts > self.last_ts:
                self.last_ts = part.ts
            self.merged += part.merged
            data = part.data
            if part.mode == "events" and isinstance(data, dict):
                self._event(position, part, data, changes)
            elif part.mode == "values" and not part.ns:
                self.states.append(position)
                changes.state = True
        return changes

    def _event(self, position: int, part: Part, event: dict[str, Any], changes: Changes) -> None:
        kind = event.get("event")
        if not isinstance(kind, str):
            return
        self.by_event.setdefault(kind, []).append(position)
        run_id = event.get("run_id")
        if not isinstance(run_id, str):
            return
        run = self.runs.get(run_id)
        if run is None:
            run = self._new_run(run_id, kind, part, event)
            changes.added_runs.append(run_id)
        run.parts.append(position)
        if kind in _TOKEN_EVENTS:
            self._tokens(run, part, event)
            changes.token_runs.add(run_id)
        elif kind.endswith("_end"):
            run.status, run.ended = "done", part.ts
            changes.changed_runs.add(run_id)
        elif kind.endswith("_error"):
            run.status, run.ended = "failed", part.ts
            payload = event.get("data")
            error = payload.get("error") if isinstance(payload, dict) else None
            run.error = (
                error if isinstance(error, dict) else {"type": "Error", "message": str(error)}
            )
            changes.changed_runs.add(run_id)

    def _new_run(self, run_id: str, kind: str, part: Part, event: dict[str, Any]) -> RunNode:
        parents = event.get("parent_ids")
        parent = parents[-1] if isinstance(parents, list) and parents else None
        if parent is not None and parent not in self.runs:
            parent = None  # its start was filtered out: show it at the top level
        if kind == "on_custom_event":
            run_type = "custom"
        else:
            run_type = kind[3 : kind.rindex("_")] if kind.count("_") >= 2 else kind
        metadata = event.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        step = metadata.get("langgraph_step")
        node = metadata.get("langgraph_node")
        run = RunNode(
            run_id=run_id,
            name=str(event.get("name", "?")),
            run_type=run_type,
            parent_id=parent,
            started=part.ts,
            step=step if isinstance(step, int) else None,
            node=node if isinstance(node, str) else None,
        )
        self.runs[run_id] = run
        if parent is None:
            self.roots.append(run_id)
        else:
            self.runs[parent].children.append(run_id)
        return run

    def _tokens(self, run: RunNode, part: Part, event: dict[str, Any]) -> None:
        payload = event.get("data")
        chunk = payload.get("chunk") if isinstance(payload, dict) else None
        text, reasoning, tool_args = chunk_pieces(chunk)
        if not (text or reasoning or tool_args):
            return
        if text:
            run.text.append(text)
        if reasoning:
            run.reasoning.append(reasoning)
        if tool_args:
            run.tool_args.append(tool_args)
        count = 1 + part.merged
        run.chunks += count
        self.tokens += count
        if run.first_token is None:
            run.first_token = part.ts
        if self.first_token is None:
            self.first_token = part.ts
        second = int(part.ts)
        buckets = self.tokens_per_second
        if len(buckets) <= second:
            buckets.extend([0] * (second + 1 - len(buckets)))
        buckets[second] += count

    def finish(self, status: str, error: dict[str, Any] | None = None) -> None:
        """The source ended: runs still open were interrupted (or failed with the run)."""
        self.status = status
        self.error = error
        for run in self.runs.values():
            if run.status == "running":
                run.status = "interrupted"

    # --- questions panes ask --------------------------------------------------------

    def path(self, run_id: str) -> list[str]:
        """Names from the root down to ``run_id`` (graph nodes by their node name)."""
        names: list[str] = []
        run = self.runs.get(run_id)
        while run is not None:
            names.append(run.name)
            run = self.runs.get(run.parent_id) if run.parent_id else None
        return names[::-1]

    def subtree(self, run_id: str) -> set[str]:
        """``run_id`` and every run under it."""
        out: set[str] = set()
        stack = [run_id]
        while stack:
            current = stack.pop()
            if current in out or current not in self.runs:
                continue
            out.add(current)
            stack.extend(self.runs[current].children)
        return out

    def elapsed(self) -> float:
        return self.last_ts

    def time_to_first_token(self) -> float | None:
        return self.first_token

    def token_rate(self) -> float | None:
        """Token chunks per second from the first token to the last part."""
        if self.first_token is None or self.last_ts <= self.first_token:
            return None
        return self.tokens / (self.last_ts - self.first_token)

    def state_at(self, step: int) -> Any:
        """The graph state after superstep ``step`` (0 = the input), or ``None``."""
        if 0 <= step < len(self.states):
            return self.parts[self.states[step]].data
        return None
