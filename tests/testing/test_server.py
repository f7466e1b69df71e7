"""The mock server at the byte level: framing, auth, routing, headers, lifecycle.

Raw sockets here (no SDK), so these run without openai/anthropic installed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from streamtui.testing import MockProviderServer, Scenario, ToolCall
from streamtui.testing.scenarios import TEXT, split_words


def raw(
    server: MockProviderServer,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    """Send one request over a plain socket; return status, headers and the raw body bytes."""
    data = (
        body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    )
    head = {"host": "mock", "content-length": str(len(data)), **(headers or {})}
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items())]
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    top, _, payload = received.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.lower()] = value.strip()
    return int(status_line.split()[1]), parsed, payload


def dechunk(payload: bytes) -> tuple[bytes, bool]:
    """Undo chunked framing; also say whether the terminating zero chunk was there."""
    out = b""
    while payload:
        size_line, _, rest = payload.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out, rest == b"\r\n"
        out += rest[:size]
        payload = rest[size + 2 :]
    return out, False


AUTH = {"authorization": "Bearer test", "content-type": "application/json"}


def chat(name: str, **extra: Any) -> dict[str, Any]:
    return {"model": f"mock:{name}", "messages": [{"role": "user", "content": "hi"}], **extra}


# --- loopback only -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "8.8.8.8", "example.com", ""])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        MockProviderServer(host=host)


def test_localhost_binds_ipv4_loopback() -> None:
    with MockProviderServer(host="localhost") as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.openai_base_url == server.base_url + "/v1"
        assert server.anthropic_base_url == server.base_url


def test_ipv6_loopback() -> None:
    try:
        server = MockProviderServer(host="::1")
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert server.base_url == f"http://[::1]:{server.port}"
        status, _, _ = raw(server, "/v1/messages", chat("text"), AUTH)
        assert status == 200
    finally:
        server.stop()


# --- framing -------------------------------------------------------------------------------


def test_sse_response_is_chunked_and_closes() -> None:
    with MockProviderServer() as server:
        status, headers, payload = raw(
            server, "/v1/chat/completions", chat("text", stream=True), AUTH
        )
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["transfer-encoding"] == "chunked" and headers["connection"] == "close"
    assert headers["x-request-id"].startswith("req_")
    body, terminated = dechunk(payload)
    assert terminated
    events = body.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    assert all(e.startswith(b"data: ") for e in events[:-1])
    first = json.loads(events[0][len(b"data: ") :])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}


def test_close_delimited_framing() -> None:
    with MockProviderServer() as server:
        headers_in = {**AUTH, "x-mock-framing": "close"}
        _, headers, payload = raw(
            server, "/v1/chat/completions", chat("text", stream=True), headers_in
        )
    assert "transfer-encoding" not in headers and "content-length" not in headers
    assert payload.endswith(b"data: [DONE]\n\n")


def test_drop_leaves_chunked_body_unterminated() -> None:
    with MockProviderServer() as server:
        _, _, payload = raw(server, "/v1/messages", chat("drop_mid_stream", stream=True), AUTH)
    body, terminated = dechunk(payload)
    assert not terminated
    assert body.count(b"event: content_block_delta") == 3


def test_anthropic_stream_bytes() -> None:
    with MockProviderServer() as server:
        _, headers, payload = raw(server, "/v1/messages", chat("text", stream=True), AUTH)
    body, _ = dechunk(payload)
    names = [block.split(b"\n")[0] for block in body.split(b"\n\n") if block]
    assert names[:4] == [
        b"event: message_start",
        b"event: content_block_start",
        b"event: ping",
        b"event: content_block_delta",
    ]
    assert names[-3:] == [
        b"event: content_block_stop",
        b"event: message_delta",
        b"event: message_stop",
    ]
    assert headers["request-id"].startswith("req_")


def test_crlf_and_comment_quirks_on_the_wire() -> None:
    with MockProviderServer() as server:
        _, _, crlf = raw(server, "/v1/chat/completions", chat("quirk_crlf", stream=True), AUTH)
        _, _, comments = raw(
            server, "/v1/chat/completions", chat("quirk_comments", stream=True), AUTH
        )
        _, _, no_done = raw(
            server, "/v1/chat/completions", chat("quirk_no_done", stream=True), AUTH
        )
    crlf_body, _ = dechunk(crlf)
    assert crlf_body.endswith(b"data: [DONE]\r\n\r\n")
    assert b"\n" not in crlf_body.replace(b"\r\n", b"")
    comments_body, _ = dechunk(comments)
    assert comments_body.startswith(b": keep-alive\n\n")
    assert comments_body.count(b": keep-alive") > 3
    no_done_body, terminated = dechunk(no_done)
    assert terminated and b"[DONE]" not in no_done_body


def test_non_stream_response_has_content_length() -> None:
    with MockProviderServer() as server:
        status, headers, payload = raw(server, "/v1/chat/completions", chat("text"), AUTH)
    assert status == 200 and int(headers["content-length"]) == len(payload)
    assert json.loads(payload)["choices"][0]["message"]["content"] == TEXT


def test_chunked_request_body_is_accepted() -> None:
    data = json.dumps(chat("text")).encode()
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
    with MockProviderServer() as server:
        status, _, payload = raw(
            server, "/v1/chat/completions", framed, {**AUTH, "transfer-encoding": "chunked"}
        )
    assert status == 200 and json.loads(payload)["object"] == "chat.completion"


# --- auth, routing, errors -----------------------------------------------------------------


def test_missing_key_openai_shape() -> None:
    with MockProviderServer() as server:
        status, _, payload = raw(server, "/v1/chat/completions", chat("text"), {})
    assert status == 401
    error = json.loads(payload)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and "API key" in error["message"]


def test_missing_key_anthropic_shape() -> None:
    with MockProviderServer() as server:
        status, _, payload = raw(server, "/v1/messages", chat("text"), {"anthropic-version": "x"})
    assert status == 401
    body = json.loads(payload)
    assert body["type"] == "error"
    assert body["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/v1/responses"])
@pytest.mark.parametrize(
    "auth", [{"authorization": "Bearer k"}, {"x-api-key": "k"}, {"api-key": "k"}]
)
def test_either_auth_style_is_accepted(path: str, auth: dict[str, str]) -> None:
    body = {"model": "x", "input": "hi", "messages": [{"role": "user", "content": "hi"}]}
    with MockProviderServer() as server:
        status, _, _ = raw(server, path, body, {**auth, "anthropic-version": "2023-06-01"})
    assert status == 200


def test_bad_json_and_bad_headers_are_400() -> None:
    with MockProviderServer() as server:
        status, _, payload = raw(server, "/v1/chat/completions", b"{nope", AUTH)
        assert status == 400 and json.loads(payload)["error"]["type"] == "invalid_request_error"
        status, _, payload = raw(
            server, "/v1/messages", chat("text"), {**AUTH, "x-mock-latency": "soon"}
        )
        assert status == 400
        assert json.loads(payload)["error"]["type"] == "invalid_request_error"
        assert "x-mock-latency" in json.loads(payload)["error"]["message"]


def test_garbage_request_line_is_400() -> None:
    with (
        MockProviderServer() as server,
        socket.create_connection((server.host, server.port), timeout=5) as sock,
    ):
        sock.sendall(b"HELLO\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_unknown_path_is_404() -> None:
    with MockProviderServer() as server:
        status, _, payload = raw(server, "/v1/embeddings", {"model": "x"}, AUTH)
    assert status == 404 and "Unknown request URL" in json.loads(payload)["error"]["message"]


def test_models_lists_scenarios() -> None:
    with MockProviderServer() as server:
        status, _, payload = raw(server, "/v1/models", None, AUTH, method="GET")
        ids = {m["id"] for m in json.loads(payload)["data"]}
        _, _, anth = raw(server, "/v1/models", None, {"anthropic-version": "x"}, method="GET")
    assert status == 200 and {"mock:text", "mock:tool_call", "mock:stall"} <= ids
    assert json.loads(anth)["data"][0]["type"] == "model"


# --- scenario selection, custom scenarios, timing -----------------------------------------


def test_scenario_header_and_default() -> None:
    with MockProviderServer() as server:
        _, _, by_header = raw(
            server,
            "/v1/messages",
            chat("text") | {"model": "claude-x"},
            {**AUTH, "x-mock-scenario": "tool_call"},
        )
        _, _, default = raw(server, "/v1/messages", chat("text") | {"model": "claude-x"}, AUTH)
        assert [r.scenario for r in server.requests] == ["tool_call", "text"]
    assert json.loads(by_header)["stop_reason"] == "tool_use"
    assert json.loads(by_header)["model"] == "claude-x"  # the requested model is echoed
    assert json.loads(default)["content"][0]["text"] == TEXT


def test_custom_scenario() -> None:
    lookup = ToolCall("lookup", {"q": "streamtui mock"}, id="lookup_1", piece_size=3)
    with MockProviderServer(scenarios=[Scenario("mine", text="Hi there.")]) as server:
        server.add_scenario(Scenario("search", tool_calls=(lookup,)))
        _, _, mine = raw(server, "/v1/chat/completions", chat("mine"), AUTH)
        _, _, search = raw(server, "/v1/messages", chat("search"), AUTH)
    assert json.loads(mine)["choices"][0]["message"]["content"] == "Hi there."
    block = json.loads(search)["content"][0]
    assert block == {
        "type": "tool_use",
        "id": "toolu_lookup_1",
        "name": "lookup",
        "input": {"q": "streamtui mock"},
    }


def test_scenario_validation() -> None:
    with pytest.raises(ValueError, match="fault"):
        Scenario("x", fault="explode")
    with pytest.raises(ValueError, match="quirk"):
        Scenario("x", quirks=frozenset({"sideways"}))
    with pytest.raises(ValueError, match="name"):
        Scenario("two words")


def test_recorded_request_fields() -> None:
    with MockProviderServer() as server:
        raw(
            server,
            "/v1/chat/completions?x=1",
            chat("text"),
            {**AUTH, "X-Stainless-Retry-Count": "3"},
        )
        assert server.wait_idle()
        (rec,) = server.requests
        server.reset()
        assert server.requests == []
    assert (rec.method, rec.path, rec.scenario, rec.retry_count) == (
        "POST",
        "/v1/chat/completions",
        "text",
        3,
    )
    assert rec.headers["x-stainless-retry-count"] == "3"  # keys are lower-case
    assert rec.json["model"] == "mock:text" and rec.endpoint == "chat.completions"
    assert rec.ended is not None and rec.started <= rec.ended and rec.completed


def test_latency_and_chunk_delay() -> None:
    with MockProviderServer(latency=0.15) as server:
        started = time.monotonic()
        raw(server, "/v1/chat/completions", chat("text"), AUTH)
        assert time.monotonic() - started >= 0.15
        started = time.monotonic()
        raw(
            server,
            "/v1/chat/completions",
            chat("text", stream=True),
            {**AUTH, "x-mock-latency": "0", "x-mock-chunk-delay": "0.01"},
        )
        elapsed = time.monotonic() - started
    assert elapsed >= 0.01 * (len(split_words(TEXT)) - 1)


def test_jitter_spaces_deltas() -> None:
    def timing(seed: int) -> float:
        with MockProviderServer(jitter=0.02, seed=seed) as server:
            raw(server, "/v1/messages", chat("text", stream=True), AUTH)
            assert server.wait_idle()
            rec = server.requests[0]
            assert rec.ended is not None
            return rec.ended - rec.started

    assert timing(1) > 0.05  # 24 gaps averaging 10 ms


def test_async_context_manager() -> None:
    import asyncio

    async def body() -> int:
        async with MockProviderServer() as server:
            status, _, _ = await asyncio.to_thread(raw, server, "/v1/messages", chat("text"), AUTH)
            return status

    assert asyncio.run(asyncio.wait_for(body(), 10)) == 200


def test_start_twice_is_an_error() -> None:
    with MockProviderServer() as server, pytest.raises(RuntimeError):
        server.start()


# --- packaging -----------------------------------------------------------------------------


def test_import_streamtui_does_not_import_testing() -> None:
    code = (
        "import sys, streamtui; "
        "assert 'streamtui.testing' not in sys.modules; "
        "import streamtui.testing; "
        "assert 'openai' not in sys.modules and 'anthropic' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_serve_prints_urls_and_answers() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtui.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first
        base = first.split("listening on ")[1].split()[0]
        lines = [proc.stdout.readline() for _ in range(5)]
        assert any(f"OPENAI_BASE_URL={base}/v1" in line for line in lines)
        assert any(f"ANTHROPIC_BASE_URL={base}" in line for line in lines)
        with urllib.request.urlopen(base + "/v1/models", timeout=5) as resp:
            assert json.load(resp)["object"] == "list"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_module_refuses_public_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamtui.testing", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "loopback" in result.stderr


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize("status", [429, 500, 503, 529])
def test_fail_once_status_is_exactly_the_one_asked_for(path: str, status: int) -> None:
    headers = {**AUTH, "x-mock-fail-status": str(status), "x-stainless-retry-count": "0"}
    with MockProviderServer() as server:
        got, reply_headers, _ = raw(server, path, chat("fail_once"), headers)
        again, _, _ = raw(
            server, path, chat("fail_once"), {**headers, "x-stainless-retry-count": "1"}
        )
    assert (got, again) == (status, 200)
    assert ("retry-after" in reply_headers) == (status == 429)


def test_fault_fires_after_last_delta_when_there_are_fewer() -> None:
    short = Scenario("short_error", text="Hi.", fault="error_mid_stream", fault_after=5)
    with MockProviderServer(scenarios=[short]) as server:
        _, _, payload = raw(server, "/v1/messages", chat("short_error", stream=True), AUTH)
    body, terminated = dechunk(payload)
    names = [block.split(b"\n")[0] for block in body.split(b"\n\n") if block]
    assert terminated
    assert names[-2:] == [b"event: content_block_delta", b"event: error"]


def test_fault_after_zero_fires_before_anything() -> None:
    with MockProviderServer() as server:
        headers = {**AUTH, "x-mock-fault-after": "0"}
        _, _, payload = raw(
            server, "/v1/chat/completions", chat("malformed_chunk", stream=True), headers
        )
    body, _ = dechunk(payload)
    assert body.count(b"data: ") == 1 and b"trunc" in body
