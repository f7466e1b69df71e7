"""The Textual app: one frame pump feeding the header, tokens, events, steps and state.

A timer (30 frames a second) drains the source into the store once and tells each pane
what changed, inside ``batch_update()``, so the screen is repainted once per frame however
many parts arrived. Nothing else touches the widgets: the run (or the replay) only fills
the source. Every key is an action from ``actions.ACTIONS``.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Footer

from streamtui.tui.actions import ActionCommands, HelpScreen, bindings
from streamtui.tui.dialogs import ExportPrompt, FilterScreen, RunPicker
from streamtui.tui.events_table import EventTable
from streamtui.tui.export import default_export_path, export_view, filter_words
from streamtui.tui.filters import FilteredView, PartFilter, filter_choices
from streamtui.tui.inspect import Inspector, SearchPrompt, part_payload, run_payload
from streamtui.tui.keymap import load_keymap
from streamtui.tui.panes import JsonPane, RunHeader, StepTree, TokenPane
from streamtui.tui.sources import FramePump, ReplaySource, Source
from streamtui.tui.state_view import snapshot
from streamtui.tui.store import Changes, RunStore
from streamtui.tui.theme_files import DEFAULT_THEME, load_themes

__all__ = ["StreamApp"]

FRAME_RATE = 30
JSON_EVERY = 6  # frames: the state pane redraws at most 5 times a second while streaming
SLOW_EVERY = 3  # frames: the header and the tree's token counts, 10 times a second
PANES = {"tokens": "tokens", "events": "events", "steps": "steps", "json": "state"}


class StreamApp(App[None]):
    """Watch a run (live or replayed): tokens, events, the run tree, the state."""

    TITLE = "streamtui"
    CSS = """
    #left { width: 3fr; }
    #right { width: 2fr; }
    TokenPane, EventTable, StepTree, JsonPane { border: round $primary 50%; height: 1fr; }
    TokenPane:focus, EventTable:focus, StepTree:focus, JsonPane:focus {
        border: round $accent;
    }
    RunHeader { background: $panel; color: $text; padding: 0 1; }
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
        screenshot: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        keymap: Path | None = None,
    ) -> None:
        """``job``: the run itself (``run_session(...)``), started with the app and
        cancelled if the app quits first — its log is then finished as interrupted.
        ``screenshot``: save an SVG there once the run (or replay) has ended, then quit.
        ``clock``: for the events/s figure (tests and snapshots pass a still one).
        ``keymap``: a keymap file to use instead of the usual places (docs/keymap.md)."""
        super().__init__()
        self._wanted_theme = theme
        self._keymap_path = keymap  # not _keymap: Textual's App has that name
        self.run_name = name
        self._job = job
        self._job_done = job is None
        self.outcome: Any = None
        self.job_error: BaseException | None = None
        self.screenshot_path = screenshot
        self._clock = clock
        # A replay is read in slices until the frame's time is spent: a max-speed replay
        # or a long seek keeps the UI at ~30 frames a second instead of 5.
        budget = 0.03 if isinstance(source, ReplaySource) else None
        self.pump = FramePump(source, store or RunStore(), clock=clock, budget=budget)
        self.store = self.pump.store
        self.view = FilteredView(self.store)
        self.selected_run: str | None = None
        self._frames = 0
        self._counted: set[str] = set()  # runs whose token count the tree has yet to show
        self._state_dirty = True
        self._rates: deque[tuple[float, int]] = deque(maxlen=FRAME_RATE * 2)
        self._left_share = 60  # percent of the width the left column takes
        self._told: set[str] = set()  # log problems already shown
        self._run_roots: dict[str, str] = {}  # a followed run's id -> its root run
        self.ended = False

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        with Horizontal(id="columns"):
            with Vertical(id="left"):
                yield TokenPane(id="tokens")
                yield EventTable(self.view, id="events")
            with Vertical(id="right"):
                yield StepTree(id="steps")
                yield JsonPane(id="json")
        yield Footer()

    # --- start, themes ------------------------------------------------------------

    def on_mount(self) -> None:
        self._use_themes()
        self._use_keymap()
        for pane_id, title in PANES.items():
            self.query_one(f"#{pane_id}").border_title = title
        # Held, not queried per frame: cheaper, and safe while the app is closing.
        self._table = self.query_one(EventTable)
        self._tokens = self.query_one(TokenPane)
        self._steps = self.query_one(StepTree)
        self._state = self.query_one(JsonPane)
        self._header = self.query_one(RunHeader)
        self._frame_timer = self.set_interval(1 / FRAME_RATE, self.draw_frame)
        self._table.focus()
        self._tell_problems()
        if self._job is not None:
            self.run_worker(self._run_job(self._job), name="run", exit_on_error=False)

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

    def _use_keymap(self) -> None:
        """The user's keys (--keymap, $STREAMTUI_KEYMAP, ./.streamtui, ~/.config); each bad
        entry is named in a notice and skipped, the rest applies."""
        keymap, problems = load_keymap(self._keymap_path)
        if keymap:
            self.set_keymap(keymap)
        for problem in problems:
            self.notify(problem, title="keymap", severity="warning", timeout=10)

    def action_next_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("streamtui-")) or sorted(
            self.available_themes
        )
        at = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(at + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    async def _run_job(self, job: Coroutine[Any, Any, Any]) -> None:
        try:
            self.outcome = await job
        except Exception as e:  # the run's own failures come back in the outcome
            self.job_error = e
            self.notify(
                f"{type(e).__name__}: {e}", title="the run could not start", severity="error"
            )
        finally:
            self._job_done = True

    # --- the frame ----------------------------------------------------------------

    def draw_frame(self) -> None:
        """Drain the source once and redraw what changed (the only path to the panes)."""
        changes = self.pump.tick()
        self._frames += 1
        if getattr(self.pump.source, "all_runs", False):
            self._note_run_roots(changes.first)
        if changes.first < len(self.store.parts):
            # What the store now holds lives as long as the run: out of the cyclic GC's
            # reach, or a full collection walks every part (pauses of 100+ ms at 5,000
            # parts a second). Freezing is O(1); refcounting still frees what dies.
            gc.freeze()
        ending = self.pump.finished and self._job_done and not self.ended
        if ending:
            gc.unfreeze()  # idle now: cycles made during the run can be collected
            self.ended = True
            if self.store.status == "running":
                self.store.finish(self._final_status())
        with self.batch_update():
            self._show(changes, force=ending)
            if ending:
                self._steps.refresh_labels(self.store)
            self._draw_state(force=ending)
            if ending or self._frames % SLOW_EVERY == 0:
                self._draw_header()
        if ending or self._frames % (SLOW_EVERY * 10) == 0:
            self._tell_problems()  # a remote source reconnecting, or parts it missed
        if ending and self.screenshot_path is not None:
            # A few frames for the last layout (scroll positions, the footer) to settle.
            self.set_timer(0.25, self._save_screenshot)

    def _show(self, changes: Changes, force: bool = True) -> None:
        """New rows and text every frame; token counts in the tree at the slow rate
        (a tree label redraw per frame cost a third of a frame's time at 5,000 parts/s)."""
        if changes.first < len(self.store.parts):
            self._table.refresh_rows(self.view.extend())
        if changes.token_runs:
            self._tokens.show(self.store, changes)
        self._counted |= changes.token_runs
        if force or changes.added_runs or changes.changed_runs or self._frames % SLOW_EVERY == 0:
            changes.token_runs = self._counted
            self._steps.show(self.store, changes)
            self._counted = set()
        self._state_dirty = self._state_dirty or bool(changes)

    def _draw_state(self, force: bool = False) -> None:
        # Throttled while parts stream in; the final state is always drawn.
        if self._state_dirty and (force or self._frames % JSON_EVERY == 0):
            self._state_dirty = False
            self._state.show(snapshot(self.store, self.selected_run))

    def _note_run_roots(self, first: int) -> None:
        """Which root run each followed run (``part.run``) started: what the run picker
        narrows the panes to."""
        parts = self.store.parts
        for i in range(first, len(parts)):
            part = parts[i]
            run = getattr(part, "run", None)
            if not run or run in self._run_roots or part.mode != "events":
                continue
            data = part.data
            if isinstance(data, dict) and not data.get("parent_ids") and data.get("run_id"):
                self._run_roots[run] = str(data["run_id"])

    def action_pick_run(self) -> None:
        runs = getattr(self.pump.source, "runs", None)
        if not getattr(self.pump.source, "all_runs", False) or not isinstance(runs, dict):
            self.notify("one run is followed; attach nats://... --all follows several", timeout=3)
            return
        lines = []
        for run_id, info in runs.items():
            header = getattr(info, "header", None) or {}
            spec = header.get("spec") if isinstance(header, dict) else None
            name = spec.get("name", "?") if isinstance(spec, dict) else "?"
            status = getattr(info, "status", "?")
            lines.append(
                (run_id, f"{name} · {status} · {getattr(info, 'delivered', 0)} parts · {run_id}")
            )
        self.push_screen(RunPicker(lines), self._picked_run)

    def _picked_run(self, run_id: str | None) -> None:
        if run_id is None:
            return
        if not run_id:
            self._apply(replace(self.view.filter, run=None))
            return
        root = self._run_roots.get(run_id)
        if root is None:
            self.notify("that run has no events yet", timeout=3)
            return
        self._apply(replace(self.view.filter, run=root))

    def _tell_problems(self) -> None:
        """What is wrong with a replayed log: said at the start (a cut-off end) and again
        at the end (lines that turned out unreadable while playing), each once."""
        problems = getattr(self.pump.source, "problems", None)
        for problem in problems() if callable(problems) else ():
            if problem not in self._told:
                self._told.add(problem)
                self.notify(problem, title="log", severity="warning", timeout=10)

    def _draw_header(self) -> None:
        now = self._clock()
        self._rates.append((now, len(self.store.parts)))
        while len(self._rates) > 2 and now - self._rates[0][0] > 1.0:
            self._rates.popleft()
        (t0, n0), (t1, n1) = self._rates[0], self._rates[-1]
        rate = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        extra = []
        source = self.pump.source
        if isinstance(source, ReplaySource):
            mark = "▶" if source.playing and not source.finished else "‖"
            if source.fast_forwarding:
                mark = "seeking…"
            extra.append(
                f"{mark} {source.speed_label} {source.position}/{len(source)} "
                f"{source.recorded_time:.1f}/{source.total_time:.1f}s"
            )
        if self.pump.behind:
            extra.append(f"{self.pump.behind} queued")
        missed = getattr(source, "missed", 0)
        if isinstance(missed, int) and missed:
            extra.append(f"{missed} missed")  # a remote stream skipped ahead (gap events)
        self._header.show(self.run_name, self.store, extra, rate)

    def _final_status(self) -> str:
        # The run's own word: its outcome (a live job) or what a remote stream reported.
        status = getattr(self.outcome, "status", None) or getattr(self.pump.source, "status", None)
        if isinstance(status, str) and status not in ("running", "live"):
            return status
        failed = [r for r in self.store.runs.values() if r.status == "failed" and not r.parent_id]
        return "error" if failed else "done"

    def _save_screenshot(self) -> None:
        path = self.screenshot_path
        assert path is not None
        try:
            self.save_screenshot(filename=path.name, path=str(path.parent or Path(".")))
        except OSError as e:
            self.screenshot_error = f"cannot write {path}: {e.strerror or e}"
        self.exit()

    screenshot_error: str | None = None

    # --- replay -------------------------------------------------------------------

    def _replay(self) -> ReplaySource | None:
        source = self.pump.source
        if isinstance(source, ReplaySource):
            return source
        self.notify("only a replay can be paused, stepped or sought", timeout=3)
        return None

    def action_toggle_replay(self) -> None:
        if source := self._replay():
            source.toggle()
            self._draw_header()

    def action_step_replay(self) -> None:
        if source := self._replay():
            self._show(self.store.ingest(source.step()))
            self._draw_state(force=True)
            self._draw_header()

    def action_step_back(self) -> None:
        if source := self._replay():
            source.pause()
            self._restart(max(0, source.position - 1))

    def action_replay_faster(self) -> None:
        if source := self._replay():
            source.faster()
            self._draw_header()

    def action_replay_slower(self) -> None:
        if source := self._replay():
            source.slower()
            self._draw_header()

    def action_seek_start(self) -> None:
        if self._replay():
            self._restart(0)

    def action_seek_end(self) -> None:
        if source := self._replay():
            self._restart(len(source))

    def action_seek_here(self) -> None:
        """Replay up to the selected event (inclusive) and pause there."""
        source = self._replay()
        position = self._table.selected_position()
        if source is not None and position is not None:
            source.pause()
            # The replay counts log lines; the store skips unreadable ones.
            index = self.store.parts.log_index(position)
            self._restart((position if index is None else index) + 1)

    def _restart(self, position: int) -> None:
        """Show the replay as it was after ``position`` parts: a fresh store (a store
        only grows), every pane redrawn from it."""
        changes = self.pump.restart(position)
        self.store = self.pump.store
        self._rates.clear()  # the part count jumped: no rate from before the seek
        self.view = FilteredView(self.store, self.view.filter)
        self.view.extend()
        self._table.view = self.view
        if self.selected_run not in self.store.runs:
            self.selected_run = None
        self._tokens.reset()
        self._tokens.set_runs(self.store.subtree(self.selected_run) if self.selected_run else None)
        self._steps.reset()
        self.ended = False
        with self.batch_update():
            self._table.refresh_rows(0)
            self._show(changes)
            self._draw_state(force=True)
            self._draw_header()

    # --- layout -------------------------------------------------------------------

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif isinstance(self.focused, Widget):
            screen.maximize(self.focused)

    def action_toggle_pane(self, pane_id: str) -> None:
        pane = self.query_one(f"#{pane_id}")
        shown = [p for p in PANES if self.query_one(f"#{p}").display]
        if pane.display and shown == [pane_id]:
            self.notify("the last pane stays shown", timeout=2)
            return
        pane.display = not pane.display
        for column in ("#left", "#right"):
            box = self.query_one(column)
            box.display = any(child.display for child in box.children)
        self._size_columns()
        if pane.display:
            pane.focus()
        elif self.focused is None or not self.focused.display:
            self.screen.focus_next()

    def action_resize(self, delta: int) -> None:
        """Move the divider between the columns by a tenth of the width."""
        self._left_share = min(85, max(15, self._left_share + 10 * delta))
        self._size_columns()

    def _size_columns(self) -> None:
        left, right = self.query_one("#left"), self.query_one("#right")
        both = left.display and right.display
        left.styles.width = f"{self._left_share}%" if both else "1fr"
        right.styles.width = "1fr"

    def action_toggle_diff(self) -> None:
        self._state.diff_mode = not self._state.diff_mode

    # --- inspect, copy, export ------------------------------------------------------

    def _selection_payload(self) -> tuple[str, str] | None:
        """(title, text) of what is selected: a run in the tree, else the event under the
        table's cursor; in the state pane, what it shows."""
        if self.focused is self._steps:
            node = self._steps.cursor_node
            run_id = node.data if node is not None else None
            if run_id in self.store.runs:
                return " > ".join(self.store.path(run_id)), run_payload(self.store, run_id)
            return None
        if self.focused is self._state:
            shown = self._state.snapshot
            return (shown.title if shown else "state"), self._state.plain_text()
        if self.focused is self._tokens:
            return "tokens", self._tokens.plain_text()
        position = self._table.selected_position()
        if position is None:
            return None
        part = self.store.parts[position]
        return f"part {part.seq}", part_payload(part)

    def action_inspect(self) -> None:
        """The whole payload of the selected run (tree) or part (table)."""
        selected = self._selection_payload()
        if selected is not None:
            self.push_screen(Inspector(*selected))

    def action_copy(self) -> None:
        """Copy through the terminal's clipboard escape (OSC 52): works over SSH."""
        selected = self._selection_payload()
        if selected is None:
            self.notify("nothing selected to copy", timeout=3)
            return
        title, text = selected
        self.copy_to_clipboard(text)
        self.notify(f"copied {title} ({len(text)} characters)", timeout=3)

    def action_export(self) -> None:
        path = str(default_export_path(self.run_name))
        self.push_screen(ExportPrompt(path, len(self.view)), self._export_to)

    def _export_to(self, path: str | None) -> None:
        if not path:
            return
        try:
            count = export_view(
                self.store,
                list(self.view.positions),
                Path(path).expanduser(),
                name=self.run_name,
                wanted=self.view.filter,
            )
        except (OSError, ValueError) as e:  # ValueError: a NUL in the path
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            self.notify(f"cannot write {path}: {reason}", severity="error")
            return
        self.notify(f"exported {count} events to {path}", timeout=5)

    def on_tree_node_selected(self, message: StepTree.NodeSelected[str]) -> None:
        """Selecting a run narrows the other panes to it (and the runs under it);
        selecting a superstep shows the state after it, the panes staying as they are."""
        run_id = message.node.data
        if run_id in self.store.runs:
            self._apply(replace(self.view.filter, run=run_id))
            return
        nodes = [c.data for c in message.node.children if c.data in self.store.runs]
        if nodes:
            self.selected_run = nodes[0]  # any node of the step: the state after it
            self._state_dirty = True
            self._draw_state(force=True)

    # --- filter -------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_follow_events(self) -> None:
        if self.focused is self._tokens:
            self._tokens.action_follow()
        else:
            self._table.action_follow()

    def action_search(self) -> None:
        self.push_screen(SearchPrompt(self.view.filter.text), self._searched)

    def _searched(self, text: str | None) -> None:
        if text is not None:
            self._apply(replace(self.view.filter, text=text.strip()))

    def action_filter(self) -> None:
        self.push_screen(FilterScreen(self.view.filter, filter_choices(self.store)), self._filtered)

    def _filtered(self, wanted: PartFilter | None) -> None:
        if wanted is not None:
            self._apply(wanted)

    def action_clear_filter(self) -> None:
        self._apply(PartFilter())

    def _apply(self, wanted: PartFilter) -> None:
        self.view.set_filter(wanted)
        self._table.follow = True
        self._table.unseen = 0
        self._table.refresh_rows(0)
        run = wanted.run if wanted.run in self.store.runs else None
        if run != self.selected_run:
            self.selected_run = run
            self._tokens.set_runs(self.store.subtree(run) if run else None)
            self._state_dirty = True
            self._draw_state(force=True)
        words = filter_words(self.store, wanted)
        # Titles read markup: names from the run go in as Text.
        self._table.border_subtitle = Text(f"filter: {words} (Esc: all)") if words else None
        self._tokens.border_subtitle = (
            Text(f"run {' > '.join(self.store.path(run))} (Esc: all)") if run else None
        )

    def on_unmount(self) -> None:
        self._frame_timer.stop()
        gc.unfreeze()  # quit mid-run: give the cycles back to the collector
