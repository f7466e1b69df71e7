"""OpenAI wire formats: Chat Completions chunks, the Responses event stream, error bodies.

Shapes follow the openai SDK's own types (``ChatCompletionChunk``, ``ResponseStreamEvent``)
closely enough to pass its strict response validation; the ``quirk_*`` scenarios then break
them on purpose the way OpenAI-compatible servers do.
"""

from __future__ import annotations

from typing import Any

from streamtui.testing.scenarios import Scenario, ToolCall, split_words
from streamtui.testing.wire import Frame, RenderContext, dumps

# --- errors --------------------------------------------------------------------------------

#: fault -> (status, type, code, message)
ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "rate_limit": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests (mock). Please try again in 1s.",
    ),
    "server_error": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "overloaded": (503, "server_error", None, "The server is overloaded or not ready yet."),
    "auth_error": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key in your account settings.",
    ),
    "missing_key": (
        401,
        "invalid_request_error",
        None,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    ),
    "forbidden": (
        403,
        "request_forbidden",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    "not_found": (404, "invalid_request_error", "model_not_found", ""),
    "bad_request": (400, "invalid_request_error", None, "We could not parse the JSON body."),
}


def error_body(kind: str, *, model: str = "", message: str | None = None) -> tuple[int, Any]:
    """``(status, {"error": {"message", "type", "param", "code"}})`` for a fault kind."""
    status, etype, code, default = ERRORS[kind]
    if kind == "not_found" and not message:
        message = f"The model `{model}` does not exist or you do not have access to it."
    param = "model" if kind == "not_found" else None
    body = {"error": {"message": message or default, "type": etype, "param": param, "code": code}}
    return status, body


def error_for_status(status: int) -> str:
    """The fault kind whose body fits ``status`` (for ``fail_once``)."""
    return {429: "rate_limit", 500: "server_error", 503: "overloaded", 529: "overloaded"}[status]


# --- Chat Completions ----------------------------------------------------------------------


def _finish_reason(s: Scenario) -> str:
    return "tool_calls" if s.tool_calls else "stop"


def _usage(ctx: RenderContext, completion: int, reasoning: int) -> dict[str, Any]:
    return {
        "prompt_tokens": ctx.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": ctx.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion_tokens(s: Scenario) -> tuple[int, int]:
    reasoning = len(split_words(s.reasoning))
    visible = len(split_words(s.text)) + len(split_words(s.refusal))
    visible += sum(len(tc.fragments()) + 1 for tc in s.tool_calls)
    return visible + reasoning, reasoning


class _Chunks:
    """Builds chat.completion.chunk frames, applying the scenario's quirks."""

    def __init__(self, s: Scenario, ctx: RenderContext) -> None:
        self.s = s
        self.ctx = ctx
        self.frames: list[Frame] = []
        self.id = ctx.ident("chatcmpl-")

    def obj(self, choices: list[dict[str, Any]], *, usage: bool = False) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
            "choices": choices,
        }
        if self.s.has("odd_object"):
            chunk["object"] = "" if usage else "chat.completion"
        if self.ctx.include_usage:
            chunk["usage"] = None
        return chunk

    def add(self, delta: dict[str, Any], *, finish: str | None = None, is_delta: bool) -> None:
        if self.s.has("role_every_chunk"):
            delta = {"role": "assistant", **delta}
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        self.frames.append(self.ctx.json_event(self.obj([choice]), delta=is_delta))

    def tool_call(self, tc: ToolCall, index: int) -> None:
        fragments = tc.fragments()
        for n, fragment in enumerate(fragments):
            item: dict[str, Any] = {"index": index}
            if self.s.has("tools_all_index0"):
                item["index"] = 0
            if n == 0:
                item["id"] = f"call_{tc.id}"
                item["type"] = "function"
                item["function"] = {"name": tc.name, "arguments": fragment}
            else:
                item["function"] = {"arguments": fragment}
            if self.s.has("tool_no_index"):
                del item["index"]
            self.add({"tool_calls": [item]}, is_delta=True)


def chat_stream(s: Scenario, ctx: RenderContext) -> list[Frame]:
    """The frames of a streamed Chat Completion, ``[DONE]`` included unless ``no_done``."""
    b = _Chunks(s, ctx)
    first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
    if s.reasoning or s.refusal or (s.tool_calls and not s.text):
        first["content"] = None
    b.add(first, is_delta=False)
    for piece in split_words(s.reasoning):
        # vLLM / DeepSeek style: a non-standard field next to a null content.
        b.add({"content": None, "reasoning_content": piece}, is_delta=True)
    for piece in split_words(s.text):
        b.add({"content": piece}, is_delta=True)
    for piece in split_words(s.refusal):
        b.add({"refusal": piece}, is_delta=True)
    for index, tc in enumerate(s.tool_calls):
        b.tool_call(tc, index)
    b.add({}, finish=_finish_reason(s), is_delta=False)
    if ctx.include_usage:
        completion, reasoning = _completion_tokens(s)
        final = b.obj([], usage=True)
        final["usage"] = _usage(ctx, completion, reasoning)
        b.frames.append(ctx.json_event(final))
    if not s.has("no_done"):
        b.frames.append(ctx.event("[DONE]"))
    return ctx.with_comments(b.frames)


def chat_body(s: Scenario, ctx: RenderContext) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object with the same content."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": s.text or None,
        "refusal": s.refusal or None,
        "annotations": [],
    }
    if s.reasoning:
        message["reasoning_content"] = s.reasoning
    if s.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{tc.id}",
                "type": "function",
                "function": {"name": tc.name, "arguments": tc.arguments_json},
            }
            for tc in s.tool_calls
        ]
    completion, reasoning = _completion_tokens(s)
    return {
        "id": ctx.ident("chatcmpl-"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(s)}
        ],
        "usage": _usage(ctx, completion, reasoning),
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }


def chat_error_frame(ctx: RenderContext) -> Frame:
    """The mid-stream error chunk: a ``data:`` line holding an ``error`` object."""
    _, body = error_body("overloaded")
    return ctx.json_event(body)


def chat_malformed_frame(ctx: RenderContext) -> Frame:
    """A ``data:`` line whose JSON is cut short."""
    head = dumps({"id": ctx.ident("chatcmpl-"), "object": "chat.completion.chunk"})[:-1]
    return ctx.event(head + ',"choices":[{"index":0,"delta":{"content":"trunc')


# --- Responses -----------------------------------------------------------------------------


class _Events:
    """Builds Responses API events with running ``sequence_number``s."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.frames: list[Frame] = []
        self.seq = 0

    def add(self, etype: str, fields: dict[str, Any], *, is_delta: bool = False) -> None:
        obj = {"type": etype, "sequence_number": self.seq, **fields}
        self.seq += 1
        self.frames.append(self.ctx.json_event(obj, etype, delta=is_delta))


def response_usage(s: Scenario, ctx: RenderContext) -> dict[str, Any]:
    completion, reasoning = _completion_tokens(s)
    return {
        "input_tokens": ctx.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": ctx.prompt_tokens + completion,
    }


def response_object(
    ctx: RenderContext, status: str, output: list[dict[str, Any]], usage: Any
) -> dict[str, Any]:
    """A ``response`` object snapshot (as in response.created / response.completed)."""
    return {
        "id": ctx.ident("resp_"),
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _output_items(s: Scenario, ctx: RenderContext) -> list[dict[str, Any]]:
    """The finished output items, in stream order: reasoning, message, function calls."""
    items: list[dict[str, Any]] = []
    if s.reasoning:
        items.append(
            {
                "id": ctx.ident("rs_"),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": s.reasoning}],
            }
        )
    if s.text or s.refusal:
        part: dict[str, Any] = (
            {"type": "refusal", "refusal": s.refusal}
            if s.refusal
            else {"type": "output_text", "annotations": [], "logprobs": [], "text": s.text}
        )
        items.append(
            {
                "id": ctx.ident("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    for tc in s.tool_calls:
        items.append(
            {
                "id": f"fc_{tc.id}",
                "type": "function_call",
                "status": "completed",
                "call_id": f"call_{tc.id}",
                "name": tc.name,
                "arguments": tc.arguments_json,
            }
        )
    return items


def responses_stream(s: Scenario, ctx: RenderContext) -> list[Frame]:
    """The Responses API event stream, response.created through response.completed."""
    ev = _Events(ctx)
    ev.add("response.created", {"response": response_object(ctx, "in_progress", [], None)})
    ev.add("response.in_progress", {"response": response_object(ctx, "in_progress", [], None)})
    done = _output_items(s, ctx)
    for index, item in enumerate(done):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            ev.add(
                "response.output_item.added",
                {"output_index": index, "item": {**item, "summary": []}},
            )
            empty = {"type": "summary_text", "text": ""}
            ev.add(
                "response.reasoning_summary_part.added",
                {**where, "summary_index": 0, "part": empty},
            )
            for piece in split_words(s.reasoning):
                ev.add(
                    "response.reasoning_summary_text.delta",
                    {**where, "summary_index": 0, "delta": piece},
                    is_delta=True,
                )
            ev.add(
                "response.reasoning_summary_text.done",
                {**where, "summary_index": 0, "text": s.reasoning},
            )
            ev.add(
                "response.reasoning_summary_part.done",
                {**where, "summary_index": 0, "part": item["summary"][0]},
            )
        elif item["type"] == "message":
            added = {**item, "status": "in_progress", "content": []}
            ev.add("response.output_item.added", {"output_index": index, "item": added})
            part = item["content"][0]
            at = {**where, "content_index": 0}
            if part["type"] == "refusal":
                ev.add(
                    "response.content_part.added",
                    {**at, "part": {"type": "refusal", "refusal": ""}},
                )
                for piece in split_words(s.refusal):
                    ev.add("response.refusal.delta", {**at, "delta": piece}, is_delta=True)
                ev.add("response.refusal.done", {**at, "refusal": s.refusal})
            else:
                empty_text = {**part, "text": ""}
                ev.add("response.content_part.added", {**at, "part": empty_text})
                for piece in split_words(s.text):
                    ev.add(
                        "response.output_text.delta",
                        {**at, "delta": piece, "logprobs": []},
                        is_delta=True,
                    )
                ev.add("response.output_text.done", {**at, "text": s.text, "logprobs": []})
            ev.add("response.content_part.done", {**at, "part": part})
        else:
            tc = next(t for t in s.tool_calls if f"fc_{t.id}" == item["id"])
            added = {**item, "status": "in_progress", "arguments": ""}
            ev.add("response.output_item.added", {"output_index": index, "item": added})
            for piece in tc.fragments():
                ev.add(
                    "response.function_call_arguments.delta",
                    {**where, "delta": piece},
                    is_delta=True,
                )
            ev.add(
                "response.function_call_arguments.done",
                {**where, "name": tc.name, "arguments": tc.arguments_json},
            )
        ev.add("response.output_item.done", {"output_index": index, "item": item})
    final = response_object(ctx, "completed", done, response_usage(s, ctx))
    ev.add("response.completed", {"response": final})
    return ctx.with_comments(ev.frames)


def responses_body(s: Scenario, ctx: RenderContext) -> dict[str, Any]:
    """A non-streamed ``response`` object."""
    return response_object(ctx, "completed", _output_items(s, ctx), response_usage(s, ctx))


def responses_error_frame(ctx: RenderContext, sequence_number: int) -> Frame:
    """The Responses ``error`` event (top-level code/message/param, as the SDK types it)."""
    obj = {
        "type": "error",
        "code": "server_error",
        "message": "The server is overloaded or not ready yet.",
        "param": None,
        "sequence_number": sequence_number,
    }
    return ctx.json_event(obj, "error")


def responses_malformed_frame(ctx: RenderContext) -> Frame:
    return ctx.event(
        '{"type":"response.output_text.delta","delta":"trunc', "response.output_text.delta"
    )
