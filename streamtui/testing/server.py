"""A loopback-only mock LLM provider that speaks OpenAI's and Anthropic's HTTP wire formats.

Pure stdlib asyncio with a small hand-written HTTP/1.1 server, so every byte is under the
test's control: chunked or close-delimited bodies, a connection dropped mid-stream, a stall,
a malformed chunk. The real SDKs are pointed at it to prove how they behave on each fault.

It runs on its own event loop in a background thread, so the same object serves sync tests
(``with server:``), async tests (``async with server:``) and the ``serve()`` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import ipaddress
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

from streamtui.loop_thread import start_loop_thread
from streamtui.testing import anthropic_wire, openai_wire
from streamtui.testing.scenarios import (
    DEFAULT_SCENARIO,
    STATUS_FAULTS,
    STREAM_FAULTS,
    Scenario,
    builtin_scenarios,
)
from streamtui.testing.wire import Frame, RenderContext, dumps, estimate_tokens

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
REQUEST_READ_TIMEOUT = 30.0

_REASONS = {529: "Overloaded"}


def _loopback_host(host: str) -> str:
    """The address to bind, or ValueError: a mock server must never listen beyond this host."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"MockProviderServer listens on loopback only; {host!r} is not a loopback address "
            "(use 127.0.0.1, ::1 or localhost)"
        ) from None
    if not address.is_loopback:
        raise ValueError(
            f"MockProviderServer listens on loopback only; {host!r} is not a loopback address "
            "(use 127.0.0.1, ::1 or localhost)"
        )
    return host


@dataclass
class RecordedRequest:
    """One request as the server saw it, updated while its response is being sent.

    ``started``/``ended`` are ``time.monotonic()`` seconds. ``client_disconnected_early`` is
    True when the client hung up before the server finished its response; ``completed`` when
    the server wrote the whole response; ``fault`` names the fault that fired, if any.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    json: Any = None
    scenario: str | None = None
    provider: str | None = None
    endpoint: str | None = None
    stream: bool = False
    retry_count: int | None = None
    status: int | None = None
    events_sent: int = 0
    deltas_sent: int = 0
    fault: str | None = None
    completed: bool = False
    client_disconnected_early: bool = False
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def finished(self) -> bool:
        """Whether the server is done with this request (either way)."""
        return self.ended is not None


class _BadRequest(Exception):
    """The request could not be parsed as HTTP/1.1."""


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Parse one HTTP/1.1 request (Content-Length or chunked body); None if the peer left."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise _BadRequest("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(f"bad request line {lines[0]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest(f"bad header line {line!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest("bad content-length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _BadRequest("bad content-length")
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return None
    return _Request(method.upper(), target.split("?", 1)[0], headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    try:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise _BadRequest("request body too large")
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise _BadRequest("bad chunk end")
    except asyncio.IncompleteReadError:
        raise _BadRequest("incomplete chunked body") from None


class _Conn:
    """A client connection: writes that notice a closed socket, sleeps that end on hang-up."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.gone = asyncio.Event()
        # The request is fully read and we answer with Connection: close, so the client sends
        # nothing more: EOF (or a reset) on the read side means it hung up. This notices a
        # hang-up at once, not only when a later write happens to fail.
        self._watch = asyncio.ensure_future(self._watch_eof(reader))

    async def _watch_eof(self, reader: asyncio.StreamReader) -> None:
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        self.gone.set()

    async def write(self, data: bytes) -> bool:
        """Write and drain; False (and ``gone`` set) if the client is no longer there."""
        if self.gone.is_set() or self.writer.is_closing():
            self.gone.set()
            return False
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError):
            self.gone.set()
            return False
        return True

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False as soon as the client hangs up."""
        if self.gone.is_set():
            return False
        if seconds <= 0:
            await asyncio.sleep(0)
            return not self.gone.is_set()
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
        except asyncio.TimeoutError:
            return True
        return False

    async def close(self) -> None:
        """Close gracefully: buffered bytes go out first, then FIN."""
        self._watch.cancel()
        with contextlib.suppress(BaseException):
            await self._watch
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


class _Body:
    """Response body framing: HTTP/1.1 chunked (the providers' own) or close-delimited."""

    def __init__(self, conn: _Conn, chunked: bool) -> None:
        self.conn = conn
        self.chunked = chunked

    async def send(self, data: bytes) -> bool:
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        return await self.conn.write(data)

    async def finish(self) -> bool:
        return await self.conn.write(b"0\r\n\r\n") if self.chunked else True


@dataclass(frozen=True)
class _Options:
    """Per-request knobs from ``x-mock-*`` headers, falling back to the server's settings."""

    latency: float
    chunk_delay: float
    jitter: float
    stall_seconds: float
    fault_after: int
    chunked: bool
    retry_after_ms: float | None
    fail_status: int


def _number(headers: dict[str, str], name: str, default: float) -> float:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _BadRequest(f"header {name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise _BadRequest(f"header {name} must be a finite number >= 0, got {raw!r}")
    return value


class MockProviderServer:
    """A scripted OpenAI/Anthropic-compatible server on a loopback port (see docs/mock-server.md).

    ``latency`` delays the first byte of every response; between deltas it waits
    ``chunk_delay`` plus a random ``[0, jitter)`` (seeded, so runs repeat).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        jitter: float = 0.0,
        *,
        chunk_delay: float = 0.0,
        seed: int = 0,
        scenarios: Iterable[Scenario] = (),
    ) -> None:
        self.host = _loopback_host(host)
        self.port = port
        self.latency = latency
        self.jitter = jitter
        self.chunk_delay = chunk_delay
        self._random = random.Random(seed)
        self._scenarios = builtin_scenarios()
        for scenario in scenarios:
            self._scenarios[scenario.name] = scenario
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._seen_conversations: set[str] = set()
        self._serial = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- public API ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (the Anthropic SDK's base URL)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url + "/v1"`` (the OpenAI SDK's base URL)."""
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The base URL for the Anthropic SDK, which appends ``/v1/messages`` itself."""
        return self.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot list of every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def scenarios(self) -> dict[str, Scenario]:
        """A copy of the name -> scenario map this server answers with."""
        with self._lock:
            return dict(self._scenarios)

    def add_scenario(self, scenario: Scenario) -> None:
        """Add (or replace) a scenario, selectable as ``mock:<scenario.name>``."""
        with self._lock:
            self._scenarios[scenario.name] = scenario

    def reset(self) -> None:
        """Forget recorded requests and which conversations ``fail_once`` already failed."""
        with self._lock:
            self._requests.clear()
            self._seen_conversations.clear()

    def wait_until(
        self, predicate: Callable[[list[RecordedRequest]], bool], timeout: float = 2.0
    ) -> bool:
        """Poll ``predicate(server.requests)`` until it holds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self.requests):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until every recorded request is finished server-side.

        A client can read the last byte a moment before the server thread records that it
        sent it, so check ``completed``/``ended`` after this, not straight away.
        """
        return self.wait_until(lambda reqs: all(r.finished for r in reqs), timeout)

    async def async_wait_until(
        self, predicate: Callable[[list[RecordedRequest]], bool], timeout: float = 2.0
    ) -> bool:
        """:meth:`wait_until` for async tests, without blocking their event loop."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self.requests):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)

    def start(self) -> None:
        """Start listening in a background thread; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("MockProviderServer is already running")

        def use(loop: asyncio.AbstractEventLoop) -> None:
            self._loop = loop

        self._thread, _ = start_loop_thread(
            self._open,
            name="streamtui-mock-server",
            on_loop=use,
            closer=self._close,
            timeout=10.0,
        )

    def stop(self) -> None:
        """Stop listening, cut any response still running, and join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10.0)
        self._thread = None
        self._loop = None

    def __enter__(self) -> MockProviderServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> MockProviderServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --- lifecycle (server thread) -------------------------------------------------------

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.port, limit=MAX_HEADER_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    # --- one connection --------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Read one request, answer it, close: every response is ``Connection: close``."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn: _Conn | None = None
        try:
            try:
                request = await asyncio.wait_for(_read_request(reader), REQUEST_READ_TIMEOUT)
            except (_BadRequest, asyncio.TimeoutError) as exc:
                error = {"message": str(exc) or "request timeout", "type": "invalid_request_error"}
                body = dumps({"error": {**error, "param": None, "code": None}}).encode()
                writer.write(_head(400, [("content-type", "application/json")], len(body)) + body)
                with contextlib.suppress(Exception):
                    await writer.drain()
                return
            except (ConnectionError, OSError):
                return
            if request is None:
                return
            record = RecordedRequest(request.method, request.path, request.headers, request.body)
            with self._lock:
                self._requests.append(record)
            conn = _Conn(reader, writer)
            try:
                await self._respond(conn, request, record)
            finally:
                if conn.gone.is_set() and not record.completed:
                    record.client_disconnected_early = True
                record.ended = time.monotonic()
        finally:
            if conn is not None:
                await conn.close()
            elif not writer.is_closing():
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _respond(self, conn: _Conn, request: _Request, rec: RecordedRequest) -> None:
        """Answer one request: route, check the key, pick the scenario, then reply or fail."""
        path = request.path
        if path.startswith("/v1/"):
            path = path[3:]
        anthropic = path == "/messages" or (
            "anthropic-version" in request.headers and path != "/chat/completions"
        )
        rec.provider = "anthropic" if anthropic else "openai"
        raw_retry = request.headers.get("x-stainless-retry-count")
        if raw_retry is not None:
            with contextlib.suppress(ValueError):
                rec.retry_count = int(raw_retry)
        wire: Any = anthropic_wire if anthropic else openai_wire
        options: _Options | None = None

        async def error(kind: str, status: int | None = None, **kw: Any) -> None:
            default_status, body = wire.error_body(kind, **kw)
            status = status or default_status
            extra = self._error_headers(status, anthropic, options)
            await self._send_json(conn, rec, status, body, extra)

        if request.method == "GET" and path == "/models":
            await self._models(conn, rec, anthropic)
            return
        if request.method != "POST" or path not in ("/chat/completions", "/responses", "/messages"):
            await error(
                "not_found", message=f"Unknown request URL: {request.method} {request.path}."
            )
            return
        rec.endpoint = {"/chat/completions": "chat.completions", "/responses": "responses"}.get(
            path, "messages"
        )
        try:
            payload = json.loads(request.body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            await error("bad_request")
            return
        rec.json = payload
        rec.stream = payload.get("stream") is True
        if not _has_key(request.headers):
            await error("missing_key")
            return
        model = payload.get("model")
        model = model if isinstance(model, str) and model else "mock"
        name = request.headers.get("x-mock-scenario")
        if not name:
            name = model[len("mock:") :] if model.startswith("mock:") else DEFAULT_SCENARIO
        with self._lock:
            scenario = self._scenarios.get(name)
        if scenario is None:
            await error("not_found", model=f"mock:{name}")
            return
        rec.scenario = scenario.name
        try:
            options = self._options(request.headers, scenario)
        except _BadRequest as exc:
            await error("bad_request", message=str(exc))
            return

        if not await conn.sleep(options.latency):
            return
        fault = scenario.fault
        if fault in STATUS_FAULTS:
            rec.fault = fault
            await error(fault, model=model)
            return
        if fault == "fail_once":
            if self._first_attempt(rec, scenario, payload):
                rec.fault = fault
                status = options.fail_status
                await error(wire.error_for_status(status), status=status)
                return
            fault = None
        if fault == "error_mid_stream" and not rec.stream:
            rec.fault = fault
            await error("overloaded")
            return

        conversation = [payload.get(k) for k in ("system", "instructions", "messages", "input")]
        ctx = RenderContext(
            model=model,
            serial=next(self._serial),
            created=int(time.time()),
            prompt_tokens=estimate_tokens(conversation),
            include_usage=bool((payload.get("stream_options") or {}).get("include_usage")),
            crlf=scenario.has("crlf"),
            comments=scenario.has("comments"),
        )
        if rec.stream:
            await self._respond_stream(conn, rec, scenario, fault, options, rec.endpoint, ctx)
        else:
            await self._respond_whole(conn, rec, scenario, fault, options, rec.endpoint, ctx)

    async def _respond_whole(
        self,
        conn: _Conn,
        rec: RecordedRequest,
        scenario: Scenario,
        fault: str | None,
        options: _Options,
        endpoint: str,
        ctx: RenderContext,
    ) -> None:
        """A non-streamed JSON answer; stream faults get their nearest whole-body analogue."""
        build = {
            "chat.completions": openai_wire.chat_body,
            "responses": openai_wire.responses_body,
            "messages": anthropic_wire.messages_body,
        }[endpoint]
        data = dumps(build(scenario, ctx)).encode()
        headers = [
            ("content-type", "application/json"),
            *self._id_headers(endpoint == "messages", ctx.serial),
        ]
        if fault == "stall":
            rec.fault = fault
            if not await conn.sleep(options.stall_seconds):
                return
        elif fault == "malformed_chunk":
            rec.fault = fault
            data = data[: len(data) // 2]
        elif fault == "drop_mid_stream":
            # Promise the whole body in content-length, send half, then close.
            rec.fault = fault
            rec.status = 200
            await conn.write(_head(200, headers, len(data)) + data[: len(data) // 2])
            return
        rec.status = 200
        if await conn.write(_head(200, headers, len(data)) + data):
            rec.completed = True

    async def _respond_stream(
        self,
        conn: _Conn,
        rec: RecordedRequest,
        scenario: Scenario,
        fault: str | None,
        options: _Options,
        endpoint: str,
        ctx: RenderContext,
    ) -> None:
        """Stream SSE frames, injecting the scenario's fault after ``fault_after`` deltas."""
        if endpoint == "chat.completions":
            frames = openai_wire.chat_stream(scenario, ctx)
        elif endpoint == "responses":
            frames = openai_wire.responses_stream(scenario, ctx)
        else:
            frames = anthropic_wire.messages_stream(scenario, ctx)
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            *self._id_headers(endpoint == "messages", ctx.serial),
        ]
        if options.chunked:
            headers.append(("transfer-encoding", "chunked"))
        rec.status = 200
        if not await conn.write(_head(200, headers, None)):
            return
        body = _Body(conn, options.chunked)
        stream_fault = fault if fault in STREAM_FAULTS else None
        fired = False

        async def fire() -> bool:
            """Run the stream fault; True if streaming carries on afterwards (a stall)."""
            assert stream_fault is not None
            rec.fault = stream_fault
            if stream_fault == "stall":
                return await conn.sleep(options.stall_seconds)
            if stream_fault == "drop_mid_stream":
                return False  # the caller closes the socket: no terminating chunk
            extra = self._fault_frame(stream_fault, endpoint, ctx, rec.events_sent)
            if await body.send(extra.payload):
                rec.events_sent += 1
                if await body.finish():
                    rec.completed = True
            return False

        # Fire after ``fault_after`` deltas, or right after the last delta if there are fewer
        # (never after the stream's closing events: the client would be gone by then).
        last_delta = max((i for i, f in enumerate(frames) if f.delta), default=-1)
        first = True
        for i, frame in enumerate(frames):
            due = rec.deltas_sent >= options.fault_after or i > last_delta
            if stream_fault and not fired and due:
                fired = True
                if not await fire():
                    return
            if frame.delta and not first:
                delay = options.chunk_delay
                if options.jitter > 0:
                    delay += self._random.uniform(0, options.jitter)
                if not await conn.sleep(delay):
                    return
            first = False
            if not await body.send(frame.payload):
                return
            rec.events_sent += 1
            if frame.delta:
                rec.deltas_sent += 1
            await asyncio.sleep(0)  # let the hang-up watcher run between frames
        if await body.finish():
            rec.completed = True

    # --- helpers ---------------------------------------------------------------------------

    def _options(self, headers: dict[str, str], scenario: Scenario) -> _Options:
        framing = headers.get("x-mock-framing", "chunked").lower()
        if framing not in ("chunked", "close"):
            raise _BadRequest("header x-mock-framing must be 'chunked' or 'close'")
        raw_status = headers.get("x-mock-fail-status")
        fail_status = scenario.fail_status
        if raw_status is not None:
            if raw_status not in ("429", "500", "503", "529"):
                raise _BadRequest("header x-mock-fail-status must be 429, 500, 503 or 529")
            fail_status = int(raw_status)
        retry_ms = headers.get("x-mock-retry-after-ms")
        return _Options(
            latency=_number(headers, "x-mock-latency", self.latency),
            chunk_delay=_number(headers, "x-mock-chunk-delay", self.chunk_delay),
            jitter=_number(headers, "x-mock-jitter", self.jitter),
            stall_seconds=_number(headers, "x-mock-stall-seconds", scenario.stall_seconds),
            fault_after=int(_number(headers, "x-mock-fault-after", scenario.fault_after)),
            chunked=framing == "chunked",
            retry_after_ms=None
            if retry_ms is None
            else _number(headers, "x-mock-retry-after-ms", 0),
            fail_status=fail_status,
        )

    def _first_attempt(
        self, rec: RecordedRequest, scenario: Scenario, payload: dict[str, Any]
    ) -> bool:
        """``fail_once``: the SDK's retry counter if it sends one, else first sight of the chat."""
        if rec.retry_count is not None:
            return rec.retry_count == 0
        convo = [payload.get(k) for k in ("system", "instructions", "messages", "input")]
        key = hashlib.sha256(f"{scenario.name}\0{rec.path}\0{dumps(convo)}".encode()).hexdigest()
        with self._lock:
            if key in self._seen_conversations:
                return False
            self._seen_conversations.add(key)
            return True

    @staticmethod
    def _fault_frame(fault: str, endpoint: str, ctx: RenderContext, sent: int) -> Frame:
        if endpoint == "chat.completions":
            if fault == "error_mid_stream":
                return openai_wire.chat_error_frame(ctx)
            return openai_wire.chat_malformed_frame(ctx)
        if endpoint == "responses":
            if fault == "error_mid_stream":
                return openai_wire.responses_error_frame(ctx, sent)
            return openai_wire.responses_malformed_frame(ctx)
        if fault == "error_mid_stream":
            return anthropic_wire.error_frame(ctx)
        return anthropic_wire.malformed_frame(ctx)

    @staticmethod
    def _id_headers(anthropic: bool, serial: int) -> list[tuple[str, str]]:
        if anthropic:
            return [("request-id", f"req_mock{serial:06d}")]
        return [("x-request-id", f"req_mock{serial:06d}"), ("openai-processing-ms", "1")]

    @staticmethod
    def _error_headers(
        status: int, anthropic: bool, options: _Options | None
    ) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        retry_ms = options.retry_after_ms if options is not None else None
        if retry_ms is None and status == 429:
            retry_ms = 1000.0
        if retry_ms is not None:
            headers.append(("retry-after", str(max(1, math.ceil(retry_ms / 1000)))))
            headers.append(("retry-after-ms", f"{retry_ms:g}"))
        if status == 429 and not anthropic:
            headers += [
                ("x-ratelimit-limit-requests", "60"),
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "1s"),
            ]
        elif status == 429:
            headers += [
                ("anthropic-ratelimit-requests-limit", "60"),
                ("anthropic-ratelimit-requests-remaining", "0"),
            ]
        return headers

    async def _send_json(
        self,
        conn: _Conn,
        rec: RecordedRequest,
        status: int,
        body: Any,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        data = dumps(body).encode()
        headers = [("content-type", "application/json"), *extra]
        rec.status = status
        if await conn.write(_head(status, headers, len(data)) + data):
            rec.completed = True

    async def _models(self, conn: _Conn, rec: RecordedRequest, anthropic: bool) -> bool:
        names = sorted(self.scenarios)
        if anthropic:
            data = [
                {
                    "type": "model",
                    "id": f"mock:{n}",
                    "display_name": f"Mock {n}",
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for n in names
            ]
            body: Any = {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"],
                "last_id": data[-1]["id"],
            }
        else:
            body = {
                "object": "list",
                "data": [
                    {"id": f"mock:{n}", "object": "model", "created": 0, "owned_by": "streamtui"}
                    for n in names
                ],
            }
        await self._send_json(conn, rec, 200, body)
        return False


def _has_key(headers: dict[str, str]) -> bool:
    """Either auth style: ``Authorization: Bearer KEY``, ``x-api-key`` or Azure's ``api-key``."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return True
    return bool(headers.get("x-api-key", "").strip() or headers.get("api-key", "").strip())


def _head(status: int, headers: Iterable[tuple[str, str]], length: int | None) -> bytes:
    """Status line and headers; always ``Connection: close``."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = _REASONS.get(status, "Unknown")
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"date: {email.utils.formatdate(usegmt=True)}",
        "server: streamtui-mock",
        *(f"{k}: {v}" for k, v in headers),
    ]
    if length is not None:
        lines.append(f"content-length: {length}")
    lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def serve(
    host: str = "127.0.0.1", port: int = 8765, *, latency: float = 0.0, jitter: float = 0.0
) -> None:
    """Run a mock server in the foreground until Ctrl-C (``streamtui mock-server``)."""
    server = MockProviderServer(host, port, latency=latency, jitter=jitter)
    server.start()
    try:
        names = ", ".join(sorted(server.scenarios))
        print(f"streamtui mock provider listening on {server.base_url} (loopback only)")
        print(f"  OpenAI:    export OPENAI_BASE_URL={server.openai_base_url} OPENAI_API_KEY=mock")
        anthropic = server.anthropic_base_url
        print(f"  Anthropic: export ANTHROPIC_BASE_URL={anthropic} ANTHROPIC_API_KEY=mock")
        print('  Pick a scenario with model="mock:<name>" or the header x-mock-scenario: <name>')
        print(f"  Scenarios: {names}")
        print("  Ctrl-C to stop.", flush=True)
        stop = threading.Event()
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
