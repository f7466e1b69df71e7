"""The embedded default model: scripted replies, realistic chunking and latency.

No key, no network. Demos, tests and benchmarks build on it, so its arguments are
pinned: ``responses``, ``chunking``, ``first_chunk_latency``, ``chunk_latency``,
``error_on_chunk``, ``error``. Sync and async share one plan of (delay, chunk) steps;
only the sleeping differs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from streamtui.models.base import BaseChatModel, BaseLLM
from streamtui.runtime.messages import AIMessage, AIMessageChunk, BaseMessage, text_chunk
from streamtui.runtime.outputs import GenerationChunk

__all__ = ["ScriptedChatModel", "ScriptedLLM", "ScriptedModelError", "split_text"]

Chunking = Literal["words", "chars"] | int
Response = str | Sequence[str] | AIMessage

T = TypeVar("T")

_WORDS = re.compile(r"\s+|\S+")


class ScriptedModelError(RuntimeError):
    """The failure a scripted model raises when told to (``error_on_chunk``)."""


def split_text(text: str, chunking: Chunking) -> list[str]:
    """Split text the way a tokenizer-ish stream would arrive.

    ``"words"``: each word and each whitespace run is its own chunk; ``"chars"``: one
    character per chunk; an int ``n``: ``n``-character pieces.
    """
    if chunking == "words":
        return _WORDS.findall(text)
    if chunking == "chars":
        return list(text)
    if isinstance(chunking, int) and not isinstance(chunking, bool) and chunking > 0:
        return [text[i : i + chunking] for i in range(0, len(text), chunking)]
    raise ValueError(f'chunking must be "words", "chars" or a positive int, got {chunking!r}')


def _check_error(error: BaseException | type[BaseException]) -> None:
    if isinstance(error, BaseException):
        return
    if isinstance(error, type) and issubclass(error, BaseException):
        return
    raise TypeError(f"error must be an exception class or instance, got {error!r}")


class _Script:
    """The shared part of both scripted models: responses in turn, chunking, timing."""

    def __init__(
        self,
        responses: Sequence[Response],
        chunking: Chunking,
        first_chunk_latency: float,
        chunk_latency: float,
        error_on_chunk: int | None,
        error: BaseException | type[BaseException],
    ) -> None:
        if isinstance(responses, (str, AIMessage)):
            responses = [responses]
        if not responses:
            raise ValueError("a scripted model needs at least one response")
        for r in responses:
            if not isinstance(r, (str, AIMessage)) and not (
                isinstance(r, Sequence) and all(isinstance(p, str) for p in r)
            ):
                raise TypeError(
                    f"a scripted response is a string, a list of strings or an AIMessage, got {r!r}"
                )
        split_text("", chunking)  # validates
        if first_chunk_latency < 0 or chunk_latency < 0:
            raise ValueError("latencies must be zero or positive seconds")
        _check_error(error)
        self.responses = list(responses)
        self.chunking = chunking
        self.first_chunk_latency = first_chunk_latency
        self.chunk_latency = chunk_latency
        self.error_on_chunk = error_on_chunk
        self.error = error
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def next_response(self) -> Response:
        """Responses are used in turn, one per call, starting over after the last."""
        with self._lock:
            i = next(self._turn)
        return self.responses[i % len(self.responses)]

    def pieces(self, response: Response) -> list[str]:
        if isinstance(response, str):
            return split_text(response, self.chunking)
        if isinstance(response, AIMessage):
            return split_text(response.text, self.chunking) if response.content else []
        return list(response)

    def delay(self, index: int) -> float:
        return self.first_chunk_latency if index == 0 else self.chunk_latency

    def raise_if_due(self, index: int) -> None:
        if self.error_on_chunk is not None and index == self.error_on_chunk:
            error = self.error
            if isinstance(error, type):
                error = error(f"scripted failure before chunk {index}")
            raise error

    def play(self, chunks: Iterable[T]) -> Iterator[T]:
        for i, chunk in enumerate(chunks):
            delay = self.delay(i)
            if delay:
                time.sleep(delay)
            self.raise_if_due(i)
            yield chunk

    async def aplay(self, chunks: Iterable[T]) -> AsyncIterator[T]:
        for i, chunk in enumerate(chunks):
            delay = self.delay(i)
            if delay:
                await asyncio.sleep(delay)
            self.raise_if_due(i)
            yield chunk


def _tool_call_chunks(response: AIMessage) -> list[dict[str, Any]]:
    """Each tool call as streamed pieces: name and id first, arguments in 8-char parts."""
    out = []
    for index, call in enumerate(response.tool_calls):
        args = json.dumps(call["args"])
        for j, start in enumerate(range(0, max(len(args), 1), 8)):
            out.append(
                {
                    "name": call["name"] if j == 0 else None,
                    "args": args[start : start + 8],
                    "id": (call.get("id") or f"call_{index}") if j == 0 else None,
                    "index": index,
                }
            )
    return out


def _count_tokens(text: str) -> int:
    return len(text.split())


def _usage(messages_text: str, output_chunks: int) -> dict[str, Any]:
    input_tokens = _count_tokens(messages_text)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_chunks,
        "total_tokens": input_tokens + output_chunks,
    }


class _Latencies:
    """``model.chunk_latency = 0`` after construction changes the script, as it reads
    (tests and demos speed models up this way)."""

    _script: _Script

    @property
    def first_chunk_latency(self) -> float:
        return self._script.first_chunk_latency

    @first_chunk_latency.setter
    def first_chunk_latency(self, seconds: float) -> None:
        self._script.first_chunk_latency = _seconds(seconds, "first_chunk_latency")

    @property
    def chunk_latency(self) -> float:
        return self._script.chunk_latency

    @chunk_latency.setter
    def chunk_latency(self, seconds: float) -> None:
        self._script.chunk_latency = _seconds(seconds, "chunk_latency")


def _seconds(value: float, name: str) -> float:
    if value < 0:
        raise ValueError(f"{name} must be zero or more seconds, got {value!r}")
    return value


class ScriptedChatModel(_Latencies, BaseChatModel):
    """A chat model that replies from a script.

    ``responses``: each a string (chunked by ``chunking``), a list of strings (exactly
    those chunks) or an ``AIMessage`` whose ``tool_calls`` are streamed as
    ``tool_call_chunks``. ``error_on_chunk=k`` raises ``error`` before chunk ``k``.
    """

    def __init__(
        self,
        responses: Sequence[Response] = ("Hello from the scripted model.",),
        *,
        chunking: Chunking = "words",
        first_chunk_latency: float = 0.0,
        chunk_latency: float = 0.0,
        error_on_chunk: int | None = None,
        error: BaseException | type[BaseException] = ScriptedModelError,
        name: str | None = None,
        disable_streaming: bool | Literal["tool_calling"] = False,
        model: str = "scripted",
    ) -> None:
        super().__init__(name=name, disable_streaming=disable_streaming)
        self._script = _Script(
            responses, chunking, first_chunk_latency, chunk_latency, error_on_chunk, error
        )
        self.model = model

    @property
    def responses(self) -> list[Response]:
        return self._script.responses

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Accepts tools like a real model; the script decides which calls happen."""
        return self.bind(tools=list(tools), **kwargs)

    def _plan(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        """The reply's chunks, made as they are played (a long reply holds no list of
        chunk objects). The response is chosen now, at call time."""
        response = self._script.next_response()
        pieces = self._script.pieces(response)
        tool_chunks = _tool_call_chunks(response) if isinstance(response, AIMessage) else []
        calls = isinstance(response, AIMessage) and bool(response.tool_calls)
        prompt_text = " ".join(m.text for m in messages)
        return self._chunks_of(pieces, tool_chunks, calls, prompt_text)

    def _chunks_of(
        self, pieces: list[str], tool_chunks: list[dict[str, Any]], calls: bool, prompt_text: str
    ) -> Iterator[AIMessageChunk]:
        source: Iterator[AIMessageChunk] = itertools.chain(
            (text_chunk(p) for p in pieces),
            (AIMessageChunk(content="", tool_call_chunks=[tc]) for tc in tool_chunks),
        )
        last_index = len(pieces) + len(tool_chunks) - 1
        if last_index < 0:
            source, last_index = iter((text_chunk(""),)), 0
        for i, chunk in enumerate(source):
            if i == last_index:
                chunk.chunk_position = "last"
                chunk.usage_metadata = _usage(prompt_text, len(pieces) or 1)
                chunk.response_metadata = {
                    "model_name": self.model,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            yield chunk

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        return self._script.play(self._plan(messages))

    def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        return self._script.aplay(self._plan(messages))

    def __repr__(self) -> str:
        return f"ScriptedChatModel(responses={self._script.responses!r})"


class ScriptedLLM(_Latencies, BaseLLM):
    """A text-completion model that replies from a script (same arguments as the chat one)."""

    def __init__(
        self,
        responses: Sequence[str | Sequence[str]] = ("Hello from the scripted model.",),
        *,
        chunking: Chunking = "words",
        first_chunk_latency: float = 0.0,
        chunk_latency: float = 0.0,
        error_on_chunk: int | None = None,
        error: BaseException | type[BaseException] = ScriptedModelError,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self._script = _Script(
            responses, chunking, first_chunk_latency, chunk_latency, error_on_chunk, error
        )

    def _plan(self) -> Iterator[GenerationChunk]:
        pieces = self._script.pieces(self._script.next_response()) or [""]
        return (GenerationChunk(p) for p in pieces)

    def _stream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[GenerationChunk]:
        return self._script.play(self._plan())

    def _astream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[GenerationChunk]:
        return self._script.aplay(self._plan())

    def __repr__(self) -> str:
        return f"ScriptedLLM(responses={self._script.responses!r})"
