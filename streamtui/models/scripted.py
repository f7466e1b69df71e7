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
from collections.abc import AsyncIterator, Iterator, Sequence
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

    def delays(self, n: int) -> Iterator[float]:
        for i in range(n):
            yield self.first_chunk_latency if i == 0 else self.chunk_latency

    def raise_if_due(self, index: int) -> None:
        if self.error_on_chunk is not None and index == self.error_on_chunk:
            error = self.error
            if isinstance(error, type):
                error = error(f"scripted failure before chunk {index}")
            raise error

    def play(self, plan: list[tuple[float, T]]) -> Iterator[T]:
        for i, (delay, chunk) in enumerate(plan):
            if delay:
                time.sleep(delay)
            self.raise_if_due(i)
            yield chunk

    async def aplay(self, plan: list[tuple[float, T]]) -> AsyncIterator[T]:
        for i, (delay, chunk) in enumerate(plan):
            if delay:
                await asyncio.sleep(delay)
            self.raise_if_due(i)
            yield chunk


def _count_tokens(text: str) -> int:
    return len(text.split())


def _usage(messages_text: str, output_chunks: int) -> dict[str, Any]:
    input_tokens = _count_tokens(messages_text)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_chunks,
        "total_tokens": input_tokens + output_chunks,
    }


class ScriptedChatModel(BaseChatModel):
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

    def _plan(self, messages: list[BaseMessage]) -> list[tuple[float, AIMessageChunk | None]]:
        """(delay, chunk) steps; ``None`` marks where an injected error is raised."""
        script = self._script
        response = script.next_response()
        pieces = script.pieces(response)
        chunks: list[AIMessageChunk] = [text_chunk(p) for p in pieces]
        if isinstance(response, AIMessage):
            for index, call in enumerate(response.tool_calls):
                args = json.dumps(call["args"])
                arg_pieces = [args[i : i + 8] for i in range(0, len(args), 8)] or [""]
                for j, piece in enumerate(arg_pieces):
                    chunks.append(
                        AIMessageChunk(
                            content="",
                            tool_call_chunks=[
                                {
                                    "name": call["name"] if j == 0 else None,
                                    "args": piece,
                                    "id": (call.get("id") or f"call_{index}") if j == 0 else None,
                                    "index": index,
                                }
                            ],
                        )
                    )
        if not chunks:
            chunks.append(AIMessageChunk(content=""))
        last = chunks[-1]
        last.chunk_position = "last"
        prompt_text = " ".join(m.text for m in messages)
        last.usage_metadata = _usage(prompt_text, len(pieces) or 1)
        last.response_metadata = {
            "model_name": self.model,
            "finish_reason": (
                "tool_calls" if isinstance(response, AIMessage) and response.tool_calls else "stop"
            ),
        }
        return [(delay, chunk) for delay, chunk in zip(script.delays(len(chunks)), chunks)]

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


class ScriptedLLM(BaseLLM):
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

    def _plan(self) -> list[tuple[float, GenerationChunk]]:
        script = self._script
        pieces = script.pieces(script.next_response()) or [""]
        return list(zip(script.delays(len(pieces)), [GenerationChunk(p) for p in pieces]))

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
