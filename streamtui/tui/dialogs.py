"""The small screens that ask something: which events to show, where to export.

Each returns its answer through ``dismiss`` (``None`` for cancel); the app applies it.
Names and tags come from the run, so they are shown as plain text, never markup.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from streamtui.transcript import printable
from streamtui.tui.filters import FilterChoices, PartFilter

__all__ = ["ExportPrompt", "FilterScreen", "RunPicker"]


class FilterScreen(ModalScreen[PartFilter | None]):
    """Tick event types, run names and tags; Enter (or Apply) shows only what matches.
    Within one list the ticks combine with OR, across lists with AND."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="filter.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="filter.apply"),
    ]
    DEFAULT_CSS = """
    FilterScreen { align: center middle; }
    FilterScreen > Vertical {
        width: 90%; max-width: 120; height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    FilterScreen Horizontal#lists { height: 1fr; }
    FilterScreen SelectionList { width: 1fr; height: 1fr; }
    FilterScreen Horizontal#buttons { height: auto; align-horizontal: right; }
    FilterScreen Label { color: $text-muted; }
    """

    def __init__(self, current: PartFilter, choices: FilterChoices) -> None:
        super().__init__()
        self.current = current
        self.choices = choices

    def compose(self) -> ComposeResult:
        lists = (
            ("kinds", "event type", self.choices.kinds, self.current.kinds),
            ("names", "name", self.choices.names, self.current.names),
            ("tags", "tag", self.choices.tags, self.current.tags),
        )
        with Vertical() as box:
            box.border_title = "filter events"
            yield Label("Space ticks, Tab moves between lists, Ctrl+S or Apply shows the result")
            with Horizontal(id="lists"):
                for list_id, title, values, chosen in lists:
                    picker: SelectionList[str] = SelectionList(
                        *(
                            Selection(Text(printable(f"{v} ({n})")), v, v in chosen)
                            for v, n in values
                        ),
                        id=list_id,
                    )
                    picker.border_title = title if values else f"{title}: none in this run"
                    yield picker
            with Horizontal(id="buttons"):
                yield Button("Clear", id="clear")
                yield Button("Apply", id="apply", variant="primary")

    def _picked(self, list_id: str) -> frozenset[str]:
        return frozenset(self.query_one(f"#{list_id}", SelectionList).selected)

    def action_apply(self) -> None:
        self.dismiss(
            replace(
                self.current,
                kinds=self._picked("kinds"),
                names=self._picked("names"),
                tags=self._picked("tags"),
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, message: Button.Pressed) -> None:
        if message.button.id == "apply":
            self.action_apply()
        else:
            for picker in self.query(SelectionList):
                picker.deselect_all()


class ExportPrompt(ModalScreen[str | None]):
    """Where to write the shown events: ``.jsonl`` (replayable) or ``.md``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]
    DEFAULT_CSS = """
    ExportPrompt { align: center bottom; }
    ExportPrompt > Vertical { width: 80%; height: auto; margin-bottom: 2; }
    ExportPrompt Label { color: $text-muted; }
    """

    def __init__(self, suggested: str, count: int) -> None:
        super().__init__()
        self.suggested = suggested
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Export the {self.count} shown events: a .jsonl path writes a log "
                "`streamtui replay` opens; .md writes a Markdown table."
            )
            yield Input(value=self.suggested, id="path")

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.dismiss(message.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RunPicker(ModalScreen[str | None]):
    """The runs a viewer follows (``attach nats://... --all``): pick one to narrow the
    panes to it, or "every run". Dismissed with the run id, ``""`` for every run, or
    ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="runs.cancel")]
    DEFAULT_CSS = """
    RunPicker { align: center middle; }
    RunPicker > OptionList {
        width: 80%; max-width: 100; height: auto; max-height: 80%;
        border: round $accent; background: $surface;
    }
    """

    def __init__(self, runs: list[tuple[str, str]]) -> None:
        """``runs``: (run id, a line describing it), oldest first."""
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        options = [Option(Text("every run"), id="")]
        options += [Option(Text(printable(line)), id=run_id) for run_id, line in self.runs]
        picker = OptionList(*options)
        picker.border_title = f"{len(self.runs)} runs"
        yield picker

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(message.option.id or "")

    def action_cancel(self) -> None:
        self.dismiss(None)
