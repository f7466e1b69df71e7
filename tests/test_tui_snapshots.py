"""SVG snapshots of the TUI over recorded demo runs (pytest-textual-snapshot).

The runs are committed logs (tests/fixtures/tui/*.jsonl) with normalised times and run
ids, replayed as fast as possible with a still clock, so every figure on screen is fixed.
After a UI change, look at the failures' report (snapshot_report.html), then:

    /tmp/dev/bin/python tests/fixtures/tui/make_fixtures.py   # only if the runs changed
    /tmp/dev/bin/pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from streamtui.envelope import Part
from streamtui.eventlog import EventLog
from streamtui.tui.app import StreamApp
from streamtui.tui.panes import StepTree
from streamtui.tui.sources import ReplaySource

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tui"
THEMES = ["streamtui-dark", "streamtui-light", "streamtui-high-contrast"]


@cache
def fixture_parts(name: str) -> tuple[Part, ...]:
    return tuple(EventLog.open(FIXTURES / f"{name}.jsonl").parts)


def replay(name: str, theme: str = "streamtui-dark") -> StreamApp:
    parts = list(fixture_parts(name))
    return StreamApp(ReplaySource(parts, speed=None), name=name, theme=theme, clock=lambda: 0.0)


async def until(pilot, done, timeout: float = 10.0) -> None:
    """Frames until ``done()`` — never a fixed sleep, which a busy machine can outrun."""
    for _ in range(int(timeout / 0.02)):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app did not get there in time")


async def settled(pilot) -> None:
    """The replay fully drawn, then two more frames for the last layout (scrolls, folds)."""
    app = pilot.app
    await until(pilot, lambda: app.ended)
    frames = app.pump.frames
    await until(pilot, lambda: app.pump.frames >= frames + 2)


def test_joke_80x24_dark(snap_compare):
    assert snap_compare(replay("joke"), terminal_size=(80, 24), run_before=settled)


@pytest.mark.parametrize("theme", THEMES)
def test_loop_graph_120x40(snap_compare, theme):
    assert snap_compare(replay("loop_graph", theme), terminal_size=(120, 40), run_before=settled)


def test_loop_graph_state_diff(snap_compare):
    async def diff(pilot) -> None:
        await settled(pilot)
        await pilot.press("d")
        state = pilot.app.query_one("#json")
        await until(pilot, lambda: "changes" in str(state.border_subtitle or ""))

    assert snap_compare(replay("loop_graph"), terminal_size=(120, 40), run_before=diff)


def test_loop_graph_first_draft_selected(snap_compare):
    async def select_draft(pilot) -> None:
        await settled(pilot)
        tree = pilot.app.query_one(StepTree)
        tree.focus()
        runs = pilot.app.store.runs
        [graph] = tree.root.children
        draft = next(
            node
            for step in graph.children
            for node in step.children
            if node.data in runs and runs[node.data].name == "draft"
        )
        draft.parent.expand()  # its superstep folded when it finished
        await pilot.pause()
        tree.move_cursor(draft)
        tree.select_node(draft)
        tokens = pilot.app.query_one("#tokens")
        await until(pilot, lambda: "> draft" in str(tokens.border_subtitle or ""))
        frames = pilot.app.pump.frames
        await until(pilot, lambda: pilot.app.pump.frames >= frames + 2)

    assert snap_compare(replay("loop_graph"), terminal_size=(120, 40), run_before=select_draft)


def test_failing_run_100x30_dark(snap_compare):
    async def failed(pilot) -> None:
        await settled(pilot)
        header = str(pilot.app.query_one("#header").render())
        assert "✗ RunnableSequence > checker: ValueError" in header

    assert snap_compare(replay("failing"), terminal_size=(100, 30), run_before=failed)


def test_help_screen_100x30(snap_compare):
    from streamtui.tui.actions import HelpScreen

    async def help_(pilot) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(replay("loop_graph"), terminal_size=(100, 30), run_before=help_)
