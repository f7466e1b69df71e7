"""Serve one run's parts as Server-Sent Events, so a viewer elsewhere can watch it live.

``GET /stream`` sends every part as one SSE event: ``id:`` is the part's ``seq``,
``event:`` its mode (``mode|ns1|ns2`` inside a subgraph, LangGraph's framing) and
``data:`` the envelope line exactly as the event log writes it. A client that reconnects
with ``Last-Event-ID`` (or ``?last_event_id=``) gets what it missed from a bounded
backlog, with no gap and no duplicate; when the backlog no longer holds it, a ``gap``
event says which parts are gone. After the last part an ``end`` event gives the run's
status and the stream closes.

Why this shape: the run must never wait for a viewer. One lossless subscription is
drained by a thread that only encodes each part once and appends it to the backlog;
every client is served from the backlog by its own task on the server's own event loop
(a background thread), so a client that stops reading falls behind on its own and is
told what it missed. Plain stdlib asyncio, a small hand-written HTTP/1.1 server, as in
``streamtui.testing.server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from streamtui.bus import EventBus, Subscription
from streamtui.envelope import Part, Redactor, encode_line, line_bytes
from streamtui.loop_thread import start_loop_thread

__all__ = [
    "DEFAULT_BACKLOG",
    "DEFAULT_BACKLOG_BYTES",
    "DEFAULT_KEEPALIVE",
    "SSEServer",
    "control_frame",
    "is_loopback",
    "serve_sse",
    "sse_frame",
    "stream_with_sse",
]

DEFAULT_BACKLOG = 100_000
DEFAULT_BACKLOG_BYTES = 256 * 1024 * 1024  # 100,000 large ``values`` states: GBs
DEFAULT_KEEPALIVE = 15.0
STREAM_PATH = "/stream"
MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 10.0
_WRITE_BATCH = 512  # frames per socket write: one syscall, and room for other clients
_POLL = 0.1  # seconds; how soon the recording thread notices end() without a closed bus
_KEEPALIVE_FRAME = b": keepalive\n\n"


# --- framing ---------------------------------------------------------------------------


def sse_frame(part: Part, redactor: Redactor | None = None) -> bytes:
    """One part as an SSE event: ``id``, ``event`` (mode, ``|``-joined namespace) and
    ``data`` (the log's envelope line, secrets redacted)."""
    event = "|".join((part.mode, *part.ns)) if part.ns else part.mode
    if "\n" in event or "\r" in event:  # a line break would end the field early
        event = event.replace("\r", " ").replace("\n", " ")
    return line_bytes(f"id: {part.seq}\nevent: {event}\ndata: {encode_line(part, redactor)}\n\n")


def control_frame(event: str, data: Mapping[str, Any]) -> bytes:
    """A ``gap`` or ``end`` event: no ``id``, so a client's Last-Event-ID stays the
    last part it got."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return line_bytes(f"event: {event}\ndata: {body}\n\n")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid_token(token: str) -> bool:
    """Printable ASCII, no spaces around it: what a client can send back unchanged in
    ``Authorization: Bearer`` (which it strips) or ``?token=``."""
    return token.isascii() and token.isprintable() and token == token.strip()


def _loopback_host(header: str | None) -> bool:
    """Whether a request's ``Host`` names this machine: ``127.0.0.1``, ``localhost``,
    ``[::1]`` (any loopback address), with or without a port. No Host at all (an
    HTTP/1.0 client; browsers always send one) is let through."""
    if header is None:
        return True
    host = header.strip().lower()
    if host.startswith("["):
        name, sep, rest = host[1:].partition("]")
        if not sep or (rest and not (rest[0] == ":" and rest[1:].isdigit())):
            return False
        return ":" in name and is_loopback(name)
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        return False
    return is_loopback(name)


# --- the backlog -----------------------------------------------------------------------


class _Backlog:
    """The newest ``size`` encoded parts in a ring, by seq, and no more than ``max_bytes``
    of them (the newest part is always kept). Written by the recording thread, read by
    the client tasks; the lock is held only to copy references."""

    def __init__(self, size: int, max_bytes: int = DEFAULT_BACKLOG_BYTES) -> None:
        if size < 1:
            raise ValueError(f"backlog must hold at least one part, got {size}")
        if max_bytes < 1:
            raise ValueError(f"backlog_bytes must be positive, got {max_bytes}")
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0  # the size of the frames first..last
        self._ring: list[bytes] = []
        self.start = 0  # the first seq ever recorded (0: nothing yet)
        self.first = 1  # the oldest seq still kept
        self.last = 0  # the newest seq recorded
        self._lock = threading.Lock()

    def extend(self, first_seq: int, frames: list[bytes]) -> None:
        """Add frames for ``first_seq, first_seq + 1, ...`` (a lossless subscription
        hands out every seq, in order)."""
        ring, size = self._ring, self.size
        with self._lock:
            if not self.start:
                self.start = self.first = first_seq
            kept = self.bytes
            for offset, frame in enumerate(frames):
                seq = first_seq + offset
                if len(ring) < size:
                    ring.append(frame)
                else:
                    if seq - size >= self.first:  # the frame it replaces was still kept
                        kept -= len(ring[(seq - self.start) % size])
                    ring[(seq - self.start) % size] = frame
                kept += len(frame)
            self.last = first_seq + len(frames) - 1
            if self.last - self.first + 1 > size:
                self.first = self.last - size + 1
            first, start = self.first, self.start
            while kept > self.max_bytes and first < self.last:
                kept -= len(ring[(first - start) % size])
                first += 1
            self.first, self.bytes = first, kept

    def read(self, cursor: int, limit: int) -> tuple[tuple[int, int, str] | None, list[bytes]]:
        """(the gap before ``cursor``'s part if it is gone, frames from there on)."""
        with self._lock:
            if not self.start:
                return None, []
            gap = None
            if cursor < self.first:
                reason = (
                    "published before this server started"
                    if cursor < self.start
                    else (
                        f"no longer in the backlog (it keeps the last {self.size:,} parts, "
                        f"{self.max_bytes / 2**20:g} MiB at most)"
                    )
                )
                gap = (cursor, self.first - 1, reason)
                cursor = self.first
            end = min(self.last, cursor + limit - 1)
            if end < cursor:
                return gap, []
            ring, size = self._ring, self.size
            i, j = (cursor - self.start) % size, (end - self.start) % size + 1
            frames = ring[i:j] if i < j else ring[i:] + ring[:j]
        return gap, frames


# --- one HTTP request ------------------------------------------------------------------


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


async def _read_head(reader: asyncio.StreamReader) -> _Request | None:
    """The request line and headers; None for anything that is not an HTTP request."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
        return None
    except (ConnectionError, OSError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name:
            headers[name.strip().lower()] = value.strip()
    target = urlsplit(words[1])
    return _Request(words[0].upper(), target.path, parse_qs(target.query), headers)


def _query(request: _Request, name: str) -> str:
    """The last value of a query parameter, or ``""``."""
    values = request.query.get(name)
    return values[-1] if values else ""


def _response(status: int, body: Mapping[str, Any], extra: Sequence[str] = ()) -> bytes:
    """A whole JSON response, one line, ``Connection: close``."""
    data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        "Cache-Control: no-store",
        *extra,
        "Connection: close",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\n"
    b"X-Accel-Buffering: no\r\n"
    b"Connection: close\r\n\r\n"
)


class _Client:
    """One connected viewer: woken when parts arrive, gone when it hangs up."""

    __slots__ = ("gone", "wake")

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.gone = False


# --- the server ------------------------------------------------------------------------


class SSEServer:
    """One run's parts over SSE on ``host:port`` (see the module docstring and
    docs/remote.md). ``start()``/``close()``, or ``with``/``async with``.

    ``end(status)`` says the run is over (``done``, ``error`` or ``interrupted``): every
    client gets the parts it has not had, then ``end``, then the stream closes. ``close()``
    ends the run first if nobody did (``done`` when the bus was closed, else
    ``interrupted``), gives clients ``drain_timeout`` seconds to get there, and stops.
    """

    def __init__(
        self,
        bus: EventBus,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        backlog: int = DEFAULT_BACKLOG,
        backlog_bytes: int = DEFAULT_BACKLOG_BYTES,
        keepalive: float = DEFAULT_KEEPALIVE,
        redactor: Redactor | None = None,
        drain_timeout: float = 2.0,
        capacity: int = 65536,
    ) -> None:
        if token is not None and token and not _valid_token(token):
            raise ValueError(
                "the token must be printable ASCII (letters, digits, punctuation) with no "
                "spaces around it: anything else cannot be sent in a header and never matches"
            )
        if not is_loopback(host) and not token:
            raise ValueError(
                f"{host!r} is not a loopback address: anyone who can reach it could watch "
                "the run (prompts, outputs), so give a token"
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range (0-65535)")
        if keepalive <= 0:
            raise ValueError(f"keepalive must be positive, got {keepalive}")
        self.bus = bus
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.keepalive = keepalive
        self.drain_timeout = drain_timeout
        self.capacity = capacity
        """Parts the recording subscription holds before the run waits for it (it only
        waits for the recording thread, never for a viewer)."""
        self._token = token.encode() if token else None
        # Redacted as the event log is, by default: the stream is as readable as the log.
        self._redactor = redactor or Redactor()
        self._backlog = _Backlog(backlog, backlog_bytes)
        self.status: str | None = None
        """The run's status once ``end()`` was called."""
        self.parts = 0
        """How many parts the run had, once it ended."""
        self.failure: BaseException | None = None
        """What stopped the recording thread, if anything did (it then unsubscribes)."""
        self._sub: Subscription | None = None
        self._recorder: threading.Thread | None = None
        self._stopping = False
        self._end_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._clients: set[_Client] = set()
        self._tasks: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._poke_pending = False
        self._closed = False

    # --- public --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT/stream`` (the bound port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{STREAM_PATH}"

    @property
    def clients(self) -> int:
        """Viewers connected right now."""
        return len(self._clients)

    @property
    def backlog(self) -> tuple[int, int]:
        """(oldest, newest) seq held; (1, 0) before the first part."""
        return self._backlog.first, self._backlog.last

    def start(self) -> SSEServer:
        """Subscribe to the bus and listen; returns once the port is bound. Idempotent."""
        if self._thread is not None:
            return self
        if self._closed:
            raise RuntimeError("this SSEServer was closed; make a new one")

        def use(loop: asyncio.AbstractEventLoop) -> None:
            self._loop = loop

        try:
            self._thread, _ = start_loop_thread(self._open, name="streamtui-sse", on_loop=use)
        except BaseException:
            self._thread = self._loop = None
            raise
        # Subscribed before start() returns: nothing the run publishes afterwards is missed.
        self._sub = self.bus.subscribe("lossless", capacity=self.capacity)
        self._recorder = threading.Thread(
            target=self._record, name="streamtui-sse-backlog", daemon=True
        )
        self._recorder.start()
        return self

    def end(self, status: str = "done") -> None:
        """The run is over: record what is left, then every client gets ``end``. Parts
        published after this are not served. Safe from any thread; the first call wins."""
        with self._end_lock:
            if self.status is not None:
                return
            self._stopping = True
            if self._recorder is not None:
                self._recorder.join()
            self.parts = self.bus.seq
            self.status = status
        self._poke()

    def close(self) -> None:
        """End the run if nobody did, let clients get to ``end``, then stop listening."""
        if self._closed:
            return
        self._closed = True
        if self.status is None:
            self.end("done" if self.bus.closed else "interrupted")
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is gone already
            done = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            done.result(self.drain_timeout + 10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10.0)
        self._thread = self._loop = None

    def __enter__(self) -> SSEServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end_for(exc)
        self.close()

    async def __aenter__(self) -> SSEServer:
        if self._thread is None:
            await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.__exit__, exc_type, exc, tb)

    def _end_for(self, exc: BaseException | None) -> None:
        if exc is None or self.status is not None:
            return
        interrupted = isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt))
        self.end("interrupted" if interrupted else "error")

    # --- recording (a thread) ------------------------------------------------------------

    def _record(self) -> None:
        """Drain the subscription into the backlog: encode once, append, wake clients.
        Nothing else happens here, so the publisher never waits on a viewer."""
        sub, bus = self._sub, self.bus
        assert sub is not None
        redactor, backlog = self._redactor, self._backlog
        try:
            while not self._stopping:
                if sub.wait(_POLL):
                    batch = sub.drain()
                    if batch:
                        backlog.extend(batch[0].seq, [sse_frame(p, redactor) for p in batch])
                        self._poke()
                elif bus.closed:
                    break
            batch = sub.drain()
            if batch:
                backlog.extend(batch[0].seq, [sse_frame(p, redactor) for p in batch])
                self._poke()
        except BaseException as e:  # the run goes on; the server says no more
            self.failure = e
        finally:
            bus.unsubscribe(sub)

    def _poke(self) -> None:
        """Wake every client (from any thread), once per batch however many arrive."""
        loop = self._loop
        if loop is None or self._poke_pending:
            return
        self._poke_pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed under us
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        self._poke_pending = False
        for client in self._clients:
            client.wake.set()

    # --- the event loop (the server's thread) --------------------------------------------

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.port, limit=MAX_HEAD_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.drain_timeout)
            for task in pending:
                # A client stuck in a write: drop its connection (its drain() then fails
                # at once, as for a client that left), and cancel the task in case it
                # waits on something else.
                writer = self._tasks.get(task)
                if writer is not None:
                    writer.transport.abort()
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks[task] = writer
        try:
            request = await _read_head(reader)
            if request is not None:
                await self._answer(request, reader, writer)
        except (ConnectionError, OSError):
            pass  # the client went away; nobody else is affected
        except asyncio.CancelledError:
            pass  # close() gave up on this client; not an error to report
        finally:
            if task is not None:
                self._tasks.pop(task, None)
            with contextlib.suppress(Exception):
                writer.close()
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._token is None and not _loopback_host(request.headers.get("host")):
            # DNS rebinding: a web page's own name pointed at 127.0.0.1 reaches us with
            # its name in Host. Without a token, only a loopback name may ask.
            message = (
                "without a token only Host: 127.0.0.1, localhost or [::1] is served "
                f"(got {request.headers.get('host', '')[:80]!r})"
            )
            writer.write(_response(403, {"error": "forbidden_host", "message": message}))
            return
        if request.path != STREAM_PATH:
            message = f"no such path {request.path!r}; the stream is at {STREAM_PATH}"
            writer.write(_response(404, {"error": "not_found", "message": message}))
            return
        if request.method != "GET":
            message = f"{request.method} is not allowed; use GET {STREAM_PATH}"
            writer.write(
                _response(405, {"error": "method_not_allowed", "message": message}, ["Allow: GET"])
            )
            return
        if not self._authorized(request):
            message = "a valid token is required: Authorization: Bearer <token> or ?token="
            writer.write(
                _response(
                    401, {"error": "unauthorized", "message": message}, ["WWW-Authenticate: Bearer"]
                )
            )
            return
        raw = request.headers.get("last-event-id") or _query(request, "last_event_id")
        raw = raw.strip()
        if raw and not raw.isdigit():
            message = f"Last-Event-ID must be a part's seq (a whole number), got {raw[:40]!r}"
            writer.write(_response(400, {"error": "bad_request", "message": message}))
            return
        after = int(raw) if raw else 0
        newest = self.parts if self.status is not None else self.bus.seq
        if after > newest:
            # Not a part of this run: the client followed another one (a server restarted
            # on the same port). Served as asked, it would wait for that seq, then get end.
            message = (
                f"Last-Event-ID {after} is past this run's last part ({newest}): "
                "it is from a different run"
            )
            writer.write(_response(409, {"error": "unknown_event_id", "message": message}))
            return
        await self._stream(reader, writer, after)

    def _authorized(self, request: _Request) -> bool:
        if self._token is None:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            given = _query(request, "token")
        # Constant time: how much of a guess matched must not show in the timing.
        return hmac.compare_digest(given.strip().encode(), self._token)

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, after: int
    ) -> None:
        """Send parts ``after + 1`` on from the backlog until the run ends."""
        client = _Client()
        self._clients.add(client)
        watch = asyncio.ensure_future(self._watch_hangup(reader, client))
        try:
            writer.write(_STREAM_HEAD)
            await writer.drain()
            cursor = after + 1
            backlog = self._backlog
            loop = asyncio.get_running_loop()
            quiet_since = loop.time()
            while not client.gone:
                client.wake.clear()
                # Noted before the read: end() records every part before it sets status,
                # so once it is set an empty read means nothing is left. Checked after the
                # read instead, a part recorded between the two would be lost.
                ended = self.status is not None
                gap, frames = backlog.read(cursor, _WRITE_BATCH)
                cursor += len(frames)
                if gap is not None:
                    first, last, reason = gap
                    cursor += last + 1 - first
                    info = {"from": first, "to": last, "reason": reason}
                    frames.insert(0, control_frame("gap", info))
                if frames:
                    writer.write(b"".join(frames))
                    await writer.drain()  # a slow reader waits here, alone
                    quiet_since = loop.time()
                    continue
                if ended:
                    info = {"status": self.status, "parts": self.parts}
                    writer.write(control_frame("end", info))
                    await writer.drain()
                    return
                due = quiet_since + self.keepalive
                if loop.time() >= due:
                    writer.write(_KEEPALIVE_FRAME)
                    await writer.drain()
                    quiet_since = loop.time()
                    continue
                # A timer, not wait_for: no task per wait on Python 3.10 and 3.11.
                timer = loop.call_at(due, client.wake.set)
                try:
                    await client.wake.wait()
                finally:
                    timer.cancel()
        finally:
            self._clients.discard(client)
            watch.cancel()
            with contextlib.suppress(BaseException):
                await watch

    @staticmethod
    async def _watch_hangup(reader: asyncio.StreamReader, client: _Client) -> None:
        """A client sends nothing after its request: EOF means it left, even while no
        part is being written to it."""
        try:
            while await reader.read(4096):
                pass
        except (ConnectionError, OSError):
            pass
        client.gone = True
        client.wake.set()


def serve_sse(
    bus: EventBus,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    backlog: int = DEFAULT_BACKLOG,
    *,
    backlog_bytes: int = DEFAULT_BACKLOG_BYTES,
    keepalive: float = DEFAULT_KEEPALIVE,
    redactor: Redactor | None = None,
) -> SSEServer:
    """Serve ``bus``'s parts at ``http://host:port/stream``, started (``.url`` is ready);
    ``close()`` it, or use it as a (async) context manager."""
    server = SSEServer(
        bus,
        host,
        port,
        token=token,
        backlog=backlog,
        backlog_bytes=backlog_bytes,
        keepalive=keepalive,
        redactor=redactor,
    )
    return server.start()


async def stream_with_sse(
    target: Any,
    input: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    backlog: int = DEFAULT_BACKLOG,
    backlog_bytes: int = DEFAULT_BACKLOG_BYTES,
    keepalive: float = DEFAULT_KEEPALIVE,
    redactor: Redactor | None = None,
    modes: Sequence[str] | None = None,
    event_filter: Mapping[str, Sequence[str] | None] | None = None,
    bus: EventBus | None = None,
    on_serving: Callable[[SSEServer], Any] | None = None,
    linger: float = 0.0,
) -> None:
    """Run ``target`` on ``input`` (a streamtui runnable or graph, or a LangChain /
    LangGraph app) while serving its parts over SSE.

    ``on_serving(server)`` is called once the port is bound, before the run starts (the
    place to print ``server.url``). ``linger`` keeps serving that many seconds after the
    end, for viewers that connect late. A failing run's exception propagates, after its
    viewers got ``end`` with status ``error``.
    """
    from streamtui.session import stream_to_bus

    bus = bus or EventBus()
    server = SSEServer(
        bus,
        host,
        port,
        token=token,
        backlog=backlog,
        backlog_bytes=backlog_bytes,
        keepalive=keepalive,
        redactor=redactor,
    )
    await asyncio.to_thread(server.start)
    status = "error"
    try:
        if on_serving is not None:
            on_serving(server)
        try:
            await stream_to_bus(target, input, bus, modes=modes, event_filter=event_filter)
            status = "done"
        except (asyncio.CancelledError, KeyboardInterrupt):
            status = "interrupted"
            raise
        finally:
            bus.close()
            await asyncio.to_thread(server.end, status)
        if linger > 0:
            await asyncio.sleep(linger)
    finally:
        await asyncio.to_thread(server.close)
