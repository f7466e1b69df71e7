"""The UI's canonical data: every part of a run, the run tree, token text, graph state.

Textual-free and append-only, so the live runtime, a replayed log and a remote attach feed
it the same way (through one queue drained once per frame), and tests need no terminal.
``ingest`` returns what changed, so each pane redraws only that: new rows, the runs
whose status or text moved, whether the graph state did.

Memory is what bounds a million-part run, so the store keeps little per part: positions
in arrays (8 bytes each, no int objects), token text as shared strings, and for a
replayed log not the part at all but its place in the log (``LoggedPart``): ``parts[i]``
reads and parses that line again when a pane asks for it, which panes do only for the
rows on screen. A live run's parts have no file to go back to and are kept whole.

A store only grows, except that ``truncated(n)`` makes a new one holding exactly the
first ``n`` parts, for seeking back in a replay. It costs array copies and a pass over
the runs, not a re-read of the log: every per-run list records at which position each
entry arrived, so cutting is a binary search per list.
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

from streamtui.envelope import Part
from streamtui.eventlog import LogFile, LoggedPart
from streamtui.transcript import chunk_pieces

__all__ = ["Changes", "PartList", "RunNode", "RunStore"]

_TOKEN_EVENTS = frozenset({"on_chat_model_stream", "on_llm_stream"})
_MESSAGE_CLASSES = frozenset(
    {
        "AIMessage",
        "AIMessageChunk",
        "HumanMessage",
        "HumanMessageChunk",
        "SystemMessage",
        "SystemMessageChunk",
        "ToolMessage",
        "ToolMessageChunk",
    }
)
_SHARED_PIECE = 24
"""Token pieces up to this many characters are shared: a run repeats its vocabulary."""
_SHARED_PIECES = 200_000


def _positions() -> array[int]:
    return array("q")


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
    parts: array[int] = field(default_factory=_positions)
    """Positions in ``RunStore.parts`` of this run's events."""
    # Where each entry above arrived, so ``RunStore.truncated`` can cut at a position.
    ended_at: int | None = None
    text_at: array[int] = field(default_factory=_positions)
    reasoning_at: array[int] = field(default_factory=_positions)
    tool_args_at: array[int] = field(default_factory=_positions)
    shown_at: array[int] = field(default_factory=_positions)
    """Positions of the token parts counted in ``chunks``."""
    merged_at: list[tuple[int, int]] = field(default_factory=list)
    """(position, chunks folded into it) of coalesced token parts (live runs only)."""

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def answer(self) -> str:
        return "".join(self.text)

    def copy(self) -> RunNode:
        """A copy sharing nothing mutable with this run."""
        return replace(
            self,
            children=list(self.children),
            text=list(self.text),
            reasoning=list(self.reasoning),
            tool_args=list(self.tool_args),
            parts=array("q", self.parts),
            text_at=array("q", self.text_at),
            reasoning_at=array("q", self.reasoning_at),
            tool_args_at=array("q", self.tool_args_at),
            shown_at=array("q", self.shown_at),
            merged_at=list(self.merged_at),
        )

    def truncate(self, position: int) -> None:
        """Keep only what arrived before ``position`` (children are the store's job)."""
        for pieces, at in (
            (self.text, self.text_at),
            (self.reasoning, self.reasoning_at),
            (self.tool_args, self.tool_args_at),
        ):
            n = bisect_left(at, position)
            del pieces[n:], at[n:]
        shown = bisect_left(self.shown_at, position)
        del self.shown_at[shown:]
        self.merged_at = [(p, m) for p, m in self.merged_at if p < position]
        self.chunks = shown + sum(m for _, m in self.merged_at)
        if not shown:
            self.first_token = None
        if self.ended_at is None or self.ended_at >= position:
            self.status, self.ended, self.ended_at, self.error = "running", None, None, None
        del self.parts[bisect_left(self.parts, position) :]


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


class PartList(Sequence[Part]):
    """``RunStore.parts``: every part by position, each a ``Part`` when asked for.

    Parts that came from a ``LogFile`` are kept as their index in that log (8 bytes) and
    parsed again on access, with the last ``cache`` of them kept; any other part is kept
    as it is.
    """

    def __init__(self, cache: int = 4096) -> None:
        self._held: list[Part] = []
        self._refs: array[int] | None = None
        """Per position: a log index (>= 0) or ``~i`` for ``_held[i]``; ``None`` while
        every part is held (a live run: positions index ``_held`` directly)."""
        self.log: LogFile | None = None
        self._cache: dict[int, Part] = {}
        self._cache_size = cache

    def __len__(self) -> int:
        return len(self._held) if self._refs is None else len(self._refs)

    def append(self, part: Part) -> None:
        if isinstance(part, LoggedPart) and (self.log is None or part.log is self.log):
            if self._refs is None:
                self._refs = array("q", range(-1, -len(self._held) - 1, -1))
            self.log = part.log
            self._refs.append(part.index)
            return
        if isinstance(part, LoggedPart):  # from a second log: keep it whole
            part = part.log.part(part.index)
        if self._refs is not None:
            self._refs.append(~len(self._held))
        self._held.append(part)

    @overload
    def __getitem__(self, index: int) -> Part: ...

    @overload
    def __getitem__(self, index: slice) -> list[Part]: ...

    def __getitem__(self, index: int | slice) -> Part | list[Part]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        refs = self._refs
        if refs is None:
            return self._held[index]
        ref = refs[index]
        if ref < 0:
            return self._held[~ref]
        cache = self._cache
        part = cache.get(ref)
        if part is None:
            assert self.log is not None
            part = self.log.part(ref)
            if len(cache) >= self._cache_size:
                del cache[next(iter(cache))]
            cache[ref] = part
        return part

    def __iter__(self) -> Iterator[Part]:
        if self._refs is None:
            return iter(self._held)
        return (self[i] for i in range(len(self)))

    def log_index(self, position: int) -> int | None:
        """The log index of the part at ``position``, if it came from the log."""
        if self._refs is None:
            return None
        ref = self._refs[position]
        return ref if ref >= 0 else None

    def before_log_index(self, index: int) -> int:
        """How many parts came from the log before its part ``index`` (a replay that
        skipped an unreadable line holds one part fewer than the replay's position)."""
        if self._refs is None:
            return min(index, len(self._held))
        if not self._held:
            return bisect_left(self._refs, index)
        return sum(1 for ref in self._refs if ref < index)  # mixed: rare, not sorted

    def copy(self) -> PartList:
        out = PartList(self._cache_size)
        out.log = self.log
        out._held = list(self._held)
        out._refs = None if self._refs is None else array("q", self._refs)
        out._cache = dict(self._cache)  # by log index: still right
        return out

    def truncate(self, position: int) -> None:
        if self._refs is None:
            del self._held[position:]
        else:
            del self._refs[position:]  # held parts past it are unreferenced; rare


class RunStore:
    """Everything the UI shows, indexed by event type, mode and run."""

    def __init__(self) -> None:
        self.parts = PartList()
        self.runs: dict[str, RunNode] = {}
        self.roots: list[str] = []
        self.by_event: dict[str, array[int]] = {}
        self.by_mode: dict[str, array[int]] = {}
        self.states: array[int] = _positions()
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
        self._token_at = _positions()
        self._token_second = _positions()
        self._merged_at: list[tuple[int, int, bool]] = []
        """(position, folded chunks, whether a token counted) of coalesced parts."""
        self._pieces: dict[str, str] = {}

    # --- ingest ---------------------------------------------------------------------

    def ingest(self, parts: Iterable[Part]) -> Changes:
        """Take in a batch of parts; what changed. The cyclic GC is held off meanwhile:
        a batch makes no cycles, and collections that walked a frame's 20,000 parts
        over and over doubled the cost of a part."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._ingest(parts)
        finally:
            if collecting:
                gc.enable()

    def _ingest(self, parts: Iterable[Part]) -> Changes:
        store = self.parts
        changes = Changes(first=len(store))
        by_mode = self.by_mode
        for part in parts:
            position = len(store)
            store.append(part)
            mode = part.mode
            positions = by_mode.get(mode)
            if positions is None:
                positions = by_mode[mode] = _positions()
            positions.append(position)
            if part.ts > self.last_ts:
                self.last_ts = part.ts
            data = part.data
            if mode == "events" and isinstance(data, dict):
                self._event(position, part, data, changes)
            elif mode == "values" and not part.ns:
                self.states.append(position)
                changes.state = True
            if part.merged:
                self.merged += part.merged
                token = bool(self._token_at) and self._token_at[-1] == position
                self._merged_at.append((position, part.merged, token))
        return changes

    def _event(self, position: int, part: Part, event: dict[str, Any], changes: Changes) -> None:
        kind = event.get("event")
        if not isinstance(kind, str):
            return
        positions = self.by_event.get(kind)
        if positions is None:
            positions = self.by_event[kind] = _positions()
        positions.append(position)
        run_id = event.get("run_id")
        if not isinstance(run_id, str):
            return
        run = self.runs.get(run_id)
        if run is None:
            run = self._new_run(run_id, kind, part, event)
            changes.added_runs.append(run_id)
        run.parts.append(position)
        if kind in _TOKEN_EVENTS:
            if self._tokens(position, run, part, event):
                changes.token_runs.add(run_id)
        elif kind.endswith("_end"):
            run.status, run.ended, run.ended_at = "done", part.ts, position
            changes.changed_runs.add(run_id)
        elif kind.endswith("_error"):
            run.status, run.ended, run.ended_at = "failed", part.ts, position
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

    def _piece(self, text: str) -> str:
        if len(text) > _SHARED_PIECE:
            return text
        shared = self._pieces.get(text)
        if shared is None:
            if len(self._pieces) >= _SHARED_PIECES:
                return text
            shared = self._pieces[text] = text
        return shared

    def _tokens(self, position: int, run: RunNode, part: Part, event: dict[str, Any]) -> bool:
        payload = event.get("data")
        chunk = payload.get("chunk") if isinstance(payload, dict) else None
        text, reasoning, tool_args = _chunk_pieces(chunk)
        if not (text or reasoning or tool_args):
            return False
        if text:
            run.text.append(self._piece(text))
            run.text_at.append(position)
        if reasoning:
            run.reasoning.append(self._piece(reasoning))
            run.reasoning_at.append(position)
        if tool_args:
            run.tool_args.append(self._piece(tool_args))
            run.tool_args_at.append(position)
        count = 1 + part.merged
        run.chunks += count
        run.shown_at.append(position)
        if part.merged:
            run.merged_at.append((position, part.merged))
        self.tokens += count
        if run.first_token is None:
            run.first_token = part.ts
        if self.first_token is None:
            self.first_token = part.ts
        second = max(0, int(part.ts))
        self._token_at.append(position)
        self._token_second.append(second)
        buckets = self.tokens_per_second
        if len(buckets) <= second:
            buckets.extend([0] * (second + 1 - len(buckets)))
        buckets[second] += count
        return True

    def finish(self, status: str, error: dict[str, Any] | None = None) -> None:
        """The source ended: runs still open were interrupted (or failed with the run)."""
        self.status = status
        self.error = error
        for run in self.runs.values():
            if run.status == "running":
                run.status = "interrupted"

    # --- seeking back ---------------------------------------------------------------

    def truncated(self, position: int, *, move: bool = False) -> RunStore:
        """A new store holding exactly ``parts[:position]``, as if only those had been
        ingested (a replay seeking back). This store is left as it was, or with
        ``move`` emptied: its contents move to the new store, which saves a copy of
        everything (the frame pump's restart does that)."""
        position = max(0, min(position, len(self.parts)))
        out = RunStore()
        if move:
            out.__dict__.update(self.__dict__)
            self.__init__()  # type: ignore[misc]
        else:
            out.__dict__.update(self.__dict__)
            out.parts = self.parts.copy()
            out.runs = {r: run.copy() for r, run in self.runs.items()}
            out.roots = list(self.roots)
            out.by_event = {k: array("q", v) for k, v in self.by_event.items()}
            out.by_mode = {k: array("q", v) for k, v in self.by_mode.items()}
            out.states = array("q", self.states)
            out.tokens_per_second = list(self.tokens_per_second)
            out._token_at = array("q", self._token_at)
            out._token_second = array("q", self._token_second)
            out._merged_at = list(self._merged_at)
        out._cut(position)
        return out

    def _cut(self, position: int) -> None:
        if position >= len(self.parts) and self.status == "running":
            return
        self.parts.truncate(position)
        for index in (self.by_event, self.by_mode):
            for key in list(index):
                positions = index[key]
                del positions[bisect_left(positions, position) :]
                if not positions:
                    del index[key]
        del self.states[bisect_left(self.states, position) :]
        runs = self.runs
        for run_id in [r for r, run in runs.items() if not run.parts or run.parts[0] >= position]:
            del runs[run_id]
        for run in runs.values():
            run.truncate(position)
            if run.children and run.children[-1] not in runs:
                run.children = [c for c in run.children if c in runs]
        self.roots = [r for r in self.roots if r in runs]
        n_tokens = bisect_left(self._token_at, position)
        self.tokens_per_second = self._buckets(position, n_tokens)
        del self._token_at[n_tokens:], self._token_second[n_tokens:]
        self._merged_at = [m for m in self._merged_at if m[0] < position]
        self.merged = sum(m for _, m, _ in self._merged_at)
        self.tokens = n_tokens + sum(m for _, m, token in self._merged_at if token)
        if not n_tokens:
            self.first_token = None
        self.last_ts = self.parts[position - 1].ts if position else 0.0
        self.status, self.error = "running", None

    def _buckets(self, position: int, n_tokens: int) -> list[int]:
        """``tokens_per_second`` as it was before ``position``: the cut-off tail taken
        away when that is less work than counting the rest again."""
        seconds = self._token_second
        if not n_tokens:
            return []
        if n_tokens * 2 >= len(seconds):
            buckets = list(self.tokens_per_second)
            for second in seconds[n_tokens:]:
                buckets[second] -= 1
            merged = [(p, m) for p, m, token in self._merged_at if token and p >= position]
            sign = -1
        else:
            buckets = [0] * len(self.tokens_per_second)
            for second in seconds[:n_tokens]:
                buckets[second] += 1
            merged = [(p, m) for p, m, token in self._merged_at if token and p < position]
            sign = 1
        for at, folded in merged:
            buckets[seconds[bisect_left(self._token_at, at)]] += sign * folded
        del buckets[max(seconds[:n_tokens]) + 1 :]
        return buckets

    def everything(self) -> Changes:
        """Changes that make a pane draw the whole store (after ``truncated``)."""
        runs = self.runs
        return Changes(
            first=0,
            added_runs=list(runs),
            changed_runs={r for r, run in runs.items() if run.status != "running"},
            token_runs={r for r, run in runs.items() if run.chunks},
            state=bool(self.states),
        )

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


def _chunk_pieces(chunk: Any) -> tuple[str, str, str]:
    """``chunk_pieces`` of a chunk as the message it is, or as the tagged dict a replayed
    log holds (``LoggedPart``): the same three strings either way."""
    if (
        type(chunk) is dict
        and chunk.get("_type") == "message"
        and chunk.get("class") in _MESSAGE_CLASSES
    ):
        return _message_pieces(chunk)
    return chunk_pieces(chunk)


def _message_pieces(message: dict[str, Any]) -> tuple[str, str, str]:
    """What ``chunk_pieces`` finds in the message a tagged dict would become."""
    content = message.get("content", "")
    text = reasoning = ""
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        pieces = []
        for block in content:
            if isinstance(block, str):
                pieces.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                pieces.append(block.get("text", ""))
        try:
            text = "".join(pieces)
        except TypeError:
            text = ""
        reasoning = "".join(
            str(b.get("thinking") or b.get("reasoning") or "")
            for b in content
            if isinstance(b, dict) and b.get("type") in ("thinking", "reasoning")
        )
    extra = message.get("additional_kwargs")
    if isinstance(extra, dict) and isinstance(extra.get("reasoning_content"), str):
        reasoning += extra["reasoning_content"]
    calls = message.get("tool_call_chunks") or []
    args = "".join(
        (f"{c.get('name')}(" if c.get("name") else "") + (c.get("args") or "")
        for c in calls
        if isinstance(c, dict)
    )
    return text, reasoning, args
