"""The TUI's Textual-free store and filters, fed by real runs through the bus."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from streamtui import (
    AIMessageChunk,
    ChatPromptTemplate,
    RunnableLambda,
    ScriptedChatModel,
    StrOutputParser,
)
from streamtui.bus import EventBus
from streamtui.envelope import Part, encode_line, parse_line
from streamtui.session import stream_to_bus
from streamtui.tui.filters import FilteredView, PartFilter, kind_of, row
from streamtui.tui.store import RunStore

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def parts_of(target, value, **kwargs) -> list[Part]:
    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        try:
            await stream_to_bus(target, value, bus, **kwargs)
        except Exception:
            pass
        finally:
            bus.close()
        return sub.drain()

    return asyncio.run(main())


def joke():
    model = ScriptedChatModel(["Why did the parrot wear a raincoat? Polly-ester."])
    return ChatPromptTemplate.from_template("joke about {topic}") | model | StrOutputParser()


def research_graph():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "store_research_graph", DEMOS / "research_graph.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.writer_model.first_chunk_latency = 0.0
    module.writer_model.chunk_latency = 0.0
    return module


def test_a_chain_builds_its_run_tree_text_and_counts():
    parts = parts_of(joke(), {"topic": "parrot"})
    store = RunStore()
    changes = store.ingest(parts[:5])
    assert changes.first == 0 and len(changes.added_runs) == 3
    changes = store.ingest(parts[5:])
    assert changes.first == 5
    [root] = store.roots
    tree = store.runs[root]
    assert tree.name == "RunnableSequence" and tree.status == "done"
    kinds = [store.runs[c].run_type for c in tree.children]
    assert kinds == ["prompt", "chat_model", "parser"]
    model = store.runs[tree.children[1]]
    assert model.answer() == "Why did the parrot wear a raincoat? Polly-ester."
    assert model.chunks == store.tokens > 5
    assert store.path(model.run_id) == ["RunnableSequence", "ScriptedChatModel"]
    assert store.subtree(root) == {root, *tree.children}
    assert store.time_to_first_token() is not None
    assert len(store.by_event["on_chat_model_stream"]) == model.chunks
    assert sum(store.tokens_per_second) == store.tokens


def test_a_graph_gives_steps_nodes_and_states():
    module = research_graph()
    parts = parts_of(module.graph, module.INPUT)
    store = RunStore()
    store.ingest(parts)
    [root] = store.roots
    nodes = [store.runs[c] for c in store.runs[root].children]
    assert [(n.node, n.step) for n in nodes] == [
        ("plan", 1),
        ("search", 2),
        ("search", 2),
        ("write", 3),
    ]
    model = store.runs[nodes[-1].children[0]]
    assert model.run_type == "chat_model" and model.node == "write"
    assert model.answer() == "Otters hold hands while sleeping so they do not drift apart."
    assert store.state_at(0) == {"topic": "otters", "notes": []}
    assert store.state_at(len(store.states) - 1)["summary"].startswith("Otters")
    assert store.state_at(99) is None


def test_failures_mark_the_failing_path_and_open_runs_are_interrupted_at_the_end():
    def explode(text: str) -> str:
        raise ValueError("no jokes today")

    store = RunStore()
    store.ingest(parts_of(joke() | RunnableLambda(explode), {"topic": "x"}))
    failed = {r.name: r.error for r in store.runs.values() if r.status == "failed"}
    assert failed == {
        "explode": {"type": "ValueError", "message": "no jokes today"},
        "RunnableSequence": {"type": "ValueError", "message": "no jokes today"},
    }
    half = RunStore()
    half.ingest(parts_of(joke(), {"topic": "x"})[:10])
    half.finish("interrupted")
    assert {r.status for r in half.runs.values()} == {"done", "interrupted"}
    assert half.status == "interrupted"


def test_reasoning_and_tool_arguments_are_kept_apart_from_the_answer():
    def event(seq: int, chunk: AIMessageChunk) -> Part:
        return Part(
            seq,
            seq * 0.1,
            "events",
            (),
            {
                "event": "on_chat_model_stream" if seq > 1 else "on_chat_model_start",
                "name": "M",
                "run_id": "m",
                "parent_ids": [],
                "tags": [],
                "metadata": {},
                "data": {"chunk": chunk} if seq > 1 else {},
            },
        )

    store = RunStore()
    store.ingest(
        [
            event(1, AIMessageChunk("")),
            event(2, AIMessageChunk([{"type": "thinking", "thinking": "hmm", "index": 0}])),
            event(
                3,
                AIMessageChunk(
                    "", tool_call_chunks=[{"name": "add", "args": '{"a"', "id": "c", "index": 0}]
                ),
            ),
            event(4, AIMessageChunk("done")),
        ]
    )
    run = store.runs["m"]
    assert (run.answer(), "".join(run.reasoning), "".join(run.tool_args)) == (
        "done",
        "hmm",
        'add({"a"',
    )
    assert run.first_token == pytest.approx(0.2) and run.chunks == 3


def test_coalesced_parts_count_every_token_they_carry():
    bus = EventBus()
    viewer = bus.subscribe("coalescing", coalesce_after=0)
    for i in range(50):
        bus.publish(
            "events",
            {
                "event": "on_chat_model_stream",
                "name": "M",
                "run_id": "m",
                "parent_ids": [],
                "tags": [],
                "metadata": {},
                "data": {"chunk": AIMessageChunk(f"{i} ")},
            },
        )
    store = RunStore()
    store.ingest(viewer.drain())
    assert store.tokens == 50 and store.merged == 49
    assert store.runs["m"].answer() == "".join(f"{i} " for i in range(50))


def test_filters_by_kind_name_tag_run_and_text_and_extend_incrementally():
    parts = parts_of(joke(), {"topic": "parrot"})
    store = RunStore()
    view = FilteredView(store, PartFilter(kinds=frozenset({"on_chat_model_stream"})))
    store.ingest(parts[:20])
    first = view.extend()
    store.ingest(parts[20:])
    view.extend()
    assert len(view) == len(store.by_event["on_chat_model_stream"]) and first < len(view)
    model = next(r for r in store.runs.values() if r.run_type == "chat_model")
    view.set_filter(PartFilter(run=model.run_id))
    assert {store.parts[i].data["run_id"] for i in view.positions} == {model.run_id}
    root = store.roots[0]
    view.set_filter(PartFilter(run=root, kinds=frozenset({"on_parser_end", "on_chain_end"})))
    assert [kind_of(store.parts[i]) for i in view.positions] == ["on_parser_end", "on_chain_end"]
    view.set_filter(PartFilter(tags=frozenset({"seq:step:3"})))
    assert {store.parts[i].data["name"] for i in view.positions} == {"StrOutputParser"}
    view.set_filter(PartFilter(text="polly"))
    assert view.positions and all(
        "polly" in " ".join(row(store, store.parts[i])).lower() for i in view.positions
    )
    view.set_filter(PartFilter(names=frozenset({"ChatPromptTemplate"})))
    assert len(view) == 2
    view.set_filter(PartFilter())
    assert list(view.positions) == list(range(len(parts)))


def test_rows_are_one_printable_line():
    store = RunStore()
    hostile = Part(
        1,
        1.5,
        "events",
        (),
        {
            "event": "on_chat_model_stream",
            "name": "M\x1b[31m",
            "run_id": "m",
            "parent_ids": [],
            "tags": [],
            "metadata": {},
            "data": {"chunk": AIMessageChunk("line one\nline \x1b]0;two\x07")},
        },
    )
    store.ingest([hostile, Part(2, 2.0, "updates", ("sub:1",), {"node": {"x": 1}})])
    first = row(store, store.parts[0])
    assert tuple(first) == (
        "1",
        "   1.500",
        "on_chat_model_stream",
        "M[31m",
        "",
        "line one⏎line ]0;two",
    )
    second = row(store, store.parts[1])
    assert (second.kind, second.path, second.summary) == ("updates", "sub:1", '{"node": {"x": 1}}')


def test_a_replayed_log_fills_the_store_like_the_live_run():
    parts = parts_of(joke(), {"topic": "parrot"})
    live, replayed = RunStore(), RunStore()
    live.ingest(parts)
    replayed.ingest(parse_line(encode_line(p)) for p in parts)
    assert [(r.name, r.status, r.answer()) for r in live.runs.values()] == [
        (r.name, r.status, r.answer()) for r in replayed.runs.values()
    ]
    assert live.tokens == replayed.tokens and live.by_event.keys() == replayed.by_event.keys()


def test_the_store_and_filters_never_import_textual():
    code = "import sys, streamtui.tui.store, streamtui.tui.filters; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def timed_parts(n: int = 10) -> list[Part]:
    return [Part(i + 1, i * 0.5, "custom", (), {"i": i}) for i in range(n)]


def test_replay_source_plays_on_its_clock_pauses_steps_and_changes_speed():
    from streamtui.tui.sources import FramePump, ReplaySource

    clock = FakeClock()
    source = ReplaySource(timed_parts(), speed=1.0, clock=clock)
    pump = FramePump(source, clock=clock)
    pump.tick()
    assert [p.seq for p in pump.store.parts] == [1]  # ts 0.0 is due at once
    clock.now += 1.0
    pump.tick()
    assert len(pump.store.parts) == 3  # ts 0.5 and 1.0
    source.pause()
    clock.now += 10
    assert pump.tick().first == 3 and len(pump.store.parts) == 3
    assert [p.seq for p in source.step()] == [4]
    source.play()
    source.set_speed(2.0)
    clock.now += 1.0  # two recorded seconds at 2x
    pump.tick()
    # seq 4 was stepped (handed to the caller), then play resumed from its time.
    assert [p.seq for p in pump.store.parts] == [1, 2, 3, 5, 6, 7, 8]
    assert source.recorded_time == 3.5
    rest = source.seek_end()
    assert [p.seq for p in rest] == [9, 10] and source.finished
    with pytest.raises(ValueError, match="positive"):
        source.set_speed(0)


def test_replay_at_max_speed_takes_everything_in_one_frame():
    from streamtui.tui.sources import FramePump, ReplaySource

    source = ReplaySource(timed_parts(100), speed=None)
    pump = FramePump(source)
    changes = pump.tick()
    assert changes.first == 0 and len(pump.store.parts) == 100 and source.finished


def test_live_source_drains_a_coalescing_subscription_per_frame():
    from streamtui.tui.sources import FramePump, LiveSource

    bus = EventBus()
    source = LiveSource(bus.subscribe("coalescing"))
    pump = FramePump(source)
    for part in parts_of(joke(), {"topic": "parrot"}):
        bus.publish(part.mode, part.data, part.ns)
    assert not source.finished
    pump.tick()
    bus.close()
    assert source.finished and pump.store.runs and pump.frames == 1


def test_a_burst_is_spread_over_frames():
    from streamtui.tui.sources import FramePump, ReplaySource

    pump = FramePump(ReplaySource(timed_parts(10), speed=None), per_frame=4)
    seen = []
    while not pump.finished:
        pump.tick()
        seen.append(len(pump.store.parts))
    assert seen == [4, 8, 10] and pump.behind == 0


def test_replay_speed_steps_up_and_down_the_speeds_with_max_on_top():
    from streamtui.tui.sources import ReplaySource

    source = ReplaySource(timed_parts(), speed=1.0, clock=FakeClock())
    assert ReplaySource.SPEEDS == (0.25, 0.5, 1, 2, 4, 8, 16, 64, None)
    labels = [source.speed_label]
    for _ in range(9):
        source.faster()
        labels.append(source.speed_label)
    assert labels == ["1x", "2x", "4x", "8x", "16x", "64x", "max", "max", "max", "max"]
    labels = []
    for _ in range(10):
        source.slower()
        labels.append(source.speed_label)
    assert labels == ["64x", "16x", "8x", "4x", "2x", "1x", "0.5x", "0.25x", "0.25x", "0.25x"]
    source.set_speed(3)  # off the steps: to the neighbouring ones
    source.faster()
    assert source.speed == 4
    source.set_speed(3)
    source.slower()
    assert source.speed == 2
    source.set_speed(0.001)
    source.faster()
    assert source.speed == 0.25


def test_replay_seek_clamps_keeps_playing_or_paused_and_plays_on_from_there():
    from streamtui.tui.sources import FramePump, ReplaySource

    clock = FakeClock()
    source = ReplaySource(timed_parts(), speed=1.0, clock=clock)  # ts 0.0, 0.5, ... 4.5
    assert (len(source), source.position, source.recorded_time, source.total_time) == (
        10,
        0,
        0.0,
        4.5,
    )
    source.seek(5)
    assert source.playing and source.position == 5 and source.recorded_time == 2.0
    assert source.take(clock.now) == []  # the clock starts again at the part before
    clock.now += 0.5
    assert [p.seq for p in source.take(clock.now)] == [6]
    source.seek(99)
    assert source.position == 10 and source.finished
    source.seek(-3)
    assert source.position == 0 and not source.finished
    source.pause()
    source.seek(4)
    assert not source.playing
    clock.now += 100
    assert source.take(clock.now) == []
    source.play()
    source.step_back()
    assert source.position == 3 and not source.playing
    source.seek(0)
    source.step_back()
    assert source.position == 0
    pump = FramePump(source, clock=clock)
    source.play()
    clock.now += 1.0
    assert pump.behind == 3  # ts 0.0, 0.5 and 1.0 are due, none shown yet
    pump.tick()
    assert pump.behind == 0 and len(pump.store.parts) == 3
