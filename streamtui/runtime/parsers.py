"""Output parsers: turn model output (messages or text) into values, streaming through.

A parser subclass implements ``parse(text)``; a streaming parser also implements
``parse_chunk`` (stateless) or ``_parse_stream`` over the incoming chunks (stateful, like
``JsonOutputParser``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from streamtui.jsonstream import JsonStreamError, JsonStreamParser
from streamtui.runtime.base import Runnable, StreamingRunnable
from streamtui.runtime.config import RunnableConfig
from streamtui.runtime.messages import AIMessageChunk, BaseMessage
from streamtui.runtime.outputs import GenerationChunk
from streamtui.runtime.tracing import Run

__all__ = [
    "BaseOutputParser",
    "BaseTransformOutputParser",
    "JsonOutputParser",
    "OutputParserException",
    "StrOutputParser",
]


class OutputParserException(ValueError):
    """Model output could not be parsed; ``llm_output`` holds the text that failed."""

    def __init__(self, message: str, *, llm_output: str | None = None) -> None:
        super().__init__(message)
        self.llm_output = llm_output


def chunk_text(chunk: Any) -> str:
    """The text of a model output chunk: a message, a generation piece or a string."""
    if type(chunk) is AIMessageChunk and type(chunk.content) is str:
        return chunk.content  # the per-token case, checked first
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, BaseMessage):
        return chunk.text
    if isinstance(chunk, GenerationChunk):
        return chunk.text
    raise TypeError(f"an output parser takes text or messages, not {type(chunk).__name__}")


class BaseOutputParser(Runnable[Any, Any]):
    """Parses a whole model output; a ``parser`` run in events."""

    run_type = "parser"

    def parse(self, text: str) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement parse(text)")

    def _parse_input(self, value: Any, config: RunnableConfig, run: Run | None) -> Any:
        return self.parse(chunk_text(value))

    async def _aparse_input(self, value: Any, config: RunnableConfig, run: Run | None) -> Any:
        return self.parse(chunk_text(value))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call(self._parse_input, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self._acall(self._aparse_input, input, config)


class BaseTransformOutputParser(BaseOutputParser, StreamingRunnable[Any, Any]):
    """A parser that emits output while the model is still streaming.

    A parser whose output chunk depends only on its input chunk implements
    ``parse_chunk``; one that keeps state across chunks (JSON) overrides ``_parse_stream``
    and ``_aparse_stream`` instead.
    """

    def parse_chunk(self, chunk: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must implement parse_chunk(chunk) or _parse_stream"
        )

    def _parse_stream(self, chunks: Iterator[Any]) -> Iterator[Any]:
        return map(self.parse_chunk, chunks)

    async def _aparse_stream(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        parse = self.parse_chunk
        async for chunk in chunks:
            yield parse(chunk)

    def _stateless(self) -> bool:
        return type(self)._parse_stream is BaseTransformOutputParser._parse_stream

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Any:
        return self._parse_stream(input)

    def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Any:
        return self._aparse_stream(input)

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        if self._stateless():
            return self._map_traced(input, config, self.parse_chunk)
        return self._transform_traced(input, config, self._body)

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if self._stateless():
            return self._amap_traced(input, config, self.parse_chunk)
        return self._atransform_traced(input, config, self._abody)


class StrOutputParser(BaseTransformOutputParser):
    """The text of each chunk, as it arrives."""

    def parse(self, text: str) -> str:
        return text

    def parse_chunk(self, chunk: Any) -> str:
        return chunk_text(chunk)


_NOTHING: Any = object()


class JsonOutputParser(BaseTransformOutputParser):
    """Model output as JSON. Streamed, it yields ever more complete objects — or, with
    ``diff=True``, the RFC 6902 JSON Patch that turns the previous one into the next.

    Values and the points where they are yielded match LangChain's parser (see
    ``docs/compat.md``); the work per chunk is proportional to the chunk, not to all the
    text so far. ``langchain_quirks=False`` shows partial strings without LangChain's
    hold-backs and compares numbers type-strictly.

    Malformed JSON ends the stream with ``OutputParserException`` naming the offset and
    what was expected, after the last good value.
    """

    def __init__(
        self,
        *,
        diff: bool = False,
        pydantic_object: type | None = None,
        langchain_quirks: bool = True,
        name: str | None = None,
    ) -> None:
        self.name = name
        self.diff = diff
        self.pydantic_object = pydantic_object
        self.langchain_quirks = langchain_quirks

    def get_format_instructions(self) -> str:
        """Text for the prompt asking for JSON (matching ``pydantic_object``'s schema when
        one is given). As in LangChain, the schema shapes the request; it does not validate
        the answer."""
        if self.pydantic_object is None:
            return "Return a JSON object."
        schema = dict(self.pydantic_object.model_json_schema())  # type: ignore[attr-defined]
        schema.pop("title", None)
        schema.pop("type", None)
        return (
            "Return only a JSON object that conforms to this JSON Schema; do not repeat "
            "the schema itself:\n```json\n" + json.dumps(schema, ensure_ascii=False) + "\n```"
        )

    def parse(self, text: str) -> Any:
        step = _JsonSteps(self)
        step.push(text)
        step.finish()
        return step.parser.value

    def _parse_stream(self, chunks: Iterator[Any]) -> Iterator[Any]:
        step = _JsonSteps(self)
        for chunk in chunks:
            out = step.push(chunk_text(chunk))
            if out is not _NOTHING:
                yield out
        out = step.finish()
        if out is not _NOTHING:
            yield out

    async def _aparse_stream(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        step = _JsonSteps(self)
        async for chunk in chunks:
            out = step.push(chunk_text(chunk))
            if out is not _NOTHING:
                yield out
        out = step.finish()
        if out is not _NOTHING:
            yield out


class _JsonSteps:
    """One stream's parser state, shared by the sync and async loops."""

    __slots__ = ("diff", "parser", "texts")

    def __init__(self, owner: JsonOutputParser) -> None:
        self.diff = owner.diff
        self.parser = JsonStreamParser(
            ops="rfc6902" if owner.diff else None, langchain_quirks=owner.langchain_quirks
        )
        self.texts: list[str] = []  # for the error message only

    def push(self, text: str) -> Any:
        """The next chunk's output, or _NOTHING. A malformed chunk still yields what came
        before the error; the error is raised on the next call."""
        parser = self.parser
        if parser.error is not None:
            self._raise(parser.error)
        self.texts.append(text)
        return self._output() if parser.feed(text) else _NOTHING

    def finish(self) -> Any:
        try:
            changed = self.parser.close()
        except JsonStreamError as e:
            self._raise(e)
        return self._output() if changed else _NOTHING

    def _output(self) -> Any:
        parser = self.parser
        if parser.is_null or not parser.has_value:
            return _NOTHING  # LangChain never yields a top-level null, nor "nothing yet"
        return parser.take_ops() if self.diff else parser.value

    def _raise(self, error: JsonStreamError) -> None:
        text = "".join(self.texts)
        raise OutputParserException(f"Invalid json output: {error}", llm_output=text) from error
