"""Which parts the event table shows, and what each row says. Textual-free.

A ``FilteredView`` keeps the positions of matching parts and extends them as parts
arrive, so a filter costs one test per new part, not a rescan per frame. Row text is made
only for the rows on screen (``row``), with model text reduced to one printable line.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from streamtui.envelope import Part
from streamtui.transcript import chunk_pieces, one_line, printable
from streamtui.tui.store import RunStore

__all__ = ["FilterChoices", "FilteredView", "PartFilter", "Row", "filter_choices", "kind_of", "row"]


def kind_of(part: Part) -> str:
    """The event name of an ``events`` part, else the graph mode."""
    data = part.data
    if part.mode == "events" and isinstance(data, dict) and isinstance(data.get("event"), str):
        return data["event"]
    return part.mode


@dataclass(frozen=True)
class PartFilter:
    """Event types (or modes), names, tags, a run with its subtree, free text. Empty
    means everything; the criteria combine with AND, values within one with OR."""

    kinds: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    run: str | None = None
    text: str = ""

    @property
    def is_open(self) -> bool:
        return not (self.kinds or self.names or self.tags or self.run or self.text)

    def matches(self, store: RunStore, part: Part, runs: set[str] | None) -> bool:
        if self.kinds and kind_of(part) not in self.kinds:
            return False
        data = part.data if isinstance(part.data, dict) else {}
        is_event = part.mode == "events"
        if self.names and (not is_event or data.get("name") not in self.names):
            return False
        if self.tags:
            tags = data.get("tags") if is_event else None
            if not isinstance(tags, list) or not self.tags.intersection(tags):
                return False
        if runs is not None and (not is_event or data.get("run_id") not in runs):
            return False
        if self.text:
            return self.text.lower() in " ".join(row(store, part)).lower()
        return True


@dataclass
class FilteredView:
    """Positions in ``store.parts`` that pass ``filter``, kept up to date by ``extend``."""

    store: RunStore
    filter: PartFilter = field(default_factory=PartFilter)
    positions: array[int] = field(default_factory=lambda: array("q"))
    """8 bytes a row: a million-part run's unfiltered view costs 8 MB, not 36."""
    _seen: int = 0
    _runs: set[str] | None = None

    def set_filter(self, new: PartFilter) -> None:
        """Apply another filter (a rescan, once)."""
        self.filter = new
        self.positions = array("q")
        self._seen = 0
        self.extend()

    def extend(self) -> int:
        """Take in the parts added since the last call; returns how many matched."""
        store, wanted = self.store, self.filter
        parts = store.parts
        start, end = self._seen, len(parts)
        self._seen = end
        if wanted.is_open:
            self.positions.extend(range(start, end))
            return end - start
        # A run's subtree grows while it runs: recompute it as new runs arrive.
        runs = store.subtree(wanted.run) if wanted.run else None
        matched = [i for i in range(start, end) if wanted.matches(store, parts[i], runs)]
        self.positions.extend(matched)
        return len(matched)

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class Row:
    """One line of the event table."""

    seq: str
    time: str
    kind: str
    name: str
    path: str
    summary: str

    def __iter__(self) -> Any:
        return iter((self.seq, self.time, self.kind, self.name, self.path, self.summary))


def row(store: RunStore, part: Part, width: int = 120) -> Row:
    """The table row of ``part``: seq, time since start, event, name, run path, summary."""
    data = part.data
    kind = kind_of(part)
    name = path = ""
    if part.mode == "events" and isinstance(data, dict):
        name = str(data.get("name", ""))
        run_id = data.get("run_id")
        if isinstance(run_id, str):
            path = " > ".join(store.path(run_id)[:-1])
        summary = _event_summary(kind, data.get("data"))
    else:
        where = "/".join(part.ns)
        path = where
        summary = one_line(data)
    return Row(
        str(part.seq), f"{part.ts:8.3f}", kind, printable(name), printable(path), summary[:width]
    )


def _event_summary(kind: str, payload: Any) -> str:
    if not isinstance(payload, dict):
        return one_line(payload)
    if "chunk" in payload:
        text, reasoning, args = chunk_pieces(payload["chunk"])
        if text or reasoning or args:
            return one_line(text or reasoning or args)
        return one_line(payload["chunk"])
    if "error" in payload:
        error = payload["error"]
        if isinstance(error, dict):
            return one_line(f"{error.get('type', 'Error')}: {error.get('message', '')}")
        return one_line(str(error))
    for key in ("output", "input"):
        if key in payload:
            return one_line(payload[key])
    return one_line(payload)


@dataclass(frozen=True)
class FilterChoices:
    """What there is to filter by in a store, each value with how many parts (or runs)
    carry it: the filter dialog's lists."""

    kinds: list[tuple[str, int]]
    names: list[tuple[str, int]]
    tags: list[tuple[str, int]]


def filter_choices(store: RunStore) -> FilterChoices:
    """Event types and graph modes by part count; run names and tags by run count."""
    kinds = {kind: len(p) for kind, p in store.by_event.items()}
    kinds.update({mode: len(p) for mode, p in store.by_mode.items() if mode != "events"})
    names: dict[str, int] = {}
    tags: dict[str, int] = {}
    for run in store.runs.values():
        names[run.name] = names.get(run.name, 0) + 1
        first = store.parts[run.parts[0]].data if run.parts else None
        run_tags = first.get("tags") if isinstance(first, dict) else None
        for tag in run_tags if isinstance(run_tags, list) else ():
            tags[str(tag)] = tags.get(str(tag), 0) + 1

    def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    return FilterChoices(ranked(kinds), ranked(names), ranked(tags))
