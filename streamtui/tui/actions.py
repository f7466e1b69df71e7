"""Every user action, once: key bindings, the footer, the help screen and the command
palette are all made from this list, so they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["ACTIONS", "Action", "ActionCommands", "HelpScreen", "bindings"]


@dataclass(frozen=True)
class Action:
    """One thing a user can do: an id (for keymaps), keys, words, the app action."""

    id: str
    keys: str
    description: str
    action: str
    footer: bool = True


ACTIONS: tuple[Action, ...] = (
    Action("quit", "q", "Quit (a running run is stopped, its log kept)", "quit"),
    Action("help", "question_mark,f1", "Show the keys", "help"),
    Action("inspect", "enter,i", "Inspect the selected event or run", "inspect"),
    Action("search", "slash", "Search the events", "search"),
    Action("clear_filter", "escape", "Show all events", "clear_filter", footer=False),
    Action("follow", "end", "Follow the newest event", "follow_events", footer=False),
    Action("toggle_replay", "space", "Play or pause a replay", "toggle_replay"),
    Action("step_replay", "n", "Step a replay one part", "step_replay"),
    Action("next_pane", "tab", "Next pane", "focus_next", footer=False),
    Action("next_theme", "t", "Next theme", "next_theme", footer=False),
)


def bindings(actions: Iterable[Action] = ACTIONS) -> list[Binding]:
    return [
        Binding(a.keys, a.action, a.description.split(" (")[0], show=a.footer, id=a.id)
        for a in actions
    ]


def _key_names(keys: str) -> str:
    names = {
        "question_mark": "?",
        "slash": "/",
        "escape": "Esc",
        "enter": "Enter",
        "space": "Space",
    }
    return " / ".join(names.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """The keys, from the same list the bindings came from."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 70; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """

    def compose(self) -> ComposeResult:
        text = Text()
        for action in ACTIONS:
            text.append(f"{_key_names(action.keys):>16}  ", style="bold")
            text.append(f"{action.description}\n")
        text.append("\nCtrl+P opens the command palette with all of these.", style="dim")
        with VerticalScroll() as scroll:
            scroll.border_title = "keys"
            yield Static(text, id="keys")


class ActionCommands(Provider):
    """The command palette's entries: the same actions, by their descriptions."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in ACTIONS:
            score = matcher.match(action.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.description),
                    partial(self.app.run_action, action.action),
                    help=f"key: {_key_names(action.keys)}",
                )
