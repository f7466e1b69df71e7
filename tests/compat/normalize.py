"""Turn ``astream_events(version="v2")`` traces into plain, comparable structures.

Both langchain-core and streamtui traces go through the same functions, so what is
left after normalization is exactly what the two must agree on:

- run ids become labels (``R0``, ``R1``, ... in order of first appearance, parent ids
  included), or structural path labels for parallel runs (see ``path_labels``);
- metadata keys starting with ``ls_`` and ``lc_versions`` are dropped;
- model class names become ``MODEL`` (only on model events, only for known fake /
  scripted model classes: an explicit ``name=`` is kept);
- messages, chunks, prompt values, documents, generations and exceptions become dicts
  of their comparable fields (type name without module; ``AIMessage`` and
  ``AIMessageChunk`` stay distinct). ``usage_metadata`` and ``response_metadata`` are
  dropped (the scripted model reports them, langchain's fakes do not). A message id
  ``lc_run--<run id>`` becomes ``lc_run--<label>``; any other id becomes ``<id>``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# Class names that are "the model under test" on either side.
MODEL_CLASS_NAMES = frozenset(
    {
        "GenericFakeChatModel",
        "FakeListChatModel",
        "FakeMessagesListChatModel",
        "FakeStreamingListLLM",
        "FakeListLLM",
        "ScriptedChatModel",
        "ScriptedLLM",
        # test-local langchain models (tests/compat/harness.py)
        "LCScriptedChatModel",
        "LCScriptedLLM",
        "LCFailingChatModel",
    }
)

MODEL_EVENT_PREFIXES = ("on_chat_model_", "on_llm_")

_MESSAGE_TYPES = frozenset(
    {
        "BaseMessage",
        "BaseMessageChunk",
        "SystemMessage",
        "SystemMessageChunk",
        "HumanMessage",
        "HumanMessageChunk",
        "AIMessage",
        "AIMessageChunk",
        "ToolMessage",
        "ToolMessageChunk",
        "ChatMessage",
        "ChatMessageChunk",
        "FunctionMessage",
        "FunctionMessageChunk",
    }
)

_LC_RUN_ID = re.compile(r"^lc_run--(.+)$")

Labeler = Any  # anything with __call__(run_id: str) -> str


class OrderLabels:
    """Run ids -> ``R0``, ``R1``... in order of first appearance."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}

    def __call__(self, run_id: Any) -> str:
        key = str(run_id)
        label = self.labels.get(key)
        if label is None:
            label = self.labels[key] = f"R{len(self.labels)}"
        return label

    def known(self, run_id: str) -> bool:
        return str(run_id) in self.labels


class PathLabels(OrderLabels):
    """Run ids -> a structural path (``RunnableSequence/RunnableParallel<a,b>/...``).

    The label of a run is its parent's label plus its own name and tags, so it does
    not depend on how parallel branches interleave. Runs whose start was never seen
    (hidden by a filter) fall back to order labels.
    """

    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__()
        first: dict[str, dict[str, Any]] = {}
        for ev in events:
            first.setdefault(str(ev["run_id"]), ev)
        seen: dict[str, int] = defaultdict(int)
        paths: dict[str, str] = {}

        def path(run_id: str) -> str:
            if run_id in paths:
                return paths[run_id]
            ev = first.get(run_id)
            if ev is None:
                return f"?{run_id}"
            parents = [str(p) for p in ev["parent_ids"]]
            parent = path(parents[-1]) if parents else ""
            name = _model_name(ev["event"], ev["name"])
            own = f"{name}[{','.join(ev['tags'])}]"
            base = f"{parent}/{own}"
            seen[base] += 1
            paths[run_id] = base if seen[base] == 1 else f"{base}#{seen[base]}"
            return paths[run_id]

        # Assign in order of each run's first event: duplicates of one path then get
        # #2, #3 by start order (deterministic for non-parallel duplicates).
        for run_id in first:
            self.labels[run_id] = path(run_id)


def _model_name(event: str, name: str) -> str:
    if event.startswith(MODEL_EVENT_PREFIXES) and name in MODEL_CLASS_NAMES:
        return "MODEL"
    return name


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        k: v for k, v in (metadata or {}).items() if not k.startswith("ls_") and k != "lc_versions"
    }


def _norm_id(value: Any, labels: Labeler) -> Any:
    if value is None:
        return None
    m = _LC_RUN_ID.match(str(value))
    if m:
        return f"lc_run--{labels(m.group(1))}"
    return "<id>"


def _norm_tool_call_chunks(chunks: Iterable[Mapping[str, Any]], labels: Labeler) -> list[Any]:
    out = []
    for c in chunks:
        d = {k: normalize_value(v, labels) for k, v in dict(c).items()}
        out.append(d)
    return out


def normalize_message(msg: Any, labels: Labeler) -> dict[str, Any]:
    cls = type(msg).__name__
    out: dict[str, Any] = {
        "type": cls,
        "content": normalize_value(msg.content, labels),
    }
    if getattr(msg, "name", None) is not None:
        out["name"] = msg.name
    if getattr(msg, "additional_kwargs", None):
        out["additional_kwargs"] = normalize_value(dict(msg.additional_kwargs), labels)
    if hasattr(msg, "id"):
        out["id"] = _norm_id(msg.id, labels)
    if hasattr(msg, "tool_calls"):
        out["tool_calls"] = normalize_value(list(msg.tool_calls or []), labels)
    if hasattr(msg, "invalid_tool_calls"):
        out["invalid_tool_calls"] = normalize_value(list(msg.invalid_tool_calls or []), labels)
    if hasattr(msg, "tool_call_chunks"):
        out["tool_call_chunks"] = _norm_tool_call_chunks(msg.tool_call_chunks or [], labels)
    if hasattr(msg, "chunk_position"):
        out["chunk_position"] = msg.chunk_position
    if cls.startswith("ToolMessage"):
        out["tool_call_id"] = msg.tool_call_id
        out["status"] = getattr(msg, "status", None)
        out["artifact"] = normalize_value(getattr(msg, "artifact", None), labels)
    return out


def normalize_value(value: Any, labels: Labeler) -> Any:
    """Any payload value -> plain dicts/lists/scalars."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    cls = type(value).__name__
    if isinstance(value, BaseException):
        return {"type": cls, "exception": True, "str": str(value)}
    if cls in _MESSAGE_TYPES or (hasattr(value, "content") and hasattr(value, "additional_kwargs")):
        return normalize_message(value, labels)
    if cls == "ChatPromptValue" or (cls.endswith("PromptValue") and hasattr(value, "messages")):
        return {"type": cls, "messages": [normalize_message(m, labels) for m in value.messages]}
    if cls == "StringPromptValue":
        return {"type": cls, "text": value.text}
    if cls == "Document" or hasattr(value, "page_content"):
        return {
            "type": "Document",
            "page_content": value.page_content,
            "metadata": normalize_value(dict(value.metadata or {}), labels),
            "id": getattr(value, "id", None),
        }
    if cls in ("Generation", "GenerationChunk") or (
        hasattr(value, "text") and hasattr(value, "generation_info")
    ):
        return {
            "type": cls,
            "text": value.text,
            "generation_info": normalize_value(value.generation_info, labels),
        }
    if isinstance(value, Mapping):
        return {k: normalize_value(v, labels) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(normalize_value(v, labels) for v in value)
    if isinstance(value, (list, set, frozenset)):
        return [normalize_value(v, labels) for v in value]
    return {"type": cls, "repr": "<opaque>"}


def normalize_event(ev: Mapping[str, Any], labels: Labeler) -> dict[str, Any]:
    parents = [labels(p) for p in ev["parent_ids"]]
    run = labels(ev["run_id"])
    return {
        "event": ev["event"],
        "name": _model_name(ev["event"], ev["name"]),
        "run": run,
        "parent_ids": parents,
        "tags": list(ev.get("tags") or []),
        "metadata": normalize_value(normalize_metadata(ev.get("metadata")), labels),
        "data": normalize_value(ev["data"], labels),
        "extra_keys": sorted(
            set(ev) - {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}
        ),
    }


def root_run_id(events: list[Mapping[str, Any]]) -> str | None:
    """The root run: the run with no parents, or the first ancestor of any event."""
    for ev in events:
        if not ev["parent_ids"]:
            return str(ev["run_id"])
        return str(ev["parent_ids"][0])
    return None


def drop_root_input_accident(events: list[dict[str, Any]], root_label: str | None) -> None:
    """The documented langchain accident (docs/compat.md): when the root's events are
    filtered out, langchain writes the caller's input into the first *sent* event's
    ``data.input`` and deletes ``input`` from that run's end event; streamtui does not.

    Applied to both sides' normalized events: removes ``data.input`` from the first
    event and from that run's end event, only when the first event is not the root's.
    """
    if not events or events[0]["run"] == root_label:
        return
    first_run = events[0]["run"]
    if isinstance(events[0]["data"], dict):
        events[0]["data"].pop("input", None)
    for ev in events[1:]:
        if ev["run"] == first_run and ev["event"].endswith("_end"):
            ev["data"].pop("input", None)


def normalize_events(
    events: list[dict[str, Any]],
    *,
    by_path: bool = False,
    root_accident: bool = True,
) -> list[dict[str, Any]]:
    labels: OrderLabels = PathLabels(events) if by_path else OrderLabels()
    root = root_run_id(events)
    out = [normalize_event(ev, labels) for ev in events]
    if root_accident:
        drop_root_input_accident(out, labels(root) if root is not None else None)
    return out


def group_by_run(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in events:
        groups[ev["run"]].append(ev)
    return dict(groups)
