"""The panes in small host apps, and the app's layout, filter, copy, export and failure
views, driven with Pilot."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from textual.app import App, ComposeResult

from streamtui import AIMessageChunk, ChatPromptTemplate, RunnableLambda, ScriptedChatModel
from streamtui.envelope import Part
from streamtui.eventlog import EventLog
from streamtui.tui.app import StreamApp
from streamtui.tui.dialogs import ExportPrompt, FilterScreen
from streamtui.tui.events_table import EventTable
from streamtui.tui.panes import JsonPane, RunHeader, StepTree, TokenPane
from streamtui.tui.sources import ReplaySource
from streamtui.tui.state_view import Snapshot
from streamtui.tui.store import RunStore
from tests.tui_support import bus_parts, listen, until

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def stream_part(seq: int, run_id: str, chunk: AIMessageChunk, node: str | None = None) -> Part:
    kind = "on_chat_model_start" if chunk is None else "on_chat_model_stream"
    return Part(
        seq,
        seq * 0.01,
        "events",
        (),
        {
            "event": kind,
            "name": "Model",
            "run_id": run_id,
            "parent_ids": [],
            "tags": [],
            "metadata": {"langgraph_node": node} if node else {},
            "data": {} if chunk is None else {"chunk": chunk},
        },
    )


class Host(App[None]):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def test_token_pane_colours_runs_styles_reasoning_and_tools_and_never_reads_markup():
    store = RunStore()
    pane = TokenPane()

    async def scenario() -> None:
        async with Host(pane).run_test(size=(60, 20)) as pilot:
            changes = store.ingest(
                [
                    stream_part(1, "a", None, node="plan"),
                    stream_part(2, "a", AIMessageChunk([{"type": "thinking", "thinking": "hm"}])),
                    stream_part(3, "a", AIMessageChunk("[bold red]not markup[/] \x1b[31m")),
                    stream_part(4, "b", None, node="act"),
                    stream_part(
                        5,
                        "b",
                        AIMessageChunk(
                            "", tool_call_chunks=[{"name": "add", "args": "{}", "index": 0}]
                        ),
                    ),
                ]
            )
            pane.show(store, changes)
            await pilot.pause()
            kinds = [(slot, kind, text) for slot, kind, text in pane._lines]
            assert kinds[0] == (0, "head", "── plan · Model ──")
            assert (0, "reasoning", "hm") in kinds
            assert (0, "text", "[bold red]not markup[/] [31m") in kinds  # ESC removed
            assert (1, "head", "── act · Model ──") in kinds and (1, "tool", "add({}") in kinds
            # Each kind is drawn in its own style; the two runs' gutters differ.
            strips = [pane.render_line(y) for y in range(len(kinds))]
            styles = {kind: strip._segments[1].style for (_, kind, _), strip in zip(kinds, strips)}
            assert len({styles["reasoning"], styles["tool"], styles["text"]}) == 3
            gutters = {slot: strip._segments[0].style for (slot, _, _), strip in zip(kinds, strips)}
            assert gutters[0] != gutters[1]
            assert "[bold red]not markup[/]" in "".join(s.text for s in strips[2]._segments)
            # Narrowed to one run, only its text stays.
            pane.set_runs({"b"})
            assert "not markup" not in pane.plain_text() and "add({}" in pane.plain_text()
            pane.set_runs(None)
            assert "not markup" in pane.plain_text()

    asyncio.run(scenario())


def test_token_pane_wraps_at_words_and_follows_until_scrolled_away():
    store = RunStore()
    pane = TokenPane()

    async def scenario() -> None:
        async with Host(pane).run_test(size=(30, 8)) as pilot:
            await pilot.pause()
            words = [stream_part(1, "a", None)] + [
                stream_part(i, "a", AIMessageChunk(f"word{i} ")) for i in range(2, 60)
            ]
            pane.show(store, store.ingest(words))
            await until(pilot, lambda: pane.scroll_y == pane.max_scroll_y > 0)
            body = [text for _, kind, text in pane._lines if kind == "text"]
            assert all(len(line) <= pane._wrap for line in body)
            assert all(
                w.startswith("word") for line in body for w in line.split()
            )  # no split words
            assert pane.follow
            pane.scroll_to(y=0, animate=False)
            await until(pilot, lambda: not pane.follow)
            pane.show(store, store.ingest([stream_part(99, "a", AIMessageChunk("more"))]))
            await pilot.pause()
            assert pane.scroll_y == 0  # scrolled away: new text does not pull the view
            await pilot.press("end")  # the host has no binding: the pane's own action
            pane.action_follow()
            await until(pilot, lambda: pane.follow and pane.scroll_y == pane.max_scroll_y)

    asyncio.run(scenario())


def test_json_pane_marks_the_changed_path_and_lists_changes_in_diff_mode():
    pane = JsonPane()

    async def scenario() -> None:
        async with Host(pane).run_test(size=(60, 20)) as pilot:
            pane.show(None)
            assert "nothing to show yet" in pane.plain_text()
            before = {"topic": "otters", "round": 1, "facts": ["a"]}
            after = {"topic": "otters", "round": 2, "facts": ["a", "b"]}
            pane.show(Snapshot("state after step 2", after, before, True))
            await pilot.pause()
            marked = {text.strip() for kind, text in pane._lines if kind == "changed"}
            assert marked == {'"round": 2,', '"b"'}
            assert "state after step 2" in str(pane.border_subtitle)
            pane.diff_mode = True
            await pilot.pause()
            assert pane.plain_text().splitlines() == ["~ round: 1 → 2", "+ facts[1]: b"]
            pane.show(Snapshot("input", before))
            assert "no step before this one" in pane.plain_text()

    asyncio.run(scenario())


def graph_parts() -> list[Part]:
    from streamtui.spec import load_spec

    loaded = load_spec(DEMOS / "loop_graph.yaml")
    nodes = sys.modules["demo_nodes"]
    nodes.FIRST_CHUNK_LATENCY = nodes.CHUNK_LATENCY = 0.0

    return bus_parts(loaded.target, loaded.input, modes=loaded.stream.modes)


def test_panes_maximise_hide_and_resize_and_the_state_diff_toggles():
    parts = graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="loop")
        said = listen(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ended)
            table = app.query_one(EventTable)
            await pilot.press("m")
            assert app.screen.maximized is table
            await pilot.press("m")
            assert app.screen.maximized is None
            await pilot.press("1")
            assert not app.query_one("#tokens").display
            await pilot.press("3", "4")
            assert not app.query_one("#right").display  # a column with nothing shown folds
            await pilot.press("2")  # the last pane shown stays
            assert table.display and any("last pane" in n for n in said)
            await pilot.press("1", "3", "4")
            assert all(app.query_one(f"#{p}").display for p in ("tokens", "steps", "json"))
            width = app.query_one("#left").size.width
            await pilot.press("greater_than_sign")
            await until(pilot, lambda: app.query_one("#left").size.width > width)
            state = app.query_one(JsonPane)
            assert not state.diff_mode
            await pilot.press("d")
            assert state.diff_mode and state.plain_text().startswith(("~ ", "+ "))

    asyncio.run(scenario())


def test_filter_dialog_copy_and_export(tmp_path):
    parts = graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="loop")
        said = listen(app)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            table = app.query_one(EventTable)
            await pilot.press("f")
            assert isinstance(app.screen, FilterScreen)
            kinds = app.screen.query_one("#kinds")
            kinds.select("on_tool_start")
            kinds.select("custom")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not isinstance(app.screen, FilterScreen))
            shown = {app.store.parts[i].mode for i in table.view.positions}
            assert shown == {"events", "custom"} and 0 < len(table.view) < len(parts)
            assert "event custom | on_tool_start" in table.border_subtitle
            # Copy the selected event: the clipboard escape carries its payload.
            await pilot.press("c")
            assert '"seq"' in app.clipboard and "on_tool_start" in app.clipboard
            # Export what is shown.
            await pilot.press("x")
            assert isinstance(app.screen, ExportPrompt)
            field = app.screen.query_one("#path")
            field.value = str(tmp_path / "shown.jsonl")
            await pilot.press("enter")
            await until(pilot, lambda: (tmp_path / "shown.jsonl").exists())
            log = EventLog.open(tmp_path / "shown.jsonl")
            assert [p.seq for p in log.parts] == [
                app.store.parts[i].seq for i in table.view.positions
            ]
            await pilot.press("x")
            app.screen.query_one("#path").value = str(tmp_path / "no" / "such" / "\0bad.md")
            await pilot.press("enter")
            await until(pilot, lambda: any("cannot write" in n for n in said))
            await pilot.press("escape")
            assert len(table.view) == len(parts)

    asyncio.run(scenario())


def test_a_failed_run_says_which_run_failed_and_why_and_the_app_stays_open():
    def boom(_: object) -> str:
        raise ValueError("the tool broke")

    chain = (
        ChatPromptTemplate.from_template("{q}")
        | ScriptedChatModel(["ok"])
        | RunnableLambda(boom, name="checker")
    )

    parts = bus_parts(chain, {"q": "x"})

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="failing")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ended)
            header = str(app.query_one(RunHeader).render())
            assert "error" in header.splitlines()[0]
            assert "✗ RunnableSequence > checker: ValueError: the tool broke" in header
            assert app.is_running  # open for inspection

    asyncio.run(scenario())


def test_a_click_selects_a_row_and_a_double_click_inspects_it():
    from streamtui.tui.inspect import Inspector

    parts = graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="loop")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            table = app.query_one(EventTable)
            await until(pilot, lambda: table.scroll_y == table.max_scroll_y > 0)
            top = int(table.scroll_y)
            await pilot.click(EventTable, offset=(5, 2))
            assert table.cursor == top + 2 and not table.follow
            await pilot.click(EventTable, offset=(5, 2), times=2)
            assert isinstance(app.screen, Inspector)

    asyncio.run(scenario())


def test_screenshot_writes_an_svg_headless_and_bad_options_are_refused(tmp_path):
    log = tmp_path / "run.jsonl"
    cli = [sys.executable, "-m", "streamtui"]
    subprocess.run(
        [*cli, "run", str(DEMOS / "joke.yaml"), "--no-tui", "--record", str(log)],
        capture_output=True,
        check=True,
    )
    shot = tmp_path / "shot.svg"
    done = subprocess.run(
        [*cli, "replay", str(log), "--speed", "max", "--screenshot", str(shot), "--size", "90x24"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    svg = shot.read_text()
    assert svg.startswith("<svg") and "steps" in svg and "joke" in svg
    for args, words in (
        (["--screenshot", str(tmp_path / "x.png")], "end the name in .svg"),
        (["--screenshot", str(tmp_path / "nope" / "x.svg")], "no folder"),
        (["--screenshot", str(shot), "--size", "10x2"], "--size '10x2'"),
        (["--screenshot", str(shot), "--no-tui"], "cannot be combined"),
        (["--screenshot", str(shot), "--keymap", str(tmp_path / "none.toml")], "no such file"),
    ):
        bad = subprocess.run([*cli, "replay", str(log), *args], capture_output=True, text=True)
        assert bad.returncode == 2 and words in bad.stderr and "Traceback" not in bad.stderr


def test_replay_keys_seek_step_back_and_change_speed():
    parts = graph_parts()
    now = [0.0]

    async def scenario() -> None:
        source = ReplaySource(parts, speed=1.0, clock=lambda: now[0])
        app = StreamApp(source, name="loop", clock=lambda: now[0])
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: 0 < len(app.store.parts) < len(parts))
            await pilot.press("G")  # to the end
            await until(pilot, lambda: app.ended and len(app.store.parts) == len(parts))
            assert "116/116" in str(app.query_one(RunHeader).render())
            await pilot.press("r")  # from the start: a fresh store, panes redrawn
            await until(pilot, lambda: not app.ended and len(app.store.parts) < 5)
            await pilot.press("space")
            assert not source.playing
            start = len(app.store.parts)
            await pilot.press("n", "n", "n")
            assert len(app.store.parts) == start + 3 == source.position
            await pilot.press("b")
            assert len(app.store.parts) == start + 2 == source.position
            assert len(app.query_one(EventTable).view) == start + 2
            header = str(app.query_one(RunHeader).render())
            assert f"‖ 1x {start + 2}/116" in header
            await pilot.press("plus")
            assert source.speed == 2
            await pilot.press("minus", "minus")
            assert source.speed == 0.5
            # Replay up to the selected event, paused there.
            await pilot.press("G")
            await until(pilot, lambda: len(app.store.parts) == len(parts))
            table = app.query_one(EventTable)
            table.focus()
            await pilot.press("up", "up", "up")
            chosen = app.store.parts[table.selected_position()].seq
            await pilot.press("g")
            await until(pilot, lambda: len(app.store.parts) == len(parts) - 3)
            assert app.store.parts[len(app.store.parts) - 1].seq == chosen
            assert not source.playing
            tokens = app.query_one(TokenPane).plain_text()
            assert "Otters hold hands." in tokens  # the token pane was rebuilt from the store

    asyncio.run(scenario())


def test_replay_keys_in_a_live_run_say_they_are_for_replays():
    from streamtui.bus import EventBus
    from streamtui.tui.sources import LiveSource

    bus = EventBus()
    app = StreamApp(LiveSource(bus.subscribe("coalescing")), name="live")
    said = listen(app)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("space", "r")
            assert sum("only a replay" in n for n in said) == 2

    asyncio.run(scenario())


def test_selecting_a_superstep_shows_the_state_after_it():
    parts = graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="loop")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            tree = app.query_one(StepTree)
            [graph] = tree.root.children
            step3 = graph.children[2]
            assert str(step3.label).startswith("✓ step 3 · draft")
            tree.focus()
            tree.select_node(step3)  # as Enter on it does (keys race the tree's line layout)
            state = app.query_one(JsonPane)
            await until(pilot, lambda: "step 3" in str(state.border_subtitle))
            assert len(app.query_one(EventTable).view) == len(parts)  # not narrowed

    asyncio.run(scenario())


def test_a_remote_source_s_missed_parts_problems_and_final_status_reach_the_header():
    parts = graph_parts()

    class Remote:
        """A source as a remote attach gives one: it counts gaps and reports a status."""

        def __init__(self) -> None:
            self.parts, self.missed, self.status = list(parts), 3, "error"

        def take(self, now: float, limit: int | None = None) -> list[Part]:
            out, self.parts = self.parts, []
            return out

        @property
        def finished(self) -> bool:
            return not self.parts

        def problems(self) -> list[str]:
            return ["missed parts 5-7 (no longer in the server's backlog)"]

    async def scenario() -> None:
        app = StreamApp(Remote(), name="remote")
        said = listen(app)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.ended)
            assert app.store.status == "error"
            assert "3 missed" in str(app.query_one(RunHeader).render())
            assert any("no longer in the server's backlog" in n for n in said)

    asyncio.run(scenario())


def test_the_run_picker_narrows_the_panes_to_one_of_the_runs_followed():
    from types import SimpleNamespace

    from streamtui.tui.dialogs import RunPicker

    joke = bus_parts(
        ChatPromptTemplate.from_template("{q}") | ScriptedChatModel(["ha"]), {"q": "x"}
    )
    other = bus_parts(
        ChatPromptTemplate.from_template("{q}") | ScriptedChatModel(["ho"]), {"q": "y"}
    )

    class Tagged(Part):
        __slots__ = ("run",)

    def tag(parts: list[Part], run: str) -> list[Part]:
        out = []
        for p in parts:
            t = Tagged(p.seq, p.ts, p.mode, p.ns, p.data)
            t.run = run
            out.append(t)
        return out

    class AllRuns:
        """What attach nats://... --all gives: parts of several runs, and the runs."""

        all_runs = True

        def __init__(self) -> None:
            self.parts = tag(joke, "run-a") + tag(other, "run-b")
            self.runs = {
                r: SimpleNamespace(header={"spec": {"name": r}}, status="done", delivered=3)
                for r in ("run-a", "run-b")
            }

        def take(self, now: float, limit: int | None = None) -> list[Part]:
            out, self.parts = self.parts, []
            return out

        @property
        def finished(self) -> bool:
            return not self.parts

    async def scenario() -> None:
        app = StreamApp(AllRuns(), name="nats")
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.ended)
            table = app.query_one(EventTable)
            assert len(table.view) == len(joke) + len(other)
            await pilot.press("p")
            assert isinstance(app.screen, RunPicker)
            await pilot.press("down", "down", "enter")  # "every run", run-a, run-b
            await until(pilot, lambda: len(table.view) == len(other))
            assert "ho" in app.query_one(TokenPane).plain_text()
            await pilot.press("p", "enter")  # every run again
            await until(pilot, lambda: len(table.view) == len(joke) + len(other))

    asyncio.run(scenario())
