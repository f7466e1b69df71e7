"""The Textual app: one frame pump feeding the header, tokens, events, steps and JSON panes.

A timer (30 frames a second) drains the source into the store once and tells each pane
what changed, inside ``batch_update()``, so the screen is repainted once per frame however
many parts arrived. Nothing else touches the widgets: the run (or the replay) only fills
the source.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from streamtui.tui.actions import ActionCommands, HelpScreen, bindings
from streamtui.tui.events_table import EventTable
from streamtui.tui.filters import FilteredView, PartFilter
from streamtui.tui.inspect import Inspector, SearchPrompt, part_payload, run_payload
from streamtui.tui.panes import JsonPane, RunHeader, StepTree, TokenPane
from streamtui.tui.sources import FramePump, ReplaySource, Source
from streamtui.tui.store import Changes, RunStore
from streamtui.tui.theme_files import DEFAULT_THEME, load_themes

__all__ = ["StreamApp"]

FRAME_RATE = 30
JSON_EVERY = 6  # frames: the JSON view redraws at most 5 times a second


class StreamApp(App[None]):
    """Watch a run (live or replayed): tokens, events, the run tree, the state."""

    TITLE = "streamtui"
    CSS = """
    RunHeader { height: 1; background: $panel; color: $text; padding: 0 1; }
    #left { width: 3fr; }
    #right { width: 2fr; }
    TokenPane, EventTable, StepTree, JsonPane { border: round $primary 50%; }
    TokenPane:focus, EventTable:focus, StepTree:focus { border: round $accent; }
    TokenPane { height: 1fr; }
    EventTable { height: 1fr; }
    StepTree { height: 1fr; }
    JsonPane { height: 1fr; overflow: auto; }
    """
    BINDINGS = bindings()
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        source: Source,
        *,
        name: str = "run",
        store: RunStore | None = None,
        job: Coroutine[Any, Any, Any] | None = None,
        theme: str | None = None,
    ) -> None:
        """``job``: the run itself (``run_session(...)``), started with the app and
        cancelled if the app quits first — its log is then finished as interrupted."""
        super().__init__()
        self._wanted_theme = theme
        self.run_name = name
        self._job = job
        self.outcome: Any = None
        self.job_error: BaseException | None = None
        self.pump = FramePump(source, store or RunStore())
        self.store = self.pump.store
        self.view = FilteredView(self.store)
        self._frames = 0
        self._state_dirty = False
        self.ended = False

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        with Horizontal():
            with Vertical(id="left"):
                yield TokenPane(id="tokens")
                yield EventTable(self.view, id="events")
            with Vertical(id="right"):
                yield StepTree(id="steps")
                yield JsonPane(id="json")
        yield Footer()

    def _use_themes(self) -> None:
        """Register every theme file; pick the one asked for, or say why not and fall
        back to the default."""
        themes, problems = load_themes()
        for theme in themes.values():
            self.register_theme(theme)
        wanted = self._wanted_theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            names = ", ".join(sorted(themes))
            problems.append(f"no theme named {wanted!r} (themes: {names}); using {DEFAULT_THEME}")
            self.theme = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else self.theme
        for problem in problems:
            self.notify(str(problem), title="theme", severity="warning", timeout=8)

    def action_next_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("streamtui-")) or sorted(
            self.available_themes
        )
        at = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(at + 1) % len(names)]

    def on_mount(self) -> None:
        self._use_themes()
        for pane_id, title in (
            ("tokens", "tokens"),
            ("events", "events"),
            ("steps", "steps"),
            ("json", "state"),
        ):
            self.query_one(f"#{pane_id}").border_title = title
        # Held, not queried per frame: cheaper, and safe while the app is closing.
        self._table = self.query_one(EventTable)
        self._tokens = self.query_one(TokenPane)
        self._steps = self.query_one(StepTree)
        self._state = self.query_one(JsonPane)
        self._header = self.query_one(RunHeader)
        self._frame_timer = self.set_interval(1 / FRAME_RATE, self.draw_frame)
        self._table.focus()
        if self._job is not None:
            self.run_worker(self._run_job(self._job), name="run", exit_on_error=False)

    async def _run_job(self, job: Coroutine[Any, Any, Any]) -> None:
        try:
            self.outcome = await job
        except Exception as e:  # the run's own failures come back in the outcome
            self.job_error = e
            self.notify(
                f"{type(e).__name__}: {e}", title="the run could not start", severity="error"
            )

    def draw_frame(self) -> None:
        """Drain the source once and redraw what changed (the only path to the panes)."""
        changes = self.pump.tick()
        self._frames += 1
        if self.pump.finished and not self.ended:
            self.ended = True
            if self.store.status == "running":
                self.store.finish(self._final_status())
        self._state_dirty = self._state_dirty or changes.state
        with self.batch_update():
            self._show(changes)
            # Throttled while parts stream in; the final state is always drawn.
            if self._state_dirty and (self._frames % JSON_EVERY == 0 or self.ended):
                self._state_dirty = False
                if self.store.states:
                    self._state.show_value(self.store.parts[self.store.states[-1]].data)
            self._header.show(self.run_name, self.store)

    def _show(self, changes: Changes) -> None:
        if changes.first < len(self.store.parts):
            self._table.refresh_rows(self.view.extend())
        if changes.token_runs:
            self._tokens.show(self.store, changes)
        if changes.added_runs or changes.changed_runs or changes.token_runs:
            self._steps.show(self.store, changes)

    def _final_status(self) -> str:
        status = getattr(self.outcome, "status", None)
        if status is not None:
            return str(status)
        failed = [r for r in self.store.runs.values() if r.status == "failed" and not r.parent_id]
        return "error" if failed else "done"

    def action_toggle_replay(self) -> None:
        source = self.pump.source
        if isinstance(source, ReplaySource):
            source.toggle()

    def action_step_replay(self) -> None:
        source = self.pump.source
        if isinstance(source, ReplaySource):
            changes = self.store.ingest(source.step())
            self._state_dirty = self._state_dirty or changes.state
            self._show(changes)

    # --- inspect and filter ---------------------------------------------------------

    def action_inspect(self) -> None:
        """The whole payload of the selected run (tree) or part (table)."""
        if self.focused is self._steps:
            node = self._steps.cursor_node
            run_id = node.data if node is not None else None
            if run_id in self.store.runs:
                self.push_screen(
                    Inspector(" > ".join(self.store.path(run_id)), run_payload(self.store, run_id))
                )
            return
        position = self._table.selected_position()
        if position is not None:
            part = self.store.parts[position]
            self.push_screen(Inspector(f"part {part.seq}", part_payload(part)))

    def on_tree_node_selected(self, message: StepTree.NodeSelected[str]) -> None:
        """Selecting a run shows only its events (and those of the runs under it)."""
        run_id = message.node.data
        if run_id in self.store.runs:
            self._apply(replace(self.view.filter, run=run_id))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_follow_events(self) -> None:
        self._table.action_follow()

    def action_search(self) -> None:
        self.push_screen(SearchPrompt(self.view.filter.text), self._searched)

    def _searched(self, text: str | None) -> None:
        if text is not None:
            self._apply(replace(self.view.filter, text=text.strip()))

    def action_clear_filter(self) -> None:
        self._apply(PartFilter())

    def _apply(self, wanted: PartFilter) -> None:
        self.view.set_filter(wanted)
        self._table.follow = True
        self._table.unseen = 0
        self._table.refresh_rows(0)
        shown = [f"run {self.store.runs[wanted.run].name}"] if wanted.run in self.store.runs else []
        shown += [f"'{wanted.text}'"] if wanted.text else []
        self._table.border_subtitle = (
            ("filter: " + ", ".join(shown) + " (Esc: all)") if shown else ""
        )

    def on_unmount(self) -> None:
        self._frame_timer.stop()
