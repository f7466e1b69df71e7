"""ChatOpenAI and ChatAnthropic with the real SDKs against the mock provider server on
loopback: assembled replies, tool calls, reasoning, usage, timing, every fault as a typed
error after the chunks that came before it, retries as the server saw them, early hang-up."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from streamtui import AIMessage, HumanMessage, SystemMessage, ToolMessage, tool
from streamtui.models import errors
from streamtui.models.anthropic import ChatAnthropic
from streamtui.models.openai import ChatOpenAI
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

PROVIDERS = ["openai", "anthropic"]


@pytest.fixture(scope="module")
def server():
    with MockProviderServer() as running:
        yield running


@pytest.fixture(autouse=True)
def no_provider_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def model(provider: str, server: MockProviderServer, scenario: str = "text", **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", 10)
    if provider == "openai":
        return ChatOpenAI(
            f"mock:{scenario}", api_key="test", base_url=server.openai_base_url, **kwargs
        )
    return ChatAnthropic(
        f"mock:{scenario}", api_key="test", base_url=server.anthropic_base_url, **kwargs
    )


def run(chat: Any, is_async: bool, value: Any = "hi") -> tuple[list[Any], BaseException | None]:
    """The chunks a stream yielded, and the error it ended with (if any)."""
    chunks: list[Any] = []
    try:
        if is_async:

            async def main() -> None:
                async for chunk in chat.astream(value):
                    chunks.append(chunk)

            asyncio.run(main())
        else:
            for chunk in chat.stream(value):
                chunks.append(chunk)
    except Exception as e:
        return chunks, e
    return chunks, None


def assembled(chunks: list[Any]) -> Any:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def requests_of(server: MockProviderServer, scenario: str) -> list[Any]:
    return [r for r in server.requests if r.scenario == scenario]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_text_streams_and_assembles_with_usage_stop_reason_and_timing(server, provider, is_async):
    chunks, error = run(model(provider, server), is_async)
    assert error is None
    reply = assembled(chunks)
    assert reply.text == TEXT
    assert len([c for c in chunks if c.text]) > 10  # word-sized deltas, not one blob
    usage = reply.usage_metadata
    # The mock counts a word as a token; cumulative counts must not be added twice.
    assert usage["output_tokens"] == len(split_words(TEXT)) and usage["input_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    metadata = reply.response_metadata
    assert metadata.get("finish_reason", metadata.get("stop_reason")) in ("stop", "end_turn")
    timing = metadata["timing"]
    assert timing["time_to_first_token"] > 0 and timing["chunks"] >= 10
    assert timing["tokens_per_second"] > 0 and timing["max_gap"] >= 0
    assert chunks[-1].chunk_position == "last"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invoke_gives_one_message_with_tool_calls_parsed(server, provider):
    reply = model(provider, server, "tool_call").invoke("weather?")
    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [(WEATHER.name, WEATHER.arguments)]
    assert reply.tool_calls[0]["id"].endswith(WEATHER.id)  # each provider's id prefix
    reason = reply.response_metadata.get(
        "finish_reason", reply.response_metadata.get("stop_reason")
    )
    assert reason in ("tool_calls", "tool_use")


@pytest.mark.parametrize(
    "scenario", ["parallel_tools", "quirk_tools_all_index0", "quirk_tool_no_index"]
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_calls_stream_as_chunks_and_stay_apart(server, provider, scenario):
    chunks, error = run(model(provider, server, scenario), True)
    assert error is None
    reply = assembled(chunks)
    expected = [WEATHER, TIME] if scenario != "quirk_tool_no_index" else [WEATHER]
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        (t.name, t.arguments) for t in expected
    ]
    assert all(c["id"].endswith(t.id) for c, t in zip(reply.tool_calls, expected))
    pieces = [tc for c in chunks for tc in c.tool_call_chunks]
    assert len(pieces) > len(expected)  # the arguments arrived in pieces


@pytest.mark.parametrize(
    "scenario",
    ["quirk_role_every_chunk", "quirk_odd_object", "quirk_crlf", "quirk_comments", "quirk_no_done"],
)
def test_openai_compatible_quirks_are_tolerated(server, scenario):
    chunks, error = run(model("openai", server, scenario), False)
    assert error is None
    assert assembled(chunks).text == TEXT


def test_openai_reasoning_content_and_refusals_are_kept_apart_from_the_answer(server):
    reply = assembled(run(model("openai", server, "reasoning"), True)[0])
    assert reply.text == REASONING_ANSWER
    assert reply.additional_kwargs["reasoning_content"] == REASONING
    refusal = assembled(run(model("openai", server, "refusal"), False)[0])
    assert refusal.additional_kwargs["refusal"] == REFUSAL and refusal.text == ""


def test_anthropic_thinking_streams_as_separate_blocks(server):
    chat = model(
        "anthropic", server, "reasoning", thinking={"type": "enabled", "budget_tokens": 1024}
    )
    chunks, error = run(chat, True)
    assert error is None
    reply = assembled(chunks)
    thinking = [b for b in reply.content if b.get("type") == "thinking"]
    assert thinking[0]["thinking"] == REASONING and thinking[0].get("signature")
    assert reply.text == REASONING_ANSWER


STATUS_FAULTS = [
    ("rate_limit", errors.RateLimitError, 429),
    ("server_error", errors.ServerError, 500),
    ("overloaded", errors.OverloadedError, None),
    ("auth_error", errors.AuthenticationError, 401),
    ("forbidden", errors.PermissionDeniedError, 403),
    ("not_found", errors.NotFoundError, 404),
]


@pytest.mark.parametrize(
    ("scenario", "cls", "status"), STATUS_FAULTS, ids=[f[0] for f in STATUS_FAULTS]
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_status_errors_are_typed_and_not_retried_when_told_not_to(
    server, provider, scenario, cls, status
):
    before = len(requests_of(server, scenario))
    chunks, error = run(model(provider, server, scenario, max_retries=0), True)
    assert chunks == []
    assert type(error) is cls, repr(error)
    assert error.provider == provider and not error.mid_stream and error.message
    if status is not None:
        assert error.status == status
    if scenario == "rate_limit":
        assert error.retry_after is not None and error.retry_after > 0
    assert len(requests_of(server, scenario)) == before + 1


MID_STREAM = [
    ("error_mid_stream", (errors.ServerError,)),
    ("drop_mid_stream", (errors.StreamInterruptedError,)),
    ("malformed_chunk", (errors.MalformedStreamError,)),
    ("stall", (errors.StreamTimeoutError,)),
]


@pytest.mark.parametrize(("scenario", "classes"), MID_STREAM, ids=[f[0] for f in MID_STREAM])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_failures_after_the_stream_started_come_after_its_chunks(
    server, provider, is_async, scenario, classes
):
    chat = model(
        provider,
        server,
        scenario,
        max_retries=2,
        timeout=0.5,
        default_headers={"x-mock-stall-seconds": "5"},
    )
    before = len(requests_of(server, scenario))
    started = time.monotonic()
    chunks, error = run(chat, is_async)
    assert isinstance(error, classes), repr(error)
    assert error.mid_stream and error.provider == provider
    assert "".join(c.text for c in chunks) and TEXT.startswith("".join(c.text for c in chunks))
    assert len(requests_of(server, scenario)) == before + 1  # a started stream is never retried
    assert time.monotonic() - started < 5  # nothing hangs


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_body_that_just_stops_is_an_interrupted_stream_too(server, provider, is_async):
    # Close-delimited framing: the SDKs see a clean end of body and raise nothing.
    chat = model(provider, server, "drop_mid_stream", default_headers={"x-mock-framing": "close"})
    chunks, error = run(chat, is_async)
    assert isinstance(error, errors.StreamInterruptedError), repr(error)
    assert error.mid_stream and "ended before the reply did" in error.message
    assert TEXT.startswith("".join(c.text for c in chunks)) and chunks


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_anthropic_or_openai_error_event_names_overloaded(server, provider):
    _, error = run(model(provider, server, "error_mid_stream"), False)
    assert isinstance(error, errors.ServerError)
    if provider == "anthropic":
        assert isinstance(error, errors.OverloadedError)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fail_once_then_succeed_is_retried_by_the_sdk(server, provider):
    before = len(requests_of(server, "fail_once"))
    chunks, error = run(model(provider, server, "fail_once", max_retries=2), True)
    assert error is None and assembled(chunks).text == TEXT
    seen = requests_of(server, "fail_once")[before:]
    assert [r.retry_count for r in seen] == [0, 1]
    assert seen[0].status >= 429 and seen[1].status == 200


@pytest.mark.parametrize("provider", PROVIDERS)
def test_errors_reach_the_event_stream_after_the_tokens(server, provider):
    chat = model(provider, server, "drop_mid_stream")

    async def main() -> tuple[list[str], BaseException | None]:
        kinds: list[str] = []
        try:
            async for event in chat.astream_events("hi", version="v2"):
                kinds.append(event["event"])
        except errors.ProviderError as e:
            return kinds, e
        return kinds, None

    kinds, error = asyncio.run(main())
    assert isinstance(error, errors.StreamInterruptedError)
    assert kinds[0] == "on_chat_model_start" and kinds.count("on_chat_model_stream") >= 2
    assert "on_chat_model_end" not in kinds


@pytest.mark.parametrize("provider", PROVIDERS)
def test_closing_the_stream_early_hangs_up_on_the_server(server, provider):
    chat = model(provider, server, "text", default_headers={"x-mock-chunk-delay": "0.05"})
    before = len(requests_of(server, "text"))
    stream = chat.stream("hi")
    for _, _chunk in zip(range(2), stream):
        pass
    stream.close()
    deadline = time.monotonic() + 5
    request = requests_of(server, "text")[before]
    while time.monotonic() < deadline and not request.client_disconnected_early:
        time.sleep(0.02)
    assert request.client_disconnected_early and not request.completed


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancelling_the_task_hangs_up_too(server, provider):
    chat = model(provider, server, "text", default_headers={"x-mock-chunk-delay": "0.05"})
    before = len(requests_of(server, "text"))

    async def main() -> None:
        async def consume() -> None:
            async for _ in chat.astream("hi"):
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    request = requests_of(server, "text")[before]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not request.client_disconnected_early:
        time.sleep(0.02)
    assert request.client_disconnected_early


@pytest.mark.parametrize(
    ("provider", "variable"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")]
)
def test_a_missing_key_names_the_variable_to_set(provider, variable):
    chat = ChatOpenAI() if provider == "openai" else ChatAnthropic()
    with pytest.raises(errors.MissingAPIKeyError, match=f"set {variable}"):
        chat.invoke("hi")


def test_keys_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    before = len(server.requests)
    assert ChatOpenAI("mock:text").invoke("hi").text == TEXT
    assert server.requests[before].headers["authorization"] == "Bearer from-env"


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """The weather in a city."""
    return f"mild in {city}"


def test_openai_request_carries_tools_and_messages_in_its_own_form(server):
    chat = model("openai", server, "tool_call").bind_tools([get_weather], tool_choice="get_weather")
    before = len(server.requests)
    history = [
        SystemMessage("be brief"),
        HumanMessage("weather?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}]),
        ToolMessage("cold", tool_call_id="c1"),
    ]
    chat.invoke(history)
    body = server.requests[before].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]
    assert body["messages"][2]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Oslo"}',
    }


def test_anthropic_request_maps_system_and_tool_results(server):
    chat = model("anthropic", server, "tool_call", max_tokens=77).bind_tools([get_weather])
    before = len(server.requests)
    chat.invoke(
        [
            SystemMessage("be brief"),
            HumanMessage("weather?"),
            AIMessage(
                "checking",
                tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}],
            ),
            ToolMessage("cold", tool_call_id="c1"),
            HumanMessage("and tomorrow?"),
        ]
    )
    body = server.requests[before].json
    assert body["system"] == "be brief" and body["max_tokens"] == 77
    assert body["tools"][0]["name"] == "get_weather" and "input_schema" in body["tools"][0]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "checking"},
        {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Oslo"}},
    ]
    assert body["messages"][2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "c1",
        "content": "cold",
    }
    assert body["messages"][2]["content"][1] == {"type": "text", "text": "and tomorrow?"}
    headers = server.requests[before].headers
    assert "test" in (
        headers.get("x-api-key"),
        headers.get("authorization", "").removeprefix("Bearer "),
    )


def test_the_key_is_never_in_a_repr_or_an_event(server):
    chat = ChatOpenAI(
        "mock:text", api_key="sk-very-secret-key-123", base_url=server.openai_base_url
    )
    assert "sk-very" not in repr(chat)

    async def events() -> list[dict]:
        return [e async for e in chat.astream_events("hi", version="v2")]

    assert "sk-very" not in repr(asyncio.run(events()))


def raw_server(payload: bytes) -> str:
    """A one-shot loopback server answering one request with ``payload`` as an SSE body:
    for wire shapes the mock does not script (the URL it serves, without a path)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        sizes = [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
        while sizes and len(body) < int(sizes[0].split(b":")[1]):
            body += conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            + payload
        )
        conn.close()
        listener.close()

    threading.Thread(target=answer, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def openai_chunk(
    delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None
) -> str:
    import json

    body: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n"


def test_running_usage_sent_on_every_chunk_is_not_added_up():
    """vLLM's continuous usage stats: the running total on every chunk."""

    def usage(n: int) -> dict[str, int]:
        return {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}

    body = (
        openai_chunk({"content": "Hel"}, usage=usage(1))
        + openai_chunk({"content": "lo"}, usage=usage(2))
        + openai_chunk({"content": " there"}, "stop", usage(3))
        + "data: [DONE]\n\n"
    )
    url = raw_server(body.encode())
    reply = ChatOpenAI("m", api_key="k", base_url=f"{url}/v1", timeout=10).invoke("hi")
    assert reply.text == "Hello there"
    assert reply.usage_metadata == {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}


def test_a_tool_name_repeated_on_every_fragment_is_not_repeated_in_the_call():
    def fragment(args: str, finish: str | None = None) -> str:
        call = {"index": 0, "id": "call_1" if args == "" else None, "type": "function"}
        call["function"] = {"name": "get_weather", "arguments": args}
        return openai_chunk({"tool_calls": [call]}, finish)

    body = (
        fragment("") + fragment('{"city": ') + fragment('"Oslo"}') + openai_chunk({}, "tool_calls")
    )
    url = raw_server((body + "data: [DONE]\n\n").encode())
    reply = ChatOpenAI("m", api_key="k", base_url=f"{url}/v1", timeout=10).invoke("hi")
    assert [(c["name"], c["args"], c["id"]) for c in reply.tool_calls] == [
        ("get_weather", {"city": "Oslo"}, "call_1")
    ]


def test_invalid_utf8_in_a_chunk_is_a_malformed_stream():
    body = openai_chunk({"content": "ok "}).encode() + b'data: {"id": "\xff\xfe"}\n\n'
    url = raw_server(body)
    chunks, error = run(ChatOpenAI("m", api_key="k", base_url=f"{url}/v1", timeout=10), False)
    assert isinstance(error, errors.MalformedStreamError) and error.mid_stream
    assert "".join(c.text for c in chunks) == "ok "


def test_anthropic_keeps_redacted_thinking_and_server_tools_as_blocks_not_calls():
    import json

    def event(kind: str, **data: Any) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    body = (
        event("message_start", message=message)
        + event(
            "content_block_start",
            index=0,
            content_block={"type": "redacted_thinking", "data": "opaque"},
        )
        + event("content_block_stop", index=0)
        + event(
            "content_block_start",
            index=1,
            content_block={
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {},
            },
        )
        + event(
            "content_block_delta",
            index=1,
            delta={"type": "input_json_delta", "partial_json": '{"query": "x"}'},
        )
        + event("content_block_stop", index=1)
        + event("content_block_start", index=2, content_block={"type": "text", "text": ""})
        + event("content_block_delta", index=2, delta={"type": "text_delta", "text": "Found it."})
        + event("content_block_stop", index=2)
        + event(
            "message_delta",
            delta={"stop_reason": "end_turn", "stop_sequence": None},
            usage={"output_tokens": 9},
        )
        + event("message_stop")
    )
    url = raw_server(body.encode())
    chat = ChatAnthropic("m", api_key="k", base_url=url, timeout=10).bind_tools(
        [{"type": "web_search_20250305", "name": "web_search"}]
    )
    reply = chat.invoke("search")
    assert reply.tool_calls == [] and reply.text == "Found it."
    kinds = [b["type"] for b in reply.content]
    assert kinds == ["redacted_thinking", "server_tool_use", "text"]
    assert reply.content[0]["data"] == "opaque"
    assert reply.usage_metadata == {"input_tokens": 5, "output_tokens": 9, "total_tokens": 14}


def test_in_stream_error_events_are_typed_by_their_error_type():
    import anthropic
    import httpx2

    from streamtui.models.provider import map_error

    response = httpx2.Response(200, request=httpx2.Request("POST", "http://127.0.0.1/v1/messages"))
    for kind, cls in (
        ("rate_limit_error", errors.RateLimitError),
        ("invalid_request_error", errors.BadRequestError),
        ("api_error", errors.ServerError),
        ("overloaded_error", errors.OverloadedError),
    ):
        body = {"type": "error", "error": {"type": kind, "message": "nope"}}
        sdk_error = anthropic.APIStatusError("nope", response=response, body=body)
        first = map_error(sdk_error, "anthropic", started=False)
        assert type(first) is cls and first.message == "nope" and not first.mid_stream
        assert map_error(sdk_error, "anthropic", started=True).mid_stream


def test_retry_after_as_an_http_date_and_undecodable_bytes():
    import email.utils
    import time as clock

    from streamtui.models.provider import _retry_after, map_error

    soon = email.utils.formatdate(clock.time() + 30, usegmt=True)
    assert 25 < _retry_after({"retry-after": soon}) <= 30
    assert _retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert _retry_after({"retry-after": "soon-ish"}) is None
    error = map_error(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), "openai", started=True)
    assert isinstance(error, errors.MalformedStreamError)
    assert map_error(ValueError("user code"), "openai", started=True) is None


def test_request_shapes_the_providers_accept(server):
    refusal = AIMessage("", additional_kwargs={"refusal": "no"})
    openai_chat = model("openai", server, "text")
    before = len(server.requests)
    openai_chat.invoke(
        [HumanMessage("q"), refusal, ToolMessage([{"type": "text", "text": "r"}], tool_call_id="c")]
    )
    body = server.requests[before].json
    assert body["messages"][1] == {"role": "assistant", "content": ""}
    assert body["messages"][2]["content"] == [{"type": "text", "text": "r"}]
    anthropic_chat = model("anthropic", server, "text")
    before = len(server.requests)
    anthropic_chat.invoke(
        [
            HumanMessage("q"),
            AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c"}]),
            HumanMessage("also this"),
            ToolMessage([{"type": "text", "text": "r"}], tool_call_id="c"),
            refusal,
        ]
    )
    turns = server.requests[before].json["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert [b["type"] for b in turns[2]["content"]] == ["tool_result", "text"]
    assert turns[2]["content"][0]["content"] == [{"type": "text", "text": "r"}]


def test_tool_binding_and_choices_map_between_the_providers(server):
    chat = model("anthropic", server, "text")
    no_params = {"type": "function", "function": {"name": "ping", "description": "Ping."}}
    before = len(server.requests)
    chat.bind_tools([no_params], tool_choice="required").invoke("hi")
    body = server.requests[before].json
    assert body["tools"] == [
        {
            "name": "ping",
            "description": "Ping.",
            "input_schema": {"type": "object", "properties": {}},
        }
    ]
    assert body["tool_choice"] == {"type": "any"}
    before = len(server.requests)
    model("openai", server, "text").bind_tools([get_weather], tool_choice="any").invoke("hi")
    assert server.requests[before].json["tool_choice"] == "required"
    whole = model("openai", server, "text", streaming=False)
    assert [c.text for c in whole.stream("hi")] == [TEXT]


def test_a_key_with_a_trailing_newline_is_used_without_it(server):
    before = len(server.requests)
    ChatOpenAI("mock:text", api_key="from-a-file\n", base_url=server.openai_base_url).invoke("hi")
    assert server.requests[before].headers["authorization"] == "Bearer from-a-file"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_closing_an_async_stream_early_hangs_up(server, provider):
    chat = model(provider, server, "text", default_headers={"x-mock-chunk-delay": "0.05"})
    before = len(requests_of(server, "text"))

    async def main() -> None:
        stream = chat.astream("hi")
        await stream.__anext__()
        await stream.__anext__()
        await stream.aclose()

    asyncio.run(main())
    request = requests_of(server, "text")[before]
    assert server.wait_until(lambda _: request.client_disconnected_early, timeout=5)
    assert not request.completed


def test_async_clients_are_per_event_loop():
    """Pooled connections belong to the loop that opened them: a second asyncio.run must
    get a client of its own, the same loop the same client."""
    chat = ChatOpenAI("mock:text", api_key="k", base_url="http://127.0.0.1:9/v1")

    async def twice() -> tuple[Any, Any]:
        return chat._client(True), chat._client(True)

    first_a, first_b = asyncio.run(twice())
    second_a, _ = asyncio.run(twice())
    assert first_a is first_b and first_a is not second_a
    assert chat._client(False) is chat._client(False)
