"""The real anthropic SDK against the mock: stream events per scenario, errors per fault.

Content scenarios run with ``_strict_response_validation=True`` so each event must validate
against the SDK's ``RawMessageStreamEvent`` types.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("anthropic")

import anthropic
import httpx2

from streamtui.testing import MockProviderServer
from streamtui.testing.scenarios import (
    REASONING,
    REASONING_ANSWER,
    REFUSAL,
    TEXT,
    TIME,
    WEATHER,
    split_words,
)

from .helpers import MESSAGES, anthropic_client, async_anthropic_client, run

EXPECTED: dict[str, dict[str, Any]] = {
    "text": {"blocks": ["text"], "text": TEXT, "stop": "end_turn"},
    "tool_call": {"blocks": ["tool_use"], "tools": [WEATHER], "stop": "tool_use"},
    "parallel_tools": {
        "blocks": ["tool_use", "tool_use"],
        "tools": [WEATHER, TIME],
        "stop": "tool_use",
    },
    "reasoning": {
        "blocks": ["thinking", "text"],
        "thinking": REASONING,
        "text": REASONING_ANSWER,
        "stop": "end_turn",
    },
    "refusal": {"blocks": ["text"], "text": REFUSAL, "stop": "refusal"},
}


def create(client: Any, name: str, **kw: Any) -> Any:
    return client.messages.create(
        model=f"mock:{name}", max_tokens=64, messages=MESSAGES, stream=True, **kw
    )


def check_events(name: str, events: list[Any]) -> None:
    expected = EXPECTED[name]
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert "ping" not in types  # the SDK swallows the ping the mock sends
    start = events[0].message
    assert start.role == "assistant" and start.content == [] and start.usage.input_tokens > 0
    blocks = [e.content_block for e in events if e.type == "content_block_start"]
    assert [b.type for b in blocks] == expected["blocks"]
    by_index: dict[int, list[Any]] = {}
    for e in events:
        if e.type == "content_block_delta":
            by_index.setdefault(e.index, []).append(e.delta)
    stops = [e.index for e in events if e.type == "content_block_stop"]
    assert stops == list(range(len(blocks)))
    text = "".join(d.text for ds in by_index.values() for d in ds if d.type == "text_delta")
    assert text == expected.get("text", "")
    thinking = "".join(
        d.thinking for ds in by_index.values() for d in ds if d.type == "thinking_delta"
    )
    assert thinking == expected.get("thinking", "")
    if thinking:
        signatures = [d.signature for d in by_index[0] if d.type == "signature_delta"]
        assert len(signatures) == 1 and signatures[0]
        assert by_index[0][-1].type == "signature_delta"  # after the thinking, before stop
    tools = expected.get("tools", [])
    tool_blocks = [(i, b) for i, b in enumerate(blocks) if b.type == "tool_use"]
    assert [(b.id, b.name, b.input) for _, b in tool_blocks] == [
        (f"toolu_{t.id}", t.name, {}) for t in tools
    ]
    for (index, _), tool in zip(tool_blocks, tools):
        pieces = [d.partial_json for d in by_index[index] if d.type == "input_json_delta"]
        assert len([p for p in pieces if p]) >= 3
        assert json.loads("".join(pieces)) == tool.arguments
    delta = events[-2]
    assert delta.delta.stop_reason == expected["stop"]
    assert delta.usage.output_tokens > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messages_stream_sync(server: MockProviderServer, name: str) -> None:
    with anthropic_client(server, _strict_response_validation=True) as client:
        events = list(create(client, name))
    check_events(name, events)
    assert server.wait_idle()
    (rec,) = server.requests
    assert rec.path == "/v1/messages" and rec.provider == "anthropic" and rec.completed
    assert rec.headers["anthropic-version"]
    assert rec.retry_count == 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messages_stream_async(server: MockProviderServer, name: str) -> None:
    async def body() -> list[Any]:
        async with async_anthropic_client(server, _strict_response_validation=True) as client:
            stream = await create(client, name)
            return [e async for e in stream]

    check_events(name, run(body()))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stream_helper_accumulates_final_message(server: MockProviderServer, name: str) -> None:
    """The SDK's own accumulator (messages.stream) rebuilds the same message."""
    expected = EXPECTED[name]
    with (
        anthropic_client(server) as client,
        client.messages.stream(model=f"mock:{name}", max_tokens=64, messages=MESSAGES) as stream,
    ):
        final = stream.get_final_message()
    assert [b.type for b in final.content] == expected["blocks"]
    assert final.stop_reason == expected["stop"]
    tools = [b for b in final.content if b.type == "tool_use"]
    assert [(b.id, b.input) for b in tools] == [
        (f"toolu_{t.id}", t.arguments) for t in expected.get("tools", [])
    ]
    texts = [b.text for b in final.content if b.type == "text"]
    assert "".join(texts) == expected.get("text", "")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messages_non_stream(server: MockProviderServer, name: str) -> None:
    expected = EXPECTED[name]
    with anthropic_client(server, _strict_response_validation=True) as client:
        message = client.messages.create(model=f"mock:{name}", max_tokens=64, messages=MESSAGES)
    assert [b.type for b in message.content] == expected["blocks"]
    assert message.stop_reason == expected["stop"]
    assert message.usage.output_tokens > 0


@pytest.mark.parametrize("name", ["quirk_crlf", "quirk_comments", "quirk_no_done"])
def test_sse_quirks(server: MockProviderServer, name: str) -> None:
    with anthropic_client(server, _strict_response_validation=True) as client:
        events = list(create(client, name))
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == TEXT and events[-1].type == "message_stop"


# --- faults --------------------------------------------------------------------------------

STATUS_FAULTS = [
    ("rate_limit", anthropic.RateLimitError, 429, "rate_limit_error"),
    ("server_error", anthropic.InternalServerError, 500, "api_error"),
    ("overloaded", anthropic.OverloadedError, 529, "overloaded_error"),
    ("auth_error", anthropic.AuthenticationError, 401, "authentication_error"),
    ("forbidden", anthropic.PermissionDeniedError, 403, "permission_error"),
    ("not_found", anthropic.NotFoundError, 404, "not_found_error"),
]


@pytest.mark.parametrize(("name", "error", "status", "etype"), STATUS_FAULTS)
def test_status_faults_raise_typed_errors(
    server: MockProviderServer, name: str, error: type[Exception], status: int, etype: str
) -> None:
    with anthropic_client(server) as client, pytest.raises(error) as info:
        create(client, name)
    exc = info.value
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == status
    assert isinstance(exc.body, dict) and exc.body["type"] == "error"
    assert exc.body["error"]["type"] == etype
    assert len(server.requests) == 1


def test_rate_limit_carries_retry_headers(server: MockProviderServer) -> None:
    with anthropic_client(server) as client, pytest.raises(anthropic.RateLimitError) as info:
        create(client, "rate_limit")
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.response.headers["retry-after-ms"] == "1000"


def collect_until_error(iterator: Any) -> tuple[list[Any], BaseException | None]:
    items: list[Any] = []
    try:
        for item in iterator:
            items.append(item)
    except Exception as exc:
        return items, exc
    return items, None


def text_of(events: list[Any]) -> str:
    return "".join(
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )


def test_error_mid_stream_raises_status_error_with_status_200(server: MockProviderServer) -> None:
    with anthropic_client(server) as client:
        events, exc = collect_until_error(create(client, "error_mid_stream"))
    # ``event: error`` arrives on a 200 response: a plain APIStatusError, not OverloadedError.
    assert type(exc) is anthropic.APIStatusError
    assert exc.status_code == 200
    assert exc.body["error"]["type"] == "overloaded_error"
    assert text_of(events) == "".join(split_words(TEXT)[:3])


def test_error_mid_stream_async(server: MockProviderServer) -> None:
    async def body() -> BaseException | None:
        async with async_anthropic_client(server) as client:
            stream = await create(client, "error_mid_stream")
            try:
                async for _ in stream:
                    pass
            except anthropic.APIStatusError as exc:
                return exc
        return None

    exc = run(body())
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200


def test_drop_mid_stream_raises_transport_error(server: MockProviderServer) -> None:
    with anthropic_client(server) as client:
        events, exc = collect_until_error(create(client, "drop_mid_stream"))
    # The anthropic stream does not wrap transport errors: httpx2's own error escapes.
    assert isinstance(exc, (httpx2.RemoteProtocolError, anthropic.APIConnectionError))
    assert "incomplete chunked read" in str(exc) + str(exc.__cause__)
    assert text_of(events) == "".join(split_words(TEXT)[:3])
    assert server.wait_idle() and not server.requests[0].completed


def test_drop_with_close_delimited_body_is_silent_truncation(server: MockProviderServer) -> None:
    with anthropic_client(server) as client:
        events = list(create(client, "drop_mid_stream", extra_headers={"x-mock-framing": "close"}))
    assert events[-1].type == "content_block_delta"  # no message_stop, and no error either


def test_stall_times_out(server: MockProviderServer) -> None:
    with anthropic_client(server, timeout=0.3) as client:
        events, exc = collect_until_error(create(client, "stall"))
    assert isinstance(exc, (httpx2.ReadTimeout, anthropic.APITimeoutError))
    assert text_of(events) == "".join(split_words(TEXT)[:3])
    assert server.wait_until(lambda rs: rs[0].finished, timeout=1.0)
    assert server.requests[0].client_disconnected_early


def test_malformed_chunk_raises_json_error(server: MockProviderServer) -> None:
    with anthropic_client(server) as client:
        events, exc = collect_until_error(create(client, "malformed_chunk"))
    assert isinstance(exc, json.JSONDecodeError)
    assert events


def test_non_stream_faults(server: MockProviderServer) -> None:
    kw: dict[str, Any] = {"max_tokens": 8, "messages": MESSAGES}
    with anthropic_client(server) as client:
        with pytest.raises(anthropic.APIConnectionError):
            client.messages.create(model="mock:drop_mid_stream", **kw)
        with pytest.raises(anthropic.OverloadedError):
            client.messages.create(model="mock:error_mid_stream", **kw)
    with anthropic_client(server, timeout=0.3) as client, pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model="mock:stall", **kw)
