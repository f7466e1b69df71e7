"""Where the UI's parts come from, and the once-per-frame pump that moves them.

Every source — a live run on the bus, a replayed log, later a remote attach — offers the
same ``take(now)`` call: the parts due by ``now``. ``FramePump.tick`` asks its source once
per frame and hands everything to the store in one ``ingest``, so the UI does one batch of
work per frame however fast parts arrive. Textual-free; the app calls ``tick`` from a
timer inside ``batch_update()``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Protocol

from streamtui.bus import Subscription
from streamtui.envelope import Part
from streamtui.tui.store import Changes, RunStore

__all__ = ["FramePump", "LiveSource", "ReplaySource", "Source"]


class Source(Protocol):
    """Parts for the UI, asked for once per frame."""

    def take(self, now: float) -> list[Part]: ...

    @property
    def finished(self) -> bool: ...


class LiveSource:
    """A run on the bus, through a coalescing subscription (a UI that falls behind gets
    token chunks folded rather than slowing the run)."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription

    def take(self, now: float) -> list[Part]:
        return self.subscription.drain()

    @property
    def finished(self) -> bool:
        return self.subscription._bus.closed and not self.subscription.pending()


class ReplaySource:
    """A recorded run played back on a clock: play, pause, speed, step, seek.

    The position is a part index; ``take`` returns the parts whose recorded time has come
    at the current speed. Seeking backwards is the caller's business (it rebuilds the
    store from the start: a store only grows).
    """

    def __init__(
        self,
        parts: list[Part],
        speed: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parts = parts
        self._times = [p.ts for p in parts]
        self.position = 0
        self.speed = speed
        self.playing = True
        self._clock = clock
        self._anchor_wall = clock()
        self._anchor_ts = parts[0].ts if parts else 0.0

    @property
    def finished(self) -> bool:
        return self.position >= len(self.parts)

    @property
    def recorded_time(self) -> float:
        """The run time the replay has reached."""
        if self.position == 0:
            return 0.0
        return self._times[self.position - 1]

    def take(self, now: float) -> list[Part]:
        if not self.playing or self.finished:
            return []
        if self.speed is None:  # as fast as the UI can take them
            end = len(self.parts)
        else:
            due = self._anchor_ts + (now - self._anchor_wall) * self.speed
            end = bisect.bisect_right(self._times, due, lo=self.position)
        out = self.parts[self.position : end]
        self.position = end
        return out

    def _reanchor(self) -> None:
        self._anchor_wall = self._clock()
        self._anchor_ts = (
            self.recorded_time if self.position else (self._times[0] if self.parts else 0.0)
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

    def step(self) -> list[Part]:
        """The next part, paused (stepping implies pausing)."""
        self.playing = False
        if self.finished:
            return []
        part = self.parts[self.position]
        self.position += 1
        return [part]

    def seek_end(self) -> list[Part]:
        """Everything left, at once."""
        out = self.parts[self.position :]
        self.position = len(self.parts)
        return out


class FramePump:
    """Moves what the source has due into the store, once per frame — at most
    ``per_frame`` parts, so a burst (a replay at full speed, a run that got ahead) is
    spread over frames instead of freezing one."""

    def __init__(
        self,
        source: Source,
        store: RunStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        per_frame: int = 20_000,
    ) -> None:
        self.source = source
        self.store = store or RunStore()
        self._clock = clock
        self.per_frame = per_frame
        self._carried: list[Part] = []
        self.frames = 0

    @property
    def behind(self) -> int:
        """Parts taken from the source but not yet shown."""
        return len(self._carried)

    @property
    def finished(self) -> bool:
        return self.source.finished and not self._carried

    def tick(self) -> Changes:
        self.frames += 1
        parts = self._carried + self.source.take(self._clock())
        self._carried = parts[self.per_frame :]
        parts = parts[: self.per_frame]
        if not parts:
            return Changes(first=len(self.store.parts))
        return self.store.ingest(parts)
