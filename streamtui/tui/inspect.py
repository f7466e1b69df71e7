"""The inspector: one part's (or one run's) whole payload, and the search prompt.

Payloads are shown as the JSON the event log holds (messages, documents, errors in their
tagged form), as plain text: what a model wrote cannot restyle the screen.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from streamtui.envelope import Part, encode_line
from streamtui.transcript import printable
from streamtui.tui.store import RunStore

__all__ = ["Inspector", "SearchPrompt", "part_payload", "run_payload"]


def part_payload(part: Part) -> str:
    """The part as its log line, pretty-printed."""
    return json.dumps(json.loads(encode_line(part)), indent=2, ensure_ascii=False)


def run_payload(store: RunStore, run_id: str) -> str:
    """A run's start, end or error events and what it streamed, pretty-printed."""
    run = store.runs[run_id]
    sections = [
        f"{run.name} ({run.run_type}) · {run.status}"
        + (f" · {run.duration:.3f}s" if run.duration is not None else "")
    ]
    if run.error:
        sections.append(f"error: {run.error.get('type')}: {run.error.get('message')}")
    if run.reasoning:
        sections.append("reasoning:\n" + "".join(run.reasoning))
    if run.text:
        sections.append("text:\n" + run.answer())
    if run.tool_args:
        sections.append("tool calls:\n" + "".join(run.tool_args))
    for position in run.parts:
        part = store.parts[position]
        kind = part.data.get("event", "") if isinstance(part.data, dict) else ""
        if not kind.endswith("_stream"):
            sections.append(part_payload(part))
    return "\n\n".join(sections)


class Inspector(ModalScreen[None]):
    """A full payload, scrollable; Escape closes it."""

    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close", id="inspector.close"),
        Binding("c", "copy", "Copy", id="inspector.copy"),
    ]
    DEFAULT_CSS = """
    Inspector { align: center middle; }
    Inspector > VerticalScroll {
        width: 90%; height: 90%; border: round $accent; background: $surface;
    }
    """

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(printable(self.title_text))
            yield Static(Text(printable(self.body)), id="payload")

    def action_copy(self) -> None:
        """Through the terminal's clipboard escape (OSC 52), so it works over SSH."""
        self.app.copy_to_clipboard(self.body)
        self.notify(f"copied {len(self.body)} characters", timeout=3)


class SearchPrompt(ModalScreen[str | None]):
    """Free text to filter the event table by; empty clears the filter."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="search.cancel")]
    DEFAULT_CSS = """
    SearchPrompt { align: center bottom; }
    SearchPrompt > Input { width: 80%; margin-bottom: 2; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        yield Input(
            value=self.current, placeholder="search events (Enter to apply, empty to clear)"
        )

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.dismiss(message.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
