"""Where the UI's parts come from, and the once-per-frame pump that moves them.

Every source — a live run on the bus, a replayed log, later a remote attach — offers the
same ``take(now, limit)`` call: the parts due by ``now`` (at most ``limit`` of them, if
the source can hold the rest back). ``FramePump.tick`` asks its source once per frame and
hands everything to the store in one ``ingest``, so the UI does one batch of work per
frame however fast parts arrive. Textual-free; the app calls ``tick`` from a timer inside
``batch_update()``.

A replayed log is never read whole: ``open_replay`` scans it for where each part is and
when it was recorded (``LogFile``), and the replay parses only the parts it hands out, a
frame's worth at a time, as plain JSON the store keeps only the position of. Opening a
million-part log costs a second, not a parse of every line.
"""

from __future__ import annotations

import bisect
import gc
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol, overload

from streamtui.bus import Subscription
from streamtui.envelope import Part
from streamtui.eventlog import LogFile
from streamtui.tui.store import Changes, RunStore

__all__ = ["FramePump", "LiveSource", "Recording", "ReplaySource", "Source", "open_replay"]


class Source(Protocol):
    """Parts for the UI, asked for once per frame."""

    def take(self, now: float, limit: int | None = None) -> list[Part]: ...

    @property
    def finished(self) -> bool: ...


class LiveSource:
    """A run on the bus, through a coalescing subscription (a UI that falls behind gets
    token chunks folded rather than slowing the run)."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription

    def take(self, now: float, limit: int | None = None) -> list[Part]:
        """Everything pending: the bus has handed it over already (``limit`` is not
        used; the pump carries what does not fit in a frame)."""
        return self.subscription.drain()

    @property
    def finished(self) -> bool:
        return self.subscription._bus.closed and not self.subscription.pending()


class Recording(Protocol):
    """What a replay plays: parts by position, and when each was recorded."""

    @property
    def times(self) -> Sequence[float]: ...

    @property
    def parts(self) -> Sequence[Part]: ...

    def __len__(self) -> int: ...

    def slice(self, start: int, end: int) -> list[Part]:
        """Parts ``start`` to ``end`` (fewer if some cannot be read)."""
        ...


class _PartList:
    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = parts
        self.times = [p.ts for p in parts]

    def __len__(self) -> int:
        return len(self.parts)

    def slice(self, start: int, end: int) -> list[Part]:
        return list(self.parts[start:end])


class _LogParts:
    """A ``LogFile``'s parts as the store wants them: plain JSON, parsed when taken."""

    def __init__(self, log: LogFile) -> None:
        self.log = log
        self.times = log.times
        self.parts = _LogView(log)

    def __len__(self) -> int:
        return len(self.log)

    def slice(self, start: int, end: int) -> list[Part]:
        return list(self.log.logged_parts(start, end))


class _LogView(Sequence[Part]):
    """Every part of a log by position, each parsed when asked for."""

    def __init__(self, log: LogFile) -> None:
        self.log = log

    def __len__(self) -> int:
        return len(self.log)

    @overload
    def __getitem__(self, index: int) -> Part: ...

    @overload
    def __getitem__(self, index: slice) -> list[Part]: ...

    def __getitem__(self, index: int | slice) -> Part | list[Part]:
        if isinstance(index, slice):
            start, stop, stride = index.indices(len(self))
            return (
                self.log.parts(start, stop)[::stride]
                if stride > 0
                else [self[i] for i in range(start, stop, stride)]
            )
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("part index out of range")
        return self.log.part(index)


class ReplaySource:
    """A recorded run played back on a clock: play, pause, speed, step, seek.

    The position is a part index; ``take`` returns the parts whose recorded time has come
    at the current speed. Seeking backwards is the pump's business (``FramePump.restart``
    makes a store of the parts before the new position: a store only grows).
    """

    SPEEDS: ClassVar[tuple[float | None, ...]] = (0.25, 0.5, 1, 2, 4, 8, 16, 64, None)
    """The steps of ``faster`` and ``slower``; ``None`` (as fast as the UI takes parts)
    is the top."""

    def __init__(
        self,
        parts: Sequence[Part] | LogFile,
        speed: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = parts if isinstance(parts, LogFile) else None
        self.recording: Recording = (
            _LogParts(parts) if isinstance(parts, LogFile) else _PartList(parts)
        )
        self._times = self.recording.times
        self.position = 0
        self._target: int | None = None
        self.speed = speed
        self.playing = True
        self._clock = clock
        self._anchor_wall = clock()
        self._anchor_ts = self._times[0] if self._times else 0.0

    def __len__(self) -> int:
        return len(self._times)

    @property
    def parts(self) -> Sequence[Part]:
        """Every part by position (of a log: each parsed when asked for). For the
        position indicator, ``len(source)`` and ``total_time`` cost nothing."""
        return self.recording.parts

    @property
    def finished(self) -> bool:
        return self.position >= len(self._times) and self._target is None

    @property
    def recorded_time(self) -> float:
        """The run time the replay has reached."""
        if self.position == 0:
            return 0.0
        return self._times[self.position - 1]

    @property
    def total_time(self) -> float:
        """The run time of the last part."""
        return self._times[-1] if self._times else 0.0

    @property
    def speed_label(self) -> str:
        """``0.25x`` ... ``64x``, or ``max``."""
        return "max" if self.speed is None else f"{self.speed:g}x"

    def _due_end(self, now: float) -> int:
        if self.speed is None:  # as fast as the UI can take them
            return len(self._times)
        due = self._anchor_ts + (now - self._anchor_wall) * self.speed
        return bisect.bisect_right(self._times, due, lo=self.position)

    def due(self, now: float) -> int:
        """Parts whose time has come by ``now`` (or that a fast-forward still has to
        go through) but that were not taken yet."""
        if self._target is not None:
            return self._target - self.position
        if not self.playing or self.finished:
            return 0
        return self._due_end(now) - self.position

    @property
    def fast_forwarding(self) -> bool:
        return self._target is not None

    def fast_forward(self, position: int) -> None:
        """Go forward to ``position`` through ``take``: the parts in between come as
        fast as they are taken, playing or paused, then playback goes on from there at
        the current speed (``FramePump.restart`` uses this for long jumps)."""
        position = max(0, min(position, len(self._times)))
        self._target = position if position > self.position else None

    def take(self, now: float, limit: int | None = None) -> list[Part]:
        if self._target is not None:
            end = self._target
        elif not self.playing or self.finished:
            return []
        else:
            end = self._due_end(now)
        if limit is not None:
            end = min(end, self.position + max(0, limit))
        if end <= self.position:
            return []
        out = self.recording.slice(self.position, end)
        self.position = end
        if self._target is not None and end >= self._target:
            self._target = None
            self._reanchor()
        return out

    def _reanchor(self) -> None:
        self._anchor_wall = self._clock()
        self._anchor_ts = (
            self.recorded_time if self.position else (self._times[0] if self._times else 0.0)
        )

    def pause(self) -> None:
        self.playing = False

    def play(self) -> None:
        self._reanchor()
        self.playing = True

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float | None) -> None:
        """A factor (0.25 to 64), or ``None`` for as fast as possible."""
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None (max), not {speed!r}")
        self.speed = speed
        self._reanchor()

    def faster(self) -> None:
        """The next step up ``SPEEDS`` (staying at ``max``)."""
        if self.speed is None:
            return
        current = self.speed
        up = [s for s in self.SPEEDS if s is None or s > current]
        self.set_speed(up[0])

    def slower(self) -> None:
        """The next step down ``SPEEDS`` (staying at the slowest)."""
        current = self.speed
        down = [s for s in self.SPEEDS if s is not None and (current is None or s < current)]
        if down:
            self.set_speed(down[-1])

    def step(self) -> list[Part]:
        """The next part, paused (stepping implies pausing)."""
        self.playing = False
        while not self.finished:
            self.position += 1
            part = self.recording.slice(self.position - 1, self.position)
            if part:  # an unreadable line is skipped
                return part
        return []

    def seek(self, position: int) -> None:
        """Go to ``position`` (clamped to the recording), playing or paused as before;
        playback goes on from there at the current speed. The store must follow:
        ``FramePump.restart`` does both."""
        self.position = max(0, min(position, len(self._times)))
        self._target = None
        self._reanchor()

    def step_back(self) -> None:
        """One part back, paused (``FramePump.restart(source.position)`` redraws)."""
        self.seek(self.position - 1)
        self.pause()

    def seek_end(self) -> list[Part]:
        """Everything left, at once (for a big log, ``FramePump.restart(len(source))``
        is kinder: it moves the parts in batches)."""
        out = self.recording.slice(self.position, len(self._times))
        self.position = len(self._times)
        return out

    def problems(self) -> list[str]:
        """The log's problems (a cut-off end, unreadable lines as they are found)."""
        return self.log.problems() if self.log is not None else []

    def close(self) -> None:
        """Release the log file (a replay over a list of parts holds nothing)."""
        if self.log is not None:
            self.log.close()


def open_replay(
    path: str | Path, speed: float | None = 1.0, clock: Callable[[], float] = time.monotonic
) -> ReplaySource:
    """A replay of the log at ``path`` that parses parts only as they are played.
    Raises ``EventLogError`` as ``EventLog.open`` does; ``source.problems()`` says what
    ``EventLog.problems()`` would (and, later, any line that failed to parse)."""
    return ReplaySource(LogFile.open(path), speed, clock)


class FramePump:
    """Moves what the source has due into the store, once per frame — at most
    ``per_frame`` parts, so a burst (a replay at full speed, a run that got ahead) is
    spread over frames instead of freezing one. A replay holds the rest back itself;
    a live run's excess is carried to the next frame.

    ``budget`` (seconds, optional) also bounds a frame's time: a replay is taken in
    slices of ``slice_parts`` until the budget is spent. Parsing a log line costs about
    5 µs, so 20,000 replayed parts make a 0.2 s frame; a budget of 0.03 keeps a
    full-speed replay or a long seek at about 20 frames a second (at some cost in
    parts a second)."""

    def __init__(
        self,
        source: Source,
        store: RunStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        per_frame: int = 20_000,
        budget: float | None = None,
        slice_parts: int = 1_000,
    ) -> None:
        self.source = source
        self.store = store or RunStore()
        self._clock = clock
        self.per_frame = per_frame
        self.budget = budget
        self.slice_parts = slice_parts
        self._carried: list[Part] = []
        self.frames = 0

    @property
    def behind(self) -> int:
        """Parts due (taken from a live source, or whose time has come in a replay) but
        not yet shown."""
        due = self.source.due(self._clock()) if isinstance(self.source, ReplaySource) else 0
        return len(self._carried) + due

    @property
    def finished(self) -> bool:
        return self.source.finished and not self._carried

    def tick(self) -> Changes:
        self.frames += 1
        # A frame's parts are made, stored and dropped with the cyclic GC held off: they
        # make no cycles, and collections that walked them cost as much as the parsing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if self.budget is None or not isinstance(self.source, ReplaySource):
                return self._move(self.per_frame)
            return self._move_within(self.budget)
        finally:
            if collecting:
                gc.enable()

    def _move(self, most: int) -> Changes:
        room = most - len(self._carried)
        taken = self.source.take(self._clock(), max(0, room))
        parts = self._carried + taken if self._carried else taken
        self._carried = parts[most:]
        parts = parts[:most]
        if not parts:
            return Changes(first=len(self.store.parts))
        return self.store.ingest(parts)

    def _move_within(self, budget: float) -> Changes:
        """Slices of a replay until ``per_frame`` parts or ``budget`` seconds."""
        source = self.source
        assert isinstance(source, ReplaySource)
        started = time.perf_counter()
        changes = self._move(min(self.slice_parts, self.per_frame))
        moved = len(self.store.parts) - changes.first
        while (
            moved < self.per_frame
            and time.perf_counter() - started < budget
            and source.due(self._clock())
        ):
            more = self._move(min(self.slice_parts, self.per_frame - moved))
            if len(self.store.parts) == more.first:
                break
            moved += len(self.store.parts) - more.first
            changes.added_runs += more.added_runs
            changes.changed_runs |= more.changed_runs
            changes.token_runs |= more.token_runs
            changes.state = changes.state or more.state
        return changes

    def restart(self, position: int) -> Changes:
        """Seek the replay to ``position`` and make the store hold exactly the parts
        before it; what to redraw (everything). ``self.store`` is a new store afterwards
        (bind the panes to it); the old one is emptied, its contents moved, not copied.

        Back (or where the store already is): a cut of the store — array slices and one
        pass over the runs, no part read again; about 50 ms at the end of a million-part
        log. Forward: up to ``per_frame`` parts are read now; a longer jump goes on over
        the next frames at full speed (``source.fast_forwarding``), ``per_frame`` a
        frame, then playback goes on as it was (playing or paused)."""
        source = self.source
        if not isinstance(source, ReplaySource):
            raise TypeError("only a replay can seek")
        position = max(0, min(position, len(source)))
        self._carried = []
        store = self.store
        start = min(source.position, position)
        self.store = store.truncated(store.parts.before_log_index(start), move=True)
        source.seek(start)
        if position > start:
            source.fast_forward(position)
            if position - start <= self.per_frame:
                self.tick()
        return self.store.everything()
