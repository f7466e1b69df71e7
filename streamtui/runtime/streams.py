"""Stream plumbing: chunk accumulation, tee and async iteration helpers."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Accumulator", "AddableDict", "aiter_of", "atee", "locked_tee"]

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

    Strings and message chunks go to a merger that joins them once at the end; other
    values are added pairwise. A value that cannot be added makes the last chunk the
    result, as in LangChain.
    """

    __slots__ = ("_kind", "_merger", "_value", "supported")

    def __init__(self) -> None:
        self._value: Any = _EMPTY
        self._merger: Any = None
        self._kind: type | None = None
        self.supported = True

    @property
    def empty(self) -> bool:
        return self._value is _EMPTY and self._merger is None

    def add(self, chunk: Any) -> None:
        if not self.supported:
            self._value = chunk
            return
        merger = self._merger
        if merger is not None:
            if type(chunk) is self._kind:
                merger.add(chunk)
                return
            self._value = merger.value()
            self._merger = None
        if self._value is _EMPTY:
            merger = _merger_for(type(chunk))
            if merger is None:
                self._value = chunk
            else:
                merger.add(chunk)
                self._merger = merger
                self._kind = type(chunk)
            return
        try:
            self._value = self._value + chunk
        except TypeError:
            self._value = chunk
            self.supported = False

    def value(self, default: Any = None) -> Any:
        if self._merger is not None:
            self._value = self._merger.value()
            self._merger = None
        return default if self._value is _EMPTY else self._value


class _Texts(list[str]):
    add = list.append

    def value(self) -> str:
        return "".join(self)


class _Lists(list[Any]):
    """List chunks (JSON Patch op lists from ``JsonOutputParser(diff=True)``) add up to
    their concatenation; extending one list keeps that linear."""

    add = list.extend

    def value(self) -> list[Any]:
        return list(self)


class _Generations(list[Any]):
    add = list.append

    def value(self) -> Any:
        return type(self[0]).merge(self)


class _DictMerger:
    """Adds dict chunks key by key, each key with its own ``Accumulator`` (adding whole
    ``AddableDict`` s re-copies every growing value on every chunk)."""

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: dict[str, Accumulator] = {}

    def add(self, chunk: dict[str, Any]) -> None:
        keys = self._keys
        for key, value in chunk.items():
            acc = keys.get(key)
            if acc is None:
                acc = keys[key] = Accumulator()
            if value is not None:
                acc.add(value)

    def value(self) -> AddableDict:
        return AddableDict({k: acc.value() for k, acc in self._keys.items()})


def _merger_for(kind: type) -> Any:
    if kind is str:
        return _Texts()
    if kind is list:
        return _Lists()
    if kind is AddableDict:
        return _DictMerger()
    from streamtui.runtime.messages import BaseMessageChunk, ChunkMerger
    from streamtui.runtime.outputs import GenerationChunk

    if issubclass(kind, BaseMessageChunk):
        return ChunkMerger()
    if issubclass(kind, GenerationChunk):
        return _Generations()
    return None


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


class _Locked(Iterator[T]):
    def __init__(self, it: Iterator[T], lock: threading.Lock) -> None:
        self._it = it
        self._lock = lock

    def __next__(self) -> T:
        with self._lock:
            return next(self._it)


def locked_tee(source: Iterator[T], n: int) -> list[Iterator[T]]:
    """``itertools.tee`` whose copies may be read from different threads."""
    lock = threading.Lock()
    return [_Locked(copy, lock) for copy in itertools.tee(source, n)]
