"""The Textual app over a replayed run: every pane fills from the one frame pump."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streamtui.bus import EventBus
from streamtui.tui.app import StreamApp
from streamtui.tui.events_table import EventTable
from streamtui.tui.panes import JsonPane, StepTree, TokenPane
from streamtui.tui.sources import ReplaySource
from tests.tui_support import bus_parts, until

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def recorded_graph_parts() -> list:
    import importlib.util

    spec = importlib.util.spec_from_file_location("tui_research_graph", DEMOS / "research_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.writer_model.first_chunk_latency = 0.0
    module.writer_model.chunk_latency = 0.0

    return bus_parts(module.graph, module.INPUT)


def test_a_replayed_graph_run_fills_every_pane():
    parts = recorded_graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="research")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            assert app.ended and app.store.status == "done"
            table = app.query_one(EventTable)
            assert len(table.view) == len(parts) and table.follow
            assert table.cursor == len(parts) - 1
            tokens = app.query_one(TokenPane).plain_text()
            assert "write · ScriptedChatModel" in tokens
            assert "Otters hold hands while sleeping so they do not drift apart." in tokens
            tree = app.query_one(StepTree)
            [root] = tree.root.children
            # Supersteps group the node runs: step → node → inner runs.
            steps = [str(group.label) for group in root.children]
            assert "LangGraph" in str(root.label) and len(steps) == 3
            assert steps[1].startswith("✓ step 2 · search, search")  # two Sends, one step
            assert len(root.children[1].children) == 2 and not root.children[1].is_expanded
            [write] = root.children[2].children
            assert "write" in str(write.label) and "ScriptedChatModel" in str(
                write.children[0].label
            )
            assert app.query_one(JsonPane).plain_text().count("otters") >= 1
            await pilot.press("up", "up")
            assert table.cursor == len(parts) - 3 and not table.follow

    asyncio.run(scenario())


def test_replay_keys_pause_and_step():
    parts = recorded_graph_parts()

    async def scenario() -> None:
        source = ReplaySource(parts, speed=0.001)  # effectively stopped after the first part
        app = StreamApp(source, name="research")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("space")
            assert not source.playing
            await until(pilot, lambda: app.pump.frames > 2)
            shown = len(app.store.parts)
            assert shown < len(parts)
            await pilot.press("n", "n")
            assert len(app.store.parts) == shown + 2
            assert len(app.query_one(EventTable).view) == shown + 2

    asyncio.run(scenario())


def test_a_live_run_is_a_job_of_the_app_and_quitting_mid_run_keeps_its_log(tmp_path):
    from streamtui import ScriptedChatModel
    from streamtui.eventlog import EventLog
    from streamtui.session import make_header, run_session
    from streamtui.tui.sources import LiveSource

    def live_app(latency: float, path: Path) -> StreamApp:
        model = ScriptedChatModel(["one two three four five six"], chunk_latency=latency)
        bus = EventBus()
        source = LiveSource(bus.subscribe("coalescing"))
        header = make_header(name="live", path=None, spec_hash=None, input="go", modes=None)
        job = run_session(model, "go", header=header, record_to=path, bus=bus)
        return StreamApp(source, name="live", job=job)

    async def finished() -> None:
        app = live_app(0.0, tmp_path / "done.jsonl")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ended and app.outcome is not None)
            assert app.outcome.status == "done" and app.store.status == "done"
            assert "one two three four five six" in app.query_one(TokenPane).plain_text()

    async def quit_early() -> StreamApp:
        app = live_app(1.0, tmp_path / "stopped.jsonl")  # a 6 s run: q comes well before its end
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.pump.frames > 3)
            await pilot.press("q")
        return app

    asyncio.run(finished())
    app = asyncio.run(quit_early())
    assert app.outcome is None
    log = EventLog.open(tmp_path / "stopped.jsonl")
    assert log.status == "interrupted" and not log.truncated


def test_inspect_a_part_filter_by_a_run_and_search():
    from streamtui.tui.inspect import Inspector

    parts = recorded_graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="research")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            table = app.query_one(EventTable)
            await pilot.press("enter")
            assert isinstance(app.screen, Inspector)
            payload = str(app.screen.query_one("#payload").render())
            assert '"event": "on_chain_end"' in payload and '"name": "LangGraph"' in payload
            await pilot.press("escape")
            assert not isinstance(app.screen, Inspector)
            # Select the "write" node in the tree: the table shows only its subtree.
            tree = app.query_one(StepTree)
            tree.focus()
            [write] = tree.root.children[0].children[2].children
            tree.select_node(write)
            await until(pilot, lambda: "run LangGraph > write" in (table.border_subtitle or ""))
            names = {app.store.parts[i].data["name"] for i in table.view.positions}
            assert names == {"write", "ScriptedChatModel"}
            assert "run LangGraph > write" in app.query_one(TokenPane).border_subtitle
            await pilot.press("i")
            assert isinstance(app.screen, Inspector)
            assert "Otters hold hands" in str(app.screen.query_one("#payload").render())
            await pilot.press("escape")
            # Search, then clear everything.
            table.focus()
            await pilot.press("escape")
            assert len(table.view) == len(parts)
            await pilot.press("slash")
            await pilot.press(*"searched")
            await pilot.press("enter")
            await until(pilot, lambda: len(table.view) < len(parts))
            assert 0 < len(table.view) < len(parts)
            assert all("searched" in str(app.store.parts[i].data) for i in table.view.positions)

    asyncio.run(scenario())


def test_one_action_list_feeds_the_keys_the_help_screen_and_the_palette():
    from streamtui.tui.actions import ACTIONS, ActionCommands, HelpScreen

    parts = recorded_graph_parts()

    async def scenario() -> None:
        app = StreamApp(ReplaySource(parts, speed=None), name="research")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.ended)
            bound = {b.id for b in app.BINDINGS}
            assert bound == {a.id for a in ACTIONS}
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shown = " ".join(str(app.screen.query_one("#keys").render()).split())
            assert all(a.description in shown for a in ACTIONS)
            await pilot.press("escape")
            provider = ActionCommands(app.screen)
            hits = [hit async for hit in provider.search("search the")]
            assert [str(h.text) for h in hits] == ["Search the events"]

    asyncio.run(scenario())


def test_theme_files_are_checked_and_a_bad_one_is_skipped_with_its_reason(tmp_path):
    from streamtui.tui.theme_files import BUILT_IN, ThemeProblem, load_theme, load_themes

    (tmp_path / "typo.toml").write_text('name = "x"\nprimary = "#fff"\nprimray = "#000"\n')
    (tmp_path / "colour.toml").write_text('name = "y"\nprimary = "blurple-ish"\n')
    (tmp_path / "broken.toml").write_text('name = "z\n')
    (tmp_path / "ok.toml").write_text('name = "mine"\nprimary = "#336699"\ndark = false\n')
    themes, problems = load_themes([BUILT_IN, tmp_path])
    assert {"streamtui-dark", "streamtui-light", "streamtui-high-contrast", "mine"} <= set(themes)
    reasons = {p.path.name: p.message for p in problems}
    assert "unknown key 'primray'" in reasons["typo.toml"]
    assert "primary = 'blurple-ish' is not a colour" in reasons["colour.toml"]
    assert "not valid TOML" in reasons["broken.toml"] and "line 1" in reasons["broken.toml"]
    assert isinstance(load_theme(tmp_path / "colour.toml"), ThemeProblem)


def test_the_app_uses_the_theme_asked_for_or_falls_back_with_a_notice():
    parts = recorded_graph_parts()

    async def scenario(theme: str) -> tuple[str, list[str]]:
        app = StreamApp(ReplaySource(parts, speed=None), name="r", theme=theme)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.1)
            chosen = app.theme
            notices = [n.message for n in app._notifications]
            await pilot.press("t")
            assert app.theme != chosen  # t moves to the next theme
        return chosen, notices

    chosen, notices = asyncio.run(scenario("streamtui-light"))
    assert chosen == "streamtui-light" and not notices
    chosen, notices = asyncio.run(scenario("no-such-theme"))
    assert chosen == "streamtui-dark"
    assert any("no theme named 'no-such-theme'" in n for n in notices)
