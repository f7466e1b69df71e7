"""The real openai SDK against the mock: what it yields per scenario, what it raises per fault.

Content scenarios run with ``_strict_response_validation=True``, so every chunk and event
the mock sends must validate against the SDK's own pydantic types; the quirk scenarios run
without it (they are malformed by design) and show what a lenient client then sees.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("openai")

import openai

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

from .helpers import MESSAGES, async_openai_client, openai_client, run

EXPECTED: dict[str, dict[str, Any]] = {
    "text": {"text": TEXT, "finish": "stop"},
    "tool_call": {"tools": [WEATHER], "finish": "tool_calls"},
    "parallel_tools": {"tools": [WEATHER, TIME], "finish": "tool_calls"},
    "reasoning": {"text": REASONING_ANSWER, "reasoning": REASONING, "finish": "stop"},
    "refusal": {"refusal": REFUSAL, "finish": "stop"},
}


def assemble_chat(chunks: list[Any]) -> dict[str, Any]:
    """Fold chat.completion.chunk objects into text, reasoning, refusal, tool calls, usage."""
    out: dict[str, Any] = {"text": "", "reasoning": "", "refusal": "", "calls": {}, "finish": None}
    out["usage"] = None
    out["text_deltas"] = []
    for chunk in chunks:
        if chunk.usage is not None:
            out["usage"] = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                out["text"] += delta.content
                out["text_deltas"].append(delta.content)
            out["reasoning"] += (delta.model_extra or {}).get("reasoning_content") or ""
            out["refusal"] += delta.refusal or ""
            for tc in delta.tool_calls or []:
                slot = out["calls"].setdefault(tc.index, {"ids": [], "name": None, "pieces": []})
                if tc.id:
                    slot["ids"].append(tc.id)
                if tc.function and tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function and tc.function.arguments is not None:
                    slot["pieces"].append(tc.function.arguments)
            if choice.finish_reason:
                out["finish"] = choice.finish_reason
    return out


def check_chat(name: str, chunks: list[Any]) -> None:
    expected = EXPECTED[name]
    got = assemble_chat(chunks)
    assert got["text"] == expected.get("text", "")
    assert got["reasoning"] == expected.get("reasoning", "")
    assert got["refusal"] == expected.get("refusal", "")
    assert got["finish"] == expected["finish"]
    tools = expected.get("tools", [])
    assert sorted(got["calls"]) == list(range(len(tools)))
    for index, tool in enumerate(tools):
        slot = got["calls"][index]
        assert slot["ids"] == [f"call_{tool.id}"]
        assert slot["name"] == tool.name
        assert len(slot["pieces"]) >= 3  # arguments really arrive in fragments
        with pytest.raises(json.JSONDecodeError):
            json.loads(slot["pieces"][0])
        assert json.loads("".join(slot["pieces"])) == tool.arguments
    # include_usage: the last chunk has no choices and carries the usage
    assert chunks[-1].choices == []
    usage = got["usage"]
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    if name == "text":
        assert got["text_deltas"] == split_words(TEXT)  # word-sized deltas
    if name == "reasoning":
        assert usage.completion_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chat_stream_sync(server: MockProviderServer, name: str) -> None:
    with openai_client(server, _strict_response_validation=True) as client:
        stream = client.chat.completions.create(
            model=f"mock:{name}",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    check_chat(name, chunks)
    assert server.wait_idle()
    (rec,) = server.requests
    assert rec.scenario == name and rec.completed and rec.stream and rec.retry_count == 0
    assert not rec.client_disconnected_early


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chat_stream_async(server: MockProviderServer, name: str) -> None:
    async def body() -> list[Any]:
        async with async_openai_client(server, _strict_response_validation=True) as client:
            stream = await client.chat.completions.create(
                model=f"mock:{name}",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            return [chunk async for chunk in stream]

    check_chat(name, run(body()))


def test_chat_stream_without_include_usage_has_no_usage_field(server: MockProviderServer) -> None:
    with openai_client(server) as client:
        chunks = list(
            client.chat.completions.create(model="mock:text", messages=MESSAGES, stream=True)
        )
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all("usage" not in c.model_fields_set for c in chunks)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chat_non_stream(server: MockProviderServer, name: str) -> None:
    expected = EXPECTED[name]
    with openai_client(server, _strict_response_validation=True) as client:
        completion = client.chat.completions.create(model=f"mock:{name}", messages=MESSAGES)
    choice = completion.choices[0]
    assert choice.finish_reason == expected["finish"]
    assert (choice.message.content or "") == expected.get("text", "")
    assert (choice.message.refusal or "") == expected.get("refusal", "")
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (f"call_{t.id}", t.name, t.arguments) for t in expected.get("tools", [])
    ]
    assert completion.usage is not None and completion.usage.completion_tokens > 0


# --- Responses API -------------------------------------------------------------------------


def assemble_responses(events: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": "", "reasoning": "", "refusal": "", "calls": {}}
    for ev in events:
        if ev.type == "response.output_text.delta":
            out["text"] += ev.delta
        elif ev.type == "response.reasoning_summary_text.delta":
            out["reasoning"] += ev.delta
        elif ev.type == "response.refusal.delta":
            out["refusal"] += ev.delta
        elif ev.type == "response.output_item.added" and ev.item.type == "function_call":
            out["calls"][ev.item.id] = {
                "call_id": ev.item.call_id,
                "name": ev.item.name,
                "pieces": [],
            }
        elif ev.type == "response.function_call_arguments.delta":
            out["calls"][ev.item_id]["pieces"].append(ev.delta)
    return out


def check_responses(name: str, events: list[Any]) -> None:
    expected = EXPECTED[name]
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    got = assemble_responses(events)
    assert got["text"] == expected.get("text", "")
    assert got["reasoning"] == expected.get("reasoning", "")
    assert got["refusal"] == expected.get("refusal", "")
    tools = expected.get("tools", [])
    assert [c["call_id"] for c in got["calls"].values()] == [f"call_{t.id}" for t in tools]
    for call, tool in zip(got["calls"].values(), tools):
        assert call["name"] == tool.name and len(call["pieces"]) >= 3
        assert json.loads("".join(call["pieces"])) == tool.arguments
    final = events[-1].response
    assert final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0
    if expected.get("text"):
        assert final.output_text == expected["text"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_responses_stream_sync(server: MockProviderServer, name: str) -> None:
    with openai_client(server, _strict_response_validation=True) as client:
        events = list(client.responses.create(model=f"mock:{name}", input="hi", stream=True))
    check_responses(name, events)
    assert server.requests[0].path == "/v1/responses"


def test_responses_stream_async(server: MockProviderServer) -> None:
    async def body() -> list[Any]:
        async with async_openai_client(server, _strict_response_validation=True) as client:
            stream = await client.responses.create(
                model="mock:parallel_tools", input="hi", stream=True
            )
            return [ev async for ev in stream]

    check_responses("parallel_tools", run(body()))


def test_responses_non_stream(server: MockProviderServer) -> None:
    with openai_client(server, _strict_response_validation=True) as client:
        response = client.responses.create(model="mock:text", input="hi")
    assert response.output_text == TEXT and response.status == "completed"


# --- OpenAI-compatible quirks (lenient client) ---------------------------------------------


def chat_chunks(server: MockProviderServer, name: str, **kw: Any) -> list[Any]:
    with openai_client(server, **kw) as client:
        stream = client.chat.completions.create(
            model=f"mock:{name}",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        return list(stream)


def test_quirk_role_every_chunk(server: MockProviderServer) -> None:
    chunks = chat_chunks(server, "quirk_role_every_chunk")
    assert all(ch.delta.role == "assistant" for c in chunks for ch in c.choices)
    assert assemble_chat(chunks)["text"] == TEXT


def test_quirk_tool_no_index(server: MockProviderServer) -> None:
    chunks = chat_chunks(server, "quirk_tool_no_index")
    deltas = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert deltas and all(tc.index is None for tc in deltas)
    assert deltas[0].id == f"call_{WEATHER.id}"
    args = "".join(tc.function.arguments for tc in deltas if tc.function)
    assert json.loads(args) == WEATHER.arguments
    with pytest.raises(openai.APIResponseValidationError):  # a strict client refuses it
        chat_chunks(server, "quirk_tool_no_index", _strict_response_validation=True)


def test_quirk_tools_all_index0(server: MockProviderServer) -> None:
    chunks = chat_chunks(server, "quirk_tools_all_index0")
    deltas = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert {tc.index for tc in deltas} == {0}
    assert [tc.id for tc in deltas if tc.id] == [f"call_{WEATHER.id}", f"call_{TIME.id}"]
    # Split on each new id, the argument pieces still make two valid calls.
    calls: list[list[str]] = []
    for tc in deltas:
        if tc.id:
            calls.append([])
        calls[-1].append(tc.function.arguments or "")
    assert [json.loads("".join(c)) for c in calls] == [WEATHER.arguments, TIME.arguments]


def test_quirk_odd_object(server: MockProviderServer) -> None:
    chunks = chat_chunks(server, "quirk_odd_object")
    assert {c.object for c in chunks[:-1]} == {"chat.completion"}
    assert chunks[-1].object == "" and chunks[-1].usage is not None
    assert assemble_chat(chunks)["text"] == TEXT


@pytest.mark.parametrize("name", ["quirk_crlf", "quirk_comments", "quirk_no_done"])
def test_quirks_the_sdk_absorbs(server: MockProviderServer, name: str) -> None:
    chunks = chat_chunks(server, name)
    got = assemble_chat(chunks)
    assert got["text"] == TEXT and got["finish"] == "stop" and got["usage"] is not None
    assert server.wait_idle() and server.requests[0].completed


@pytest.mark.parametrize("name", ["quirk_crlf", "quirk_comments"])
def test_sse_quirks_on_responses_stream(server: MockProviderServer, name: str) -> None:
    with openai_client(server, _strict_response_validation=True) as client:
        events = list(client.responses.create(model=f"mock:{name}", input="hi", stream=True))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == TEXT


# --- faults --------------------------------------------------------------------------------

STATUS_FAULTS = [
    ("rate_limit", openai.RateLimitError, 429),
    ("server_error", openai.InternalServerError, 500),
    ("overloaded", openai.InternalServerError, 503),
    ("auth_error", openai.AuthenticationError, 401),
    ("forbidden", openai.PermissionDeniedError, 403),
    ("not_found", openai.NotFoundError, 404),
]


@pytest.mark.parametrize(("name", "error", "status"), STATUS_FAULTS)
@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_status_faults_raise_typed_errors(
    server: MockProviderServer, name: str, error: type[Exception], status: int, endpoint: str
) -> None:
    with openai_client(server) as client, pytest.raises(error) as info:
        if endpoint == "chat":
            client.chat.completions.create(model=f"mock:{name}", messages=MESSAGES, stream=True)
        else:
            client.responses.create(model=f"mock:{name}", input="hi", stream=True)
    exc = info.value
    assert isinstance(exc, openai.APIStatusError) and exc.status_code == status
    assert isinstance(exc.body, dict) and set(exc.body) == {"message", "type", "param", "code"}
    assert len(server.requests) == 1  # max_retries=0: never retried


def test_rate_limit_carries_retry_headers(server: MockProviderServer) -> None:
    with openai_client(server) as client, pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="mock:rate_limit", messages=MESSAGES, stream=True)
    headers = info.value.response.headers
    assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "1000"
    assert info.value.code == "rate_limit_exceeded"


def test_not_found_for_unknown_scenario(server: MockProviderServer) -> None:
    with openai_client(server) as client, pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="mock:no_such_thing", messages=MESSAGES)
    assert info.value.code == "model_not_found"
    assert "mock:no_such_thing" in info.value.message


def collect_until_error(iterator: Any) -> tuple[list[Any], BaseException | None]:
    items: list[Any] = []
    try:
        for item in iterator:
            items.append(item)
    except Exception as exc:
        return items, exc
    return items, None


def test_error_mid_stream_chat_raises_api_error(server: MockProviderServer) -> None:
    with openai_client(server) as client:
        stream = client.chat.completions.create(
            model="mock:error_mid_stream", messages=MESSAGES, stream=True
        )
        chunks, exc = collect_until_error(stream)
    # A ``data: {"error": ...}`` line: APIError, *not* an APIStatusError (the status was 200).
    assert type(exc) is openai.APIError
    assert "overloaded" in str(exc)
    assert assemble_chat(chunks)["text_deltas"] == split_words(TEXT)[:3]


def test_error_mid_stream_responses_is_an_event_not_an_exception(
    server: MockProviderServer,
) -> None:
    with openai_client(server, _strict_response_validation=True) as client:
        events = list(
            client.responses.create(model="mock:error_mid_stream", input="hi", stream=True)
        )
    assert events[-1].type == "error"
    assert events[-1].code == "server_error"
    assert "response.completed" not in {e.type for e in events}
    assert assemble_responses(events)["text"] == "".join(split_words(TEXT)[:3])


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_drop_mid_stream_raises_connection_error(server: MockProviderServer, endpoint: str) -> None:
    with openai_client(server) as client:
        if endpoint == "chat":
            stream: Any = client.chat.completions.create(
                model="mock:drop_mid_stream", messages=MESSAGES, stream=True
            )
        else:
            stream = client.responses.create(model="mock:drop_mid_stream", input="hi", stream=True)
        items, exc = collect_until_error(stream)
    assert isinstance(exc, openai.APIConnectionError)
    assert type(exc.__cause__).__name__ == "RemoteProtocolError"
    assert "incomplete chunked read" in str(exc.__cause__)
    assert items  # the deltas before the drop did arrive
    assert server.wait_idle()
    (rec,) = server.requests
    assert rec.fault == "drop_mid_stream" and not rec.completed and rec.deltas_sent == 3


def test_drop_with_close_delimited_body_is_silent_truncation(server: MockProviderServer) -> None:
    """Without chunked framing a dropped connection looks like a normal end of body."""
    with openai_client(server) as client:
        chunks = list(
            client.chat.completions.create(
                model="mock:drop_mid_stream",
                messages=MESSAGES,
                stream=True,
                extra_headers={"x-mock-framing": "close"},
            )
        )
    got = assemble_chat(chunks)
    assert got["finish"] is None and got["text_deltas"] == split_words(TEXT)[:3]


def test_stall_times_out(server: MockProviderServer) -> None:
    with openai_client(server, timeout=0.3) as client:
        stream = client.chat.completions.create(model="mock:stall", messages=MESSAGES, stream=True)
        chunks, exc = collect_until_error(stream)
    assert isinstance(exc, openai.APITimeoutError)
    assert type(exc.__cause__).__name__ == "ReadTimeout"
    assert len(assemble_chat(chunks)["text_deltas"]) == 3
    assert server.wait_until(lambda rs: rs[0].finished, timeout=1.0)
    assert server.requests[0].client_disconnected_early


def test_stall_seconds_header_then_stream_resumes(server: MockProviderServer) -> None:
    with openai_client(server) as client:
        chunks = list(
            client.chat.completions.create(
                model="mock:stall",
                messages=MESSAGES,
                stream=True,
                extra_headers={"x-mock-stall-seconds": "0.2"},
            )
        )
    assert assemble_chat(chunks)["text"] == TEXT
    assert server.wait_idle()
    (rec,) = server.requests
    assert rec.fault == "stall" and rec.completed and rec.ended is not None
    assert rec.ended - rec.started >= 0.2


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_malformed_chunk_raises_json_error(server: MockProviderServer, endpoint: str) -> None:
    with openai_client(server) as client:
        if endpoint == "chat":
            stream: Any = client.chat.completions.create(
                model="mock:malformed_chunk", messages=MESSAGES, stream=True
            )
        else:
            stream = client.responses.create(model="mock:malformed_chunk", input="hi", stream=True)
        items, exc = collect_until_error(stream)
    assert isinstance(exc, json.JSONDecodeError)
    assert items


def test_non_stream_faults(server: MockProviderServer) -> None:
    with openai_client(server) as client:
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="mock:drop_mid_stream", messages=MESSAGES)
        with pytest.raises(json.JSONDecodeError):
            client.chat.completions.create(model="mock:malformed_chunk", messages=MESSAGES)
        with pytest.raises(openai.InternalServerError) as info:
            client.chat.completions.create(model="mock:error_mid_stream", messages=MESSAGES)
        assert info.value.status_code == 503
