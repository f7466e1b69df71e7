"""State channels: how a schema field takes the writes of one superstep.

A plain field keeps the last value and accepts one write per step; a field annotated with
a reducer (``Annotated[list, operator.add]``, ``add_messages``) folds every write in.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from streamtui.graph.errors import InvalidUpdateError
from streamtui.runtime.messages import BaseMessage, coerce_to_message

__all__ = ["Channel", "add_messages", "channels_for", "state_fields"]

_EMPTY: Any = object()


class Channel:
    """One state field. ``value`` is ``_EMPTY`` until something is written."""

    __slots__ = ("key", "reducer", "value")

    def __init__(self, key: str, reducer: Callable[[Any, Any], Any] | None, initial: Any) -> None:
        self.key = key
        self.reducer = reducer
        self.value = initial

    @property
    def filled(self) -> bool:
        return self.value is not _EMPTY

    def update(self, values: Sequence[Any]) -> None:
        """Apply one step's writes, already in their deterministic order."""
        reducer = self.reducer
        if reducer is None:
            if len(values) > 1:
                raise InvalidUpdateError(
                    f"At key {self.key!r}: Can receive only one value per step. "
                    "Use an Annotated key to handle multiple values."
                )
            self.value = values[-1]
            return
        value = self.value
        for item in values:
            value = item if value is _EMPTY else reducer(value, item)
        self.value = value

    def copy(self) -> Channel:
        return Channel(self.key, self.reducer, self.value)


def state_fields(schema: Any) -> dict[str, Any]:
    """Field name → annotation for a TypedDict, dataclass or pydantic model."""
    if dataclasses.is_dataclass(schema):
        hints = typing.get_type_hints(schema, include_extras=True)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(schema)}
    if hasattr(schema, "model_fields"):
        hints = typing.get_type_hints(schema, include_extras=True)
        return {name: hints.get(name, Any) for name in schema.model_fields}
    try:
        return typing.get_type_hints(schema, include_extras=True)
    except TypeError as e:
        raise TypeError(
            f"a graph state schema is a TypedDict, dataclass or pydantic model, not {schema!r}"
        ) from e


def channels_for(schema: Any) -> dict[str, Channel]:
    """Fresh channels for every field of ``schema``, in field order."""
    out: dict[str, Channel] = {}
    for key, hint in state_fields(schema).items():
        reducer = _reducer_of(hint)
        initial = _EMPTY
        if reducer is not None:
            base = typing.get_args(hint)[0]
            origin = typing.get_origin(base) or base
            try:
                initial = origin()  # list → [], the value LangGraph shows before any write
            except Exception:
                initial = _EMPTY
        out[key] = Channel(key, reducer, initial)
    return out


def _reducer_of(hint: Any) -> Callable[[Any, Any], Any] | None:
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    for meta in reversed(typing.get_args(hint)[1:]):
        if callable(meta):
            return meta  # type: ignore[no-any-return]
    return None


def add_messages(left: Any, right: Any) -> list[BaseMessage]:
    """Append messages, replacing any whose ``id`` is already in the list."""
    old = [coerce_to_message(m) for m in _as_list(left)]
    new = [coerce_to_message(m) for m in _as_list(right)]
    for message in (*old, *new):
        if message.id is None:
            message.id = str(uuid.uuid4())  # as LangGraph does, so later writes can replace
    index = {m.id: i for i, m in enumerate(old)}
    merged = list(old)
    for message in new:
        at = index.get(message.id)
        if at is None:
            index[message.id] = len(merged)
            merged.append(message)
        else:
            merged[at] = message
    return merged


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
