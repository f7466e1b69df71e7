"""Chat messages with LangChain's names, fields and ``+`` semantics.

Plain ``__slots__`` classes rather than pydantic models: a streamed run creates one
``AIMessageChunk`` per token, so construction cost is on the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from streamtui.runtime.partial_json import parse_partial_json

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "BaseMessage",
    "BaseMessageChunk",
    "HumanMessage",
    "SystemMessage",
    "ToolMessage",
    "add_usage",
    "coerce_to_message",
    "merge_chunks",
    "message_chunk_to_message",
]

_MISSING = object()


class BaseMessage:
    """A message: content plus the metadata LangChain attaches to it."""

    __slots__ = ("additional_kwargs", "content", "id", "name", "response_metadata")
    type: str = "base"
    _extra_fields: tuple[str, ...] = ()

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        self.content = content
        self.additional_kwargs = {} if additional_kwargs is None else additional_kwargs
        self.response_metadata = {} if response_metadata is None else response_metadata
        self.name = name
        self.id = id

    @property
    def text(self) -> str:
        """The text of the content, whether it is a string or a list of blocks."""
        content = self.content
        if isinstance(content, str):
            return content
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(block.get("text", ""))
        return "".join(parts)

    def _fields(self) -> list[tuple[str, Any]]:
        fields: list[tuple[str, Any]] = [
            ("content", self.content),
            ("additional_kwargs", self.additional_kwargs),
            ("response_metadata", self.response_metadata),
        ]
        for name in self._extra_fields:
            fields.append((name, getattr(self, name)))
        if self.name is not None:
            fields.append(("name", self.name))
        if self.id is not None:
            fields.append(("id", self.id))
        return fields

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._fields())
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def model_dump(self) -> dict[str, Any]:
        """A JSON-ready dict, the shape LangChain's ``model_dump()`` gives."""
        data = dict(self._fields())
        data.setdefault("name", None)
        data.setdefault("id", None)
        data["type"] = self.type
        return data

    dict = model_dump

    def pretty_repr(self) -> str:
        title = f" {self.type.capitalize()} Message "
        return f"{title:=^80}\n\n{self.text}"


class SystemMessage(BaseMessage):
    __slots__ = ()
    type = "system"


class HumanMessage(BaseMessage):
    __slots__ = ()
    type = "human"


class ToolMessage(BaseMessage):
    """A tool's result, tied to the call that asked for it by ``tool_call_id``."""

    __slots__ = ("artifact", "status", "tool_call_id")
    type = "tool"
    _extra_fields = ("tool_call_id", "status")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_call_id: str,
        status: Literal["success", "error"] = "success",
        artifact: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self.tool_call_id = tool_call_id
        self.status = status
        self.artifact = artifact


class AIMessage(BaseMessage):
    """A model's reply: text, tool calls and token usage."""

    __slots__ = ("invalid_tool_calls", "tool_calls", "usage_metadata")
    type = "ai"
    _extra_fields = ("tool_calls", "invalid_tool_calls", "usage_metadata")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        invalid_tool_calls: list[dict[str, Any]] | None = None,
        usage_metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self.tool_calls = [] if tool_calls is None else [_tool_call(tc) for tc in tool_calls]
        self.invalid_tool_calls = [] if invalid_tool_calls is None else invalid_tool_calls
        self.usage_metadata = usage_metadata

    def _fields(self) -> list[tuple[str, Any]]:
        fields = super()._fields()
        if self.usage_metadata is None:
            fields = [f for f in fields if f[0] != "usage_metadata"]
        return fields


def _tool_call(tc: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": tc.get("name"),
        "args": tc.get("args") or {},
        "id": tc.get("id"),
        "type": "tool_call",
    }


class BaseMessageChunk(BaseMessage):
    """A piece of a streamed message; pieces combine with ``+``."""

    __slots__ = ()

    def __add__(self, other: Any) -> BaseMessageChunk:
        if isinstance(other, BaseMessageChunk):
            return merge_chunks([self, other])
        if isinstance(other, (list, tuple)) and all(isinstance(o, BaseMessageChunk) for o in other):
            return merge_chunks([self, *other])
        raise TypeError(
            f'unsupported operand type(s) for +: "{type(self).__name__}" and '
            f'"{type(other).__name__}"'
        )


class AIMessageChunk(BaseMessageChunk, AIMessage):
    """A streamed piece of a model reply.

    ``tool_call_chunks`` carry partial tool calls; ``tool_calls`` is parsed from them.
    """

    __slots__ = ("chunk_position", "tool_call_chunks")
    type = "AIMessageChunk"
    _extra_fields = ("tool_calls", "invalid_tool_calls", "tool_call_chunks", "usage_metadata")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        tool_call_chunks: list[dict[str, Any]] | None = None,
        chunk_position: Literal["last"] | None = None,
        usage_metadata: dict[str, Any] | None = None,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        invalid_tool_calls: list[dict[str, Any]] | None = None,
    ) -> None:
        # Hot path: one of these per token, so no super().__init__ chain.
        self.content = content
        self.additional_kwargs = {} if additional_kwargs is None else additional_kwargs
        self.response_metadata = {} if response_metadata is None else response_metadata
        self.name = name
        self.id = id
        self.usage_metadata = usage_metadata
        self.chunk_position = chunk_position
        if tool_call_chunks:
            self.tool_call_chunks = [_tool_call_chunk(tc) for tc in tool_call_chunks]
            self.tool_calls, self.invalid_tool_calls = _parse_tool_call_chunks(
                self.tool_call_chunks
            )
        elif tool_calls:
            # LangChain derives chunks from complete calls when only those are given.
            self.tool_calls = [_tool_call(tc) for tc in tool_calls]
            self.invalid_tool_calls = invalid_tool_calls or []
            self.tool_call_chunks = [
                {
                    "name": tc["name"],
                    "args": json.dumps(tc["args"]),
                    "id": tc["id"],
                    "index": None,
                    "type": "tool_call_chunk",
                }
                for tc in self.tool_calls
            ]
        else:
            self.tool_call_chunks = []
            self.tool_calls = []
            self.invalid_tool_calls = invalid_tool_calls or []

    def _fields(self) -> list[tuple[str, Any]]:
        fields = super()._fields()
        if self.chunk_position is not None:
            fields.append(("chunk_position", self.chunk_position))
        return fields


def _tool_call_chunk(tc: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": tc.get("name"),
        "args": tc.get("args"),
        "id": tc.get("id"),
        "index": tc.get("index"),
        "type": "tool_call_chunk",
    }


def _parse_tool_call_chunks(
    chunks: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tool_calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for chunk in chunks:
        raw = chunk.get("args") or ""
        try:
            args = parse_partial_json(raw) if raw else {}
        except ValueError:
            args = _MISSING
        if isinstance(args, dict):
            tool_calls.append(
                {
                    "name": chunk.get("name") or "",
                    "args": args,
                    "id": chunk.get("id"),
                    "type": "tool_call",
                }
            )
        else:
            invalid.append(
                {
                    "name": chunk.get("name"),
                    "args": chunk.get("args"),
                    "id": chunk.get("id"),
                    "error": None,
                    "type": "invalid_tool_call",
                }
            )
    return tool_calls, invalid


# --- merging -------------------------------------------------------------------------


def merge_content(parts: Sequence[str | list[Any]]) -> str | list[Any]:
    """Concatenate message contents in one pass (strings join, block lists merge)."""
    if all(isinstance(p, str) for p in parts):
        return "".join(parts)  # type: ignore[arg-type]
    merged: str | list[Any] = parts[0] if isinstance(parts[0], str) else list(parts[0])
    for part in parts[1:]:
        if isinstance(merged, str):
            if isinstance(part, str):
                merged += part
            else:
                merged = ([merged] if merged else []) + list(part)
        elif isinstance(part, str):
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part:
                merged.append(part)
        else:
            merged = merge_lists(merged, part) or []
    return merged


_SAME_STRING_KEYS = frozenset({"id", "output_version", "model_provider"})
_LAST_WINS_INT_KEYS = frozenset({"index", "created", "timestamp"})


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """Merge streamed metadata as LangChain does: strings concatenate (but identifiers
    repeated on every chunk do not), dicts and lists merge, counts add, and ``index``,
    ``created`` and ``timestamp`` keep the latest value. Conflicting types are an error.
    """
    merged = dict(left)
    for right in others:
        for key, value in right.items():
            current = merged.get(key)
            if key not in merged or (current is None and value is not None):
                merged[key] = value
            elif value is None:
                continue
            elif type(current) is not type(value):
                raise TypeError(
                    f"cannot merge {key!r}: {type(current).__name__} in one chunk, "
                    f"{type(value).__name__} in the next"
                )
            elif isinstance(current, str):
                if (key == "index" and current.startswith("lc_")) or (
                    key in _SAME_STRING_KEYS and current == value
                ):
                    continue
                merged[key] = current + value
            elif isinstance(current, dict):
                merged[key] = merge_dicts(current, value)
            elif isinstance(current, list):
                merged[key] = merge_lists(current, value)
            elif current == value:
                continue
            elif isinstance(current, bool):
                raise TypeError(f"cannot merge {key!r}: {current!r} and {value!r} differ")
            elif isinstance(current, (int, float)):
                merged[key] = value if key in _LAST_WINS_INT_KEYS else current + value
            else:
                raise TypeError(f"cannot merge {key!r} values of type {type(current).__name__}")
    return merged


def _merge_key(item: Any) -> bool:
    # Only integer (or LangChain ``lc_``) indexes identify pieces of the same item.
    if not isinstance(item, dict) or "index" not in item:
        return False
    index = item["index"]
    return (isinstance(index, int) and not isinstance(index, bool)) or (
        isinstance(index, str) and index.startswith("lc_")
    )


def merge_lists(left: list[Any] | None, *others: list[Any] | None) -> list[Any] | None:
    """Concatenate lists; dict items with the same ``index`` (and no conflicting ``id``)
    are pieces of one item and merge into it."""
    merged = list(left) if left is not None else None
    for other in others:
        if other is None:
            continue
        if merged is None:
            merged = list(other)
            continue
        for item in other:
            if not _merge_key(item):
                merged.append(item)
                continue
            new_id = item.get("id")
            for i, existing in enumerate(merged):
                if (
                    isinstance(existing, dict)
                    and existing.get("index") == item["index"]
                    and (
                        existing.get("id") in (None, "")
                        or new_id in (None, "")
                        or existing.get("id") == new_id
                    )
                ):
                    piece = {k: v for k, v in item.items() if k != "type"}
                    merged[i] = merge_dicts(existing, piece)
                    break
            else:
                merged.append(item)
    return merged


def add_usage(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Add two ``usage_metadata`` dicts field by field (nested details too)."""
    if not left:
        return dict(right or {})
    if not right:
        return dict(left)
    out = dict(left)
    for key, value in right.items():
        if isinstance(value, dict):
            out[key] = add_usage(out.get(key), value)
        elif isinstance(value, (int, float)):
            out[key] = out.get(key, 0) + value
        else:
            out[key] = value
    return out


def _best_id(ids: Iterable[str | None]) -> str | None:
    # Provider ids beat run ids (``lc_run-``/``lc_run--``), which beat anything else.
    best: str | None = None
    best_rank = -1
    for id_ in ids:
        if not id_:
            continue
        if not id_.startswith(("lc_", "run-")):
            return id_
        rank = 1 if id_.startswith(("lc_run-", "run-")) else 0
        if rank > best_rank:
            best, best_rank = id_, rank
    return best


class ChunkMerger:
    """Adds message chunks up as they stream by, keeping only what the sum needs.

    Text pieces are kept as strings and metadata only when present, so a long stream
    holds no per-token objects for the garbage collector to walk (the chunks themselves
    can be freed as soon as they have flowed on). ``value()`` equals ``a + b + ...``.
    """

    __slots__ = (
        "_cls",
        "_contents",
        "_count",
        "_extras",
        "_first",
        "_ids",
        "_last",
        "_metas",
        "_tools",
        "_usage",
    )

    def __init__(self) -> None:
        self._cls: type[BaseMessageChunk] | None = None
        self._first: BaseMessageChunk | None = None
        self._count = 0
        self._contents: list[Any] = []
        self._extras: list[dict[str, Any]] = []
        self._metas: list[dict[str, Any]] = []
        self._tools: list[list[dict[str, Any]]] = []
        self._usage: dict[str, Any] | None = None
        self._ids: dict[str | None, None] = {}
        self._last = False

    def add(self, chunk: BaseMessageChunk) -> None:
        if self._cls is None:
            self._cls = type(chunk)
            self._first = chunk
        self._count += 1
        self._contents.append(chunk.content)
        if chunk.additional_kwargs:
            self._extras.append(chunk.additional_kwargs)
        if chunk.response_metadata:
            self._metas.append(chunk.response_metadata)
        self._ids[chunk.id] = None
        if isinstance(chunk, AIMessageChunk):
            if chunk.tool_call_chunks:
                self._tools.append(chunk.tool_call_chunks)
            if chunk.usage_metadata:
                self._usage = add_usage(self._usage, chunk.usage_metadata)
            if chunk.chunk_position == "last":
                self._last = True

    def value(self) -> Any:
        cls = self._cls
        if cls is None:
            raise ValueError("no chunks to merge")
        if self._count == 1:
            return self._first
        content = merge_content(self._contents)
        additional_kwargs = merge_dicts({}, *self._extras)
        response_metadata = merge_dicts({}, *self._metas)
        if not issubclass(cls, AIMessageChunk):
            return cls(
                content=content,
                additional_kwargs=additional_kwargs,
                response_metadata=response_metadata,
                id=_best_id(self._ids),
            )
        return cls(
            content=content,
            additional_kwargs=additional_kwargs,
            response_metadata=response_metadata,
            tool_call_chunks=merge_lists(*self._tools) if self._tools else None,
            usage_metadata=self._usage,
            id=_best_id(self._ids),
            chunk_position="last" if self._last else None,
        )


def merge_chunks(chunks: Sequence[BaseMessageChunk]) -> Any:
    """Merge many chunks in one linear pass (``a + b + c`` without quadratic copying)."""
    merger = ChunkMerger()
    for chunk in chunks:
        merger.add(chunk)
    return merger.value()


def text_chunk(content: str, id: str | None = None) -> AIMessageChunk:
    """A plain text ``AIMessageChunk``, built without keyword parsing.

    Models create one per token; this is several times cheaper than the constructor.
    """
    chunk = _new_chunk(AIMessageChunk)
    chunk.content = content
    chunk.additional_kwargs = {}
    chunk.response_metadata = {}
    chunk.name = None
    chunk.id = id
    chunk.usage_metadata = None
    chunk.chunk_position = None
    chunk.tool_call_chunks = []
    chunk.tool_calls = []
    chunk.invalid_tool_calls = []
    return chunk


_new_chunk = object.__new__


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """Turn a merged ``AIMessageChunk`` into the ``AIMessage`` that ``invoke`` returns."""
    if not isinstance(chunk, AIMessageChunk):
        return chunk
    return AIMessage(
        content=chunk.content,
        additional_kwargs=chunk.additional_kwargs,
        response_metadata=chunk.response_metadata,
        tool_calls=chunk.tool_calls,
        invalid_tool_calls=chunk.invalid_tool_calls,
        usage_metadata=chunk.usage_metadata,
        name=chunk.name,
        id=chunk.id,
    )


ROLE_CLASSES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
}


def coerce_to_message(value: Any) -> BaseMessage:
    """Accept a message, a ``(role, text)`` pair, a ``{"role", "content"}`` dict or text."""
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return HumanMessage(content=value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        role, content = value
        cls = ROLE_CLASSES.get(role)
        if cls is None:
            raise ValueError(f"unknown message role {role!r}: use one of {sorted(ROLE_CLASSES)}")
        return cls(content=content)
    if isinstance(value, dict) and "content" in value:
        role = value.get("role") or value.get("type") or "user"
        if role == "tool":
            return ToolMessage(content=value["content"], tool_call_id=value["tool_call_id"])
        cls = ROLE_CLASSES.get(role)
        if cls is None:
            raise ValueError(f"unknown message role {role!r}: use one of {sorted(ROLE_CLASSES)}")
        return cls(content=value["content"])
    raise TypeError(f"cannot turn {type(value).__name__} into a chat message: {value!r}")
