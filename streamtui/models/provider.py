"""What the OpenAI and Anthropic models share: keys, timing, error mapping, tool schemas.

The two SDKs differ in their wire formats, not in what can go wrong, so one mapping
turns either SDK's exceptions (and the raw transport errors they let through) into
``streamtui.models.errors`` — with ``mid_stream`` set when chunks had already arrived.
"""

from __future__ import annotations

import abc
import asyncio
import email.utils
import json
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, NoReturn, Protocol

from streamtui.models import errors
from streamtui.models.base import BaseChatModel
from streamtui.runtime.messages import AIMessageChunk, BaseMessage

__all__ = [
    "ClientCache",
    "ProviderChatModel",
    "StreamClock",
    "map_error",
    "resolve_api_key",
    "tool_specs",
]


def resolve_api_key(api_key: str | None, env_var: str, provider: str, base_url: str | None) -> str:
    """The key to use: the argument, else the environment. A custom ``base_url`` (a local
    OpenAI-compatible server) may need none, so a placeholder goes instead."""
    key = (api_key or os.environ.get(env_var) or "").strip()
    if key:
        # Stripped: a key read from a file keeps its newline, and an HTTP library that
        # refuses the header quotes it, key and all, in its error.
        return key
    if base_url and provider == "openai":
        return "not-needed"
    raise errors.MissingAPIKeyError(
        f"no API key: set {env_var} in the environment, or pass api_key=",
        provider=provider,
    )


class ClientCache:
    """SDK clients, made on first use: one sync client per model, and one async client
    per event loop — an async client's pooled connections belong to the loop that opened
    them, so a second ``asyncio.run`` must not reuse them."""

    def __init__(self, make: Callable[[bool], Any]) -> None:
        self._make = make
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, is_async: bool) -> Any:
        if not is_async:
            if self._sync is None:
                self._sync = self._make(False)
            return self._sync
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = self._make(True)
        return client


class StreamClock:
    """Time to first visible token, gaps between chunks, tokens per second.

    Started just before the request, so time to first token includes connecting and the
    provider's queueing — what a user waits — and is taken at the first chunk that shows
    something (text, reasoning or tool arguments), not when the headers arrive.
    """

    __slots__ = ("_first", "_last", "chunks", "max_gap", "started")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self._first: float | None = None
        self._last = 0.0
        self.chunks = 0
        self.max_gap = 0.0

    def visible(self) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        else:
            gap = now - self._last
            if gap > self.max_gap:
                self.max_gap = gap
        self._last = now
        self.chunks += 1

    def summary(self, output_tokens: int | None) -> dict[str, Any]:
        """The figures reported on the model's end event (``response_metadata``)."""
        if self._first is None:
            return {"time_to_first_token": None, "chunks": 0}
        streaming = self._last - self._first
        tokens = output_tokens if output_tokens else self.chunks
        out: dict[str, Any] = {
            "time_to_first_token": round(self._first - self.started, 6),
            "chunks": self.chunks,
            "mean_gap": round(streaming / (self.chunks - 1), 6) if self.chunks > 1 else None,
            "max_gap": round(self.max_gap, 6),
            "tokens_per_second": round(tokens / streaming, 2) if streaming > 0 else None,
        }
        return out


def shows_something(chunk: AIMessageChunk) -> bool:
    if chunk.content or chunk.tool_call_chunks:
        return True
    extra = chunk.additional_kwargs
    return bool(extra and (extra.get("reasoning_content") or extra.get("refusal")))


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) / scale
            except ValueError:
                continue
    value = headers.get("retry-after")
    if value:  # an HTTP date
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return None


def _body_error(body: Any) -> tuple[str | None, str | None]:
    """(type, message) from either provider's error body (or the error object inside)."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            kind, message = inner.get("type"), inner.get("message")
            return (str(kind) if kind else None), (str(message) if message else None)
    if isinstance(body, str) and body:
        return None, body
    return None, None


def map_error(error: BaseException, provider: str, *, started: bool) -> errors.ProviderError | None:
    """The typed error for an SDK or transport exception; ``None`` if it is not one
    (a bug in user code, a cancellation) and should propagate unchanged."""
    if isinstance(error, errors.ProviderError):
        return error
    if isinstance(error, json.JSONDecodeError):
        return errors.MalformedStreamError(
            f"a streamed chunk is not valid JSON ({error.msg} at column {error.colno})",
            provider=provider,
            mid_stream=started,
        )
    if isinstance(error, UnicodeDecodeError):
        return errors.MalformedStreamError(
            f"a streamed chunk is not valid UTF-8 (byte {error.start})",
            provider=provider,
            mid_stream=started,
        )
    module = type(error).__module__.split(".")[0]
    name = type(error).__name__
    if module in ("httpx", "httpx2", "httpcore", "httpcore2"):
        # Anthropic lets the transport's own errors through once a stream is open.
        cls = errors.StreamTimeoutError if "Timeout" in name else errors.StreamInterruptedError
        return cls(f"the connection failed: {name}: {error}", provider=provider, mid_stream=started)
    if module not in ("openai", "anthropic"):
        return None
    if "Timeout" in name and getattr(error, "status_code", None) is None:
        return errors.StreamTimeoutError(
            "no response within the read timeout (raise timeout= for slow models)",
            provider=provider,
            mid_stream=started,
        )
    if name == "APIConnectionError":
        cause = error.__cause__ or error.__context__
        detail = f": {type(cause).__name__}" if cause is not None else ""
        return errors.StreamInterruptedError(
            f"the connection failed{detail} ({error})", provider=provider, mid_stream=started
        )
    status = getattr(error, "status_code", None)
    kind, message = _body_error(getattr(error, "body", None))
    message = message or str(getattr(error, "message", "") or error)
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if status is None or status < 400:
        # An error event inside a stream (status 200 on the wire): its type says which.
        cls = _BY_ERROR_TYPE.get(kind or "", errors.ServerError)
        return cls(message, provider=provider, mid_stream=started)
    cls = errors.for_status(status, overloaded=kind in ("overloaded_error", "overloaded"))
    return cls(
        message,
        provider=provider,
        status=status,
        retry_after=_retry_after(headers),
        request_id=getattr(error, "request_id", None),
        mid_stream=started,
    )


_BY_ERROR_TYPE: dict[str, type[errors.ProviderError]] = {
    "overloaded_error": errors.OverloadedError,
    "overloaded": errors.OverloadedError,
    "rate_limit_error": errors.RateLimitError,
    "rate_limit_exceeded": errors.RateLimitError,
    "invalid_request_error": errors.BadRequestError,
    "authentication_error": errors.AuthenticationError,
    "permission_error": errors.PermissionDeniedError,
    "not_found_error": errors.NotFoundError,
}


def tool_specs(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """``{"name", "description", "parameters"}`` for each tool: streamtui tools, plain
    functions (made tools), pydantic models, or dicts already in either provider's form."""
    from streamtui.runtime.tools import BaseTool, tool

    specs = []
    for item in tools:
        if isinstance(item, BaseTool):
            specs.append(item.tool_call_schema)
        elif isinstance(item, Mapping):
            if item.get("type") == "function" and isinstance(item.get("function"), Mapping):
                specs.append(dict(item["function"]))
            elif "input_schema" in item:
                specs.append(
                    {
                        "name": item["name"],
                        "description": item.get("description", ""),
                        "parameters": item["input_schema"],
                    }
                )
            else:
                specs.append(dict(item))
        elif isinstance(item, type) and hasattr(item, "model_json_schema"):
            schema = item.model_json_schema()
            description = schema.pop("description", "") or (item.__doc__ or "").strip()
            schema.pop("title", None)
            specs.append({"name": item.__name__, "description": description, "parameters": schema})
        elif callable(item):
            specs.append(tool(item).tool_call_schema)
        else:
            raise TypeError(f"cannot make a tool of {item!r}: give a @tool, a function or a dict")
    return specs


class StreamReader(Protocol):
    """Turns one provider's raw stream items into ``AIMessageChunk`` s."""

    started: bool

    def translate(self, raw: Any) -> Iterable[AIMessageChunk]: ...

    def closing(self) -> AIMessageChunk: ...


class ProviderChatModel(BaseChatModel, abc.ABC):
    """What a chat model on a provider SDK shares: the key, the clients, and the one
    streaming loop (sync and async) with its error mapping and early close. A provider
    says how to build its request (``_params``), send it (``_open``) and read the stream
    (``_reader``)."""

    provider: ClassVar[str]
    key_variable: ClassVar[str]
    url_variable: ClassVar[str]

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None,
        max_retries: int,
        timeout: float | None,
        default_headers: dict[str, str] | None,
        model_kwargs: dict[str, Any] | None,
        name: str | None,
        disable_streaming: bool,
    ) -> None:
        super().__init__(name=name, disable_streaming=disable_streaming)
        self.model = model
        self.model_name = model
        self._api_key = api_key  # kept private: never part of a repr, an event or a log
        self.base_url = base_url
        self.max_retries = max_retries
        self.timeout = timeout
        self.default_headers = dict(default_headers or {})
        self.model_kwargs = dict(model_kwargs or {})
        self._clients = ClientCache(self._new_client)

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"{type(self).__name__}(model={self.model!r}{where})"

    # --- what a provider supplies ---------------------------------------------------

    @abc.abstractmethod
    def _client_class(self, is_async: bool) -> Any: ...

    @abc.abstractmethod
    def _params(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]: ...

    @abc.abstractmethod
    def _open(self, client: Any, params: dict[str, Any]) -> Any:
        """Send the request: the stream (sync) or an awaitable of it (async)."""
        ...

    @abc.abstractmethod
    def _reader(self, params: dict[str, Any]) -> StreamReader: ...

    # --- shared ---------------------------------------------------------------------

    def _client(self, is_async: bool) -> Any:
        return self._clients.get(is_async)

    def _new_client(self, is_async: bool) -> Any:
        # The SDKs read the base-URL variable too; resolved here so that a keyless local
        # server works.
        base_url = self.base_url or os.environ.get(self.url_variable) or None
        key = resolve_api_key(self._api_key, self.key_variable, self.provider, base_url)
        return self._client_class(is_async)(
            api_key=key,
            base_url=base_url,
            max_retries=self.max_retries,
            timeout=self.timeout,
            default_headers=self.default_headers or None,
        )

    def _raise_typed(self, error: Exception, reader: StreamReader) -> NoReturn:
        mapped = map_error(error, self.provider, started=reader.started)
        if mapped is None or mapped is error:
            raise error
        raise mapped from error

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        params = self._params(messages, stop, kwargs)
        client = self._client(False)  # before the clock: importing the SDK is not waiting
        reader = self._reader(params)
        stream = None
        try:
            stream = self._open(client, params)
            for raw in stream:
                yield from reader.translate(raw)
            yield reader.closing()
        except Exception as e:
            self._raise_typed(e, reader)
        finally:
            if stream is not None:
                stream.close()  # a consumer that stopped early stops the server too

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        params = self._params(messages, stop, kwargs)
        client = self._client(True)
        reader = self._reader(params)
        stream = None
        try:
            stream = await self._open(client, params)
            async for raw in stream:
                for chunk in reader.translate(raw):
                    yield chunk
            yield reader.closing()
        except Exception as e:
            self._raise_typed(e, reader)
        finally:
            if stream is not None:
                await stream.close()
