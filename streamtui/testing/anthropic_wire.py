"""Anthropic Messages wire format: the named SSE event stream and error bodies.

Event order as the API sends it: ``message_start``, then per content block
``content_block_start`` / ``content_block_delta``... / ``content_block_stop`` (a ``ping``
after the first block opens), then ``message_delta`` (stop reason, usage), ``message_stop``.
"""

from __future__ import annotations

from typing import Any

from streamtui.testing.scenarios import Scenario, split_words
from streamtui.testing.wire import Frame, RenderContext, fake_signature

#: fault -> (status, error type, message)
ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit (mock).",
    ),
    "server_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "auth_error": (401, "authentication_error", "invalid x-api-key"),
    "missing_key": (401, "authentication_error", "x-api-key header is required"),
    "forbidden": (
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    "not_found": (404, "not_found_error", ""),
    "bad_request": (400, "invalid_request_error", "Could not parse the request body as JSON."),
}


def error_body(
    kind: str, *, model: str = "", message: str | None = None, request_id: str = ""
) -> tuple[int, Any]:
    """``(status, {"type": "error", "error": {"type", "message"}, "request_id"})``."""
    status, etype, default = ERRORS[kind]
    if kind == "not_found" and not message:
        message = f"model: {model}"
    body: dict[str, Any] = {
        "type": "error",
        "error": {"type": etype, "message": message or default},
    }
    if request_id:
        body["request_id"] = request_id
    return status, body


def error_for_status(status: int) -> str:
    """The fault kind whose body fits ``status`` (for ``fail_once``)."""
    return {429: "rate_limit", 500: "server_error", 503: "overloaded", 529: "overloaded"}[status]


def _stop_reason(s: Scenario) -> str:
    if s.tool_calls:
        return "tool_use"
    if s.refusal:
        return "refusal"
    return "end_turn"


def _output_tokens(s: Scenario) -> int:
    n = len(split_words(s.reasoning)) + len(split_words(s.text)) + len(split_words(s.refusal))
    return n + sum(len(tc.fragments()) + 1 for tc in s.tool_calls)


def _usage(ctx: RenderContext, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": ctx.prompt_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _blocks(s: Scenario) -> list[dict[str, Any]]:
    """The finished content blocks: thinking, text (a refusal is text here), tool_use."""
    blocks: list[dict[str, Any]] = []
    if s.reasoning:
        blocks.append(
            {"type": "thinking", "thinking": s.reasoning, "signature": fake_signature(s.reasoning)}
        )
    if s.text or s.refusal:
        blocks.append({"type": "text", "text": s.text or s.refusal})
    for tc in s.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{tc.id}", "name": tc.name, "input": tc.arguments}
        )
    return blocks


def _message(
    s: Scenario, ctx: RenderContext, content: list[Any], stop: str | None, out: int
) -> Any:
    return {
        "id": ctx.ident("msg_"),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage(ctx, out),
    }


def messages_stream(s: Scenario, ctx: RenderContext) -> list[Frame]:
    """The frames of a streamed Messages response, ``message_start`` to ``message_stop``."""
    frames: list[Frame] = []

    def add(event: str, obj: dict[str, Any], *, is_delta: bool = False) -> None:
        frames.append(ctx.json_event({"type": event, **obj}, event, delta=is_delta))

    add("message_start", {"message": _message(s, ctx, [], None, 1)})
    tools = iter(s.tool_calls)
    for index, block in enumerate(_blocks(s)):
        kind = block["type"]
        if kind == "thinking":
            start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "text":
            start = {"type": "text", "text": ""}
        else:
            start = {**block, "input": {}}
        add("content_block_start", {"index": index, "content_block": start})
        if index == 0:
            add("ping", {})
        if kind == "thinking":
            for piece in split_words(block["thinking"]):
                delta = {"type": "thinking_delta", "thinking": piece}
                add("content_block_delta", {"index": index, "delta": delta}, is_delta=True)
            sig = {"type": "signature_delta", "signature": block["signature"]}
            add("content_block_delta", {"index": index, "delta": sig})
        elif kind == "text":
            for piece in split_words(block["text"]):
                delta = {"type": "text_delta", "text": piece}
                add("content_block_delta", {"index": index, "delta": delta}, is_delta=True)
        else:
            tc = next(tools)
            empty = {"type": "input_json_delta", "partial_json": ""}
            add("content_block_delta", {"index": index, "delta": empty})
            for piece in tc.fragments():
                delta = {"type": "input_json_delta", "partial_json": piece}
                add("content_block_delta", {"index": index, "delta": delta}, is_delta=True)
        add("content_block_stop", {"index": index})
    usage = _usage(ctx, _output_tokens(s))
    del usage["service_tier"]
    add(
        "message_delta",
        {"delta": {"stop_reason": _stop_reason(s), "stop_sequence": None}, "usage": usage},
    )
    add("message_stop", {})
    return ctx.with_comments(frames)


def messages_body(s: Scenario, ctx: RenderContext) -> dict[str, Any]:
    """A non-streamed ``message`` object."""
    return _message(s, ctx, _blocks(s), _stop_reason(s), _output_tokens(s))


def error_frame(ctx: RenderContext) -> Frame:
    """The mid-stream ``event: error`` with an ``overloaded_error`` payload."""
    _, body = error_body("overloaded", request_id=ctx.ident("req_"))
    return ctx.json_event(body, "error")


def malformed_frame(ctx: RenderContext) -> Frame:
    """A ``content_block_delta`` whose JSON is cut short."""
    data = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"trunc'
    return ctx.event(data, "content_block_delta")
