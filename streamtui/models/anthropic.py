"""``ChatAnthropic``: Anthropic Messages through the official ``anthropic`` SDK.

The raw event stream (``messages.create(stream=True)``) is turned into ``AIMessageChunk`` s
by ``_AnthropicChunks``, shared by the sync and async paths. Thinking arrives as
``{"type": "thinking"}`` content blocks, apart from the answer's text blocks, so a viewer
can show it differently; tool calls stream as ``tool_call_chunks``. A plain reply (no
tools, no thinking) streams as text, as LangChain's does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from streamtui.models import errors
from streamtui.models.provider import ProviderChatModel, StreamClock, shows_something, tool_specs
from streamtui.runtime.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["ChatAnthropic"]

PROVIDER = "anthropic"


class ChatAnthropic(ProviderChatModel):
    """A chat model served by Anthropic.

    The key comes from ``api_key`` or ``ANTHROPIC_API_KEY``. ``thinking={"type":
    "enabled", "budget_tokens": N}`` streams the model's thinking as separate blocks.
    """

    provider = PROVIDER
    key_variable = "ANTHROPIC_API_KEY"
    url_variable = "ANTHROPIC_BASE_URL"

    def __init__(
        self,
        model: str = "claude-sonnet-5",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int = 1024,
        max_retries: int = 2,
        timeout: float | None = 60.0,
        thinking: dict[str, Any] | None = None,
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
            disable_streaming=disable_streaming,
        )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.thinking = thinking

    def _client_class(self, is_async: bool) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic if is_async else anthropic.Anthropic

    def _open(self, client: Any, params: dict[str, Any]) -> Any:
        return client.messages.create(**params)

    def _reader(self, params: dict[str, Any]) -> _AnthropicChunks:
        # Blocks when thinking or tools can appear; a plain reply streams as text.
        return _AnthropicChunks(
            self.model, blocks=bool(params.get("tools") or params.get("thinking"))
        )

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        """A copy that offers ``tools`` (streamtui tools, functions, dicts) to the model."""
        specs: list[dict[str, Any]] = []
        for item in tools:
            if isinstance(item, dict) and item.get("type") not in (None, "function", "custom"):
                specs.append(dict(item))  # a server tool (web search, ...): Anthropic's own form
                continue
            [spec] = tool_specs([item])
            specs.append(
                {
                    "name": spec["name"],
                    "description": spec.get("description", ""),
                    "input_schema": spec.get("parameters") or {"type": "object", "properties": {}},
                }
            )
        if tool_choice is not None:
            if tool_choice == "required":  # OpenAI's word for it
                tool_choice = "any"
            if tool_choice in ("auto", "any", "none"):
                tool_choice = {"type": tool_choice}
            elif isinstance(tool_choice, str):
                tool_choice = {"type": "tool", "name": tool_choice}
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=specs, **kwargs)

    def _params(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        system, turns = _to_anthropic(messages)
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": turns,
        }
        if system:
            params["system"] = system
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.thinking is not None:
            params["thinking"] = self.thinking
        if stop:
            params["stop_sequences"] = stop
        params.update(self.model_kwargs)
        params.update(kwargs)
        params["stream"] = True
        return params


class _AnthropicChunks:
    """Raw stream events to ``AIMessageChunk`` s (``None`` for bookkeeping events)."""

    __slots__ = (
        "_opaque",
        "blocks",
        "clock",
        "metadata",
        "model",
        "output_tokens",
        "started",
        "stop_reason",
        "stopped",
    )

    def __init__(self, model: str, *, blocks: bool) -> None:
        self.model = model
        self.blocks = blocks
        self.clock = StreamClock()
        self.started = False
        self.metadata: dict[str, Any] = {"model_name": model}
        self.output_tokens: int | None = None
        self.stop_reason: str | None = None
        self.stopped = False
        self._opaque: set[int] = set()

    def translate(self, event: Any) -> tuple[AIMessageChunk, ...]:
        chunk = self._translate(event)
        return () if chunk is None else (chunk,)

    def _translate(self, event: Any) -> AIMessageChunk | None:
        self.started = True
        kind = getattr(event, "type", None)
        chunk: AIMessageChunk | None = None
        if kind == "content_block_delta":
            chunk = self._delta(event.index, event.delta)
        elif kind == "content_block_start":
            block = event.content_block
            block_type = getattr(block, "type", None)
            if block_type == "tool_use":
                call = {"id": block.id, "name": block.name, "args": "", "index": event.index}
                chunk = AIMessageChunk([] if self.blocks else "", tool_call_chunks=[call])
            elif block_type == "text":
                if getattr(block, "text", ""):
                    chunk = self._text(event.index, block.text)
            elif block_type != "thinking" and self.blocks:
                # Kept as they came (redacted thinking must go back with a tool result;
                # a server tool is run by Anthropic, so it is not a call for us to make).
                self._opaque.add(event.index)
                dump = block.model_dump() if hasattr(block, "model_dump") else {"type": block_type}
                chunk = AIMessageChunk([{**dump, "index": event.index}])
        elif kind == "message_start":
            message = event.message
            self.metadata = {
                "model_name": getattr(message, "model", None) or self.model,
                "id": message.id,
            }
            usage = getattr(message, "usage", None)
            if usage is not None:
                return AIMessageChunk([] if self.blocks else "", usage_metadata=_input_usage(usage))
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "message_delta":
            self.stop_reason = getattr(event.delta, "stop_reason", None)
            if getattr(event.delta, "stop_sequence", None):
                self.metadata["stop_sequence"] = event.delta.stop_sequence
            usage = getattr(event, "usage", None)
            if usage is not None:
                out = getattr(usage, "output_tokens", 0) or 0
                self.output_tokens = out
                return AIMessageChunk(
                    [] if self.blocks else "",
                    usage_metadata={"input_tokens": 0, "output_tokens": out, "total_tokens": out},
                )
        if chunk is not None and shows_something(chunk):
            self.clock.visible()
        return chunk

    def _text(self, index: int, text: str) -> AIMessageChunk:
        if self.blocks:
            return AIMessageChunk([{"type": "text", "text": text, "index": index}])
        return AIMessageChunk(text)

    def _delta(self, index: int, delta: Any) -> AIMessageChunk | None:
        kind = getattr(delta, "type", None)
        if kind == "text_delta":
            return self._text(index, delta.text)
        if kind == "input_json_delta":
            if index in self._opaque:
                return None  # a server tool's input: shown whole in its block, not a call
            call = {"id": None, "name": None, "args": delta.partial_json, "index": index}
            return AIMessageChunk([] if self.blocks else "", tool_call_chunks=[call])
        if kind == "thinking_delta":
            return AIMessageChunk(
                [{"type": "thinking", "thinking": delta.thinking, "index": index}]
            )
        if kind == "signature_delta":
            return AIMessageChunk(
                [{"type": "thinking", "signature": delta.signature, "index": index}]
            )
        return None  # citations and future delta kinds: nothing to show yet

    def closing(self) -> AIMessageChunk:
        """The last chunk: stop reason, model, timing (on the model's end event).

        A body that simply stopped raises nothing in the SDK; a reply without
        ``message_stop`` is that."""
        if not self.stopped:
            raise errors.StreamInterruptedError(
                "the stream ended before the reply did (no message_stop)",
                provider=PROVIDER,
                mid_stream=self.started,
            )
        metadata = {**self.metadata, "model_provider": "anthropic"}
        if self.stop_reason is not None:
            metadata["stop_reason"] = self.stop_reason
        metadata["timing"] = self.clock.summary(self.output_tokens)
        return AIMessageChunk(
            [] if self.blocks else "", response_metadata=metadata, chunk_position="last"
        )


def _input_usage(usage: Any) -> dict[str, Any]:
    read = getattr(usage, "cache_read_input_tokens", None) or 0
    created = getattr(usage, "cache_creation_input_tokens", None) or 0
    prompt = (getattr(usage, "input_tokens", 0) or 0) + read + created
    # Output is counted on message_delta, cumulatively: counting message_start's too
    # would add it twice.
    result: dict[str, Any] = {"input_tokens": prompt, "output_tokens": 0, "total_tokens": prompt}
    if read or created:
        result["input_token_details"] = {"cache_read": read, "cache_creation": created}
    return result


def _content_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for block in content:
        if isinstance(block, str):
            blocks.append({"type": "text", "text": block})
        elif isinstance(block, dict):
            blocks.append({k: v for k, v in block.items() if k != "index"})
    return blocks


def _to_anthropic(messages: list[BaseMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, turns): system messages become the ``system`` parameter, tool
    results ``tool_result`` blocks in a user turn, and consecutive turns of one role merge
    (the API wants them alternating)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.text)
            continue
        if isinstance(message, ToolMessage):
            text: Any = message.content
            if not isinstance(text, str):
                blocks_in = _content_blocks(text)
                # Content blocks go as they are; anything else as JSON text.
                text = blocks_in if all(isinstance(b, dict) for b in text) else json.dumps(text)
            role, blocks = (
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.tool_call_id,
                        "content": text,
                        **({"is_error": True} if getattr(message, "status", "") == "error" else {}),
                    }
                ],
            )
        elif isinstance(message, AIMessage):
            role = "assistant"
            blocks = [b for b in _content_blocks(message.content) if b.get("type") != "tool_use"]
            blocks += [
                {"type": "tool_use", "id": tc["id"], "name": tc["name"], "input": tc["args"]}
                for tc in message.tool_calls
            ]
        else:
            role, blocks = "user", _content_blocks(message.content)
        if not blocks:
            continue  # the API refuses an empty turn (a refusal, an empty message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        # Tool results must open their user turn, before any text merged into it.
        turn["content"].sort(key=lambda b: b.get("type") != "tool_result")
    return "\n\n".join(s for s in system if s), turns
