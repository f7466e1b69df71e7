"""What the OpenAI and Anthropic models share: keys, timing, error mapping, tool schemas.

The two SDKs differ in their wire formats, not in what can go wrong, so one mapping
turns either SDK's exceptions (and the raw transport errors they let through) into
``streamtui.models.errors`` — with ``mid_stream`` set when chunks had already arrived.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from streamtui.models import errors
from streamtui.runtime.messages import AIMessageChunk

__all__ = ["ClientCache", "StreamClock", "map_error", "resolve_api_key", "tool_specs"]


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
