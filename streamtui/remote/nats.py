"""Runs over NATS JetStream: publish a run's parts, and follow runs from anywhere.

Why JetStream: a stream keeps every part, so a viewer that joins late replays the run
from its start, many producers and many viewers share one server, and a publisher that
lost the server resends what was not acknowledged — JetStream's duplicate window (the
``Nats-Msg-Id`` header, ``<run_id>:<first seq>-<last seq>``) throws away what had
arrived after all.

Subjects (stream ``STREAMTUI`` by default, subjects ``streamtui.runs.>``):

- ``streamtui.runs.<run_id>.<mode>``: one or more parts of that mode per message (one
  message per mode per frame), in seq order; the payload is their log lines exactly as
  ``encode_line`` writes them (secrets redacted), joined by ``\n``. A re-send is the
  same message (same parts, same id), so JetStream drops it; viewers order and dedupe
  by each part's seq.
- ``streamtui.runs.<run_id>._start``: the run's header (the log's header fields plus
  ``run``), published before any part, so a viewer can list runs and pick the newest.
- ``streamtui.runs.<run_id>._gap``: ``{"from", "to", "reason"}``, parts that will never
  come (so viewers do not wait for them): ``dropped`` when the publisher's buffer
  overflowed, ``refused`` when the server refused them (over ``max_payload``, or a
  JetStream limit). The footer's ``gaps`` lists them all again.
- ``streamtui.runs.<run_id>._end``: the footer (status, counts, ``last_seq``, what was
  dropped), published after every part was acknowledged: the run ended.

Nothing here is imported by ``import streamtui``; nats-py is imported when a publisher or
a source is made (``pip install "streamtui[nats]"``). See docs/remote.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from streamtui.envelope import (
    Part,
    Redactor,
    encode_line,
    line_bytes,
    parse_line,
    parse_lines,
)

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_STREAM",
    "SUBJECT_PREFIX",
    "NatsAttachError",
    "NatsPublisher",
    "NatsSource",
    "NatsUnavailable",
    "RemotePart",
    "RemoteRun",
    "check_run_id",
    "check_url",
    "open_nats_source",
    "require_nats",
    "safe_url",
]

SUBJECT_PREFIX = "streamtui.runs"
DEFAULT_STREAM = "STREAMTUI"
DEFAULT_MAX_AGE = 24 * 3600.0
"""Seconds a part stays in the stream (JetStream drops older ones)."""
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_BUFFER = 100_000
"""Parts a publisher holds while the server is unreachable; then it drops the oldest."""
_DUPLICATE_WINDOW = 120.0
_INSTALL = 'NATS support needs nats-py: pip install "streamtui[nats]"'


class NatsUnavailable(ImportError):
    """nats-py is not installed; the message says how to install it."""


class NatsAttachError(Exception):
    """Following cannot go on (the server stayed unreachable, the run never appeared).
    ``code`` is the command's exit code (1)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def require_nats() -> None:
    """Raise ``NatsUnavailable`` (saying what to install) unless nats-py is there."""
    try:
        import nats  # noqa: F401
    except ImportError:
        raise NatsUnavailable(_INSTALL) from None


def check_url(url: str) -> str:
    """``url`` if it names a NATS server (``nats://host[:port]`` or ``tls://``), else
    ``ValueError`` with a one-line reason (the CLI prints it and exits 2). The reason
    shows the URL with its password or token masked."""
    shown = safe_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"{shown}: not a URL; give nats://host:4222") from None
    if parts.scheme not in ("nats", "tls"):
        raise ValueError(f"{shown}: give a nats:// URL, like nats://127.0.0.1:4222")
    if not parts.hostname:
        raise ValueError(f"{shown}: no host; give nats://host:4222")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shown}: a NATS URL is only nats://host:port (no path or query)")
    if port == 0:
        raise ValueError(f"{shown}: port 0 is not a server's port")
    url = url.strip()
    return parts.scheme + url[len(parts.scheme) :]  # NATS:// works too (nats-py: only nats)


def check_run_id(run: str) -> str:
    """``run`` if it can name a run in a subject (one token: no dots, wildcards or
    spaces), else ``ValueError`` (the CLI prints it and exits 2)."""
    if not run or any(c in ".*>" or c.isspace() or not c.isprintable() for c in run):
        raise ValueError(
            f"--run {run!r}: not a run id (one word without dots, spaces, '*' or '>'; "
            "the id `streamtui run --publish` printed)"
        )
    return run


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@]*)@")


def safe_url(url: str) -> str:
    """``url`` fit to print: a password masked (``user:***@``), and a lone user name too
    (``***@``: NATS takes a token there)."""

    def mask(m: re.Match[str]) -> str:
        user, colon, _ = m.group(2).partition(":")
        return f"{m.group(1)}{user + ':***' if colon else '***'}@"

    return _USERINFO.sub(mask, url.strip())


_safe_url = safe_url


def _token(text: str) -> str:
    """``text`` usable as one subject token (modes are plain words already)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "_"


def _json(obj: Any, redactor: Redactor) -> bytes:
    return line_bytes(
        redactor(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str))
    )


_TRANSIENT = frozenset({"UnexpectedEOF", "StaleConnectionError", "ConnectionClosedError"})


def _transient(error: BaseException) -> bool:
    """A lost or refused connection: reconnecting deals with it, and what it costs
    (buffered parts, a viewer waiting) is reported where it matters."""
    return isinstance(error, (OSError, asyncio.TimeoutError)) or type(error).__name__ in _TRANSIENT


async def _connect(url: str, token: str | None, owner: Any, name: str) -> Client:
    """A connection that reconnects for ever (the owner's callbacks say when)."""
    import nats

    async def on_error(error: Exception) -> None:
        owner._note_error(error)

    async def on_disconnected() -> None:
        owner._on_disconnected()

    async def on_reconnected() -> None:
        owner._on_reconnected()

    return await nats.connect(
        servers=[url],
        name=name,
        token=token,
        connect_timeout=2,
        allow_reconnect=True,
        max_reconnect_attempts=-1,  # also keeps trying the first connection
        reconnect_time_wait=0.25,
        skip_subject_validation=True,  # every subject is made here, from safe tokens
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
    )


# --- publishing --------------------------------------------------------------------------


_FRAME = 128
"""Parts per write (and per acknowledgement) on a stream this publisher created."""

_Line = tuple[int, bytes]
"""A part's seq and its log line (the bytes in a message's payload)."""

_Message = tuple[str, bytes, bytes, list[_Line]]
"""A message ready to send: its ack key, ``b"HPUB <subject>"``, the rest of the
command after the subject (sizes, headers, payload; a reply subject goes in between),
and the parts in its payload (none for a marker), to split it if it is refused."""


def _frame_bytes(msgs: list[_Message], reply: bytes) -> bytes:
    """The protocol bytes of a frame: every message's HPUB, only the last one with a reply
    subject. JetStream stores one connection's messages in order, so the ack of the last
    says the whole frame is stored: one ack per frame instead of one per part (handling
    an ack in nats-py cost more than sending the part)."""
    chunks: list[bytes] = []
    for _, head, tail, _ in msgs[:-1]:
        chunks += (head, tail)
    _, head, tail, _ = msgs[-1]
    chunks += (head, b" ", reply, tail)
    return b"".join(chunks)


async def _write(nc: Client, data: bytes) -> None:
    """Queue ready-made protocol bytes on nats-py's outgoing buffer, as its ``publish``
    does for one message (there is no public call for many): the buffer survives a
    reconnect, and the flusher task writes it in one go."""
    await nc._send_command(data)
    queue = nc._flush_queue
    if queue is not None and queue.empty():
        await nc._flush_pending()


class _Pending:
    """A frame sent and not yet acknowledged: kept to send again as it is (the same
    ``Nats-Msg-Id``s, so JetStream drops what it had)."""

    __slots__ = ("data", "msgs", "parts", "sent")

    def __init__(self, msgs: list[_Message], reply: bytes, parts: int) -> None:
        self.msgs = msgs
        self.data = _frame_bytes(msgs, reply)
        self.parts = parts
        """Parts in the frame (0 for a marker)."""
        self.sent = 0.0


class NatsPublisher:
    """Publishes every part of one run to JetStream without ever slowing the run.

    ``handle`` is a ``run_session`` consumer (it runs in that consumer's pump thread): it
    only appends to a bounded buffer and wakes the publisher's own event loop, which runs
    in its own thread. While the server is unreachable the buffer fills; past ``buffer``
    parts the oldest are dropped, counted, warned about (``warn``) and announced to
    viewers (a ``_gap`` message). After a reconnect everything unacknowledged is sent
    again, in order; ``Nats-Msg-Id`` makes JetStream drop what it had already.

    Use: ``start()``, pass ``("nats", publisher.handle)`` to ``run_session``, then
    ``close(footer)`` — it waits (up to ``timeout``) for the last acknowledgements and
    publishes the end marker.
    """

    def __init__(
        self,
        url: str,
        *,
        header: dict[str, Any] | None = None,
        redactor: Redactor | None = None,
        run_id: str | None = None,
        stream: str = DEFAULT_STREAM,
        max_age: float = DEFAULT_MAX_AGE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        buffer: int = DEFAULT_BUFFER,
        token: str | None = None,
        warn: Callable[[str], None] | None = None,
        window: int = 4096,
        ack_timeout: float = 2.0,
    ) -> None:
        require_nats()
        self.url = check_url(url)
        self.run_id = run_id or uuid.uuid4().hex
        self.stream = stream
        self.max_age = max_age
        self.max_bytes = max_bytes
        self.buffer = max(1, buffer)
        self.token = token
        self.redactor = redactor or Redactor()
        self.window = max(1, min(window, self.buffer))
        self.ack_timeout = ack_timeout
        self._warn = warn
        self.subject = f"{SUBJECT_PREFIX}.{_token(self.run_id)}"
        self._nc: Client | None = None
        self.closed = False
        self.published = 0
        """Parts JetStream acknowledged (each once, re-sends included)."""
        self.duplicates = 0
        """Re-sends JetStream recognised as parts it had already (not stored twice)."""
        self.dropped = 0
        """Parts dropped because the buffer overflowed while the server was away."""
        self.failed = 0
        """Parts JetStream refused (its error is in ``problems()``)."""
        self.last_seq = 0
        self._problems: list[str] = []
        self._told: set[str] = set()
        self._reached = False
        self._lock = threading.Lock()
        self._queue: deque[Part] = deque()
        self._gaps: list[list[Any]] = []  # [from, to, reason], not yet announced
        self._all_gaps: list[list[Any]] = []
        self._control: deque[tuple[str, str, bytes]] = deque()
        self._inflight: dict[str, _Pending] = {}
        self._inflight_parts = 0
        self._frame = _FRAME
        rid = self.run_id.translate({10: None, 13: None}).strip().encode()
        # Only the dedupe id: every header costs each viewer a parse in nats-py (the run
        # is in the subject and in the id).
        self._hdr = b"NATS/1.0\r\nNats-Msg-Id: " + rid + b":"
        self._subjects: dict[str, bytes] = {}
        self._warned_overflow = False
        self._resend = False
        self._closing = False
        self._abandon = False
        self._end_acked = False
        self._end_sent = False
        self._footer: dict[str, Any] = {}
        self._seen_status = "ended"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._sleeping = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamtui-nats", daemon=True)
        start = {"type": "header", "run": self.run_id, **(header or {})}
        self._control.append(("start", f"{self.subject}._start", _json(start, self.redactor)))

    # -- the caller's side (any thread) --

    @property
    def connected(self) -> bool:
        """Connected to the server right now."""
        nc = self._nc
        return nc is not None and nc.is_connected

    def start(self, wait: float = 2.0) -> bool:
        """Start publishing; True once connected (waits up to ``wait`` seconds). Not
        connected yet: the run goes on, parts are buffered, connecting goes on."""
        self._thread.start()
        self._ready.wait(wait)
        if not self.connected:
            self._say(
                f"cannot reach {_safe_url(self.url)} yet; buffering up to "
                f"{self.buffer:,} parts and retrying"
            )
        return self.connected

    def handle(self, parts: list[Part]) -> None:
        """Queue a batch (a ``run_session`` consumer): never blocks, never raises."""
        if not parts:
            return
        with self._lock:
            queue = self._queue
            queue.extend(parts)
            self.last_seq = parts[-1].seq
            for part in parts:
                data = part.data
                if part.mode == "events" and type(data) is dict and not data.get("parent_ids"):
                    # The root run's end or failure: the status when no footer is given.
                    event = str(data.get("event", ""))
                    if event.endswith("_end"):
                        self._seen_status = "done"
                    elif event.endswith("_error"):
                        self._seen_status = "error"
            over = len(queue) + self._inflight_parts - self.buffer
            if over > 0:
                gaps = self._gaps
                for _ in range(min(over, len(queue))):
                    seq = queue.popleft().seq
                    if gaps and gaps[-1][1] == seq - 1 and gaps[-1][2] == "dropped":
                        gaps[-1][1] = seq
                    else:
                        gaps.append([seq, seq, "dropped"])
                    self.dropped += 1
                first_warning = not self._warned_overflow
                self._warned_overflow = True
            else:
                first_warning = False
        if first_warning:
            why = (
                "the server is slower than the run"
                if self.connected
                else f"{_safe_url(self.url)} is unreachable"
            )
            self._say(
                f"the NATS buffer is full ({self.buffer:,} parts; {why}): dropping the "
                "oldest parts (the local log keeps everything)"
            )
        self._poke()

    def close(self, footer: dict[str, Any] | None = None, timeout: float = 10.0) -> bool:
        """Publish what is left and the end marker (``footer``: status, counts...), then
        disconnect. Gives up after ``timeout`` seconds; True if nothing was lost. Without
        a footer the status is read from the parts: ``done`` or ``error`` when the root
        run's end or error went by, else ``ended``."""
        if self.closed:
            return not self._problems
        self.closed = True
        self._footer = dict(footer or {"status": self._seen_status})
        self._closing = True
        never = not self._reached  # never connected: nothing to wait for
        if never:
            self._abandon = True
        self._poke()
        if self._thread.is_alive():
            self._thread.join(2.0 if never else timeout)
            if self._thread.is_alive():
                self._abandon = True
                self._poke()
                self._thread.join(2.0)
        with self._lock:
            unsent = len(self._queue) + sum(p.parts for p in self._inflight.values())
        if unsent and never:
            self._problem(
                f"{unsent:,} parts were not published: {_safe_url(self.url)} was never "
                "reached (the local log has them)"
            )
        elif unsent:
            self._problem(
                f"{unsent:,} parts were not published: {_safe_url(self.url)} did not "
                f"acknowledge them within {timeout:g}s (the local log has them)"
            )
        if self.dropped:
            with self._lock:
                drops = [g for g in self._all_gaps + self._gaps if g[2] == "dropped"]
            ranges = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b, _ in drops[:5])
            self._problem(
                f"{self.dropped:,} parts were dropped from the NATS buffer (it overflowed: "
                f"the server was away or slower than the run; seq {ranges}"
                f"{', ...' if len(drops) > 5 else ''})"
            )
        if not self._end_acked and not unsent:
            self._problem("the run's end marker was not acknowledged; viewers will not see it end")
        return not (unsent or self.dropped or self.failed or not self._end_acked)

    def problems(self) -> list[str]:
        """What went wrong, in words (overflow, refused parts, unreachable server)."""
        return list(self._problems)

    def untold(self) -> list[str]:
        """The problems not said through ``warn`` already (to print after ``close``)."""
        return [p for p in self._problems if p not in self._told]

    def footer_for(self, outcome: Any) -> dict[str, Any]:
        """The end marker's fields for a ``RunOutcome`` (status, error, counts)."""
        error = outcome.error
        return {
            "status": outcome.status,
            "error": {"type": type(error).__name__, "message": str(error)} if error else None,
            "duration": round(outcome.duration, 6),
            "counts": outcome.tally.as_footer(),
        }

    def _problem(self, text: str) -> None:
        if text not in self._problems:
            self._problems.append(text)

    def _refused(self, seq: int) -> None:
        """A part the server will never have: counted, and announced to viewers as a gap
        (a ``_gap`` now, the footer's ``gaps`` at the end) so they do not wait for it."""
        self.failed += 1
        with self._lock:
            self._gaps.append([seq, seq, "refused"])

    def _say(self, text: str) -> None:
        self._problem(text)
        if self._warn is not None and text not in self._told:
            self._told.add(text)
            self._warn(f"streamtui: {text}")

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and self._sleeping:
            self._sleeping = False
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop has finished
                pass

    # -- the publisher's loop (its own thread) --

    def _note_error(self, error: Exception) -> None:
        if not _transient(error):
            self._problem(f"NATS: {type(error).__name__}: {error}")

    def _on_disconnected(self) -> None:
        pass

    def _on_reconnected(self) -> None:
        self._warned_overflow = False
        self._resend = True
        self._poke()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # never let the publisher take the run down
            self._problem(f"the NATS publisher stopped: {type(e).__name__}: {e}")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        connecting = asyncio.ensure_future(
            _connect(self.url, self.token, self, f"streamtui-publish-{self.run_id}")
        )
        while not connecting.done():
            await asyncio.wait([connecting], timeout=0.1)
            if self._abandon:
                connecting.cancel()
                with contextlib.suppress(BaseException):
                    await connecting
                return
        nc = connecting.result()
        self._reached = True
        try:
            await self._ensure_stream(nc)
            self._nc = nc
            self._ready.set()
            await self._pump(nc)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2.0)

    async def _ensure_stream(self, nc: Client) -> None:
        """Create the stream if missing; a different existing one is used as it is."""
        from nats.js.api import StorageType, StreamConfig
        from nats.js.errors import BadRequestError, NoStreamResponseError

        js = nc.jetstream()
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{SUBJECT_PREFIX}.>"],
            max_age=self.max_age,
            max_bytes=self.max_bytes,
            storage=StorageType.FILE,
            duplicate_window=_DUPLICATE_WINDOW,
        )
        while not self._abandon:
            try:
                await js.add_stream(config)
                return
            except BadRequestError:
                # The stream exists with other settings (someone else's limits): use it.
                # Its limits may refuse one message of a frame (a size limit, discard
                # new) while storing the last: every part asks for its own ack there.
                self._frame = 1
                info = await js.stream_info(self.stream)
                subjects = info.config.subjects or []
                if f"{SUBJECT_PREFIX}.>" not in subjects:
                    self._say(
                        f"stream {self.stream} exists without subjects {SUBJECT_PREFIX}.> "
                        f"(it has {subjects}); parts may not be stored"
                    )
                return
            except NoStreamResponseError:
                self._say(f"{_safe_url(self.url)} has no JetStream (start nats-server with -js)")
                await asyncio.sleep(1.0)
            except Exception:
                await asyncio.sleep(0.25)  # the server went away meanwhile: try again

    def _message(self, key: str, subject: str, msg_id: str, payload: bytes) -> _Message:
        """A marker's message (the parts' hot path inlines the same in ``_frames``)."""
        hdr = self._hdr + msg_id.encode() + b"\r\n\r\n"
        tail = b" %d %d\r\n%s%s\r\n" % (len(hdr), len(hdr) + len(payload), hdr, payload)
        return key, b"HPUB " + subject.encode(), tail, []

    def _lines_message(self, head: bytes, lines: list[_Line]) -> _Message:
        """The message of parts ``lines`` (all of one mode, in seq order): their lines
        joined by newlines, ``Nats-Msg-Id: <run>:<first seq>-<last seq>``. The same
        parts always make the same message (a re-send is the same bytes, so JetStream's
        duplicate window recognises it)."""
        ident = b"%d-%d" % (lines[0][0], lines[-1][0])
        payload = b"\n".join([line for _, line in lines])
        hdr = b"%s%s\r\n\r\n" % (self._hdr, ident)
        tail = b" %d %d\r\n%s%s\r\n" % (len(hdr), len(hdr) + len(payload), hdr, payload)
        return ident.decode(), head, tail, lines

    def _add(self, key: str, pending: _Pending) -> _Pending:
        """Count a frame in flight (it is sent, or will be after a reconnect)."""
        self._inflight[key] = pending
        self._inflight_parts += pending.parts
        pending.sent = time.monotonic()
        return pending

    def _acked(self, key: str, data: bytes, inbox: str) -> list[_Pending]:
        """Settle the frame ``key`` with its ack; what must be sent again, one by one (a
        refused frame: which of its parts were refused is only known part by part)."""
        pending = self._inflight.get(key)
        if pending is None:
            return []  # the ack of a re-send that was acknowledged already
        if not data:  # a status (503: no stream answered, e.g. while it recovers)
            pending.sent = time.monotonic() - self.ack_timeout + 0.25
            return []
        del self._inflight[key]
        self._inflight_parts -= pending.parts
        if data.startswith(b'{"error"'):
            msgs = pending.msgs
            if len(msgs) == 1 and len(msgs[0][3]) > 1:
                # One message of several parts: each part on its own, to learn which.
                head = msgs[0][1]
                msgs = [self._lines_message(head, [line]) for line in msgs[0][3]]
            if len(msgs) > 1:
                self._frame = 1
                return [
                    self._add(m[0], _Pending([m], f"{inbox}.{m[0]}".encode(), len(m[3])))
                    for m in msgs
                ]
            try:
                error = json.loads(data)["error"]
                reason = error.get("description", str(error))
            except (ValueError, KeyError, AttributeError):
                reason = data.decode("utf-8", "replace")
            self._problem(f"JetStream refused a message: {reason}")
            for seq, _ in msgs[0][3]:
                self._refused(seq)
        elif pending.parts:
            self.published += pending.parts
            if b'"duplicate":true' in data:
                self.duplicates += pending.parts
        elif key == "end":
            self._end_acked = True
        return []

    async def _pump(self, nc: Client) -> None:
        inbox = nc.new_inbox()
        prefix = len(inbox) + 1
        inflight = self._inflight

        async def on_ack(msg: Msg) -> None:
            for pending in self._acked(msg.subject[prefix:], msg.data, inbox):
                if not await send(pending):
                    self._resend = True
                    break
            if self._inflight_parts < self.window // 2 or not inflight:
                self._poke()

        await nc.subscribe(f"{inbox}.*", cb=on_ack, pending_msgs_limit=1_000_000)
        redactor = self.redactor
        subject = self.subject
        wake = self._wake
        assert wake is not None

        async def send(pending: _Pending) -> bool:
            if not nc.is_connected:
                return False
            pending.sent = time.monotonic()
            try:
                await _write(nc, pending.data)
            except Exception:
                return False
            return True

        while not self._abandon:
            if nc.is_connected:
                if self._resend:
                    self._resend = False
                    # A server restarted with an empty store has no stream any more.
                    await self._ensure_stream(nc)
                    for pending in list(inflight.values()):
                        if not await send(pending):
                            self._resend = True
                            break
                # Markers first (the start, announcements of dropped parts), then parts.
                with self._lock:
                    for a, b, why in self._gaps:
                        gap = {"type": "gap", "from": a, "to": b, "reason": why}
                        self._control.append((f"gap{a}", f"{subject}._gap", _json(gap, redactor)))
                    self._all_gaps.extend(self._gaps)
                    self._gaps = []
                while self._control and nc.is_connected:
                    key, subj, payload = self._control.popleft()
                    msg = self._message(key, subj, f"{self.run_id}:{key}", payload)
                    await send(self._add(key, _Pending([msg], f"{inbox}.{key}".encode(), 0)))
                room = self.window - self._inflight_parts
                while room > 0 and self._queue and nc.is_connected:
                    with self._lock:
                        batch = [self._queue.popleft() for _ in range(min(room, len(self._queue)))]
                    room -= len(batch)
                    if not await self._send_parts(nc, batch, inbox):
                        self._resend = True  # sent again (in order) after reconnecting
                        break
                # Not acknowledged in time (lost on the way): send again, oldest first.
                stale = time.monotonic() - self.ack_timeout
                for pending in list(inflight.values()):
                    if pending.sent > stale:
                        break
                    if not await send(pending):
                        break
            if self._closing and not self._queue and not self._gaps and not self._control:
                if self._end_acked:
                    return
                if not inflight and not self._end_sent:
                    self._end_sent = True
                    end = {
                        "type": "footer",
                        "run": self.run_id,
                        "last_seq": self.last_seq,
                        "published": self.published,
                        "dropped": self.dropped,
                        "gaps": [[a, b] for a, b, _ in self._all_gaps],
                        **self._footer,
                    }
                    self._control.append(("end", f"{subject}._end", _json(end, redactor)))
                    continue
            wake.clear()
            self._sleeping = True
            ready = (self._queue and self._inflight_parts < self.window) or self._gaps
            if (ready and nc.is_connected) or self._abandon:
                self._sleeping = False
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.25 if inflight else 1.0)
            self._sleeping = False

    def _frames(self, batch: list[Part], inbox: str, limit: int) -> list[tuple[str, _Pending]]:
        """The batch as frames of up to ``self._frame`` parts (the hot path: encode each
        part and build the HPUB commands as bytes, with no per-part call into nats-py).
        A frame is one message per mode: the lines of its parts of that mode, joined by
        newlines (a message that would pass the server's ``limit`` is cut in two). A
        part over ``limit`` on its own is refused here: the server would close the
        connection on it."""
        frames: list[tuple[str, _Pending]] = []
        redactor = self.redactor
        size = self._frame
        room = limit - len(self._hdr) - 48  # the header's id: two seqs, a dash, CRLFs
        groups: dict[str, list[Any]] = {}  # mode -> [bytes so far, lines] of this frame
        msgs: list[_Message] = []
        count = 0
        for part in batch:
            payload = line_bytes(encode_line(part, redactor))
            if len(payload) > room:
                self._refused(part.seq)
                self._problem(
                    f"part {part.seq} was not published: {len(payload):,} bytes, over the "
                    f"server's max_payload of {limit:,} (the local log has it)"
                )
                continue
            mode = part.mode
            group = groups.get(mode)
            if group is None:
                group = groups[mode] = [0, []]
            elif group[0] + 1 + len(payload) > room:
                msgs.append(self._lines_message(self._head(mode), group[1]))
                group[0], group[1] = 0, []
            group[0] += len(payload) + 1
            group[1].append((part.seq, payload))
            count += 1
            if count >= size:
                frames.append(self._frame_of(msgs, groups, inbox, count))
                groups, msgs, count = {}, [], 0
        if count:
            frames.append(self._frame_of(msgs, groups, inbox, count))
        return frames

    def _head(self, mode: str) -> bytes:
        head = self._subjects.get(mode)
        if head is None:
            head = self._subjects[mode] = f"HPUB {self.subject}.{_token(mode)}".encode()
        return head

    def _frame_of(
        self, msgs: list[_Message], groups: dict[str, list[Any]], inbox: str, count: int
    ) -> tuple[str, _Pending]:
        """A frame of the messages cut already and one per mode of what is left; its key
        (the ack's subject token) is its last message's ``<first>-<last>``."""
        for mode, (_, lines) in groups.items():
            if lines:
                msgs.append(self._lines_message(self._head(mode), lines))
        key = msgs[-1][0]
        return key, _Pending(msgs, f"{inbox}.{key}".encode(), count)

    async def _send_parts(self, nc: Client, batch: list[Part], inbox: str) -> bool:
        """Send a batch, one write per frame. Every part is in flight afterwards, sent or
        not; False if the connection went."""
        sending = True
        for key, pending in self._frames(batch, inbox, nc.max_payload):
            self._add(key, pending)
            if sending:
                try:
                    await _write(nc, pending.data)
                except Exception:
                    sending = False
        return sending


# --- following runs ----------------------------------------------------------------------


class RemotePart(Part):
    """A part that came over NATS; ``run`` is the run it belongs to (the publisher's
    run id), so parts of several runs can be told apart (``open_nats_source(all_runs=
    True)``) while ``seq``, ``ns`` and ``data`` stay exactly as published."""

    __slots__ = ("run",)

    def __init__(
        self, seq: int, ts: float, mode: str, ns: tuple[str, ...], data: Any, run: str
    ) -> None:
        super().__init__(seq, ts, mode, ns, data)
        self.run = run


@dataclass
class RemoteRun:
    """What a viewer knows of one run: its header and footer (``None`` until seen), and
    the parts handed out so far, in ``seq`` order without gaps or duplicates."""

    run_id: str
    header: dict[str, Any] | None = None
    footer: dict[str, Any] | None = None
    delivered: int = 0
    skipped: int = 0
    """Parts that never came: dropped by the publisher (announced) or lost."""
    next_seq: int = 1
    held: dict[int, RemotePart] = field(default_factory=dict, repr=False)
    gaps: list[tuple[int, int]] = field(default_factory=list, repr=False)
    waiting_since: float | None = field(default=None, repr=False)

    @property
    def ended(self) -> bool:
        """The end marker came and every part up to its ``last_seq`` was handed out."""
        if self.footer is None:
            return False
        return self.next_seq > int(self.footer.get("last_seq") or 0)

    @property
    def status(self) -> str:
        """``live`` until the end marker, then the footer's status."""
        return "live" if self.footer is None else str(self.footer.get("status", "ended"))

    def _release(self, out: list[Part]) -> None:
        held = self.held
        while True:
            nxt = self.next_seq
            part = held.pop(nxt, None)
            if part is not None:
                out.append(part)
                self.delivered += 1
                self.next_seq = nxt + 1
                continue
            skip = next((b for a, b in self.gaps if a <= nxt <= b), None)
            if skip is None:
                break
            self.skipped += skip - nxt + 1
            self.next_seq = skip + 1
        # Waiting: for a hole before held parts, or for the last parts of a run that ended.
        waiting = held or (self.footer is not None and not self.ended)
        self.waiting_since = time.monotonic() if waiting else None


class NatsSource:
    """Parts of one run, the newest run, or every run, from JetStream: a ``Source``
    for the TUI's frame pump (``take`` once per frame, ``finished``).

    A background thread runs its own event loop (so it works the same under Textual's
    loop, under none, or from a test): an ordered consumer replays the chosen subjects
    from the stream's first message (a late joiner sees the whole run) and follows them
    live, recreating itself after a reconnect from where it got to. Each run's parts
    are handed out in ``seq`` order, each once: a part that arrives early (a publisher's
    re-send after a reconnect can overtake) waits for the ones before it, a duplicate
    is dropped, and a hole is skipped when the publisher announced it (``_gap``) or after
    ``hole_timeout`` seconds (said in ``problems()``).

    For the CLI, like ``RemoteSource``: ``notices()`` hands out news once (cannot reach
    the server, reconnecting, parts skipped), ``status`` is the followed run's footer
    status, and ``error`` says why following stopped: after ``give_up`` seconds without
    a connection, or without the chosen run (or, for ``latest``, any run) appearing.
    """

    def __init__(
        self,
        url: str,
        *,
        run: str | None = None,
        latest: bool = False,
        all_runs: bool = False,
        token: str | None = None,
        hole_timeout: float = 5.0,
        give_up: float = 60.0,
    ) -> None:
        require_nats()
        if sum((run is not None, latest, all_runs)) > 1:
            raise ValueError("follow one of: a run id, the latest run, or all runs")
        if run is not None:
            check_run_id(run)
        self.url = check_url(url)
        self.where = _safe_url(self.url)
        self.give_up = give_up
        self.error: NatsAttachError | None = None
        """Why following stopped early (``None`` if it did not)."""
        self._notices: deque[str] = deque()
        self._down_since: float | None = None
        self._stopped = False
        self.token = token
        self.all_runs = all_runs
        self.run: str | None = run
        """The run followed (for ``latest``: ``None`` until the newest run is known)."""
        self.runs: dict[str, RemoteRun] = {}
        """Every run seen, in the order first seen."""
        self.hole_timeout = hole_timeout
        self._nc: Client | None = None
        self.received = 0
        self.duplicates = 0
        self._latest = latest or (run is None and not all_runs)
        self._problems: list[str] = []
        self._lock = threading.Lock()
        self._out: list[Part] = []
        self._closed = False
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="streamtui-nats-view", daemon=True)
        self._thread.start()

    # -- the Source protocol --

    @property
    def connected(self) -> bool:
        """Connected to the server right now."""
        nc = self._nc
        return nc is not None and nc.is_connected

    def take(self, now: float, limit: int | None = None) -> list[Part]:
        """The parts ready, oldest first (at most ``limit``; the rest wait)."""
        with self._lock:
            out = self._out
            if limit is None or len(out) <= limit:
                self._out = []
                return out
            self._out = out[limit:]
            return out[:limit]

    @property
    def finished(self) -> bool:
        """The followed run ended and everything was taken (never for ``all_runs``), or
        following stopped on an error (``error``)."""
        if self.error is not None:
            return not self._out
        if self.all_runs or self.run is None:
            return False
        info = self.runs.get(self.run)
        return info is not None and info.ended and not self._out

    def problems(self) -> list[str]:
        """Parts skipped, errors, giving up, in words (``StreamApp`` shows each once)."""
        return list(self._problems)

    def notices(self) -> list[str]:
        """News not handed out before (for stderr): the problems, and the connection's
        comings and goings."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    @property
    def status(self) -> str | None:
        """The followed run's footer status (``None`` until its end, and for all runs)."""
        info = self.runs.get(self.run) if self.run is not None and not self.all_runs else None
        if info is None or info.footer is None:
            return None
        return str(info.footer.get("status", "ended"))

    @property
    def missed(self) -> int:
        """Parts of the followed run that were skipped (never came)."""
        info = self.runs.get(self.run) if self.run is not None else None
        return info.skipped if info is not None else 0

    def wait(self, timeout: float) -> None:
        """Block until there is something to take or tell, or following ended (at most
        ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while not (self._out or self._notices or self.finished or self._stopped):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    def wait_connected(self, timeout: float) -> bool:
        """Block until subscribed (or ``timeout``); for scripts and tests."""
        self._ready.wait(timeout)
        return self.connected

    def close(self) -> None:
        """Stop following and disconnect."""
        self._closed = True
        self._thread.join(5.0)

    def __enter__(self) -> NatsSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the background loop --

    def _problem(self, text: str) -> None:
        if text not in self._problems:
            self._problems.append(text)
            self._notices.append(text)

    def _news(self, text: str) -> None:
        """A notice only (connection news is not a problem of the run)."""
        self._notices.append(text)

    def _fail(self, text: str) -> None:
        """Stop following: ``error`` says why (the CLI exits 1 with it)."""
        if self.error is None and not self._closed:
            self.error = NatsAttachError(text)
            self._problem(text)

    @property
    def _stopping(self) -> bool:
        return self._closed or self.error is not None

    def _note_error(self, error: Exception) -> None:
        if not _transient(error):
            self._problem(f"NATS: {type(error).__name__}: {error}")

    def _on_disconnected(self) -> None:
        if not self._stopping and not self._stopped and self._down_since is None:
            self._down_since = time.monotonic()
            self._news(f"lost the connection to {self.where}; reconnecting")

    def _on_reconnected(self) -> None:
        if self._down_since is not None and not self._stopping:
            self._news(f"reconnected to {self.where}")
        self._down_since = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:
            self._fail(f"stopped following: {type(e).__name__}: {e}")
        finally:
            self._stopped = True
            self._ready.set()

    def _gave_up(self, started: float) -> bool:
        return time.monotonic() - started >= self.give_up

    async def _main(self) -> None:
        connecting = asyncio.ensure_future(_connect(self.url, self.token, self, "streamtui-attach"))
        started = time.monotonic()
        told = False
        while not connecting.done():
            await asyncio.wait([connecting], timeout=0.1)
            if not told and time.monotonic() - started >= 2.0:
                told = True
                self._news(
                    f"cannot reach {self.where} yet; retrying (giving up after {self.give_up:g} s)"
                )
            if self._gave_up(started):
                self._fail(
                    f"cannot reach {self.where}: gave up after {self.give_up:g} s "
                    "without a connection"
                )
            if self._stopping:
                connecting.cancel()
                with contextlib.suppress(BaseException):
                    await connecting
                return
        nc = connecting.result()
        self._nc = nc
        if told:
            self._news(f"connected to {self.where}")
        try:
            js = nc.jetstream()
            if self._latest:
                self.run = await self._newest(js)
                if self.run is None:
                    return
            subject = f"{SUBJECT_PREFIX}.>" if self.all_runs else f"{SUBJECT_PREFIX}.{self.run}.>"
            sub = await self._subscribe(js, subject, self._on_msg)
            if sub is None:
                return
            self._ready.set()
            subscribed = time.monotonic()
            told = False
            while not self._stopping:
                await asyncio.sleep(0.1)
                self._check_holes()
                self._check_give_up(subscribed, told)
                told = told or (
                    self.run is not None
                    and self.run not in self.runs
                    and time.monotonic() - subscribed >= 2.0
                )
        finally:
            self._stopped = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2.0)

    def _check_give_up(self, subscribed: float, told: bool) -> None:
        """Give up on a server away for ``give_up`` seconds, or a run that never came."""
        down = self._down_since
        if down is not None and self._gave_up(down):
            self._fail(
                f"{self.where} is unreachable: gave up after {self.give_up:g} s "
                "without a connection"
            )
            return
        run = self.run
        if self.all_runs or run is None or run in self.runs:
            return
        if self._gave_up(subscribed):
            self._fail(
                f"no run {run} in stream {DEFAULT_STREAM} on {self.where} "
                f"(waited {self.give_up:g} s)"
            )
        elif not told and time.monotonic() - subscribed >= 2.0:
            self._news(
                f"no run {run} in stream {DEFAULT_STREAM} yet; waiting for it "
                f"(giving up after {self.give_up:g} s)"
            )

    async def _subscribe(
        self, js: Any, subject: str, cb: Callable[[Msg], Any], last: bool = False
    ) -> Any:
        """An ordered consumer on ``subject`` from the stream's start (or its last
        message); waits for the stream to exist."""
        from nats.js.api import DeliverPolicy

        policy = DeliverPolicy.LAST if last else DeliverPolicy.ALL
        told = False
        started = time.monotonic()
        while not self._stopping:
            try:
                return await js.subscribe(
                    subject,
                    cb=cb,
                    ordered_consumer=True,
                    deliver_policy=policy,
                    idle_heartbeat=1.0,
                    pending_msgs_limit=1_000_000,
                    pending_bytes_limit=1 << 30,
                )
            except Exception as e:
                if type(e).__name__ == "NotFoundError":
                    why = "nothing was published there yet"
                else:
                    why = f"{type(e).__name__}: {e}"
                if not told:
                    told = True
                    self._news(
                        f"no stream {DEFAULT_STREAM} on {self.where} ({why}); waiting "
                        f"for it (giving up after {self.give_up:g} s)"
                    )
                if self._gave_up(started):
                    self._fail(
                        f"no stream {DEFAULT_STREAM} on {self.where} ({why}); gave up after "
                        f"{self.give_up:g} s"
                    )
                await asyncio.sleep(0.25)
        return None

    async def _newest(self, js: Any) -> str | None:
        """The run whose start marker is the stream's newest (waits for one)."""
        found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def on_start(msg: Msg) -> None:
            if not found.done():
                found.set_result(msg.subject.split(".")[2])
            await self._on_msg(msg)

        sub = await self._subscribe(js, f"{SUBJECT_PREFIX}.*._start", on_start, last=True)
        if sub is None:
            return None
        started = time.monotonic()
        while not found.done() and not self._stopping:
            await asyncio.wait([found], timeout=0.1)
            if not found.done() and self._gave_up(started):
                self._fail(
                    f"no run in stream {DEFAULT_STREAM} on {self.where} (waited {self.give_up:g} s)"
                )
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        return found.result() if found.done() else None

    async def _on_msg(self, msg: Msg) -> None:
        subject = msg.subject
        rest = subject[len(SUBJECT_PREFIX) + 1 :]
        run_id, _, kind = rest.partition(".")
        info = self.runs.get(run_id)
        if info is None:
            info = self.runs[run_id] = RemoteRun(run_id)
        out: list[Part] = []
        if kind.startswith("_"):
            try:
                meta = json.loads(msg.data)
            except ValueError:
                self._problem(f"run {run_id}: an unreadable {kind} marker")
                return
            if kind == "_start":
                info.header = meta
                return
            if kind == "_end":
                info.footer = meta
                for a, b in meta.get("gaps") or []:
                    info.gaps.append((int(a), int(b)))
            elif kind == "_gap":
                a, b = int(meta["from"]), int(meta["to"])
                info.gaps.append((a, b))
                seqs = f"seq {a}-{b}" if a != b else f"seq {a}"
                if meta.get("reason") == "refused":
                    self._problem(
                        f"run {run_id}: the server refused {b - a + 1:,} parts ({seqs}: "
                        "too big, or over a JetStream limit); skipped them"
                    )
                else:
                    self._problem(
                        f"run {run_id}: the publisher dropped {b - a + 1:,} parts ({seqs}) "
                        "when its buffer overflowed"
                    )
        else:
            # A message holds one or more parts: their log lines, joined by newlines.
            data = msg.data
            try:
                parts = parse_lines(data, RemotePart, run_id)
            except (ValueError, UnicodeDecodeError):
                parts = []  # one by one: skip only what is unreadable
                for line in data.split(b"\n"):
                    try:
                        p = parse_line(line)
                        parts.append(RemotePart(p.seq, p.ts, p.mode, p.ns, p.data, run_id))
                    except (ValueError, UnicodeDecodeError):
                        self._problem(f"run {run_id}: an unreadable part on {subject}")
            self.received += len(parts)
            held = info.held
            release = False
            for part in parts:
                seq = part.seq
                if seq < info.next_seq or seq in held:
                    self.duplicates += 1
                    continue
                if seq == info.next_seq and not held and not info.gaps:
                    # The usual case, the next part in order: out at once.
                    info.next_seq = seq + 1
                    info.delivered += 1
                    out.append(part)
                    continue
                held[seq] = part
                if seq == info.next_seq:
                    release = True
                elif info.waiting_since is None:
                    info.waiting_since = time.monotonic()
            if not release:
                if out:
                    with self._lock:
                        self._out.extend(out)
                return
        info._release(out)
        if out:
            with self._lock:
                self._out.extend(out)

    def _check_holes(self) -> None:
        """Skip a hole that has waited ``hole_timeout`` seconds (the publisher is gone,
        or its parts expired from the stream): said in ``problems()``."""
        now = time.monotonic()
        for info in list(self.runs.values()):
            since = info.waiting_since
            if since is None or now - since < self.hole_timeout:
                continue
            if info.held:
                first = min(info.held)
            elif info.footer is not None and not info.ended:
                first = int(info.footer.get("last_seq") or 0) + 1  # the run's last parts
            else:
                info.waiting_since = None
                continue
            self._problem(
                f"run {info.run_id}: parts {info.next_seq}-{first - 1} never came; skipped them"
            )
            info.gaps.append((info.next_seq, first - 1))
            out: list[Part] = []
            info._release(out)
            with self._lock:
                self._out.extend(out)


def open_nats_source(
    url: str,
    *,
    run: str | None = None,
    latest: bool = False,
    all_runs: bool = False,
    token: str | None = None,
    give_up: float = 60.0,
) -> NatsSource:
    """Follow runs on the NATS server at ``url``: the run ``run`` (its id), the newest
    run (``latest``, also the default), or every run (``all_runs``: parts of all runs
    interleaved, each a ``RemotePart`` whose ``run`` says which; ``source.runs`` has each
    run's header, footer and status). Starts at once in a background thread; raises
    ``ValueError`` for a bad URL or run id, ``NatsUnavailable`` without nats-py; gives up
    (``error``) after ``give_up`` seconds without a server or without the run."""
    return NatsSource(url, run=run, latest=latest, all_runs=all_runs, token=token, give_up=give_up)
