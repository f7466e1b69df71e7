"""``streamtui attach URL``: SSE framing, LangGraph payload streams, resuming by
``Last-Event-ID``, gaps, ``end``, a refused token, the CLI and the TUI over a remote run.

Every test serves its stream from a small scripted server on a loopback port of its own,
so nothing here depends on streamtui's SSE server (one test at the end also runs against
that one when it is there)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from streamtui.cli import app
from streamtui.envelope import Part, encode_line
from streamtui.remote.attach import (
    AttachError,
    RemoteSource,
    SseDecoder,
    SseEvent,
    parse_target,
    payload_part,
)
from streamtui.tui.sources import FramePump
from streamtui.tui.store import RunStore

runner = CliRunner()

Handler = Callable[[dict[str, str], asyncio.StreamWriter, int], Awaitable[None]]


class ScriptServer:
    """A loopback HTTP server on a thread: each connection is answered by ``handler``
    (request headers, the writer, the connection's number from 1), which writes raw
    bytes. ``requests`` keeps each request's headers (lower-cased names)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[dict[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0)
            )
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert ready.wait(5)

    def url(self, path: str = "/stream") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            lines = request.decode("latin-1").split("\r\n")
            headers = {"request": lines[0]}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            self.requests.append(headers)
            await self.handler(headers, writer, len(self.requests))
            await writer.drain()
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    def close(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def serve():
    servers: list[ScriptServer] = []

    def start(handler: Handler) -> ScriptServer:
        server = ScriptServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def sources():
    made: list[RemoteSource] = []

    def make(url: str, **kwargs: Any) -> RemoteSource:
        source = RemoteSource(url, **kwargs)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def head(status: str = "200 OK", *, chunked: bool = False, extra: str = "") -> bytes:
    framing = "Transfer-Encoding: chunked\r\n" if chunked else "Connection: close\r\n"
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        f"{framing}{extra}\r\n"
    ).encode()


def sse(data: Any, event: str | None = None, id: Any = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    lines = [f"id: {id}"] if id is not None else []
    if event is not None:
        lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in text.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def envelope(seq: int, mode: str = "custom", ns: tuple[str, ...] = (), data: Any = None) -> bytes:
    part = Part(seq, seq / 100, mode, ns, data if data is not None else {"n": seq})
    event = "|".join((mode, *ns))
    return sse(encode_line(part), event=event, id=seq)


def chunk(payload: bytes) -> bytes:
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


def end(status: str = "done", parts: int = 0) -> bytes:
    return sse({"status": status, "parts": parts}, event="end")


def collect(source: RemoteSource, timeout: float = 10.0) -> list[Part]:
    """Everything the source delivers until it finishes (polling, never a fixed sleep)."""
    out: list[Part] = []
    deadline = time.monotonic() + timeout
    while not source.finished:
        assert time.monotonic() < deadline, f"the source did not finish: {source.problems()}"
        out += source.take(time.monotonic())
        source.wait(0.2)
    return out + source.take(time.monotonic())


# --- the wire format -------------------------------------------------------------------


def test_the_decoder_reads_the_sse_spec_in_any_chunking():
    stream = (
        b": keep-alive\r\n\r\n"
        b'id: 7\r\nevent: updates|parent:1|child:2\r\ndata: {"a":\r\ndata:  1}\r\n\r\n'
        b"retry: 500\ndata:plain\n\n"
        b"event: nodata\n\n"
    )
    for size in (1, 3, len(stream)):
        decoder = SseDecoder()
        events: list[SseEvent] = []
        for i in range(0, len(stream), size):
            events += decoder.feed(stream[i : i + size])
        assert events == [
            SseEvent("updates|parent:1|child:2", '{"a":\n 1}', "7"),
            SseEvent("message", "plain", None),
        ]
        assert decoder.retry == 500


def test_the_decoder_takes_a_lone_cr_for_a_line_end_in_any_chunking():
    stream = b"id: 3\revent: custom\rdata: one\r\rid: 4\r\ndata: two\r\n\r\ndata: 3\n\n"
    for size in (1, 2, 5, len(stream)):
        decoder = SseDecoder()
        events: list[SseEvent] = []
        for i in range(0, len(stream), size):
            events += decoder.feed(stream[i : i + size])
        assert events == [
            SseEvent("custom", "one", "3"),
            SseEvent("message", "two", "4"),
            SseEvent("message", "3", None),
        ]


def test_payload_names_map_to_modes_and_namespaces():
    part = payload_part("updates|parent:1|child:2", {"x": 1}, 3, 0.5)
    assert (part.seq, part.ts, part.mode, part.ns, part.data) == (
        3,
        0.5,
        "updates",
        ("parent:1", "child:2"),
        {"x": 1},
    )
    assert payload_part("messages/partial", [], 1, 0).mode == "messages"
    assert payload_part("messages", [], 1, 0).mode == "messages"
    message = {"type": "ai", "content": "hi", "id": "m1", "tool_calls": [], "name": None}
    tagged = payload_part("values", {"messages": [message]}, 1, 0).data["messages"][0]
    assert tagged == {"_type": "message", "class": "AIMessage", "content": "hi", "id": "m1"}


@pytest.mark.parametrize(
    "url, says",
    [
        ("ftp://host/stream", "http:// or https://"),
        ("localhost:8000", "http:// or https://"),
        ("http:///stream", "no host"),
        ("http://host:99999/", "not a valid URL"),
    ],
)
def test_a_bad_url_is_a_usage_error(url, says):
    with pytest.raises(AttachError) as caught:
        parse_target(url)
    assert caught.value.code == 2 and says in str(caught.value)
    result = runner.invoke(app, ["attach", url, "--no-tui"])
    assert result.exit_code == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout


def test_a_target_keeps_the_path_query_and_port():
    target = parse_target("https://example.com/threads/t/runs/r/stream?x=1")
    assert (target.host, target.port, target.path, target.tls) == (
        "example.com",
        443,
        "/threads/t/runs/r/stream?x=1",
        True,
    )
    assert parse_target("http://[::1]:9000/s").host_header == "[::1]:9000"


# --- envelopes, resuming, gaps, end ----------------------------------------------------------


def test_envelopes_arrive_as_parts_with_their_ns_and_the_end_finishes(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + b": hello\n\n")
        writer.write(envelope(1, "values", data={"topic": "otters"}))
        writer.write(envelope(2, "updates", ("research:abc",), {"research": {"n": 1}}))
        writer.write(envelope(3, "custom", ("research:abc", "inner:d")))
        writer.write(end("done", 3))
        await asyncio.sleep(30)  # the client must stop on ``end``, not on a closed socket

    server = serve(handler)
    source = sources(server.url(), token="s3cret")
    parts = collect(source)
    assert [(p.seq, p.mode, p.ns) for p in parts] == [
        (1, "values", ()),
        (2, "updates", ("research:abc",)),
        (3, "custom", ("research:abc", "inner:d")),
    ]
    assert parts[0].ts == 0.01 and parts[0].data == {"topic": "otters"}
    assert source.status == "done" and source.error is None and source.missed == 0
    [request] = server.requests
    assert request["request"] == "GET /stream HTTP/1.1"
    assert request["accept"] == "text/event-stream"
    assert request["authorization"] == "Bearer s3cret"
    assert "last-event-id" not in request


def test_a_dropped_connection_resumes_by_last_event_id_without_gaps_or_duplicates(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        if n == 1:
            writer.write(head() + envelope(1) + envelope(2) + envelope(3))
            writer.write(b'id: 4\nevent: custom\ndata: {"seq": 4, ')  # cut mid-event
            return  # the connection drops
        start = int(headers["last-event-id"])
        # A server that resends from the id it was given (one too many): the client dedupes.
        writer.write(head() + b"".join(envelope(s) for s in range(start, 7)) + end("done", 6))

    server = serve(handler)
    source = sources(server.url())
    parts = collect(source)
    assert [p.seq for p in parts] == [1, 2, 3, 4, 5, 6]
    assert [r.get("last-event-id") for r in server.requests] == [None, "3"]
    assert source.duplicates == 1 and source.missed == 0 and source.connections == 2
    said = source.problems()
    assert any("reconnecting" in line for line in said)
    assert any("resuming after id 3" in line for line in said)


def test_a_gap_is_counted_and_said(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + envelope(1))
        writer.write(sse({"from": 2, "to": 4, "reason": "slow client"}, event="gap"))
        writer.write(envelope(5) + end("done", 5))

    source = sources(serve(handler).url())
    assert [p.seq for p in collect(source)] == [1, 5]
    assert source.missed == 3 and source.gaps == [(2, 4, "slow client")]
    assert source.problems() == ["missed parts 2 to 4 (slow client); 3 missed in all"]


def test_a_refused_token_is_fatal_and_names_the_option(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")

    server = serve(handler)
    source = sources(server.url(), token="wrong")
    assert collect(source) == []
    assert source.error is not None and source.error.code == 2
    assert "--token" in str(source.error) and "refused" in str(source.error)
    result = runner.invoke(app, ["attach", server.url(), "--no-tui"])
    assert result.exit_code == 2 and "--token" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(server.requests) == 2  # one each: a 401 is not retried


@pytest.mark.parametrize(
    "answer, says",
    [
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "404 Not Found"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>", "not an event stream"),
    ],
)
def test_a_wrong_url_on_a_real_server_is_a_usage_error(serve, answer, says):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(answer)

    server = serve(handler)
    result = runner.invoke(app, ["attach", server.url("/nope"), "--no-tui"])
    assert result.exit_code == 2 and says in result.stderr
    assert len(server.requests) == 1


def test_an_unreachable_server_is_given_up_on(sources):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = sources(f"http://127.0.0.1:{port}/stream", give_up=0.6)
    assert collect(source) == []
    assert source.error is not None and source.error.code == 1
    assert "unreachable" in str(source.error) and "connection refused" in str(source.error)


def test_close_stops_following_a_stream_that_never_ends(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + envelope(1))
        await asyncio.sleep(30)

    source = sources(serve(handler).url())
    deadline = time.monotonic() + 10
    got: list[Part] = []
    while not got:
        assert time.monotonic() < deadline
        got = source.take(time.monotonic())
        source.wait(0.2)
    source.close()
    assert source.finished and source.error is None


# --- a LangGraph server's run stream -----------------------------------------------------


def langgraph_stream() -> list[bytes]:
    """A run stream as a LangGraph server frames it: plain payloads, no ids, ``|ns`` for
    subgraphs, messages as LangChain serializes them."""
    run, model = "run-root", "run-model"
    chunk_ = {"type": "AIMessageChunk", "content": "", "id": "m1", "tool_call_chunks": []}
    events = [
        ("metadata", {"run_id": "r1", "thread_id": "t1"}),
        ("values", {"topic": "otters", "messages": []}),
        (
            "events",
            {
                "event": "on_chain_start",
                "name": "LangGraph",
                "run_id": run,
                "parent_ids": [],
                "tags": [],
                "metadata": {},
                "data": {"input": {"topic": "otters"}},
            },
        ),
        (
            "events",
            {
                "event": "on_chat_model_start",
                "name": "ChatOpenAI",
                "run_id": model,
                "parent_ids": [run],
                "tags": [],
                "metadata": {"langgraph_step": 1, "langgraph_node": "write"},
                "data": {},
            },
        ),
    ]
    for piece in ("Otters ", "hold ", "hands."):
        events.append(
            (
                "events",
                {
                    "event": "on_chat_model_stream",
                    "name": "ChatOpenAI",
                    "run_id": model,
                    "parent_ids": [run],
                    "tags": [],
                    "metadata": {},
                    "data": {"chunk": {**chunk_, "content": piece}},
                },
            )
        )
        events.append(("messages", [{**chunk_, "content": piece}, {"langgraph_node": "write"}]))
    answer = {"type": "ai", "content": "Otters hold hands.", "id": "m1"}
    events += [
        (
            "events",
            {
                "event": "on_chat_model_end",
                "name": "ChatOpenAI",
                "run_id": model,
                "parent_ids": [run],
                "tags": [],
                "metadata": {},
                "data": {"output": answer},
            },
        ),
        ("updates|write:42", {"write": {"messages": [answer]}}),
        ("values", {"topic": "otters", "messages": [answer]}),
        (
            "events",
            {
                "event": "on_chain_end",
                "name": "LangGraph",
                "run_id": run,
                "parent_ids": [],
                "tags": [],
                "metadata": {},
                "data": {"output": {"messages": [answer]}},
            },
        ),
    ]
    return [sse(data, event=name) for name, data in events]


async def langgraph_handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
    writer.write(head(chunked=True))
    for event in langgraph_stream():
        writer.write(chunk(event))
        writer.write(chunk(b": heartbeat\n\n"))
    writer.write(b"0\r\n\r\n")  # the run is over: the stream ends cleanly, with no ``end``
    await asyncio.sleep(30)


def test_a_langgraph_run_stream_fills_the_store(serve, sources):
    server = serve(langgraph_handler)
    source = sources(server.url("/threads/t1/runs/r1/stream"))
    parts = collect(source)
    assert [p.seq for p in parts] == list(range(1, len(parts) + 1))
    assert [p.ts for p in parts] == sorted(p.ts for p in parts)
    assert {p.mode for p in parts} == {"metadata", "values", "events", "messages", "updates"}
    [update] = [p for p in parts if p.mode == "updates"]
    assert update.ns == ("write:42",)
    assert source.status == "done" and source.error is None
    store = RunStore()
    store.ingest(parts)
    assert store.roots == ["run-root"]
    model = store.runs["run-model"]
    assert model.parent_id == "run-root" and model.node == "write" and model.status == "done"
    assert "".join(model.text) == "Otters hold hands."
    assert len(store.states) == 2
    assert store.parts[store.states[-1]].data["messages"][0]["class"] == "AIMessage"
    assert server.requests[0]["request"] == "GET /threads/t1/runs/r1/stream HTTP/1.1"


def test_the_tui_over_a_remote_run_fills_its_panes(serve, sources):
    from streamtui.tui.app import StreamApp
    from streamtui.tui.panes import JsonPane, StepTree, TokenPane
    from tests.tui_support import until

    source = sources(serve(langgraph_handler).url("/threads/t1/runs/r1/stream"))

    async def scenario() -> None:
        app = StreamApp(source, name="remote (attach)")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            assert "Otters hold hands." in app.query_one(TokenPane).plain_text()
            tree = app.query_one(StepTree)
            [root] = tree.root.children
            assert "LangGraph" in str(root.label)
            assert "otters" in app.query_one(JsonPane).plain_text()
            assert len(app.store.parts) == len(langgraph_stream())

    asyncio.run(scenario())
    assert isinstance(FramePump(source).source, RemoteSource)


# --- the command --------------------------------------------------------------------------


def test_attach_no_tui_prints_jsonl_and_says_what_it_missed(serve):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + envelope(1, "values", data={"a": 1}))
        writer.write(sse({"from": 2, "to": 2, "reason": "backlog"}, event="gap"))
        writer.write(envelope(3, "updates", ("sub:1",)) + end("done", 3))
        await asyncio.sleep(30)

    server = serve(handler)
    result = runner.invoke(app, ["attach", server.url(), "--no-tui"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["seq"], p["mode"], p["ns"]) for p in lines] == [
        (1, "values", []),
        (3, "updates", ["sub:1"]),
    ]
    assert "missed part 2 (backlog)" in result.stderr
    assert "2 parts (done, 1 missed)" in result.stderr

    pretty = runner.invoke(app, ["attach", server.url(), "-f", "pretty"])
    assert pretty.exit_code == 0 and not pretty.stdout.lstrip().startswith("{")


def test_attach_exits_1_when_the_remote_run_failed(serve):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + envelope(1) + end("error", 1))

    result = runner.invoke(app, ["attach", serve(handler).url(), "--no-tui"])
    assert result.exit_code == 1 and "(error)" in result.stderr


def test_nats_options_are_checked_and_a_missing_nats_module_is_said(monkeypatch):
    both = runner.invoke(app, ["attach", "nats://127.0.0.1:4222", "--latest", "--all"])
    assert both.exit_code == 2 and "--latest and --all" in both.stderr
    sse_run = runner.invoke(app, ["attach", "http://127.0.0.1:1/s", "--run", "abc"])
    assert sse_run.exit_code == 2 and "--run" in sse_run.stderr
    monkeypatch.setitem(sys.modules, "streamtui.remote.nats", None)
    missing = runner.invoke(app, ["attach", "nats://127.0.0.1:4222", "--latest", "--no-tui"])
    assert missing.exit_code == 2 and "NATS attach is not available" in missing.stderr


def test_importing_streamtui_does_not_import_attach():
    code = "import sys, streamtui; print('streamtui.remote.attach' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- against streamtui's own SSE server, when it is there ---------------------------------


def test_end_to_end_against_the_sse_server(sources):
    sse_server = pytest.importorskip("streamtui.remote.sse_server")
    from streamtui.bus import EventBus

    bus = EventBus()
    server = sse_server.serve_sse(bus, port=0, token="tok-123456")
    try:
        refused = sources(server.url, token="wrong")
        assert collect(refused) == [] and refused.error is not None
        assert refused.error.code == 2
        bus.publish("values", {"n": 0})  # before anyone watches: from the backlog
        source = sources(server.url, token="tok-123456")
        source.start()
        for n in range(1, 50):
            bus.publish("updates", {"n": n}, ("sub:1",))
        bus.close()
        server.end("done")
        parts = collect(source)
    finally:
        server.close()
    assert [p.seq for p in parts] == list(range(1, 51))
    assert parts[0].mode == "values" and parts[1].ns == ("sub:1",)
    assert parts[-1].data == {"n": 49}
    assert source.status == "done" and source.missed == 0 and source.duplicates == 0


def test_a_last_event_id_from_another_run_is_a_clear_error(sources):
    from streamtui.bus import EventBus
    from streamtui.remote.sse_server import serve_sse

    bus = EventBus()
    server = serve_sse(bus)
    try:
        bus.publish("custom", 1)
        source = sources(server.url)
        source.last_id = "500"  # as if it had followed a longer run on this port
        assert collect(source) == []
    finally:
        bus.close()
        server.close()
    assert source.error is not None and source.error.code == 2
    assert "409" in str(source.error) and "different run" in str(source.error)
    assert source.connections == 0


def test_attach_takes_the_token_from_streamtui_token():
    from streamtui.bus import EventBus
    from streamtui.remote.sse_server import serve_sse

    bus = EventBus()
    server = serve_sse(bus, token="tok-from-env")
    try:
        bus.publish("custom", {"n": 1})
        bus.close()
        server.end("done")
        result = runner.invoke(
            app, ["attach", server.url, "--no-tui"], env={"STREAMTUI_TOKEN": "tok-from-env"}
        )
        refused = runner.invoke(
            app, ["attach", server.url, "--no-tui"], env={"STREAMTUI_TOKEN": None}
        )
    finally:
        server.close()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["data"] == {"n": 1}
    assert refused.exit_code == 2 and "--token" in refused.stderr


def test_a_gap_said_again_after_a_reconnect_is_counted_once(serve, sources):
    async def handler(headers: dict[str, str], writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(head() + envelope(1))
        if n == 1:  # the gap, then the connection drops before part 5
            writer.write(sse({"from": 2, "to": 4, "reason": "backlog"}, event="gap"))
            return
        # Resumed after 1: the same gap again, and one more part gone meanwhile.
        writer.write(sse({"from": 2, "to": 5, "reason": "backlog"}, event="gap"))
        writer.write(envelope(6) + end("done", 6))

    source = sources(serve(handler).url())
    assert [p.seq for p in collect(source)] == [1, 6]
    assert source.missed == 4 and source.connections == 2
    assert source.gaps == [(2, 4, "backlog"), (5, 5, "backlog")]
    said = [line for line in source.problems() if line.startswith("missed")]
    assert said == [
        "missed parts 2 to 4 (backlog); 3 missed in all",
        "missed part 5 (backlog); 4 missed in all",
    ]


def test_a_server_never_reached_is_not_said_to_be_lost(sources):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = sources(f"http://127.0.0.1:{port}/stream", give_up=0.3)
    assert collect(source) == []
    said = source.problems()
    assert said[0].startswith(f"cannot reach 127.0.0.1:{port} (connection refused); retrying")
    assert not any("lost the stream" in line for line in said)
