"""Every user action, once: key bindings, the footer, the help screen and the command
palette are all made from this list, so they can never disagree."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = [
    "ACTIONS",
    "Action",
    "ActionCommands",
    "HelpScreen",
    "app_keymap",
    "bindings",
    "effective_keys",
    "key_names",
]


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
    Action("seek_start", "r", "Replay from the start", "seek_start", footer=False),
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
    Action(
        "pick_run", "p", "Pick one of the runs followed (attach --all)", "pick_run", footer=False
    ),
    Action("next_pane", "tab", "Next pane", "focus_next", footer=False),
    Action("next_theme", "t", "Next theme", "next_theme", footer=False),
)


def bindings(actions: Iterable[Action] = ACTIONS) -> list[Binding]:
    """The app's bindings, each with its action's id so a keymap can move its keys."""
    return [
        Binding(a.keys, a.action, a.description.split(" (")[0], show=a.footer, id=a.id)
        for a in actions
    ]


def effective_keys(action: Action, keymap: Mapping[str, str]) -> str:
    """The keys an action answers to under ``keymap`` (binding id -> keys): a keymap entry
    replaces the defaults, as Textual's ``set_keymap`` does, it never adds to them."""
    return keymap.get(action.id) or action.keys


def app_keymap(app: App[Any]) -> Mapping[str, str]:
    """The keymap given to ``app.set_keymap``, so the help screen and the palette show the
    keys that really work. Textual 8 keeps it in ``App._keymap`` with no public getter."""
    keymap = getattr(app, "_keymap", None)
    return keymap if isinstance(keymap, Mapping) else {}


def key_names(keys: str) -> str:
    """Keys as a person reads them: "question_mark,f1" -> "? / f1", "ctrl+slash" -> "ctrl+/"."""
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

    def one(key: str) -> str:
        *mods, base = key.split("+")
        return "+".join([*mods, names.get(base) or format_key(base)])

    return " / ".join(one(k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """The keys, from the same list the bindings came from, as remapped by the keymap."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 70; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        """``keymap``: binding id -> keys; by default the one the app was given."""
        super().__init__()
        self._given_keymap = keymap

    @property
    def keymap(self) -> Mapping[str, str]:
        return self._given_keymap if self._given_keymap is not None else app_keymap(self.app)

    def compose(self) -> ComposeResult:
        text = Text()
        for action in ACTIONS:
            text.append(f"{key_names(effective_keys(action, self.keymap)):>16}  ", style="bold")
            # A long description wraps under itself, not under the keys.
            lines = textwrap.wrap(action.description, 62 - 18) or [""]
            text.append("\n".join([lines[0], *(" " * 18 + line for line in lines[1:])]) + "\n")
        text.append("\nCtrl+P opens the command palette with all of these.", style="dim")
        with VerticalScroll() as scroll:
            scroll.border_title = "keys"
            yield Static(text, id="keys")

    def on_key(self, event: events.Key) -> None:
        """The help key closes the help too, wherever the keymap moved it."""
        help_keys = [effective_keys(a, self.keymap) for a in ACTIONS if a.id == "help"]
        if help_keys and event.key in help_keys[0].split(","):
            event.stop()
            self.dismiss()


class ActionCommands(Provider):
    """The command palette's entries: the same actions, by their descriptions."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        keymap = app_keymap(self.app)
        for action in ACTIONS:
            score = matcher.match(action.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.description),
                    partial(self.app.run_action, action.action),
                    help=f"key: {key_names(effective_keys(action, keymap))}",
                )
