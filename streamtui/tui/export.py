"""Export what the event table shows: a replayable JSONL log, or a Markdown table.

Textual-free. A JSONL export is a real event log (header, parts, footer), so
``streamtui replay`` opens it like any recorded run; secrets are redacted on the way out
as the recorder does. Markdown is for bug reports and notes: one table row per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamtui.envelope import Redactor
from streamtui.eventlog import EventLogWriter, Tally
from streamtui.tui.filters import PartFilter, row
from streamtui.tui.store import RunStore

__all__ = ["default_export_path", "export_view", "filter_words"]


def default_export_path(name: str, when: datetime | None = None) -> Path:
    """``streamtui-export-<name>-<time>.jsonl`` in the working directory."""
    when = when or datetime.now()
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "run"
    return Path(f"streamtui-export-{safe}-{when:%Y%m%d-%H%M%S}.jsonl")


def filter_words(store: RunStore, wanted: PartFilter) -> str:
    """The filter in words (for a Markdown title and the table's subtitle)."""
    shown = []
    if wanted.run in store.runs:
        shown.append("run " + " > ".join(store.path(wanted.run)))
    for label, values in (("event", wanted.kinds), ("name", wanted.names), ("tag", wanted.tags)):
        if values:
            shown.append(f"{label} {' | '.join(sorted(values))}")
    if wanted.text:
        shown.append(f"'{wanted.text}'")
    return ", ".join(shown)


def export_view(
    store: RunStore,
    positions: Sequence[int],
    path: str | Path,
    *,
    name: str = "run",
    wanted: PartFilter | None = None,
    redactor: Redactor | None = None,
) -> int:
    """Write the parts at ``positions`` to ``path`` (``.md`` for Markdown, otherwise
    JSONL, ``.gz`` compressed); returns how many. Raises ``OSError`` if it cannot write."""
    path = Path(path)
    redactor = redactor or Redactor()
    words = filter_words(store, wanted) if wanted else ""
    if path.suffix.lower() in (".md", ".markdown"):
        _markdown(store, positions, path, name, words, redactor)
        return len(positions)
    header: dict[str, Any] = {
        "spec": {"name": name, "path": None, "hash": None},
        "input": None,
        "modes": sorted({store.parts[i].mode for i in positions}),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "exported": {"filter": words, "of_parts": len(store.parts)},
    }
    writer = EventLogWriter(path, header, redactor)
    tally = Tally()
    try:
        for start in range(0, len(positions), 1024):
            batch = [store.parts[i] for i in positions[start : start + 1024]]
            writer.write(batch)
            tally.add(batch)
    finally:
        # Exported mid-run, the log is as incomplete as one whose run is still going.
        status = "incomplete" if store.status == "running" else store.status
        writer.close({"status": status, "error": store.error, **tally.as_footer()})
    return len(positions)


def _markdown(
    store: RunStore,
    positions: Sequence[int],
    path: Path,
    name: str,
    words: str,
    redactor: Redactor,
) -> None:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")

    lines = [
        f"# {cell(name)}: {len(positions)} events",
        "",
        f"Status: {store.status}" + (f" · filter: {cell(words)}" if words else ""),
        "",
        "| seq | time (s) | event | name | run path | summary |",
        "| ---: | ---: | --- | --- | --- | --- |",
    ]
    for i in positions:
        r = row(store, store.parts[i], width=300)
        lines.append("| " + " | ".join(cell(c.strip()) for c in r) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redactor.text("\n".join(lines)) + "\n", encoding="utf-8")
