"""Watch a run in another process or on another machine over Server-Sent Events.

``RemoteSource`` follows one SSE stream — streamtui's own ``--serve`` stream, whose
``data:`` lines are envelopes, or a LangGraph server's run stream, whose ``data:`` lines
are plain payloads — and offers its parts to the UI (or the JSONL printer) through the
same ``take(now, limit)`` as a live run or a replay.

Why a hand-made HTTP client: one long GET is all it takes, and stdlib asyncio streams do it
without adding a dependency. The stream is read on a thread of its own (with its own
event loop), so the TUI's loop never waits on the network and ``--no-tui`` needs no loop.

What the wire contract asks of a client, and where it is kept:

- reconnect with exponential backoff (0.25 s doubling to 8 s, reset after a connection
  that delivered something) and resume with ``Last-Event-ID``; give up after ``give_up``
  seconds without a successful connection (``AttachError``, exit code 1);
- never a duplicate (a numeric ``id`` or an envelope's ``seq`` at or below the last one
  is dropped) and never a reordering (parts go out in the order they arrived);
- ``gap`` events count into ``missed`` and become a notice; ``end`` finishes the source;
- ``401``/``403`` is fatal at once (``AttachError`` naming ``--token``, exit code 2), and
  so is ``409`` (the server's run has no part after our ``Last-Event-ID``: a different run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from streamtui.envelope import Part, parse_line

__all__ = [
    "AttachError",
    "RemoteSource",
    "SseDecoder",
    "SseEvent",
    "Target",
    "parse_target",
    "payload_part",
]

FIRST_DELAY = 0.25
MAX_DELAY = 8.0

# LangGraph's event names for one mode, folded into the mode its parts have on our bus.
_LANGGRAPH_MODES = {
    "messages/partial": "messages",
    "messages/complete": "messages",
    "messages/metadata": "messages",
    "messages-tuple": "messages",
}

# A serialized LangChain message's ``type``, and the class our logs tag it with.
_MESSAGE_TYPES = {
    "ai": "AIMessage",
    "human": "HumanMessage",
    "system": "SystemMessage",
    "tool": "ToolMessage",
    "AIMessage": "AIMessage",
    "AIMessageChunk": "AIMessageChunk",
    "HumanMessage": "HumanMessage",
    "HumanMessageChunk": "HumanMessageChunk",
    "SystemMessage": "SystemMessage",
    "SystemMessageChunk": "SystemMessage",
    "ToolMessage": "ToolMessage",
    "ToolMessageChunk": "ToolMessage",
}


class AttachError(Exception):
    """Attaching cannot go on. ``code`` is the command's exit code: 2 for a mistake in how
    it was called (a bad URL, a refused token), 1 for a server that cannot be reached."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """Where the stream is: what the request line and the ``Host`` header need."""

    url: str
    host: str
    port: int
    path: str
    host_header: str
    tls: bool

    @property
    def where(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"


def parse_target(url: str) -> Target:
    """Check an ``http(s)://host[:port]/path`` URL; ``AttachError`` (code 2) says what is
    wrong with any other."""
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as e:
        raise AttachError(f"{url}: not a valid URL ({e})", 2) from None
    if split.scheme not in ("http", "https"):
        raise AttachError(
            f"{url}: give an http:// or https:// URL (or nats://host:4222 for NATS)", 2
        )
    host = split.hostname
    if not host:
        raise AttachError(f"{url}: no host in the URL (like http://127.0.0.1:8000/stream)", 2)
    tls = split.scheme == "https"
    shown = f"[{host}]" if ":" in host else host
    path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    return Target(
        url=url,
        host=host,
        port=port or (443 if tls else 80),
        path=path,
        host_header=shown if port is None else f"{shown}:{port}",
        tls=tls,
    )


# --- the SSE wire format --------------------------------------------------------------


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event. ``id`` is the id field of this event only (``None`` when it
    had none), which is what duplicates are judged by."""

    event: str
    data: str
    id: str | None = None


_LINE_END = re.compile(rb"\r\n|\r|\n")


class SseDecoder:
    """Bytes in, events out, as the SSE spec reads them (``\\r\\n``, ``\\n`` or a lone
    ``\\r`` ends a line; ``:`` comments are keep-alives; an event without data is not
    dispatched; an ``id`` holding NUL is ignored)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        # A CR at the very end may be the first half of CRLF: wait for the next byte.
        held = b"\r" if buffer.endswith(b"\r") else b""
        lines = _LINE_END.split(buffer[:-1] if held else buffer)
        self._buffer = lines.pop() + held
        out: list[SseEvent] = []
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if not line:
                if self._data:
                    out.append(SseEvent(self._event or "message", "\n".join(self._data), self._id))
                self._event, self._data, self._id = "", [], None
                continue
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isdigit():
                self.retry = int(value)
        return out


def _numeric(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def _tag_messages(value: Any) -> Any:
    """A LangGraph server's payload with each serialized LangChain message (a dict with
    ``type`` and ``content``) in the tagged form our logs use, so the token pane, the run
    tree and the state view read them like our own."""
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and "content" in value and "_type" not in value:
            cls = _MESSAGE_TYPES.get(kind)
            if cls is not None:
                out: dict[str, Any] = {"_type": "message", "class": cls}
                for key, item in value.items():
                    if key == "content" or (key != "type" and not _empty(item)):
                        out[key] = _tag_messages(item)
                return out
        return {key: _tag_messages(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tag_messages(item) for item in value]
    return value


def _empty(item: Any) -> bool:
    """A field a message's constructor would default anyway (left out, as in our logs)."""
    return item is None or item is False or (isinstance(item, (str, list, dict)) and not item)


def payload_part(event: str, data: Any, seq: int, ts: float) -> Part:
    """A plain payload (a LangGraph run stream's ``data:``) as a part: the mode from the
    event name (``messages/partial`` is ``messages``), the namespace from what follows
    ``|`` in it, messages tagged as in our logs; ``events`` payloads stay the
    ``astream_events`` dicts they are, so the run tree fills as for a local run."""
    base, *ns = event.split("|")
    return Part(seq, ts, _LANGGRAPH_MODES.get(base, base), tuple(ns), _tag_messages(data))


def _looks_like_envelope(text: str) -> bool:
    head = text[:64]
    return head.lstrip().startswith("{") and '"seq"' in head


# --- the source -----------------------------------------------------------------------


class _Ended(Exception):
    """The stream said ``end`` (or finished cleanly): stop, do not reconnect."""


class _Dropped(Exception):
    """The connection was lost or refused in a way worth retrying."""


class RemoteSource:
    """A run streamed over SSE, for ``StreamApp`` or the printer: ``take`` hands out what
    has arrived, in arrival order, each part once.

    ``missed`` counts parts the server said this client will never get (``gap`` events);
    ``status`` is what the ``end`` event said; ``error`` is why following stopped early
    (``None`` if it did not). ``notices()`` / ``problems()`` are the lines to tell the
    user (reconnects, gaps, the error)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        give_up: float = 60.0,
        idle_timeout: float = 45.0,
        connect_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = parse_target(url)
        self.token = token
        self.give_up = give_up
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self._clock = clock
        self._parts: deque[Part] = deque()
        self._notices: deque[str] = deque()
        self._said: list[str] = []
        self._wake = threading.Condition()
        self.missed = 0
        self.gaps: list[tuple[int, int, str]] = []
        self._gap_upto = 0  # the newest seq already counted into ``missed``
        self.status: str | None = None
        self.error: AttachError | None = None
        self.ended = False
        self.delivered = 0
        self.duplicates = 0
        self.connections = 0
        self.last_id: str | None = None
        self._last_numeric: int | None = None
        self._last_seq: int | None = None
        self._counter = 0
        self._t0: float | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # --- the Source protocol ------------------------------------------------------

    def take(self, now: float, limit: int | None = None) -> list[Part]:
        """What has arrived (at most ``limit`` parts; the rest waits for the next call).
        Starts following the stream on the first call if ``start`` was not called."""
        self.start()
        parts = self._parts
        count = len(parts) if limit is None else min(limit, len(parts))
        return [parts.popleft() for _ in range(count)]

    @property
    def finished(self) -> bool:
        return self.ended and not self._parts

    # --- for the user ---------------------------------------------------------------

    def notices(self) -> list[str]:
        """Lines for the user that were not handed out before (for stderr)."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    def problems(self) -> list[str]:
        """Every notice so far (``StreamApp`` shows each one once)."""
        return list(self._said)

    def wait(self, timeout: float) -> None:
        """Block until there is something to take or tell, or the stream has ended."""
        with self._wake:
            if not (self._parts or self._notices or self.ended):
                self._wake.wait(timeout)

    # --- running --------------------------------------------------------------------

    def start(self) -> None:
        """Follow the stream on a thread of its own (once; later calls do nothing)."""
        if self._thread is not None:
            return
        self._t0 = self._clock()
        self._thread = threading.Thread(target=self._main, name="streamtui-attach", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop following (the connection is closed; what arrived stays takeable)."""
        self._closing = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._follow())
        except BaseException as e:  # a bug must end the source, not hang the viewer
            if self.error is None and not self._closing:
                self.error = AttachError(f"attach stopped: {type(e).__name__}: {e}")
                self._tell(str(self.error))
        finally:
            with self._wake:
                self.ended = True
                self._wake.notify_all()

    async def _follow(self) -> None:
        """Connect, read, and reconnect with backoff until ``end``, a fatal answer, or
        ``give_up`` seconds without a successful connection."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()  # type: ignore[assignment]
        delay = FIRST_DELAY
        down_since = self._clock()
        outage = False
        try:
            while not self._closing:
                before = self.delivered
                connected_at: list[float] = []
                try:
                    await self._read_stream(connected_at, reconnect=outage)
                    reason = "the server closed the stream"
                except _Ended:
                    return
                except AttachError as e:
                    self.error = e
                    self._tell(str(e))
                    return
                except _Dropped as e:
                    reason = str(e)
                except asyncio.TimeoutError:  # before OSError: it is one
                    reason = "no answer in time" if not connected_at else "the stream went quiet"
                except ssl.SSLCertVerificationError as e:
                    self.error = AttachError(f"{self.target.url}: TLS: {e.verify_message or e}")
                    self._tell(str(self.error))
                    return
                except (OSError, asyncio.IncompleteReadError, EOFError) as e:
                    reason = _describe(e)
                now = self._clock()
                if connected_at:
                    down_since = now  # the clock for giving up starts again
                    if self.delivered > before or now - connected_at[0] >= 1.0:
                        delay = FIRST_DELAY
                elif now - down_since >= self.give_up:
                    self.error = AttachError(
                        f"{self.target.where} is unreachable ({reason}); gave up after "
                        f"{self.give_up:g} s without a connection"
                    )
                    self._tell(str(self.error))
                    return
                if not outage:
                    if self.connections:
                        said = f"lost the stream from {self.target.where} ({reason}); reconnecting"
                    else:
                        said = f"cannot reach {self.target.where} ({reason}); retrying"
                    self._tell(said)
                    outage = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
        except asyncio.CancelledError:
            return  # close()

    async def _read_stream(self, connected_at: list[float], *, reconnect: bool) -> None:
        target = self.target
        context = ssl.create_default_context() if target.tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                target.host,
                target.port,
                ssl=context,
                server_hostname=target.host if context else None,
            ),
            self.connect_timeout,
        )
        try:
            writer.write(self._request())
            await writer.drain()
            headers = await asyncio.wait_for(self._head(reader), self.connect_timeout)
            connected_at.append(self._clock())
            self.connections += 1
            if reconnect and self.connections == 1:
                self._tell(f"connected to {target.where}")
            elif reconnect:
                after = f" after id {self.last_id}" if self.last_id is not None else ""
                self._tell(f"reconnected to {target.where}; resuming{after}")
            decoder = SseDecoder()
            async for chunk in self._body(reader, headers):
                for event in decoder.feed(chunk):
                    self._on_event(event)
            # The body ended as the server meant it to (the last chunk, or its length):
            # the run is over even though it said no ``end``.
            self._finish(None)
            raise _Ended
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _request(self) -> bytes:
        lines = [
            f"GET {self.target.path} HTTP/1.1",
            f"Host: {self.target.host_header}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
            "User-Agent: streamtui-attach",
        ]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        if self.last_id is not None and not any(c in self.last_id for c in "\r\n\0"):
            lines.append(f"Last-Event-ID: {self.last_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    async def _head(self, reader: asyncio.StreamReader) -> dict[str, str]:
        """The status line and headers; fatal statuses become ``AttachError``."""
        status_line = (await reader.readline()).decode("latin-1").strip()
        if not status_line:
            raise _Dropped("the server closed the connection before answering")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise AttachError(f"{self.target.url}: not an HTTP server ({status_line[:60]!r})", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status in (401, 403):
            given = "the token was refused" if self.token else "it needs a token"
            raise AttachError(
                f"{self.target.url}: {status} {reason} — {given}; pass the server's token "
                "with --token",
                2,
            )
        if status == 409:  # our server: Last-Event-ID is past its run's last part
            after = f"id {self.last_id}" if self.last_id is not None else "the last id"
            raise AttachError(
                f"{self.target.url}: {status} {reason} — the server has no part after "
                f"{after}: it is serving a different run than the one being followed",
                2,
            )
        if status == 204:
            self._finish(None)
            raise _Ended
        if status >= 500 or status in (408, 429):
            raise _Dropped(f"{status} {reason}".strip())
        if status != 200:
            raise AttachError(f"{self.target.url}: {status} {reason}".strip(), 2)
        kind = headers.get("content-type", "text/event-stream")
        if not kind.lower().startswith("text/event-stream"):
            raise AttachError(
                f"{self.target.url}: not an event stream (Content-Type: {kind}); give the "
                "URL of the stream itself",
                2,
            )
        return headers

    async def _body(
        self, reader: asyncio.StreamReader, headers: dict[str, str]
    ) -> AsyncIterator[bytes]:
        """The body's bytes as they come, whatever the framing; ``TimeoutError`` when
        nothing (not even a keep-alive) came for ``idle_timeout`` seconds."""
        idle = self.idle_timeout
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await asyncio.wait_for(reader.readline(), idle)
                if not size_line.endswith(b"\n"):
                    raise _Dropped("the connection was cut")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                chunk = await asyncio.wait_for(reader.readexactly(size + 2), idle)
                yield chunk[:-2]
        length = headers.get("content-length")
        left = int(length) if length and length.isdigit() else None
        while left is None or left > 0:
            chunk = await asyncio.wait_for(reader.read(65536 if left is None else left), idle)
            if not chunk:
                if left is None:
                    raise _Dropped("the server closed the connection")
                raise _Dropped("the connection was cut")
            if left is not None:
                left -= len(chunk)
            yield chunk

    # --- events ---------------------------------------------------------------------

    def _on_event(self, event: SseEvent) -> None:
        numeric = _numeric(event.id)
        name = event.event
        if name == "end":
            try:
                info = json.loads(event.data)
            except ValueError:
                info = None
            status = info.get("status") if isinstance(info, dict) else None
            self._finish(str(status) if status is not None else None)
            raise _Ended
        if name == "gap":
            self._gap(event.data)
        elif (
            numeric is not None and self._last_numeric is not None and numeric <= self._last_numeric
        ):
            self.duplicates += 1
            return
        else:
            part = self._part(name, event.data)
            if part is not None:
                self._deliver(part)
        if event.id is not None:
            self.last_id = event.id
            if numeric is not None:
                self._last_numeric = numeric

    def _part(self, name: str, text: str) -> Part | None:
        if _looks_like_envelope(text):
            try:
                part = parse_line(text)
            except ValueError:
                pass
            else:
                if self._last_seq is not None and part.seq <= self._last_seq:
                    self.duplicates += 1
                    return None
                self._last_seq = part.seq
                return part
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = text  # not JSON: keep the text
        if name == "error":
            self._tell(f"the run reported an error: {_error_text(data)}")
            self.status = "error"
        self._counter += 1
        t0 = self._t0 if self._t0 is not None else self._clock()
        return payload_part(name, data, self._counter, max(0.0, self._clock() - t0))

    def _gap(self, text: str) -> None:
        try:
            info = json.loads(text)
        except ValueError:
            info = None
        info = info if isinstance(info, dict) else {}
        first, last = info.get("from"), info.get("to")
        reason = str(info.get("reason") or "the server's backlog no longer held them")
        if isinstance(first, int) and isinstance(last, int) and last >= first:
            # Said again after a reconnect (nothing came between): count each part once.
            first = max(first, self._gap_upto + 1)
            if first > last:
                return
            self._gap_upto = last
            count = last - first + 1
            self.gaps.append((first, last, reason))
            what = f"parts {first} to {last}" if count > 1 else f"part {first}"
        else:
            count, what = 0, "some parts"
            self.gaps.append((-1, -1, reason))
        self.missed += count
        self._tell(f"missed {what} ({reason}); {self.missed} missed in all")

    def _deliver(self, part: Part) -> None:
        with self._wake:
            self._parts.append(part)
            self.delivered += 1
            self._wake.notify_all()

    def _tell(self, message: str) -> None:
        with self._wake:
            self._said.append(message)
            self._notices.append(message)
            self._wake.notify_all()

    def _finish(self, status: str | None) -> None:
        if status is not None or self.status is None:
            self.status = status if status is not None else "done"


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        kind, message = data.get("error"), data.get("message")
        if kind and message:
            return f"{kind}: {message}"
        return str(message or kind or data)
    return str(data)


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, asyncio.IncompleteReadError):
        return "the connection was cut"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or error}"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error) or type(error).__name__
