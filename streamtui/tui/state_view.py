"""What the state pane shows: the object a run (or the graph) has built so far, what
changed in it since the step before, pretty-printed with the changed paths marked.

Textual-free: the pane asks ``snapshot`` for a value and its predecessor and draws the
lines ``pretty_lines`` gives it; ``diff`` is also what the "what changed" view lists.
Values are compared as the log holds them (``jsonable``), so a live run and its replay
show the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from streamtui.envelope import jsonable
from streamtui.tui.store import RunStore

__all__ = ["Change", "JsonPath", "Snapshot", "diff", "path_text", "pretty_lines", "snapshot"]

JsonPath = tuple[str | int, ...]

_TOKEN_EVENTS = frozenset({"on_chat_model_stream", "on_llm_stream"})


@dataclass(frozen=True)
class Change:
    """One difference between two JSON values."""

    path: JsonPath
    kind: str  # added | removed | changed
    old: Any = None
    new: Any = None


def diff(old: Any, new: Any, path: JsonPath = ()) -> list[Change]:
    """Where ``new`` differs from ``old``, as deep as both are containers of one kind."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [Change((*path, k), "removed", old=v) for k, v in old.items() if k not in new]
        for k, v in new.items():
            if k in old:
                out.extend(diff(old[k], v, (*path, k)))
            else:
                out.append(Change((*path, k), "added", new=v))
        return out
    if isinstance(old, list) and isinstance(new, list):
        common = min(len(old), len(new))
        out = []
        for i in range(common):
            out.extend(diff(old[i], new[i], (*path, i)))
        out.extend(Change((*path, i), "added", new=new[i]) for i in range(common, len(new)))
        out.extend(Change((*path, i), "removed", old=old[i]) for i in range(common, len(old)))
        return out
    if type(old) is not type(new) or old != new:
        return [Change(path, "changed", old=old, new=new)]
    return []


def path_text(path: JsonPath) -> str:
    """``messages[2].content``; the whole value is ``$``."""
    if not path:
        return "$"
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def pretty_lines(value: Any, indent: int = 2, limit: int = 20_000) -> list[tuple[JsonPath, str]]:
    """``value`` as indented JSON, one entry per line with the path it belongs to (so the
    pane can mark the lines under a changed path). At most ``limit`` lines."""
    out: list[tuple[JsonPath, str]] = []

    def emit(path: JsonPath, prefix: str, v: Any, depth: int, comma: str) -> None:
        if len(out) > limit:
            return
        pad = " " * (indent * depth)
        if isinstance(v, dict) and v:
            out.append((path, f"{pad}{prefix}{{"))
            last = len(v) - 1
            for i, (k, item) in enumerate(v.items()):
                key = json.dumps(k, ensure_ascii=False) + ": "
                emit((*path, k), key, item, depth + 1, "," if i < last else "")
            out.append((path, f"{pad}}}{comma}"))
        elif isinstance(v, list) and v:
            out.append((path, f"{pad}{prefix}["))
            last = len(v) - 1
            for i, item in enumerate(v):
                emit((*path, i), "", item, depth + 1, "," if i < last else "")
            out.append((path, f"{pad}]{comma}"))
        else:
            out.append((path, f"{pad}{prefix}{json.dumps(v, ensure_ascii=False)}{comma}"))

    emit((), "", value, 0, "")
    if len(out) > limit:
        out = out[:limit]
        out.append(((), f"… cut at {limit} lines (copy or inspect for the whole value)"))
    return out


@dataclass(frozen=True)
class Snapshot:
    """A value to show, what it was one step before (for the highlight and the diff),
    and a title saying whose value it is."""

    title: str
    value: Any
    previous: Any = None
    has_previous: bool = False

    def changes(self) -> list[Change]:
        return diff(self.previous, self.value) if self.has_previous else []


def snapshot(store: RunStore, run_id: str | None = None) -> Snapshot | None:
    """The selected run's value, or with nothing selected the graph's latest state (else
    the last top-level run's). For a graph node run: the state after its superstep and
    the state before it. For any other run: what it has streamed so far (a JSON parser's
    latest object, or the text so far), else its output, else its input."""
    if run_id is None:
        if store.states:
            return _state(store, len(store.states) - 1)
        if not store.roots:
            return None
        run_id = store.roots[-1]
    run = store.runs.get(run_id)
    if run is None:
        return None
    if (
        run.node
        and run.run_type == "chain"
        and run.step is not None
        and run.step < len(store.states)
    ):
        return _state(store, run.step, f"after step {run.step} ({run.node})")
    return _streamed(store, run_id)


def _state(store: RunStore, step: int, why: str = "") -> Snapshot:
    title = f"state {why}".strip() if why else f"state after step {step}"
    value = jsonable(store.state_at(step))
    if step == 0:
        return Snapshot(title if why else "state (the input)", value)
    return Snapshot(title, value, jsonable(store.state_at(step - 1)), True)


_TEXT_CHUNKS = 20_000
"""String deltas joined for a run's text so far; older ones are left out (and said so)."""


def _streamed(store: RunStore, run_id: str) -> Snapshot | None:
    run = store.runs[run_id]
    title = f"{run.name} ({run.run_type})"
    chunks: list[Any] = []  # newest first
    output: Any = None
    cut = False
    if run.run_type not in ("chat_model", "llm"):  # a model's stream is its tokens
        # Newest first: an object stream needs only its last two chunks; a text stream
        # is joined up to _TEXT_CHUNKS pieces. Never a scan of a whole long run.
        for position in reversed(run.parts):
            event = _event_of(store, position)
            kind = event.get("event", "")
            payload = event.get("data")
            payload = payload if isinstance(payload, dict) else {}
            if kind.endswith("_stream") and kind not in _TOKEN_EVENTS and "chunk" in payload:
                chunk = payload["chunk"]
                if not isinstance(chunk, str) and len(chunks) >= 2:
                    break
                if len(chunks) >= _TEXT_CHUNKS:
                    cut = True
                    break
                chunks.append(chunk)
            elif kind.endswith("_end") and "output" in payload:
                output = payload["output"]
    if chunks and all(isinstance(c, str) for c in chunks):
        # String chunks are deltas: the value is the text so far.
        text = "".join(reversed(chunks))
        note = " (the latest part)" if cut else ""
        previous = text[: len(text) - len(chunks[0])]
        return Snapshot(f"{title} · streamed text{note}", text, previous, True)
    if chunks:
        value = jsonable(chunks[0])
        if len(chunks) > 1:
            return Snapshot(f"{title} · streamed", value, jsonable(chunks[1]), True)
        return Snapshot(f"{title} · streamed", value)
    last = _event_of(store, run.parts[-1]) if run.parts else {}
    first = _event_of(store, run.parts[0]) if run.parts else {}
    start = first.get("data", {}).get("input") if isinstance(first.get("data"), dict) else None
    if output is None and isinstance(last.get("data"), dict):
        output = last["data"].get("output")
    if run.error is not None:  # what failed, and on what
        return Snapshot(f"{title} · failed", jsonable({"error": run.error, "input": start}))
    if output is not None:
        return Snapshot(f"{title} · output", jsonable(output))
    if start is not None:
        return Snapshot(f"{title} · input", jsonable(start))
    return None


def _event_of(store: RunStore, position: int) -> dict[str, Any]:
    event = store.parts[position].data
    return event if isinstance(event, dict) else {}
