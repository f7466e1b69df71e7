"""The event table: a virtual table over every part, rendering only the visible rows.

Rows come from a ``FilteredView`` of the store; nothing is copied into the widget, so a
million-part run costs the table nothing until a row scrolls into view. Follow mode is
explicit state: new rows keep the view at the bottom only while it is on; scrolling away
turns it off and the title counts what arrived since.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from streamtui.tui.filters import FilteredView, row
from streamtui.tui.scrolling import set_virtual_size

__all__ = ["EventTable"]

# seq, time, event, name, run path; the summary takes the rest. Narrow panes drop the
# run path, then the name, so the summary keeps some room from 80 columns up.
_WIDTHS = (7, 9, 22, 20, 28)
_NARROW = (7, 9, 22, 16, 0)
_NARROWEST = (6, 8, 21, 0, 0)


def widths_for(width: int) -> tuple[int, ...]:
    if width >= 120:
        return _WIDTHS
    return _NARROW if width >= 80 else _NARROWEST


def _cell(text: str, width: int) -> str:
    return text[: width - 1].ljust(width) if len(text) >= width else text.ljust(width)


class EventTable(ScrollView, can_focus=True):
    """Every part of the run, one line each, filterable, following the newest."""

    BINDINGS = [
        Binding("up", "move_cursor(-1)", "Up", show=False),
        Binding("down", "move_cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        # Home and End move the cursor (and End follows again), not just the view.
        Binding("home,ctrl+home", "move_cursor(-1_000_000_000)", "First", show=False),
        Binding("end,ctrl+end", "follow", "Follow", show=False),
    ]

    cursor: reactive[int] = reactive(0)
    follow: reactive[bool] = reactive(True)

    def __init__(self, view: FilteredView, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.view = view
        self.unseen = 0

    def refresh_rows(self, added: int) -> None:
        """New rows arrived (``added`` passed the filter): resize, follow, redraw."""
        set_virtual_size(self, Size(self.scrollable_content_region.width, len(self.view)))
        if self.follow:
            self.cursor = max(0, len(self.view) - 1)
            self.scroll_end(animate=False)
        else:
            self.unseen += added
        self.border_title = self._title()
        self.refresh()

    def _title(self) -> str:
        base = f"events {len(self.view)}"
        return f"{base} · {self.unseen} new (End to follow)" if self.unseen else base

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.view):
            return Strip.blank(width, base)
        store = self.view.store
        cells = row(store, store.parts[self.view.positions[index]], width)
        text = "".join(_cell(c, w) for c, w in zip(cells, widths_for(width)) if w) + cells.summary
        style = (
            base + self.get_component_rich_style("event-table--cursor")
            if index == self.cursor
            else base
        )
        kind = cells.kind
        if kind.endswith("_error"):
            # Only the colour: the cursor's background must stay visible on an error row.
            style += self.get_component_rich_style("event-table--error", partial=True)
        return Strip([Segment(text[:width].ljust(width), style)], width)

    COMPONENT_CLASSES = {"event-table--cursor", "event-table--error"}

    DEFAULT_CSS = """
    EventTable { overflow-x: hidden; }
    EventTable > .event-table--cursor { background: $accent 40%; }
    EventTable > .event-table--error { color: $error; }
    """

    async def on_click(self, event: Click) -> None:
        """A click selects the row under the pointer; a double click inspects it."""
        _, top = self.scroll_offset
        index = top + event.y
        if 0 <= index < len(self.view):
            self.action_move_cursor(index - self.cursor)
            if event.chain >= 2:
                await self.app.run_action("inspect")

    def action_move_cursor(self, delta: int) -> None:
        if not len(self.view):
            return
        self.cursor = min(max(0, self.cursor + delta), len(self.view) - 1)
        self.follow = self.cursor == len(self.view) - 1
        if self.follow:
            self.unseen = 0
        self.scroll_to_region_for(self.cursor)
        self.border_title = self._title()
        self.refresh()

    def action_page(self, direction: int) -> None:
        self.action_move_cursor(direction * max(1, self.size.height - 1))

    def scroll_to_region_for(self, index: int) -> None:
        _, top = self.scroll_offset
        height = self.size.height
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def action_follow(self) -> None:
        self.follow = True
        self.unseen = 0
        self.refresh_rows(0)

    def selected_position(self) -> int | None:
        """The store position of the row under the cursor."""
        if 0 <= self.cursor < len(self.view):
            return self.view.positions[self.cursor]
        return None
