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
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from streamtui.bus import Subscription
from streamtui.envelope import Part, Redactor, encode_line, line_bytes, parse_line

__all__ = [
    "FORMAT_VERSION",
    "EventLog",
    "EventLogError",
    "EventLogWriter",
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
        try:
            header = json.loads(lines[0])
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("type") != "header":
            raise EventLogError(f"{path}: line 1 is not a streamtui log header")
        if header.get("format") != FORMAT_VERSION:
            raise EventLogError(
                f"{path}: log format {header.get('format')!r}; this streamtui reads format "
                f"{FORMAT_VERSION} (upgrade streamtui to read it)"
            )
        footer = None
        body = lines[1:]
        if body and body[-1].startswith(b'{"type":"footer"'):
            try:
                footer = json.loads(body[-1])
            except ValueError:
                footer = None
            if isinstance(footer, dict):
                body.pop()
            else:
                footer = None
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
                    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
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
        out = []
        if self.truncated:
            out.append(
                f"{self.path}: the log ends inside a line (the run was killed while writing); "
                f"replaying the {len(self.lines)} whole parts before it"
            )
        elif self.footer is None:
            out.append(
                f"{self.path}: no footer (the run did not finish); replaying what was recorded"
            )
        if self.bad_lines:
            shown = ", ".join(map(str, self.bad_lines[:5]))
            out.append(f"{self.path}: skipped {len(self.bad_lines)} unreadable line(s): {shown}")
        return out


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
