"""Model bases: one streaming path per model, ``invoke`` built on it.

A provider implements ``_stream``/``_astream`` (chunks) and nothing else is required.
``invoke`` inside a run that is being watched streams too (auto-streaming), so the
watcher sees every token even from code that never asked for a stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal

from streamtui.runtime.base import Runnable
from streamtui.runtime.config import RunnableConfig, _default_executor, ensure_config
from streamtui.runtime.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
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
        """Defaults to ``_stream`` stepped in a worker thread."""
        import asyncio

        gen = self._stream(messages, stop, **kwargs)
        loop = asyncio.get_running_loop()
        pool = _default_executor()
        while (chunk := await loop.run_in_executor(pool, next, gen, _END)) is not _END:
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
    def _label(chunk: AIMessageChunk, chunk_id: str, run: Run | None) -> AIMessageChunk:
        if chunk.id is None:
            chunk.id = chunk_id
        if run is not None:
            run.stream(chunk)
        return chunk

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

    def _chunks(
        self,
        messages: list[BaseMessage],
        run: Run | None,
        chunk_id: str,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> Iterator[AIMessageChunk]:
        last = None
        for chunk in self._stream(messages, stop, **kwargs):
            last = self._label(chunk, chunk_id, run)
            yield last
        closing = self._closing_chunk(last, chunk_id)
        if closing is not None:
            if run is not None:
                run.stream(closing)
            yield closing

    async def _achunks(
        self,
        messages: list[BaseMessage],
        run: Run | None,
        chunk_id: str,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> AsyncIterator[AIMessageChunk]:
        last = None
        pace = run.sink.pace if run is not None else None
        gen = self._astream(messages, stop, **kwargs)
        try:
            async for chunk in gen:
                last = self._label(chunk, chunk_id, run)
                yield last
                if pace is not None:
                    await pace()
        finally:
            await gen.aclose()  # type: ignore[attr-defined]
        closing = self._closing_chunk(last, chunk_id)
        if closing is not None:
            if run is not None:
                run.stream(closing)
            yield closing

    @staticmethod
    def _merge(chunks: list[AIMessageChunk], name: str) -> AIMessageChunk:
        if not chunks:
            raise ValueError(f"{name} returned no output")
        last = chunks[-1]
        if len(chunks) > 1 and _is_closing_marker(last):
            # The closing marker is not part of the reply (LangChain leaves it out too).
            chunks = chunks[:-1]
        return merge_chunks(chunks)  # type: ignore[no-any-return]

    # --- public API -----------------------------------------------------------------

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        messages, run, chunk_id = self._start(input, config)
        try:
            if run is not None and not self._streaming_disabled(kwargs):
                chunks = list(self._chunks(messages, run, chunk_id, stop, kwargs))
                message = message_chunk_to_message(self._merge(chunks, self.get_name()))
            else:
                message = self._generate(messages, stop, **kwargs)
                if message.id is None:
                    message.id = chunk_id
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            run.end(message)
        return message  # type: ignore[return-value]

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        messages, run, chunk_id = self._start(input, config)
        try:
            if run is not None and not self._streaming_disabled(kwargs):
                chunks = [c async for c in self._achunks(messages, run, chunk_id, stop, kwargs)]
                message = message_chunk_to_message(self._merge(chunks, self.get_name()))
            else:
                message = await self._agenerate(messages, stop, **kwargs)
                if message.id is None:
                    message.id = chunk_id
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            run.end(message)
        return message  # type: ignore[return-value]

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        if self._streaming_disabled(kwargs):
            yield _as_chunk(self.invoke(input, config, stop=stop, **kwargs))
            return
        messages, run, chunk_id = self._start(input, config)
        chunks: list[AIMessageChunk] = []
        try:
            for chunk in self._chunks(messages, run, chunk_id, stop, kwargs):
                chunks.append(chunk)
                yield chunk
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            run.end(self._merge(chunks, self.get_name()))

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        if self._streaming_disabled(kwargs):
            yield _as_chunk(await self.ainvoke(input, config, stop=stop, **kwargs))
            return
        messages, run, chunk_id = self._start(input, config)
        chunks: list[AIMessageChunk] = []
        gen = self._achunks(messages, run, chunk_id, stop, kwargs)
        try:
            async for chunk in gen:
                chunks.append(chunk)
                yield chunk
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            await gen.aclose()
        if run is not None:
            run.end(self._merge(chunks, self.get_name()))


def _is_closing_marker(chunk: AIMessageChunk) -> bool:
    return (
        chunk.chunk_position == "last"
        and not chunk.content
        and not chunk.tool_call_chunks
        and not chunk.usage_metadata
        and not chunk.response_metadata
    )


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
        import asyncio

        gen = self._stream(prompt, stop, **kwargs)
        loop = asyncio.get_running_loop()
        pool = _default_executor()
        while (chunk := await loop.run_in_executor(pool, next, gen, _END)) is not _END:
            yield chunk

    def _start(self, input: Any, config: RunnableConfig | None) -> tuple[str, Run | None]:
        config = ensure_config(config)
        prompt = to_prompt(input)
        return prompt, start_run(config, self.get_name(), "llm", {"prompts": [prompt]})

    @staticmethod
    def _result(text: str, info: dict[str, Any] | None, kind: str) -> dict[str, Any]:
        return {
            "generations": [[{"text": text, "generation_info": info, "type": kind}]],
            "llm_output": None,
        }

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        prompt, run = self._start(input, config)
        try:
            merged = GenerationChunk.merge(list(self._stream(prompt, stop, **kwargs)))
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            run.end(self._result(merged.text, merged.generation_info, "Generation"))
        return merged.text

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        prompt, run = self._start(input, config)
        try:
            parts = [c async for c in self._astream(prompt, stop, **kwargs)]
            merged = GenerationChunk.merge(parts)
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            run.end(self._result(merged.text, merged.generation_info, "Generation"))
        return merged.text

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        prompt, run = self._start(input, config)
        parts: list[GenerationChunk] = []
        try:
            for chunk in self._stream(prompt, stop, **kwargs):
                parts.append(chunk)
                if run is not None:
                    run.stream(chunk)
                yield chunk.text
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        if run is not None:
            merged = GenerationChunk.merge(parts) if parts else GenerationChunk()
            run.end(self._result(merged.text, merged.generation_info, "GenerationChunk"))

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        prompt, run = self._start(input, config)
        parts: list[GenerationChunk] = []
        pace = run.sink.pace if run is not None else None
        gen = self._astream(prompt, stop, **kwargs)
        try:
            async for chunk in gen:
                parts.append(chunk)
                if run is not None:
                    run.stream(chunk)
                yield chunk.text
                if pace is not None:
                    await pace()
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            await gen.aclose()  # type: ignore[attr-defined]
        if run is not None:
            merged = GenerationChunk.merge(parts) if parts else GenerationChunk()
            run.end(self._result(merged.text, merged.generation_info, "GenerationChunk"))
