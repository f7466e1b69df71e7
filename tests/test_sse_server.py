"""The SSE server: framing, resume by Last-Event-ID, gaps, a slow client, tokens, a client
that vanishes, the end event, and ``streamtui run --serve``. Real sockets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from streamtui.bus import EventBus
from streamtui.cli import app
from streamtui.envelope import Part, Redactor, encode_line, parse_line
from streamtui.eventlog import EventLog
from streamtui.remote.sse_server import SSEServer, serve_sse, sse_frame, stream_with_sse
from streamtui.runtime.messages import AIMessageChunk

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Event:
    """One SSE event as a client sees it (``comment`` for a ``:`` line)."""

    event: str
    data: str
    id: str | None = None


class Stream:
    """A tiny blocking SSE client: the response head, then events until the server closes."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        method: str = "GET",
        rcvbuf: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        u = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((u.hostname, u.port))
        target = u.path + (f"?{u.query}" if u.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        status = self.file.readline().decode()
        self.status = int(status.split(" ")[1])
        self.headers: dict[str, str] = {}
        while (line := self.file.readline().decode().rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            self.headers[name.lower()] = value.strip()

    def body(self) -> bytes:
        return self.file.read()

    def events(self) -> Iterator[Event]:
        """Parse the stream as the SSE spec says: fields until a blank line."""
        fields: dict[str, str] = {}
        for raw in self.file:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith(":"):
                yield Event("comment", line[1:].strip())
                continue
            if line == "":
                if fields:
                    yield Event(
                        fields.get("event", "message"), fields.get("data", ""), fields.get("id")
                    )
                fields = {}
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def until_end(self) -> list[Event]:
        """Every event up to and including ``end`` (the server closes after it)."""
        got = []
        for event in self.events():
            if event.event != "comment":
                got.append(event)
        assert got and got[-1].event == "end", got[-3:]
        return got

    def close(self, reset: bool = False) -> None:
        if reset:  # vanish the rude way: RST, not FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.file.close()
        self.sock.close()


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def parts_of(events: list[Event]) -> list[Part]:
    return [parse_line(e.data) for e in events if e.event not in ("gap", "end")]


@pytest.fixture
def bus() -> Iterator[EventBus]:
    b = EventBus()
    yield b
    b.close()


def test_each_part_is_one_event_with_seq_mode_and_the_log_line(bus):
    with serve_sse(bus) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/stream"
        chunk = AIMessageChunk(content="hi", id="m1")
        published = [
            bus.publish("events", {"event": "on_chat_model_stream", "data": {"chunk": chunk}}),
            bus.publish("updates", {"node": {"x": 1}}, ("sub:t1", "inner:t2")),
            bus.publish("custom", "line\nbreak \u2028 ünïcode"),
        ]
        bus.close()
        server.end()
        client = Stream(server.url)
        assert client.status == 200
        assert client.headers["content-type"] == "text/event-stream"
        assert client.headers["cache-control"] == "no-cache"
        assert not any(h.startswith("access-control") for h in client.headers)
        events = client.until_end()
    assert [e.id for e in events] == ["1", "2", "3", None]
    assert [e.event for e in events] == ["events", "updates|sub:t1|inner:t2", "custom", "end"]
    for event, part in zip(events, published):
        assert event.data == encode_line(part)
        assert parse_line(event.data) == parse_line(encode_line(part))
    assert parse_line(events[0].data).data["data"]["chunk"] == chunk
    assert json.loads(events[-1].data) == {"status": "done", "parts": 3}


def test_data_is_redacted_as_in_the_log():
    part = Part(1, 0.0, "custom", (), {"api_key": "abc", "text": "my sk-abcdefghijklmnopqrstu"})
    frame = sse_frame(part, Redactor(["abc"])).decode()
    assert "sk-abcdef" not in frame and '"api_key":"***"' in frame


def test_a_client_resumes_by_last_event_id_with_no_gap_and_no_duplicate(bus):
    with serve_sse(bus) as server:
        for i in range(50):
            bus.publish("custom", i)
        first = Stream(server.url)
        seen = []
        for event in first.events():
            seen.append(int(event.id))
            if event.id == "20":
                break
        first.close()
        for i in range(50, 100):
            bus.publish("custom", i)
        bus.close()
        server.end()
        by_header = Stream(server.url, {"Last-Event-ID": "20"}).until_end()
        by_query = Stream(server.url + "?last_event_id=20").until_end()
    assert seen == list(range(1, 21))
    for events in (by_header, by_query):
        assert [int(e.id) for e in events[:-1]] == list(range(21, 101))
        assert [p.data for p in parts_of(events)] == list(range(20, 100))
        assert json.loads(events[-1].data) == {"status": "done", "parts": 100}


def test_parts_older_than_the_backlog_are_reported_as_a_gap(bus):
    with serve_sse(bus, backlog=10) as server:
        for i in range(50):
            bus.publish("custom", i)
        bus.close()
        server.end()
        wait_for(lambda: server.backlog == (41, 50))
        events = Stream(server.url, {"Last-Event-ID": "5"}).until_end()
        fresh = Stream(server.url).until_end()
        current = Stream(server.url, {"Last-Event-ID": "45"}).until_end()
    assert events[0].event == "gap" and events[0].id is None
    gap = json.loads(events[0].data)
    assert (gap["from"], gap["to"]) == (6, 40) and "backlog" in gap["reason"]
    assert [int(e.id) for e in events[1:-1]] == list(range(41, 51))
    assert json.loads(fresh[0].data)["from"] == 1
    assert [e.event for e in current[:-1]] == ["custom"] * 5  # nothing missing, no gap


def test_a_server_started_mid_run_says_the_earlier_parts_are_not_there(bus):
    for i in range(3):
        bus.publish("custom", i)
    with serve_sse(bus) as server:
        bus.publish("custom", 3)
        bus.close()
        server.end()
        events = Stream(server.url).until_end()
    gap = json.loads(events[0].data)
    assert (gap["from"], gap["to"]) == (1, 3) and "before" in gap["reason"]
    assert [e.id for e in events[1:-1]] == ["4"]
    assert json.loads(events[-1].data)["parts"] == 4


def test_a_slow_client_never_slows_the_run_and_is_told_what_it_missed(bus):
    # Far more parts than the recording subscription holds: if a client that reads nothing
    # could hold up the recording, the bus would fill and the publisher would block for
    # good. The 60 s below only turns such a hang into a failure; nothing is timed.
    n, payload = 20_000, "x" * 500
    with SSEServer(bus, backlog=500, capacity=256) as server:
        slow = Stream(server.url, rcvbuf=4096)  # then reads nothing while the run goes on
        wait_for(lambda: server.clients == 1)

        def publish() -> None:
            for i in range(n):
                bus.publish("custom", {"i": i, "pad": payload})

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        publisher.join(60.0)
        assert not publisher.is_alive(), "the publisher blocked behind a client that reads nothing"
        wait_for(lambda: server.backlog[1] == n, 60.0)
        assert server.clients == 1  # still connected, still not reading
        bus.close()
        server.end()
        events = slow.until_end()
    # Each seq exactly once, in order: as a part, or inside a gap that names it.
    expected, gaps = 1, 0
    for event in events[:-1]:
        if event.event == "gap":
            gap = json.loads(event.data)
            assert gap["from"] == expected and gap["to"] >= expected and "backlog" in gap["reason"]
            expected, gaps = gap["to"] + 1, gaps + 1
        else:
            assert int(event.id) == expected
            expected += 1
    assert gaps >= 1 and expected == n + 1
    assert [int(e.id) for e in events[-501:-1]] == list(range(n - 499, n + 1))
    assert json.loads(events[-1].data) == {"status": "done", "parts": n}


def test_a_token_is_required_when_set(bus):
    token = "s3cret-t0ken"
    with serve_sse(bus, token=token) as server:
        bus.publish("custom", 1)
        bus.close()
        server.end()
        for headers, url in [
            ({}, server.url),
            ({"Authorization": "Bearer wrong"}, server.url),
            ({"Authorization": f"Basic {token}"}, server.url),
            ({}, server.url + "?token=s3cret"),
        ]:
            denied = Stream(url, headers)
            assert denied.status == 401
            body = denied.body()
            assert body.count(b"\n") == 1 and json.loads(body)["error"] == "unauthorized"
            assert "access-control-allow-origin" not in denied.headers
        ok = Stream(server.url, {"Authorization": f"Bearer {token}"})
        assert ok.status == 200 and len(ok.until_end()) == 2
        assert Stream(server.url + f"?token={token}").status == 200


def test_a_public_address_needs_a_token():
    with pytest.raises(ValueError, match="token"):
        SSEServer(EventBus(), "0.0.0.0")
    SSEServer(EventBus(), "0.0.0.0", token="t")  # not started: only the check


def test_unknown_paths_other_methods_and_bad_ids_are_refused(bus):
    with serve_sse(bus) as server:
        base = server.url.removesuffix("/stream")
        assert Stream(base + "/nope").status == 404
        assert Stream(base + "/").status == 404
        refused = Stream(server.url, method="POST")
        assert refused.status == 405 and refused.headers["allow"] == "GET"
        assert Stream(server.url, method="OPTIONS").status == 405
        assert Stream(server.url, {"Last-Event-ID": "x1"}).status == 400


def test_a_client_vanishing_mid_stream_breaks_nothing(bus):
    with serve_sse(bus) as server:
        for i in range(100):
            bus.publish("custom", i)
        rude, polite, steady = Stream(server.url), Stream(server.url), Stream(server.url)
        wait_for(lambda: server.clients == 3)
        for stream in (rude, polite):
            for event in stream.events():
                if event.id == "10":
                    break
        rude.close(reset=True)
        polite.close()
        wait_for(lambda: server.clients == 1)
        for i in range(100, 1100):
            bus.publish("custom", i)
        bus.close()
        server.end()
        events = steady.until_end()
        late = Stream(server.url).until_end()
    assert [p.data for p in parts_of(events)] == list(range(1100))
    assert [e.id for e in late] == [e.id for e in events]


def test_idle_streams_get_keepalive_comments(bus):
    with SSEServer(bus, keepalive=0.05) as server:
        client = Stream(server.url)
        events = client.events()
        assert next(events) == Event("comment", "keepalive")
        bus.publish("custom", 1)
        # More keep-alives may come before it on a busy machine; the part comes next.
        assert next(e for e in events if e.event != "comment").id == "1"
        assert next(events) == Event("comment", "keepalive")
        server.end("error")
        assert [e.event for e in events if e.event != "comment"] == ["end"]


def test_end_closes_every_stream_and_late_clients_get_the_backlog_then_end(bus):
    with serve_sse(bus) as server:
        live = Stream(server.url)
        wait_for(lambda: server.clients == 1)
        bus.publish("custom", "a")
        bus.close()
        server.end("interrupted")
        assert json.loads(live.until_end()[-1].data) == {"status": "interrupted", "parts": 1}
        late = Stream(server.url).until_end()
        assert [e.event for e in late] == ["custom", "end"]
        assert json.loads(late[-1].data)["status"] == "interrupted"
    assert server.status == "interrupted"


def test_stream_with_sse_runs_a_chain_while_serving():
    from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser

    chain = (
        ChatPromptTemplate.from_template("about {topic}")
        | ScriptedChatModel(["purr purr"], chunk_latency=0.01)
        | StrOutputParser()
    )
    got: list[list[Event]] = []
    readers: list[threading.Thread] = []

    def watch(server: SSEServer) -> None:
        client = Stream(server.url)  # connected before the run starts
        reader = threading.Thread(target=lambda: got.append(client.until_end()))
        reader.start()
        readers.append(reader)

    bus = EventBus()
    asyncio.run(stream_with_sse(chain, {"topic": "cats"}, bus=bus, on_serving=watch))
    readers[0].join(10)
    events = got[0]
    assert [int(e.id) for e in events[:-1]] == list(range(1, bus.seq + 1))
    assert json.loads(events[-1].data) == {"status": "done", "parts": bus.seq}
    text = "".join(
        p.data["data"]["chunk"].content
        for p in parts_of(events)
        if p.data["event"] == "on_chat_model_stream"
    )
    assert text == "purr purr"


# --- the command line ------------------------------------------------------------------


def test_run_serve_streams_the_run_and_records_the_same_parts(tmp_path):
    log = tmp_path / "joke.jsonl"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamtui", "run", str(ROOT / "demos" / "joke.yaml")),
            *("--no-tui", "--serve", "0", "--record", str(log)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert line.startswith("serving http://127.0.0.1:"), line
        events = Stream(line.split()[1]).until_end()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    recorded = EventLog.open(log).parts
    assert [e.data for e in events[:-1]] == [encode_line(p) for p in recorded]
    assert out.decode().splitlines() == [e.data for e in events[:-1]]
    assert json.loads(events[-1].data) == {"status": "done", "parts": len(recorded)}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--serve", "abc"], "--serve 'abc'"),
        (["--serve", "70000"], "0-65535"),
        (["--serve", "localhost:"], "--serve 'localhost:'"),
        (["--serve", "0.0.0.0:8000"], "--token"),
        (["--token", "t"], "--serve"),
    ],
)
def test_run_refuses_bad_serve_options(args, said, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(ROOT / "demos" / "joke.yaml"), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / ".streamtui").exists()  # refused before anything ran


def test_leaving_the_async_block_by_an_exception_ends_the_stream_with_error():
    async def main(bus: EventBus) -> list[Event]:
        got: list[list[Event]] = []
        async with serve_sse(bus) as server:
            client = Stream(server.url)
            reader = threading.Thread(target=lambda: got.append(client.until_end()))
            reader.start()
            bus.publish("custom", 1)
            with contextlib.suppress(RuntimeError):
                async with server:
                    raise RuntimeError("the run broke")
        reader.join(10)
        return got[0]

    events = asyncio.run(main(EventBus()))
    assert [e.event for e in events] == ["custom", "end"]
    assert json.loads(events[-1].data) == {"status": "error", "parts": 1}


def test_parts_recorded_while_a_client_reads_are_sent_before_end(bus):
    # The run ends between a client's empty backlog read and its look at the status:
    # the parts recorded meanwhile must still reach it before ``end``.
    server = SSEServer(bus)
    read = server._backlog.read
    raced = threading.Event()

    def racing_read(cursor, limit):
        got = read(cursor, limit)
        if not got[1] and not raced.is_set():
            raced.set()
            for i in range(5):
                bus.publish("custom", i)
            ender = threading.Thread(target=server.end)
            ender.start()
            ender.join()
        return got

    server._backlog.read = racing_read  # type: ignore[method-assign]
    with server:
        bus.publish("custom", "first")
        wait_for(lambda: server.backlog[1] == 1)
        events = Stream(server.url).until_end()
    assert raced.is_set()
    assert [e.id for e in events[:-1]] == ["1", "2", "3", "4", "5", "6"]
    assert json.loads(events[-1].data) == {"status": "done", "parts": 6}


def test_a_last_event_id_past_the_runs_last_part_is_refused_as_another_runs(bus):
    with serve_sse(bus) as server:
        for i in range(3):
            bus.publish("custom", i)
        wait_for(lambda: server.backlog[1] == 3)
        running = Stream(server.url, {"Last-Event-ID": "4"})
        assert running.status == 409
        body = running.body()
        assert body.count(b"\n") == 1 and json.loads(body)["error"] == "unknown_event_id"
        assert "different run" in json.loads(body)["message"]
        bus.close()
        server.end()
        assert Stream(server.url, {"Last-Event-ID": "4"}).status == 409
        assert Stream(server.url + "?last_event_id=99").status == 409
        caught_up = Stream(server.url, {"Last-Event-ID": "3"})
        assert caught_up.status == 200 and [e.event for e in caught_up.until_end()] == ["end"]


def test_closing_with_a_client_stuck_writing_logs_nothing(bus, caplog, capfd):
    # A client that never reads, and more than its socket holds: close() must stop its
    # task without an exception logged (a CancelledError traceback on Python 3.11).
    server = SSEServer(bus, drain_timeout=0.2)
    with caplog.at_level("DEBUG", logger="asyncio"):
        server.start()
        stuck = Stream(server.url, rcvbuf=4096)
        wait_for(lambda: server.clients == 1)
        for i in range(2000):
            bus.publish("custom", {"i": i, "pad": "x" * 2000})
        wait_for(lambda: server.backlog[1] == 2000)
        server.close()
        stuck.close()
    assert server.clients == 0
    assert not [r for r in caplog.records if r.levelno >= 30], caplog.text
    err = capfd.readouterr().err
    assert "Traceback" not in err and "CancelledError" not in err, err


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1", 200),
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("LOCALHOST", 200),
        ("[::1]:{port}", 200),
        ("[::1]", 200),
        ("attacker.example:{port}", 403),
        ("attacker.example", 403),
        ("localhost.attacker.example:{port}", 403),
        ("127.0.0.1.nip.io:{port}", 403),
        ("::1", 403),
        ("", 403),
    ],
)
def test_without_a_token_only_a_loopback_host_is_served(bus, host, status):
    # DNS rebinding: a page on attacker.example, its name now pointing at 127.0.0.1,
    # sends its own name in Host.
    with serve_sse(bus) as server:
        u = urlsplit(server.url)
        sock = socket.create_connection((u.hostname, u.port), timeout=10)
        with sock, sock.makefile("rb") as f:
            head = f"GET /stream HTTP/1.1\r\nHost: {host.format(port=u.port)}\r\n\r\n"
            sock.sendall(head.encode())
            assert int(f.readline().split()[1]) == status
            if status == 403:
                body = f.read().split(b"\r\n\r\n", 1)[1]
                assert body.count(b"\n") == 1 and json.loads(body)["error"] == "forbidden_host"


def test_with_a_token_any_host_is_served(bus):
    with serve_sse(bus, token="t0ken") as server:
        ok = Stream(server.url, {"Authorization": "Bearer t0ken", "Host": "box.example:80"})
        assert ok.status == 200


def test_the_stream_is_redacted_by_default(bus):
    with serve_sse(bus) as server:
        bus.publish("custom", {"api_key": "sk-abcdefghijklmnopqrstuvwx", "text": "hello"})
        bus.close()
        server.end()
        events = Stream(server.url).until_end()
    assert "sk-abcdef" not in events[0].data
    assert parse_line(events[0].data).data == {"api_key": "***", "text": "hello"}


@pytest.mark.parametrize("token", [" tok", "tok ", "tök-123", "tok\t1", "tok\n1"])
def test_a_token_that_could_never_match_is_refused(token):
    with pytest.raises(ValueError, match="printable ASCII"):
        SSEServer(EventBus(), token=token)


def test_run_serve_refuses_a_token_that_could_never_match(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["run", str(ROOT / "demos" / "joke.yaml"), "--serve", "0", "--token", "tök"]
    )
    assert result.exit_code == 2 and "printable ASCII" in result.stderr


def test_the_backlog_is_bounded_in_bytes_too(bus):
    frame = len(sse_frame(Part(10, 0.0, "custom", (), {"pad": "x" * 1000})))
    with serve_sse(bus, backlog_bytes=10 * frame) as server:
        for _ in range(50):
            bus.publish("custom", {"pad": "x" * 1000})
        bus.close()
        server.end()
        wait_for(lambda: server.backlog[1] == 50)
        events = Stream(server.url).until_end()
    first, last = server.backlog
    assert first >= 35 and last == 50
    assert server._backlog.bytes <= 10 * frame
    gap = json.loads(events[0].data)
    assert (gap["from"], gap["to"]) == (1, first - 1) and "MiB at most" in gap["reason"]
    assert [int(e.id) for e in events[1:-1]] == list(range(first, 51))


def test_the_backlogs_byte_count_stays_exact():
    from streamtui.remote.sse_server import _Backlog

    backlog = _Backlog(7, max_bytes=60)
    seq = 1
    for n, width in enumerate([1, 3, 9, 2, 15, 1, 4, 30, 5, 2] * 5):
        frames = [b"x" * ((seq + k) % 13 + width) for k in range(n % 6 + 1)]
        backlog.extend(seq, frames)
        seq += len(frames)
        _, kept = backlog.read(1, 1000)
        assert backlog.last == seq - 1 and len(kept) == backlog.last - backlog.first + 1
        assert backlog.bytes == sum(map(len, kept)) and len(kept) <= 7
        assert backlog.bytes <= 60 or len(kept) == 1


def test_streamtui_token_from_the_environment_is_used_only_with_serve(tmp_path):
    import os
    import subprocess
    import sys

    demo = Path(__file__).resolve().parent.parent / "demos" / "joke.yaml"
    cli = [sys.executable, "-m", "streamtui", "run", str(demo), "--no-tui", "--no-record"]
    env = {**os.environ, "STREAMTUI_TOKEN": "from-env-123"}
    quiet = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=60)
    assert quiet.returncode == 0, quiet.stderr  # set for --serve; harmless without it
    given = subprocess.run([*cli, "--token", "x1"], capture_output=True, text=True, timeout=60)
    assert given.returncode == 2 and "--token is for --serve" in given.stderr
