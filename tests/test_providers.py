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


def test_running_usage_sent_on_every_chunk_is_not_added_up():
    """vLLM's continuous usage stats: the running total on every chunk."""
    import json
    import socket
    import threading

    def chunk(content: str, n: int, finish: str | None = None) -> str:
        body = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n},
        }
        return f"data: {json.dumps(body)}\n\n"

    payload = (
        chunk("Hel", 1) + chunk("lo", 2) + chunk(" there", 3, "stop") + "data: [DONE]\n\n"
    ).encode()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            + payload
        )
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    port = listener.getsockname()[1]
    reply = ChatOpenAI("m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", timeout=10).invoke(
        "hi"
    )
    listener.close()
    assert reply.text == "Hello there"
    assert reply.usage_metadata == {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}


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
