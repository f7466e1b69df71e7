"""Model bases: one streaming path per model, ``invoke`` built on it.

A provider implements ``_stream``/``_astream`` (chunks) and nothing else is required.
``invoke`` inside a run that is being watched streams too (auto-streaming), so the
watcher sees every token even from code that never asked for a stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from streamtui.runtime.base import Runnable
from streamtui.runtime.config import RunnableConfig, ensure_config, iterate_in_threads
from streamtui.runtime.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChunkMerger,
    coerce_to_message,
    merge_chunks,
    message_chunk_to_message,
)
from streamtui.runtime.outputs import GenerationChunk
from streamtui.runtime.prompt_values import PromptValue
from streamtui.runtime.tracing import Run, new_run_id, start_run

__all__ = ["BaseChatModel", "BaseLLM", "LanguageModelInput"]

LanguageModelInput = PromptValue | str | Sequence[Any]

_END: Any = object()


def to_messages(value: Any) -> list[BaseMessage]:
    """What a chat model accepts: text, a prompt value, or a list of message-likes."""
    if isinstance(value, PromptValue):
        return value.to_messages()
    if isinstance(value, str):
        return [coerce_to_message(value)]
    if isinstance(value, BaseMessage):
        return [value]
    if isinstance(value, Sequence):
        return [coerce_to_message(m) for m in value]
    raise TypeError(
        f"a chat model takes text, a PromptValue or a list of messages, not {type(value).__name__}"
    )


def to_prompt(value: Any) -> str:
    """What a text-completion model accepts: text, a prompt value, or messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, PromptValue):
        return value.to_string()
    if isinstance(value, Sequence):
        from streamtui.runtime.prompt_values import messages_to_string

        return messages_to_string([coerce_to_message(m) for m in value])
    raise TypeError(f"an LLM takes text or a PromptValue, not {type(value).__name__}")


class _ModelBase(Runnable[Any, Any]):
    def __init__(
        self,
        *,
        name: str | None = None,
        disable_streaming: bool | Literal["tool_calling"] = False,
    ) -> None:
        self.name = name
        self.disable_streaming = disable_streaming

    def _streaming_disabled(self, kwargs: dict[str, Any]) -> bool:
        if self.disable_streaming == "tool_calling":
            return bool(kwargs.get("tools"))
        return bool(self.disable_streaming)


class BaseChatModel(_ModelBase):
    """A chat model: messages in, an ``AIMessage`` out, ``AIMessageChunk`` s streamed."""

    run_type = "chat_model"

    # --- provider hooks -------------------------------------------------------------

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        raise NotImplementedError(f"{type(self).__name__} must implement _stream()")

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Defaults to ``_stream`` stepped in worker threads."""
        async for chunk in iterate_in_threads(self._stream(messages, stop, **kwargs)):
            yield chunk

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        """A whole reply without streaming; defaults to adding up ``_stream``."""
        chunks = list(self._stream(messages, stop, **kwargs))
        if not chunks:
            raise ValueError(f"{self.get_name()} returned no output")
        return message_chunk_to_message(merge_chunks(chunks))  # type: ignore[return-value]

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        chunks = [c async for c in self._astream(messages, stop, **kwargs)]
        if not chunks:
            raise ValueError(f"{self.get_name()} returned no output")
        return message_chunk_to_message(merge_chunks(chunks))  # type: ignore[return-value]

    # --- the shared streaming core --------------------------------------------------

    def _start(
        self, input: Any, config: RunnableConfig | None
    ) -> tuple[list[BaseMessage], Run | None, str]:
        config = ensure_config(config)
        messages = to_messages(input)
        run = start_run(config, self.get_name(), "chat_model", {"messages": [messages]})
        chunk_id = f"lc_run--{run.run_id if run is not None else new_run_id()}"
        return messages, run, chunk_id

    @staticmethod
    def _closing_chunk(last: AIMessageChunk | None, chunk_id: str) -> AIMessageChunk | None:
        # LangChain marks the end of every stream; add an empty marker if the provider
        # did not mark its last chunk.
        if last is None or last.chunk_position == "last":
            return None
        return AIMessageChunk(
            content="" if isinstance(last.content, str) else [],
            chunk_position="last",
            id=chunk_id,
        )

    def _finish(
        self, merger: ChunkMerger, run: Run | None, as_message: bool
    ) -> AIMessageChunk | AIMessage:
        """End the run with the whole reply (a chunk for streams, a message for
        ``invoke``, as LangChain reports them)."""
        try:
            merged: AIMessageChunk | AIMessage = merger.value()
        except ValueError:
            raise ValueError(f"{self.get_name()} returned no output") from None
        if as_message:
            merged = message_chunk_to_message(merged)  # type: ignore[assignment]
        if run is not None:
            run.end(merged)
        return merged

    def _chunks(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        result: list[Any],
        as_message: bool = False,
    ) -> Iterator[AIMessageChunk]:
        """The one sync streaming loop: ids, stream events, the closing marker, then the
        run's end or its error. The merged reply (an ``AIMessage`` if ``as_message``) is
        appended to ``result`` for ``invoke``. The run starts on the first ``next()``,
        as in LangChain, not when the stream is created."""
        messages, run, chunk_id = self._start(input, config)
        merger = ChunkMerger()
        last: AIMessageChunk | None = None
        report = run.stream if run is not None else None
        try:
            for chunk in self._stream(messages, stop, **kwargs):
                if chunk.id is None:
                    chunk.id = chunk_id
                if report is not None:
                    report(chunk)
                merger.add(chunk)
                last = chunk
                yield chunk
            closing = self._closing_chunk(last, chunk_id)
            if closing is not None:
                # Reported and yielded, but not part of the reply (nor in LangChain).
                if report is not None:
                    report(closing)
                yield closing
            result.append(self._finish(merger, run, as_message))
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise

    async def _achunks(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        result: list[Any],
        as_message: bool = False,
    ) -> AsyncIterator[AIMessageChunk]:
        """The async twin of ``_chunks``; also yields to a consumer that fell behind."""
        messages, run, chunk_id = self._start(input, config)
        merger = ChunkMerger()
        last: AIMessageChunk | None = None
        report = run.stream if run is not None else None
        sink = run.sink if run is not None else None
        gen = self._astream(messages, stop, **kwargs)
        waiting_for_first = sink is not None
        try:
            async for chunk in gen:
                if chunk.id is None:
                    chunk.id = chunk_id
                if report is not None:
                    report(chunk)
                merger.add(chunk)
                last = chunk
                yield chunk
                if sink is not None:
                    if sink.congested():
                        await sink.pace()
                    elif waiting_for_first and (chunk.content or chunk.tool_call_chunks):
                        # A provider parses a whole network read before it yields to the
                        # loop; let the watcher show the first token now, not after the burst.
                        waiting_for_first = False
                        await asyncio.sleep(0)
            closing = self._closing_chunk(last, chunk_id)
            if closing is not None:
                # Reported and yielded, but not part of the reply (nor in LangChain).
                if report is not None:
                    report(closing)
                yield closing
            result.append(self._finish(merger, run, as_message))
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            await gen.aclose()  # type: ignore[attr-defined]

    # --- public API -----------------------------------------------------------------

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        config = ensure_config(config)
        if config.get("callbacks") is not None and not self._streaming_disabled(kwargs):
            result: list[Any] = []
            for _ in self._chunks(input, config, stop, kwargs, result, True):
                pass
            return result[0]  # type: ignore[no-any-return]
        messages, run, chunk_id = self._start(input, config)
        try:
            message = self._generate(messages, stop, **kwargs)
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if message.id is None:
            message.id = chunk_id
        if run is not None:
            run.end(message)
        return message

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        config = ensure_config(config)
        if config.get("callbacks") is not None and not self._streaming_disabled(kwargs):
            result: list[Any] = []
            async for _ in self._achunks(input, config, stop, kwargs, result, True):
                pass
            return result[0]  # type: ignore[no-any-return]
        messages, run, chunk_id = self._start(input, config)
        try:
            message = await self._agenerate(messages, stop, **kwargs)
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if message.id is None:
            message.id = chunk_id
        if run is not None:
            run.end(message)
        return message

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        if self._streaming_disabled(kwargs):
            return self._stream_disabled(input, config, stop, kwargs)
        return self._chunks(input, config, stop, kwargs, [])

    def _stream_disabled(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> Iterator[AIMessageChunk]:
        yield _as_chunk(self.invoke(input, config, stop=stop, **kwargs))

    def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        if self._streaming_disabled(kwargs):
            return self._astream_disabled(input, config, stop, kwargs)
        return self._achunks(input, config, stop, kwargs, [])

    async def _astream_disabled(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> AsyncIterator[AIMessageChunk]:
        yield _as_chunk(await self.ainvoke(input, config, stop=stop, **kwargs))


def _as_chunk(message: AIMessage) -> AIMessageChunk:
    return AIMessageChunk(
        content=message.content,
        additional_kwargs=message.additional_kwargs,
        response_metadata=message.response_metadata,
        tool_calls=message.tool_calls,
        usage_metadata=message.usage_metadata,
        id=message.id,
        chunk_position="last",
    )


class BaseLLM(_ModelBase):
    """A text-completion model: a prompt string in, text out, text chunks streamed.

    As in LangChain, ``invoke`` does not auto-stream for these; ``stream`` does.
    """

    run_type = "llm"

    def _stream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[GenerationChunk]:
        raise NotImplementedError(f"{type(self).__name__} must implement _stream()")

    async def _astream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[GenerationChunk]:
        async for chunk in iterate_in_threads(self._stream(prompt, stop, **kwargs)):
            yield chunk

    def _start(self, input: Any, config: RunnableConfig | None) -> tuple[str, Run | None]:
        config = ensure_config(config)
        prompt = to_prompt(input)
        return prompt, start_run(config, self.get_name(), "llm", {"prompts": [prompt]})

    def _finish(self, parts: list[GenerationChunk], run: Run | None) -> str:
        merged = GenerationChunk.merge(parts) if parts else GenerationChunk()
        if run is not None:
            run.end(
                {
                    "generations": [
                        [
                            {
                                "text": merged.text,
                                "generation_info": merged.generation_info,
                                "type": "Generation",
                            }
                        ]
                    ],
                    "llm_output": None,
                }
            )
        return merged.text

    def _reporter(self, run: Run | None, streaming: bool) -> Callable[[GenerationChunk], None]:
        if run is None or not streaming:
            return _ignore
        if run.is_root:
            # LangChain reports a streamed root by its output (text), a nested LLM by
            # its token callbacks (GenerationChunk).
            return lambda chunk: run.stream(chunk.text)
        return run.stream

    def _pieces(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        result: list[str],
        streaming: bool,
    ) -> Iterator[str]:
        """The one sync loop: stream events (when streaming), then end or error."""
        prompt, run = self._start(input, config)  # on the first next(), as LangChain
        parts: list[GenerationChunk] = []
        report = self._reporter(run, streaming)
        try:
            for chunk in self._stream(prompt, stop, **kwargs):
                parts.append(chunk)
                report(chunk)
                yield chunk.text
            result.append(self._finish(parts, run))
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise

    async def _apieces(
        self,
        input: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        result: list[str],
        streaming: bool,
    ) -> AsyncIterator[str]:
        prompt, run = self._start(input, config)
        parts: list[GenerationChunk] = []
        report = self._reporter(run, streaming)
        sink = run.sink if run is not None else None
        gen = self._astream(prompt, stop, **kwargs)
        try:
            async for chunk in gen:
                parts.append(chunk)
                report(chunk)
                yield chunk.text
                if sink is not None and sink.congested():
                    await sink.pace()
            result.append(self._finish(parts, run))
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            await gen.aclose()  # type: ignore[attr-defined]

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        result: list[str] = []
        for _ in self._pieces(input, config, stop, kwargs, result, streaming=False):
            pass
        return result[0]

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        result: list[str] = []
        async for _ in self._apieces(input, config, stop, kwargs, result, streaming=False):
            pass
        return result[0]

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        return self._pieces(input, config, stop, kwargs, [], streaming=True)

    def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        return self._apieces(input, config, stop, kwargs, [], streaming=True)


def _ignore(chunk: Any) -> None:
    return None
