"""The event log: a run as JSONL, written so a crash loses at most the line being written.

Line 1 is a header (format version, streamtui version, spec name and hash, input, start
time); then one envelope per part; then a footer (status, counts, duration) once the run
ends. Parts are written in whole lines and flushed after every batch, so ``kill -9``
leaves whole lines plus at most one partial one, which the reader drops and reports.
A name ending in ``.gz`` is gzip-compressed, flushed the same way (a sync flush per
batch), so a killed gzip log reads back too. Secrets never reach the file: every line
passes through a ``Redactor``. See docs/event-log.md.
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import os
import re
import tempfile
import threading
import time
import zlib
from array import array
from bisect import bisect_right, insort
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate
from json.scanner import make_scanner
from pathlib import Path
from typing import IO, Any

from streamtui.bus import Subscription
from streamtui.envelope import Part, Redactor, encode_line, line_bytes, parse_line

__all__ = [
    "FORMAT_VERSION",
    "EventLog",
    "EventLogError",
    "EventLogWriter",
    "LogFile",
    "LoggedPart",
    "PartPump",
    "RunSummary",
    "Tally",
    "list_runs",
    "new_run_path",
    "replay_schedule",
    "resolve_log",
    "runs_dir",
]

FORMAT_VERSION = 1
_TOKEN_EVENTS = frozenset({"on_chat_model_stream", "on_llm_stream"})


class EventLogError(Exception):
    """A log that cannot be read at all (missing, not a streamtui log, unknown version)."""


# --- writing ---------------------------------------------------------------------------


class EventLogWriter:
    """Appends parts to a log file, one flushed batch of whole lines at a time."""

    def __init__(
        self, path: str | Path, header: dict[str, Any], redactor: Redactor | None = None
    ) -> None:
        self.path = Path(path)
        self.redactor = redactor or Redactor()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._gzip: gzip.GzipFile | None = None
        self._out: IO[bytes] = self._raw
        if self.path.name.endswith(".gz"):
            self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
            self._out = self._gzip  # type: ignore[assignment]
        self.closed = False
        self._write_lines([self._json_line({"type": "header", "format": FORMAT_VERSION, **header})])

    def _json_line(self, obj: dict[str, Any]) -> str:
        return self.redactor(
            json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
        )

    def _write_lines(self, lines: list[str]) -> None:
        self._out.write(line_bytes("\n".join(lines) + "\n"))
        if self._gzip is not None:
            self._gzip.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()

    def write(self, parts: list[Part]) -> None:
        """Write a batch of parts as whole lines and flush them to the OS."""
        if parts:
            redactor = self.redactor
            self._write_lines([encode_line(p, redactor) for p in parts])

    def close(self, footer: dict[str, Any]) -> None:
        """Write the footer and close; a second call does nothing."""
        if self.closed:
            return
        self.closed = True
        try:
            self._write_lines([self._json_line({"type": "footer", **footer})])
        finally:
            if self._gzip is not None:
                self._gzip.close()
            self._raw.close()


@dataclass
class Tally:
    """What a footer and ``streamtui runs`` report about a run's parts."""

    parts: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    tokens: int = 0
    """Output tokens the models reported, or token chunks where they report no usage."""
    _chunks: int = 0
    _usage_tokens: int = 0

    def add(self, parts: list[Part]) -> None:
        self.parts += len(parts)
        for part in parts:
            self.modes[part.mode] += 1
            data = part.data
            if part.mode != "events" or type(data) is not dict:
                continue
            kind = data.get("event")
            self.events[kind] += 1
            if kind in _TOKEN_EVENTS:
                self._chunks += 1 + part.merged
            elif kind == "on_chat_model_end":
                usage = getattr(data.get("data", {}).get("output"), "usage_metadata", None)
                if isinstance(usage, dict):
                    self._usage_tokens += int(usage.get("output_tokens") or 0)
        self.tokens = self._usage_tokens or self._chunks

    def as_footer(self) -> dict[str, Any]:
        return {
            "parts": self.parts,
            "modes": dict(self.modes),
            "events": dict(self.events),
            "tokens": self.tokens,
        }


_BATCH = 256
_GATHER = 0.002  # seconds; far below what a person or a log reader would notice


class PartPump:
    """A thread that drains one subscription and hands each batch to ``handle``.

    The recorder and the ``--no-tui`` printer are pumps: file and terminal writes happen
    off the event loop, and a slow terminal never slows the recorder (each has its own
    subscription). If ``handle`` raises, the pump unsubscribes, so the run never waits on
    a consumer that is gone, and keeps the error in ``failure``.
    """

    def __init__(self, sub: Subscription, handle: Callable[[list[Part]], None], name: str) -> None:
        self.sub = sub
        self.handle = handle
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"streamtui-{name}", daemon=True)

    def start(self) -> PartPump:
        self._thread.start()
        return self

    def _run(self) -> None:
        sub = self.sub
        try:
            while sub.wait(0.5) or sub.pending() or not sub._bus.closed:
                batch = sub.drain()
                if batch:
                    self.handle(batch)
                    if len(batch) < _BATCH and not sub._bus.closed:
                        # Let a few more parts gather: every wake-up is a hand-over of
                        # the GIL that costs the publisher more than the parts do.
                        time.sleep(_GATHER)
        except BaseException as e:
            self.failure = e
            sub._bus.unsubscribe(sub)

    def join(self, timeout: float | None = None) -> None:
        """Wait until everything published before ``bus.close()`` has been handled."""
        self._thread.join(timeout)


# --- reading ---------------------------------------------------------------------------


@dataclass
class EventLog:
    """A log read back: header, parts (parsed on first use), footer.

    ``truncated`` says the file ended inside a line (a crash while writing); that line
    is dropped. ``bad_lines`` lists line numbers that were whole but not valid parts.
    """

    path: Path
    header: dict[str, Any]
    footer: dict[str, Any] | None
    lines: list[bytes]
    truncated: bool = False
    bad_lines: list[int] = field(default_factory=list)
    _parts: list[Part] | None = None

    @classmethod
    def open(cls, path: str | Path) -> EventLog:
        path = Path(path)
        try:
            raw, cut_gzip = _read_bytes(path)
        except FileNotFoundError:
            raise EventLogError(f"{path}: no such log (see `streamtui runs`)") from None
        except IsADirectoryError:
            raise EventLogError(f"{path}: is a directory, not a log") from None
        except OSError as e:
            raise EventLogError(f"{path}: cannot be read: {e.strerror or e}") from None
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        truncated = bool(tail) or cut_gzip
        if not lines:
            raise EventLogError(f"{path}: empty or cut before its first line; not a streamtui log")
        header = _check_header(path, lines[0])
        footer = None
        body = lines[1:]
        if body and body[-1].startswith(_FOOTER):
            footer = _footer(body[-1])
            if footer is not None:
                body.pop()
        return cls(path, header, footer, body, truncated)

    @property
    def parts(self) -> list[Part]:
        """Every whole part, in order (parsed once, on first use)."""
        if self._parts is None:
            parts = []
            bad = self.bad_lines
            # Millions of new, acyclic objects: collecting while they are made only
            # rescans them (it doubled the time of a 1M-part read).
            collecting = gc.isenabled()
            gc.disable()
            try:
                for number, line in enumerate(self.lines, start=2):
                    try:
                        parts.append(parse_line(line))
                    except _UNREADABLE:
                        bad.append(number)
            finally:
                if collecting:
                    gc.enable()
            self._parts = parts
        return self._parts

    @property
    def status(self) -> str:
        """``done``/``error``/``interrupted`` from the footer; ``incomplete`` without one."""
        return str(self.footer.get("status", "unknown")) if self.footer else "incomplete"

    def index(self) -> LogIndex:
        """Counts and positions by mode, event type and run, without building objects."""
        return LogIndex.build(self.lines)

    def problems(self) -> list[str]:
        """What a reader should be told about this log, in words."""
        return _problems(self.path, self.truncated, len(self.lines), self.footer, self.bad_lines)


def _problems(
    path: Path, truncated: bool, whole: int, footer: dict[str, Any] | None, bad: list[int]
) -> list[str]:
    """A log's problems in words: the same for a parsed log and one replayed lazily."""
    out = []
    if truncated:
        out.append(
            f"{path}: the log ends inside a line (the run was killed while writing); "
            f"replaying the {whole} whole parts before it"
        )
    elif footer is None:
        out.append(f"{path}: no footer (the run did not finish); replaying what was recorded")
    if bad:
        shown = ", ".join(map(str, bad[:5]))
        out.append(f"{path}: skipped {len(bad)} unreadable line(s): {shown}")
    return out


_FOOTER = b'{"type":"footer"'
_UNREADABLE = (ValueError, UnicodeDecodeError, KeyError, TypeError)


def _check_header(path: Path, line: bytes) -> dict[str, Any]:
    """The header on ``line`` (the file's first), or why this is not a log we can read."""
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise EventLogError(f"{path}: line 1 is not a streamtui log header")
    if header.get("format") != FORMAT_VERSION:
        raise EventLogError(
            f"{path}: log format {header.get('format')!r}; this streamtui reads format "
            f"{FORMAT_VERSION} (upgrade streamtui to read it)"
        )
    return header


def _footer(line: bytes) -> dict[str, Any] | None:
    try:
        footer = json.loads(line)
    except ValueError:
        return None
    return footer if isinstance(footer, dict) else None


def _read_bytes(path: Path) -> tuple[bytes, bool]:
    """The file's bytes (decompressed); True if a gzip stream was cut short."""
    if not path.name.endswith(".gz"):
        return path.read_bytes(), False
    out = io.BytesIO()
    with open(path, "rb") as f:
        z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while chunk := f.read(1 << 20):
            try:
                out.write(z.decompress(chunk))
            except zlib.error as e:
                raise EventLogError(f"{path}: not a gzip file ({e})") from None
        return out.getvalue(), not z.eof


_MODE = re.compile(rb'"mode":"([^"]*)"')
_EVENT_FIELDS = re.compile(
    rb'"data":\{"event":"([^"]*)","name":"(?:[^"\\]|\\.)*","run_id":"([^"]*)"'
)


@dataclass
class LogIndex:
    """Where things are in a log, found by scanning the raw lines (no JSON parsing):
    line positions per mode, per event type and per run id."""

    by_mode: dict[str, list[int]]
    by_event: dict[str, list[int]]
    by_run: dict[str, list[int]]

    @classmethod
    def build(cls, lines: list[bytes]) -> LogIndex:
        by_mode: dict[str, list[int]] = {}
        by_event: dict[str, list[int]] = {}
        by_run: dict[str, list[int]] = {}
        mode_of = _MODE.search
        event_of = _EVENT_FIELDS.search
        for i, line in enumerate(lines):
            m = mode_of(line)
            if m is None:
                continue
            mode = m.group(1).decode()
            by_mode.setdefault(mode, []).append(i)
            if mode == "events":
                # Our own writer's key order; a log from elsewhere just has no event index.
                e = event_of(line, m.end())
                if e is not None:
                    by_event.setdefault(e.group(1).decode(), []).append(i)
                    by_run.setdefault(e.group(2).decode(), []).append(i)
        return cls(by_mode, by_event, by_run)


# --- reading without parsing: replay of big logs -----------------------------------------

# Our writer puts seq and ts first (``encode_line``), so a part line's time can be read
# from its first bytes. A line that does not start like this takes the slow path (a full
# parse), so a log written with another key order still reads, only slower.
_PART_HEAD = re.compile(rb'\n\{"seq":-?\d+,"ts":(-?\d[\d.eE+-]*),"mode":"')
_PART_HEAD_AT = re.compile(rb'\{"seq":-?\d+,"ts":(-?\d[\d.eE+-]*),"mode":"')
_SCAN_BYTES = 1 << 22
_scan_json = make_scanner(json.JSONDecoder())
"""The JSON scanner without ``json.loads``'s layers (a third of its time on a short line)."""


class LoggedPart(Part):
    """A part as a ``LogFile`` hands it to the UI's store: ``data`` is the line's JSON as
    written (messages, documents and errors stay tagged dicts, nothing is rebuilt), and
    ``log`` and ``index`` say where to read the whole part again (``log.part(index)``).
    The store keeps only that position, so a million replayed parts cost it 8 bytes each.
    """

    __slots__ = ("index", "log")

    def __init__(
        self,
        seq: int,
        ts: float,
        mode: str,
        ns: tuple[str, ...],
        data: Any,
        log: LogFile,
        index: int,
    ) -> None:
        super().__init__(seq, ts, mode, ns, data)
        self.log = log
        self.index = index


class LogFile:
    """A log opened for replay without parsing its parts: header, footer, and where each
    part's line is and when it was recorded, found by one scan of the raw bytes.

    ``EventLog`` parses every line into objects up front (about 8 µs and 4 KB a part:
    seconds and gigabytes for a million-part run). This keeps 24 bytes a part (offsets
    and time) and parses a line when it is asked for: ``parts(start, end)`` with rebuilt
    messages, as ``EventLog.parts`` gives them, or ``LoggedPart``s of plain JSON for the
    UI's store. The file stays open for those reads (a ``.gz`` log is decompressed once
    into an anonymous temporary file); ``close()`` releases it.

    Lines that do not look like parts are skipped when the file is scanned; a line that
    looks like one but does not parse is skipped when it is first read. Both go into
    ``bad_lines`` (file line numbers), which ``problems()`` reports.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self.footer: dict[str, Any] | None = None
        self.truncated = False
        self.bad_lines: list[int] = []
        self.times = array("d")
        """Recorded time (``ts``) of each part, in order."""
        self._line_starts = array("q")
        """File offset of every body line (parts and skipped lines), then the end."""
        self._skipped: list[int] = []
        """For each body line that is not a part, the index of the part after it."""
        self._seen = 0  # body lines scanned
        self._pending_footer: tuple[int, bytes] | None = None
        self._failed: set[int] = set()
        self._file: IO[bytes] | None = None

    # --- opening ----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> LogFile:
        """Scan ``path``; raises ``EventLogError`` as ``EventLog.open`` does."""
        log = cls(Path(path))
        try:
            log._open()
        except OSError as e:
            log.close()
            if isinstance(e, FileNotFoundError):
                raise EventLogError(f"{log.path}: no such log (see `streamtui runs`)") from None
            if isinstance(e, IsADirectoryError):
                raise EventLogError(f"{log.path}: is a directory, not a log") from None
            raise EventLogError(f"{log.path}: cannot be read: {e.strerror or e}") from None
        except BaseException:
            log.close()
            raise
        return log

    def _open(self) -> None:
        path = self.path
        if path.name.endswith(".gz"):
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            chunks = self._gunzip(path, self._file)
        else:
            self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
            chunks = iter(lambda: self._file.read(_SCAN_BYTES), b"")  # type: ignore[union-attr]
        carry = b""
        base = 0  # file offset of the start of ``carry``
        header_seen = False
        for chunk in chunks:
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                carry = buf
                continue
            body, carry = buf[:cut], buf[cut:]
            if not header_seen:
                end = body.index(b"\n")
                self.header = _check_header(path, body[:end])
                header_seen = True
                base += end + 1
                body = body[end + 1 :]
            self._scan(body, base)
            base += len(body)
        self._line_starts.append(base)
        if not header_seen:
            raise EventLogError(f"{path}: empty or cut before its first line; not a streamtui log")
        self.truncated = self.truncated or bool(carry)
        if self._pending_footer is not None:
            number, line = self._pending_footer
            self.footer = _footer(line)
            if self.footer is None:
                insort(self.bad_lines, number)

    def _gunzip(self, path: Path, sink: IO[bytes]) -> Iterator[bytes]:
        """The decompressed bytes in chunks, each also written to ``sink``."""
        z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        with open(path, "rb") as f:
            while raw := f.read(1 << 20):
                try:
                    out = z.decompress(raw)
                except zlib.error as e:
                    raise EventLogError(f"{path}: not a gzip file ({e})") from None
                if out:
                    sink.write(out)
                    yield out
        self.truncated = not z.eof

    def _scan(self, body: bytes, base: int) -> None:
        """Index the whole lines in ``body`` (which ends with a newline), at file offset
        ``base``. The common case — every line a part in our key order — stays in C."""
        if self._pending_footer is not None:  # a footer-looking line that was not last
            insort(self.bad_lines, self._pending_footer[0])
            self._pending_footer = None
        heads = _PART_HEAD.findall(b"\n" + body)
        # ``splitlines`` also splits at a bare CR, which no part line holds: such a line
        # makes the counts differ and takes the careful path below.
        lines = body.splitlines(True)
        if len(heads) == len(lines):
            starts = array("q", accumulate(map(len, lines), initial=base))
            starts.pop()
            self._line_starts.extend(starts)
            self.times.extend(array("d", map(float, heads)))
            self._seen += len(lines)
            return
        offset = base
        for line in body.split(b"\n")[:-1]:
            self._line(line, offset)
            offset += len(line) + 1

    def _line(self, line: bytes, offset: int) -> None:
        self._seen += 1
        number = self._seen + 1  # the header is line 1
        self._line_starts.append(offset)
        if self._pending_footer is not None:
            insort(self.bad_lines, self._pending_footer[0])
            self._pending_footer = None
        head = _PART_HEAD_AT.match(line)
        if head is not None:
            self.times.append(float(head.group(1)))
            return
        if line.startswith(_FOOTER):
            self._pending_footer = (number, line)
        else:
            try:
                self.times.append(parse_line(line).ts)
                return
            except _UNREADABLE:
                self.bad_lines.append(number)
        self._skipped.append(len(self.times))

    # --- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.times)

    def _body_line(self, index: int) -> int:
        return index + bisect_right(self._skipped, index) if self._skipped else index

    def line_number(self, index: int) -> int:
        """The file line (1 = the header) of part ``index``."""
        return self._body_line(index) + 2

    def lines(self, start: int, end: int) -> list[bytes]:
        """The raw lines of parts ``start`` to ``end`` (one read)."""
        start, end = max(start, 0), min(end, len(self))
        if start >= end:
            return []
        if self._file is None:
            raise ValueError(f"{self.path}: the log is closed")
        first, last = self._body_line(start), self._body_line(end - 1)
        line_starts = self._line_starts
        self._file.seek(line_starts[first])
        block = self._file.read(line_starts[last + 1] - 1 - line_starts[first])
        lines = block.split(b"\n")
        if last - first == end - start - 1:
            return lines
        return [lines[self._body_line(i) - first] for i in range(start, end)]

    def part(self, index: int) -> Part:
        """Part ``index`` with its messages rebuilt (as ``EventLog.parts`` has it)."""
        [line] = self.lines(index, index + 1) or [b""]
        return parse_line(line)

    def parts(self, start: int, end: int) -> list[Part]:
        """Parts ``start`` to ``end``, messages rebuilt; unreadable lines are skipped (and
        reported by ``problems()``)."""
        out: list[Part] = []
        collecting = gc.isenabled()
        gc.disable()  # a batch of new acyclic objects: see EventLog.parts
        try:
            for index, line in enumerate(self.lines(start, end), start):
                try:
                    out.append(parse_line(line))
                except _UNREADABLE:
                    self._unreadable(index)
        finally:
            if collecting:
                gc.enable()
        return out

    def logged_parts(self, start: int, end: int) -> list[LoggedPart]:
        """Parts ``start`` to ``end`` as plain JSON (about half the cost of ``parts``),
        each knowing its place in the log; unreadable lines are skipped."""
        out: list[LoggedPart] = []
        scan = _scan_json
        collecting = gc.isenabled()
        gc.disable()  # a batch of new acyclic objects: see EventLog.parts
        try:
            for index, line in enumerate(self.lines(start, end), start):
                try:
                    text = line.decode()
                    try:
                        obj, stop = scan(text, 0)
                    except StopIteration:
                        stop = -1
                    if stop != len(text):  # not the plain case: let json say what is wrong
                        obj = json.loads(text)
                    seq, ts, mode = obj["seq"], obj.get("ts", 0.0), obj["mode"]
                    ns = obj.get("ns") or []
                    if (
                        type(seq) is not int
                        or not isinstance(ts, (int, float))
                        or isinstance(ts, bool)
                        or type(mode) is not str
                        or type(ns) is not list
                        or not all(type(n) is str for n in ns)
                    ):
                        raise ValueError("not a part")
                except _UNREADABLE:
                    self._unreadable(index)
                    continue
                out.append(
                    LoggedPart(seq, float(ts), mode, tuple(ns), obj.get("data"), self, index)
                )
        finally:
            if collecting:
                gc.enable()
        return out

    def _unreadable(self, index: int) -> None:
        if index not in self._failed:
            self._failed.add(index)
            insort(self.bad_lines, self.line_number(index))

    # --- the rest of EventLog's questions ----------------------------------------------

    @property
    def status(self) -> str:
        """``done``/``error``/``interrupted`` from the footer; ``incomplete`` without one."""
        return str(self.footer.get("status", "unknown")) if self.footer else "incomplete"

    def problems(self) -> list[str]:
        """What a reader should be told about this log, in words (as ``EventLog``'s).
        Lines found unreadable while replaying are added as they are found."""
        whole = self._seen - (self.footer is not None)  # what EventLog calls parts
        return _problems(self.path, self.truncated, whole, self.footer, self.bad_lines)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> LogFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def replay_schedule(parts: list[Part], speed: float | None) -> Iterator[tuple[float, Part]]:
    """Each part with how long to wait before it: ``ts`` gaps divided by ``speed``
    (``None`` = as fast as possible). Shared by the sync and async replayers."""
    if speed is None or speed <= 0:
        for part in parts:
            yield 0.0, part
        return
    last = parts[0].ts if parts else 0.0
    for part in parts:
        gap = max(0.0, part.ts - last) / speed
        last = max(last, part.ts)
        yield gap, part


def replay(parts: list[Part], speed: float | None = 1.0) -> Iterator[Part]:
    """The parts, paced as they were recorded."""
    start = time.perf_counter()
    due = 0.0
    for gap, part in replay_schedule(parts, speed):
        due += gap
        delay = start + due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield part


async def areplay(parts: list[Part], speed: float | None = 1.0) -> AsyncIterator[Part]:
    """The async twin of ``replay`` (for the TUI's replay source)."""
    import asyncio

    start = time.perf_counter()
    due = 0.0
    for gap, part in replay_schedule(parts, speed):
        due += gap
        delay = start + due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        yield part


# --- the runs directory ----------------------------------------------------------------

RUNS_DIR = Path(".streamtui") / "runs"


def runs_dir(base: str | Path | None = None) -> Path:
    """Where runs are recorded by default: ``.streamtui/runs`` under ``base`` (the cwd)."""
    return Path(base or os.getcwd()) / RUNS_DIR


def new_run_path(name: str, base: str | Path | None = None, when: datetime | None = None) -> Path:
    """A fresh file name for a run of ``name``, sortable by start time."""
    when = when or datetime.now(timezone.utc)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    stamp = when.strftime("%Y%m%d-%H%M%S-%f")
    return runs_dir(base) / f"{stamp}-{safe}.jsonl"


@dataclass
class RunSummary:
    """One line of ``streamtui runs``."""

    path: Path
    name: str
    started: str
    duration: float | None
    status: str
    parts: int
    tokens: int | None


def _summary(path: Path) -> RunSummary | None:
    try:
        log = EventLog.open(path)
    except EventLogError:
        return None
    header, footer = log.header, log.footer or {}
    spec = header.get("spec") if isinstance(header.get("spec"), dict) else {}
    counts = footer.get("counts") if isinstance(footer.get("counts"), dict) else {}
    duration = footer.get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        duration = None
    if duration is None and log.lines:
        try:
            duration = parse_line(log.lines[-1]).ts
        except ValueError:  # UnicodeDecodeError is one
            duration = None
    return RunSummary(
        path=path,
        name=str(spec.get("name", "?")),
        started=str(header.get("started_at", "")),
        duration=duration,
        status=log.status,
        parts=counts["parts"] if isinstance(counts.get("parts"), int) else len(log.lines),
        tokens=counts["tokens"] if isinstance(counts.get("tokens"), int) else None,
    )


def list_runs(base: str | Path | None = None) -> list[RunSummary]:
    """Recorded runs under ``base``, oldest first (unreadable files are skipped)."""
    folder = runs_dir(base)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    return [s for s in map(_summary, files) if s is not None]


def _has_header(path: Path) -> bool:
    """Whether the file starts like a streamtui log (reads one line, not the file)."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as f:
            first = f.readline(1 << 16)
    except (OSError, EOFError, zlib.error):
        return False
    return first.startswith(b'{"type":"header"')


def resolve_log(name: str, base: str | Path | None = None) -> Path:
    """A log path from what the user typed: a path, or ``last`` for the newest run."""
    if name != "last":
        return Path(name)
    folder = runs_dir(base)
    files = sorted(folder.glob("*.jsonl*")) if folder.is_dir() else []
    # Names start with the start time, so the newest readable log sorts last.
    for path in reversed(files):
        if path.name.endswith((".jsonl", ".jsonl.gz")) and _has_header(path):
            return path
    raise EventLogError(
        f"no recorded runs under {folder} (run something first: streamtui run FILE)"
    )
