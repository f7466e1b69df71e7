"""``ChatOpenAI``: OpenAI Chat Completions, and any OpenAI-compatible server by ``base_url``
(vLLM, Ollama, llama.cpp), through the official ``openai`` SDK.

It reads the raw stream (``chat.completions.create(stream=True)``), not the SDK's
``.stream()`` helper, because that helper's accumulator breaks on what compatible servers
commonly send: the role repeated in every chunk, tool calls without ``index``, every tool
call at index 0, odd ``object`` values. ``_OpenAIChunks`` turns raw chunks into
``AIMessageChunk`` s for both the sync and the async path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from streamtui.models import errors
from streamtui.models.provider import ProviderChatModel, StreamClock, shows_something, tool_specs
from streamtui.runtime.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["ChatOpenAI"]

PROVIDER = "openai"


class ChatOpenAI(ProviderChatModel):
    """A chat model served by OpenAI or an OpenAI-compatible server.

    The key comes from ``api_key`` or ``OPENAI_API_KEY`` (a custom ``base_url`` may need
    none). ``max_retries`` retries failures before the first byte (the SDK's own retry);
    a stream that fails after it started raises a ``streamtui.models.errors`` error
    after the chunks already received.
    """

    provider = PROVIDER
    key_variable = "OPENAI_API_KEY"
    url_variable = "OPENAI_BASE_URL"

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_retries: int = 2,
        timeout: float | None = 60.0,
        streaming: bool = True,
        stream_usage: bool = True,
        default_headers: dict[str, str] | None = None,
        model_kwargs: dict[str, Any] | None = None,
        name: str | None = None,
        disable_streaming: bool = False,
    ) -> None:
        super().__init__(
            model,
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            default_headers=default_headers,
            model_kwargs=model_kwargs,
            name=name,
            # streaming=False: stream() gives the whole reply as one chunk, as in LangChain.
            disable_streaming=disable_streaming or not streaming,
        )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.streaming = streaming
        self.stream_usage = stream_usage

    def _client_class(self, is_async: bool) -> Any:
        import openai

        return openai.AsyncOpenAI if is_async else openai.OpenAI

    def _open(self, client: Any, params: dict[str, Any]) -> Any:
        return client.chat.completions.create(**params)

    def _reader(self, params: dict[str, Any]) -> _OpenAIChunks:
        return _OpenAIChunks(self.model)

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        """A copy that offers ``tools`` (streamtui tools, functions, dicts) to the model."""
        specs = [{"type": "function", "function": spec} for spec in tool_specs(tools)]
        if tool_choice is not None:
            if tool_choice == "any":  # Anthropic's word for it
                tool_choice = "required"
            if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
                tool_choice = {"type": "function", "function": {"name": tool_choice}}
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=specs, **kwargs)

    def _params(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [_to_openai(m) for m in messages],
        }
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if stop:
            params["stop"] = stop
        params.update(self.model_kwargs)
        params.update(kwargs)
        params["stream"] = True
        if self.stream_usage:
            params["stream_options"] = {"include_usage": True}
        return params


class _OpenAIChunks:
    """Raw ``ChatCompletionChunk`` s to ``AIMessageChunk`` s, tolerant of compatible
    servers: tool-call indexes are renumbered by call id, so calls without ``index``, or
    several calls all at index 0, still come out as separate calls."""

    __slots__ = (
        "_calls",
        "_last_call",
        "_latest",
        "_named",
        "clock",
        "finish_reason",
        "metadata",
        "model",
        "started",
        "usage",
    )

    def __init__(self, model: str) -> None:
        self.model = model
        self.clock = StreamClock()
        self.started = False
        self._calls: dict[str, int] = {}  # call id -> our index
        self._last_call: dict[Any, int] = {}  # the server's index -> our index of its latest call
        self._latest: int | None = None
        self._named: set[int] = set()
        self.finish_reason: str | None = None
        self.metadata: dict[str, Any] = {}
        self.usage: Any = None

    def translate(self, raw: Any) -> Iterator[AIMessageChunk]:
        self.started = True
        if not self.metadata:
            self.metadata = {
                "model_name": getattr(raw, "model", None) or self.model,
                "id": getattr(raw, "id", None),
            }
            fingerprint = getattr(raw, "system_fingerprint", None)
            if fingerprint:
                self.metadata["system_fingerprint"] = fingerprint
        usage = getattr(raw, "usage", None)
        for choice in getattr(raw, "choices", None) or ():
            if getattr(choice, "index", 0) not in (0, None):
                continue  # n > 1 is not streamed: the first choice is the reply
            delta = getattr(choice, "delta", None)
            chunk = self._delta(delta) if delta is not None else None
            finish = getattr(choice, "finish_reason", None)
            if finish:
                self.finish_reason = finish
            if chunk is not None:
                if shows_something(chunk):
                    self.clock.visible()
                yield chunk
        if usage is not None:
            # Kept, not added: some compatible servers (vLLM's continuous usage stats)
            # send the running total on every chunk. Reported once, on the last chunk.
            self.usage = usage

    def _delta(self, delta: Any) -> AIMessageChunk | None:
        content = getattr(delta, "content", None) or ""
        extra: dict[str, Any] = {}
        refusal = getattr(delta, "refusal", None)
        if refusal:
            extra["refusal"] = refusal
        # Not SDK fields: compatible servers' extras live in ``model_extra`` (a getattr
        # that misses raises and catches inside pydantic: two thirds of the per-chunk cost).
        others = getattr(delta, "model_extra", None)
        if others:
            reasoning = others.get("reasoning_content") or others.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                extra["reasoning_content"] = reasoning
        calls = getattr(delta, "tool_calls", None)
        tool_chunks = [self._tool_chunk(tc) for tc in calls] if calls else None
        if not (content or extra or tool_chunks):
            return None
        return AIMessageChunk(content, additional_kwargs=extra, tool_call_chunks=tool_chunks)

    def _tool_chunk(self, tc: Any) -> dict[str, Any]:
        call_id = getattr(tc, "id", None)
        raw_index = getattr(tc, "index", None)
        if call_id:
            index = self._calls.setdefault(call_id, len(self._calls))
        elif raw_index in self._last_call:
            index = self._last_call[raw_index]  # a fragment of the call last seen there
        elif raw_index is None and self._latest is not None:
            index = self._latest  # no index, no id: it continues the latest call
        else:
            index = self._calls.setdefault(f"#{len(self._calls)}", len(self._calls))
        self._last_call[raw_index] = index
        self._latest = index
        function = getattr(tc, "function", None)
        name = getattr(function, "name", None) if function is not None else None
        if name and index in self._named:
            name = None  # some servers repeat it on every fragment; merging would repeat it
        elif name:
            self._named.add(index)
        return {
            "name": name,
            "args": getattr(function, "arguments", None) if function is not None else None,
            "id": call_id,
            "index": index,
        }

    def closing(self) -> AIMessageChunk:
        """The last chunk: finish reason, model, timing (on the model's end event).

        A body that simply stopped (a connection closed mid-reply with no framing left to
        break) raises nothing in the SDK; a reply without a finish reason is that."""
        if self.finish_reason is None:
            raise errors.StreamInterruptedError(
                "the stream ended before the reply did (no finish_reason)",
                provider=PROVIDER,
                mid_stream=self.started,
            )
        metadata = {**self.metadata, "model_provider": "openai"}
        if self.finish_reason is not None:
            metadata["finish_reason"] = self.finish_reason
        usage = self.usage
        output_tokens = getattr(usage, "completion_tokens", None) if usage is not None else None
        metadata["timing"] = self.clock.summary(output_tokens)
        return AIMessageChunk(
            "",
            response_metadata=metadata,
            usage_metadata=_usage(usage) if usage is not None else None,
            chunk_position="last",
        )


def _usage(usage: Any) -> dict[str, Any]:
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    out: dict[str, Any] = {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": getattr(usage, "total_tokens", None) or prompt + completion,
    }
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(prompt_details, "cached_tokens", None) if prompt_details else None
    if cached:
        out["input_token_details"] = {"cache_read": cached}
    completion_details = getattr(usage, "completion_tokens_details", None)
    reasoning = (
        getattr(completion_details, "reasoning_tokens", None) if completion_details else None
    )
    if reasoning:
        out["output_token_details"] = {"reasoning": reasoning}
    return out


def _to_openai(message: BaseMessage) -> dict[str, Any]:
    """A message in Chat Completions form."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, HumanMessage):
        out: dict[str, Any] = {"role": "user", "content": message.content}
        if message.name:
            out["name"] = message.name
        return out
    if isinstance(message, ToolMessage):
        content = message.content
        if not isinstance(content, str) and not all(isinstance(b, dict) for b in content):
            content = json.dumps(content)  # content parts go as they are; anything else as JSON
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    if isinstance(message, AIMessage):
        # A reply with neither text nor tool calls (a refusal) still needs content.
        out = {
            "role": "assistant",
            "content": message.text or ("" if not message.tool_calls else None),
        }
        if message.tool_calls:
            out["tool_calls"] = [
                {
                    "id": tc["id"],
                    "type": "function",
                    "function": {"name": tc["name"], "arguments": json.dumps(tc["args"])},
                }
                for tc in message.tool_calls
            ]
        return out
    return {"role": "user", "content": message.content}
