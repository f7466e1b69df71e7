"""Stream plumbing: chunk accumulation, tee and async iteration helpers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Accumulator", "AddableDict", "aiter_of", "atee"]

T = TypeVar("T")

_EMPTY: Any = object()


class AddableDict(dict[str, Any]):
    """A dict chunk: ``a + b`` merges keys, adding the values of keys in both."""

    def __add__(self, other: dict[str, Any]) -> AddableDict:
        out = AddableDict(self)
        for key, value in other.items():
            if key not in out or out[key] is None:
                out[key] = value
            elif value is not None:
                try:
                    out[key] = out[key] + value
                except TypeError:
                    out[key] = value
        return out

    def __radd__(self, other: dict[str, Any]) -> AddableDict:
        return AddableDict(other) + self


class Accumulator:
    """Adds chunks with ``+`` the way a streamed value is rebuilt, in linear time.

    Strings and message chunks are collected and joined once; other values are added
    pairwise. A value that cannot be added makes the last chunk the result, as in
    LangChain.
    """

    __slots__ = ("_kind", "_parts", "_value", "supported")

    def __init__(self) -> None:
        self._value: Any = _EMPTY
        self._parts: list[Any] | None = None
        self._kind = 0
        self.supported = True

    @property
    def empty(self) -> bool:
        return self._value is _EMPTY and self._parts is None

    def add(self, chunk: Any) -> None:
        if not self.supported:
            self._value = chunk
            return
        parts = self._parts
        if parts is not None:
            if type(chunk) is self._kind:
                parts.append(chunk)
                return
            self._value = self._fold()
            self._parts = None
        if self._value is _EMPTY:
            kind = type(chunk)
            if kind is str or (hasattr(kind, "__add__") and _is_message_chunk(kind)):
                self._parts = [chunk]
                self._kind = kind
            else:
                self._value = chunk
            return
        try:
            self._value = self._value + chunk
        except TypeError:
            self._value = chunk
            self.supported = False

    def _fold(self) -> Any:
        parts = self._parts
        assert parts is not None
        if self._kind is str:
            return "".join(parts)
        if len(parts) == 1:
            return parts[0]
        return _merge_message_chunks(parts)

    def value(self, default: Any = None) -> Any:
        if self._parts is not None:
            self._value = self._fold()
            self._parts = None
        return default if self._value is _EMPTY else self._value


def _is_message_chunk(kind: type) -> bool:
    from streamtui.runtime.messages import BaseMessageChunk
    from streamtui.runtime.outputs import GenerationChunk

    return issubclass(kind, (BaseMessageChunk, GenerationChunk))


def _merge_message_chunks(parts: list[Any]) -> Any:
    from streamtui.runtime.messages import BaseMessageChunk, merge_chunks

    if isinstance(parts[0], BaseMessageChunk):
        return merge_chunks(parts)
    return type(parts[0]).merge(parts)


async def aiter_of(values: Iterable[T]) -> AsyncIterator[T]:
    for value in values:
        yield value


class _Tee(Generic[T]):
    def __init__(self, source: AsyncIterator[T], n: int) -> None:
        self._source = source
        self._buffers: list[deque[T]] = [deque() for _ in range(n)]
        self._lock = asyncio.Lock()
        self._done = False

    async def child(self, i: int) -> AsyncIterator[T]:
        buffer = self._buffers[i]
        while True:
            if buffer:
                yield buffer.popleft()
                continue
            async with self._lock:
                # Another child may have pulled while we waited for the lock.
                if not buffer and not self._done:
                    try:
                        item = await self._source.__anext__()
                    except StopAsyncIteration:
                        self._done = True
                    else:
                        for b in self._buffers:
                            b.append(item)
            if not buffer and self._done:
                return


def atee(source: AsyncIterator[T], n: int) -> list[AsyncIterator[T]]:
    """Split one async iterator into ``n`` that each see every item."""
    tee = _Tee(source, n)
    return [tee.child(i) for i in range(n)]


def first_then(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest
