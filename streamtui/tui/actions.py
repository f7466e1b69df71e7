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
    Action("filter", "f", "Filter the events by type, name, tag or run", "filter"),
    Action("copy", "c", "Copy the selected event or run (works over SSH)", "copy"),
    Action("export", "x", "Export the shown events as JSONL or Markdown", "export"),
    Action("toggle_replay", "space", "Play or pause a replay", "toggle_replay"),
    Action("step_replay", "n,full_stop", "Step a replay one part forward", "step_replay"),
    Action("step_back", "b,comma", "Step a replay one part back", "step_back", footer=False),
    Action("faster", "plus,equals_sign", "Replay faster", "replay_faster", footer=False),
    Action("slower", "minus", "Replay slower", "replay_slower", footer=False),
    Action("seek_start", "home", "Replay from the start", "seek_start", footer=False),
    Action("seek_end", "G", "Jump to the end of a replay", "seek_end", footer=False),
    Action("seek_here", "g", "Replay up to the selected event", "seek_here", footer=False),
    Action("maximize", "m", "Maximise or restore the focused pane", "toggle_maximize"),
    Action(
        "toggle_tokens", "1", "Show or hide the tokens pane", "toggle_pane('tokens')", footer=False
    ),
    Action(
        "toggle_events", "2", "Show or hide the events pane", "toggle_pane('events')", footer=False
    ),
    Action(
        "toggle_steps", "3", "Show or hide the steps pane", "toggle_pane('steps')", footer=False
    ),
    Action("toggle_json", "4", "Show or hide the state pane", "toggle_pane('json')", footer=False),
    Action("narrow_left", "less_than_sign", "Move the divider left", "resize(-1)", footer=False),
    Action("widen_left", "greater_than_sign", "Move the divider right", "resize(1)", footer=False),
    Action(
        "state_diff",
        "d",
        "State: show what changed from the step before",
        "toggle_diff",
        footer=False,
    ),
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
        "full_stop": ".",
        "comma": ",",
        "plus": "+",
        "equals_sign": "=",
        "minus": "-",
        "home": "Home",
        "less_than_sign": "<",
        "greater_than_sign": ">",
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
