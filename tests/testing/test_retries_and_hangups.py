"""Retries as the server sees them, and clients that hang up early.

``fail_once`` proves the SDKs retry (and send ``x-stainless-retry-count``); an early close
proves the server notices the hang-up within a second and stops generating.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

pytest.importorskip("openai")
pytest.importorskip("anthropic")

import anthropic
import openai

from streamtui.testing import MockProviderServer
from streamtui.testing.scenarios import TEXT, split_words

from .helpers import (
    MESSAGES,
    anthropic_client,
    async_anthropic_client,
    async_openai_client,
    openai_client,
    run,
)

FAST_RETRY = {"x-mock-retry-after-ms": "10"}  # so the SDK's retry sleep is 10 ms
SLOW_STREAM = {"x-mock-chunk-delay": "0.05"}  # 25 deltas: ~1.2 s if read to the end
TOTAL_DELTAS = len(split_words(TEXT))


def test_openai_fail_once_then_retry_succeeds(server: MockProviderServer) -> None:
    with openai_client(server, max_retries=2, default_headers=FAST_RETRY) as client:
        chunks = list(
            client.chat.completions.create(model="mock:fail_once", messages=MESSAGES, stream=True)
        )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert server.wait_idle()
    first, second = server.requests
    assert (first.retry_count, first.status, first.fault) == (0, 500, "fail_once")
    assert (second.retry_count, second.status, second.fault) == (1, 200, None)
    assert second.completed


def test_openai_fail_once_with_default_backoff(server: MockProviderServer) -> None:
    """No retry-after header: the SDK's own backoff (about half a second) still retries."""
    with openai_client(server, max_retries=2) as client:
        completion = client.chat.completions.create(model="mock:fail_once", messages=MESSAGES)
    assert completion.choices[0].message.content == TEXT
    assert [r.retry_count for r in server.requests] == [0, 1]


def test_anthropic_fail_once_529_then_retry_succeeds(server: MockProviderServer) -> None:
    headers = {**FAST_RETRY, "x-mock-fail-status": "529"}
    with anthropic_client(server, max_retries=2, default_headers=headers) as client:
        events = list(
            client.messages.create(
                model="mock:fail_once", max_tokens=8, messages=MESSAGES, stream=True
            )
        )
    assert events[-1].type == "message_stop"
    assert [(r.retry_count, r.status) for r in server.requests] == [(0, 529), (1, 200)]


def test_async_fail_once_429_then_retry_succeeds(server: MockProviderServer) -> None:
    headers = {**FAST_RETRY, "x-mock-fail-status": "429"}

    async def body() -> None:
        async with async_openai_client(server, max_retries=2, default_headers=headers) as client:
            stream = await client.responses.create(model="mock:fail_once", input="hi", stream=True)
            events = [e async for e in stream]
        assert events[-1].type == "response.completed"

    run(body())
    assert [(r.retry_count, r.status) for r in server.requests] == [(0, 429), (1, 200)]


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_rate_limit_without_retries_is_one_request(server: MockProviderServer, sdk: str) -> None:
    if sdk == "openai":
        with openai_client(server, max_retries=0) as client, pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="mock:rate_limit", messages=MESSAGES, stream=True)
    else:
        with (
            anthropic_client(server, max_retries=0) as client,
            pytest.raises(anthropic.RateLimitError),
        ):
            client.messages.create(
                model="mock:rate_limit", max_tokens=8, messages=MESSAGES, stream=True
            )
    assert server.wait_idle()
    assert [(r.retry_count, r.status) for r in server.requests] == [(0, 429)]


def test_rate_limit_retries_then_gives_up(server: MockProviderServer) -> None:
    with (
        openai_client(server, max_retries=2, default_headers=FAST_RETRY) as client,
        pytest.raises(openai.RateLimitError),
    ):
        client.chat.completions.create(model="mock:rate_limit", messages=MESSAGES)
    assert [(r.retry_count, r.status) for r in server.requests] == [(0, 429), (1, 429), (2, 429)]


def test_fail_once_without_retry_header_fails_first_sight_of_a_conversation(
    server: MockProviderServer,
) -> None:
    """Clients that send no x-stainless-retry-count: the same conversation succeeds next time."""
    import urllib.error
    import urllib.request

    def post(content: str) -> int:
        payload = {"model": "mock:fail_once", "messages": [{"role": "user", "content": content}]}
        body = json.dumps(payload).encode()
        req = urllib.request.Request(
            server.openai_base_url + "/chat/completions",
            data=body,
            headers={"authorization": "Bearer test", "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    assert [post("a"), post("a"), post("b"), post("a")] == [500, 200, 500, 200]
    assert all(r.retry_count is None for r in server.requests)


# --- early hang-up -------------------------------------------------------------------------


def assert_hung_up(server: MockProviderServer, closed_at: float) -> None:
    """The server saw the hang-up within a second and stopped generating."""
    assert server.wait_until(lambda rs: rs[-1].finished, timeout=1.0)
    rec = server.requests[-1]
    assert rec.client_disconnected_early and not rec.completed
    assert rec.ended is not None and rec.ended - closed_at < 1.0
    assert rec.deltas_sent < TOTAL_DELTAS
    sent = rec.events_sent
    time.sleep(0.15)  # three chunk delays: nothing more goes out
    assert server.requests[-1].events_sent == sent


def test_openai_sync_close_after_two_chunks(server: MockProviderServer) -> None:
    with openai_client(server, default_headers=SLOW_STREAM) as client:
        stream = client.chat.completions.create(model="mock:text", messages=MESSAGES, stream=True)
        iterator = iter(stream)
        next(iterator), next(iterator)
        stream.close()
        closed_at = time.monotonic()
    assert_hung_up(server, closed_at)


def test_openai_async_close_after_two_chunks(server: MockProviderServer) -> None:
    async def body() -> float:
        async with async_openai_client(server, default_headers=SLOW_STREAM) as client:
            stream = await client.responses.create(model="mock:text", input="hi", stream=True)
            seen = 0
            async for _ in stream:
                seen += 1
                if seen == 2:
                    break
            await stream.close()
            closed_at = time.monotonic()
            assert await server.async_wait_until(lambda rs: rs[-1].finished, timeout=1.0)
            return closed_at

    assert_hung_up(server, run(body()))


def test_anthropic_sync_close_after_two_events(server: MockProviderServer) -> None:
    with anthropic_client(server, default_headers=SLOW_STREAM) as client:
        stream = client.messages.create(
            model="mock:text", max_tokens=8, messages=MESSAGES, stream=True
        )
        iterator = iter(stream)
        next(iterator), next(iterator)
        stream.close()
        closed_at = time.monotonic()
    assert_hung_up(server, closed_at)


def test_anthropic_async_close_after_two_events(server: MockProviderServer) -> None:
    async def body() -> float:
        async with async_anthropic_client(server, default_headers=SLOW_STREAM) as client:
            stream = await client.messages.create(
                model="mock:text", max_tokens=8, messages=MESSAGES, stream=True
            )
            async with stream:
                seen = 0
                async for _ in stream:
                    seen += 1
                    if seen == 2:
                        break
            return time.monotonic()

    assert_hung_up(server, run(body()))


def test_hang_up_during_latency(server: MockProviderServer) -> None:
    """A client that gives up before the first byte is recorded as an early hang-up too."""
    headers = {"x-mock-latency": "5"}
    with (
        openai_client(server, timeout=0.2, default_headers=headers) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.chat.completions.create(model="mock:text", messages=MESSAGES, stream=True)
    closed_at = time.monotonic()
    assert server.wait_until(lambda rs: rs[-1].finished, timeout=1.0)
    rec = server.requests[-1]
    assert rec.client_disconnected_early and rec.status is None and rec.events_sent == 0
    assert rec.ended is not None and rec.ended - closed_at < 1.0


def test_stop_cuts_a_stalled_stream() -> None:
    """Stopping the server never waits for a 30 s stall; the client sees a broken stream."""
    server = MockProviderServer()
    server.start()
    errors: list[BaseException] = []

    def consume() -> None:
        client: Any = openai_client(server)
        try:
            for _ in client.chat.completions.create(
                model="mock:stall", messages=MESSAGES, stream=True
            ):
                pass
        except Exception as exc:
            errors.append(exc)
        finally:
            client.close()

    thread = threading.Thread(target=consume, daemon=True)
    try:
        thread.start()
        assert server.wait_until(lambda rs: bool(rs) and rs[0].fault == "stall", timeout=2.0)
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 3.0
    thread.join(5.0)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], openai.APIConnectionError)
