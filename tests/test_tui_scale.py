"""Replay at scale: a log opened without parsing it, a store that keeps replayed parts as
log positions, cutting a store back for seeking. Each is checked against the plain path
(``EventLog.parts``, a store fed whole parts) on real recorded runs."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import pytest

from streamtui import AIMessageChunk, ChatPromptTemplate, ScriptedChatModel, StrOutputParser
from streamtui.bus import EventBus
from streamtui.envelope import Part, encode_line, parse_line
from streamtui.eventlog import EventLog, EventLogError, EventLogWriter, LogFile, LoggedPart
from streamtui.session import stream_to_bus
from streamtui.tui.sources import FramePump, ReplaySource, open_replay
from streamtui.tui.store import RunStore

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def recorded(target: Any, value: Any) -> list[Part]:
    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        await stream_to_bus(target, value, bus)
        bus.close()
        return sub.drain()

    return asyncio.run(main())


def joke_parts() -> list[Part]:
    model = ScriptedChatModel(["Why did the parrot wear a raincoat? Polly-ester."])
    chain = ChatPromptTemplate.from_template("joke about {topic}") | model | StrOutputParser()
    return recorded(chain, {"topic": "parrot"})


def graph_parts() -> list[Part]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "scale_research_graph", DEMOS / "research_graph.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.writer_model.first_chunk_latency = 0.0
    module.writer_model.chunk_latency = 0.0
    return recorded(module.graph, module.INPUT)


def chunk_event(seq: int, ts: float, chunk: Any, run: str = "m", kind: str = "") -> Part:
    return Part(
        seq,
        ts,
        "events",
        (),
        {
            "event": kind
            or ("on_chat_model_stream" if chunk is not None else "on_chat_model_start"),
            "name": "M",
            "run_id": run,
            "parent_ids": [],
            "tags": [],
            "metadata": {},
            "data": {"chunk": chunk} if chunk is not None else {},
        },
    )


def shaped_parts() -> list[Part]:
    """Every chunk shape the store reads: text, reasoning blocks and fields, tool-call
    arguments, list content, plain strings and dicts; spread over several seconds."""
    chunks: list[Any] = [
        AIMessageChunk("plain "),
        AIMessageChunk([{"type": "thinking", "thinking": "hmm", "index": 0}]),
        AIMessageChunk("", additional_kwargs={"reasoning_content": "so"}),
        AIMessageChunk(["a ", {"type": "text", "text": "b "}]),
        AIMessageChunk(
            "", tool_call_chunks=[{"name": "add", "args": '{"a"', "id": "c", "index": 0}]
        ),
        AIMessageChunk(
            "", tool_call_chunks=[{"name": None, "args": ": 1}", "id": None, "index": 0}]
        ),
        AIMessageChunk(""),
        "a string chunk ",
        {"content": "a dict chunk "},
    ]
    parts = [chunk_event(1, 0.0, None)]
    for i, chunk in enumerate(chunks):
        parts.append(chunk_event(i + 2, 0.4 * (i + 1), chunk))
    end = chunk_event(len(parts) + 1, 4.0, None, kind="on_chat_model_end")
    end.data["data"] = {"output": AIMessageChunk("plain a b")}
    parts.append(end)
    parts.append(Part(len(parts) + 1, 4.1, "values", (), {"n": 1}))
    return parts


def roundtrip(parts: list[Part]) -> list[Part]:
    """The parts as a log gives them back."""
    return [parse_line(encode_line(p)) for p in parts]


def write_log(path: Path, parts: list[Part], footer: bool = True) -> Path:
    writer = EventLogWriter(path, {"spec": {"name": "t"}})
    writer.write(parts)
    if footer:
        writer.close({"status": "done"})
    else:
        writer._raw.close()
    return path


def summary(store: RunStore) -> dict[str, Any]:
    """Everything a pane can read from a store, in comparable form."""
    runs = [
        (
            r.run_id,
            r.name,
            r.run_type,
            r.parent_id,
            r.started,
            r.children,
            r.status,
            r.ended,
            r.first_token,
            r.chunks,
            r.text,
            r.reasoning,
            r.tool_args,
            r.error,
            r.step,
            r.node,
            list(r.parts),
        )
        for r in store.runs.values()
    ]
    return {
        "runs": runs,
        "roots": store.roots,
        "by_event": {k: list(v) for k, v in store.by_event.items()},
        "by_mode": {k: list(v) for k, v in store.by_mode.items()},
        "states": list(store.states),
        "counts": (store.tokens, store.first_token, store.last_ts, store.merged, store.status),
        "per_second": store.tokens_per_second,
        "parts": len(store.parts),
    }


# --- LogFile reads what EventLog reads -----------------------------------------------


@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_a_log_file_gives_the_parts_header_and_footer_of_the_event_log(tmp_path, name):
    parts = graph_parts()
    path = write_log(tmp_path / name, parts)
    with LogFile.open(path) as log:
        full = EventLog.open(path)
        assert len(log) == len(full.parts) == len(parts)
        assert (log.header, log.footer, log.status) == (full.header, full.footer, full.status)
        assert log.parts(0, len(log)) == full.parts == roundtrip(parts)
        assert log.part(len(log) - 1) == full.parts[-1]
        assert list(log.times) == [p.ts for p in full.parts]
        assert log.problems() == full.problems() == []
        light = log.logged_parts(3, 7)
        assert [(p.seq, p.index, p.log) for p in light] == [
            (p.seq, i, log) for i, p in zip(range(3, 7), parts[3:7])
        ]


def test_cut_off_logs_bad_lines_and_foreign_key_order_read_as_the_event_log_reads_them(
    tmp_path,
):
    parts = joke_parts()
    path = write_log(tmp_path / "run.jsonl", parts, footer=False)
    lines = path.read_bytes().split(b"\n")
    foreign = b'{"ts":%r,"seq":%d,"mode":"custom","ns":[],"data":{"x":1}}' % (
        parts[3].ts,
        parts[3].seq,
    )
    lines[4] = foreign  # the same part, other key order: read the slow way
    lines[6] = b"not json at all"  # skipped when scanned
    lines[8] = lines[8][:-1] + b"#"  # looks like a part: skipped when read
    lines[10] = b'{"type":"footer","status":"done"}'  # a footer that is not last
    body = b"\n".join(lines[:-1]) + b"\n" + b'{"seq":99,"ts":9.0,"mo'  # cut mid-line
    path.write_bytes(body)
    full = EventLog.open(path)
    expected = full.parts
    source = open_replay(path, speed=None)
    log = source.log
    assert log is not None and log.truncated and log.footer is None
    assert log.bad_lines == [7, 11]  # the unreadable line and the footer in the middle
    pump = FramePump(source, per_frame=5)
    while not pump.finished:
        pump.tick()
    store = pump.store
    assert [p.seq for p in store.parts] == [p.seq for p in expected]
    assert list(store.parts) == expected
    assert log.bad_lines == full.bad_lines == [7, 9, 11]
    assert source.problems() == full.problems()
    assert "skipped 3 unreadable line(s): 7, 9, 11" in source.problems()[-1]
    assert "ends inside a line" in source.problems()[0]
    source.close()


def test_opening_what_is_not_a_log_says_so(tmp_path):
    with pytest.raises(EventLogError, match="no such log"):
        open_replay(tmp_path / "missing.jsonl")
    with pytest.raises(EventLogError, match="is a directory"):
        open_replay(tmp_path)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(EventLogError, match="empty or cut"):
        open_replay(tmp_path / "empty.jsonl")
    (tmp_path / "other.jsonl").write_bytes(b'{"hello": 1}\n')
    with pytest.raises(EventLogError, match="not a streamtui log header"):
        open_replay(tmp_path / "other.jsonl")
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(EventLogError, match="not a gzip file"):
        open_replay(tmp_path / "bad.jsonl.gz")
    cut = gzip.compress(
        b'{"type":"header","format":1}\n' + encode_line(joke_parts()[0]).encode() + b"\n"
    )
    (tmp_path / "cut.jsonl.gz").write_bytes(cut[:-12])
    with LogFile.open(tmp_path / "cut.jsonl.gz") as log:
        assert log.truncated


# --- the store keeps log positions, and gives the same answers ------------------------


@pytest.mark.parametrize("make", [joke_parts, graph_parts, shaped_parts])
def test_a_store_fed_from_the_log_answers_as_one_fed_whole_parts(tmp_path, make):
    parts = make()
    with LogFile.open(write_log(tmp_path / "run.jsonl", parts)) as log:
        whole, logged = RunStore(), RunStore()
        whole.ingest(log.parts(0, len(log)))
        light = log.logged_parts(0, len(log))
        assert all(type(p) is LoggedPart for p in light)
        logged.ingest(light[:4])
        logged.ingest(light[4:])
        assert summary(logged) == summary(whole)
        assert logged.parts.log_index(2) == 2 and whole.parts.log_index(2) is None
        parts = roundtrip(parts)
        assert [logged.parts[i] for i in range(len(parts))] == parts
        assert logged.parts[-1] == parts[-1] and logged.parts[1:3] == parts[1:3]
        if whole.states:
            assert logged.state_at(len(logged.states) - 1) == whole.state_at(len(whole.states) - 1)


def test_parts_from_a_second_log_or_held_whole_mix_in_one_store(tmp_path):
    first = roundtrip(joke_parts())
    with (
        LogFile.open(write_log(tmp_path / "a.jsonl", first)) as a,
        LogFile.open(write_log(tmp_path / "b.jsonl", first)) as b,
    ):
        store = RunStore()
        store.ingest(a.logged_parts(0, 3))
        store.ingest([first[3]])
        store.ingest(b.logged_parts(4, 6))
        store.ingest(a.logged_parts(6, len(a)))
        assert list(store.parts) == first
        assert store.parts.log_index(3) is None and store.parts.log_index(4) is None


# --- cutting a store back -------------------------------------------------------------


def coalesced_parts() -> list[Part]:
    """A live viewer's parts with folded token chunks, over several seconds."""
    clock = iter(i * 0.35 for i in range(10_000))
    bus = EventBus(clock=lambda: next(clock))
    viewer = bus.subscribe("coalescing", coalesce_after=0)
    publish = bus.publish
    out: list[Part] = []
    start = chunk_event(0, 0, None).data
    publish("events", start)
    for i in range(30):
        event = chunk_event(0, 0, AIMessageChunk(f"{i} ")).data
        publish("events", event)
        if i % 7 == 6:
            out.extend(viewer.drain())
    publish("events", {**start, "event": "on_chat_model_end", "data": {"output": "x"}})
    out.extend(viewer.drain())
    return out


@pytest.mark.parametrize("make", [joke_parts, graph_parts, shaped_parts, coalesced_parts])
@pytest.mark.parametrize("move", [False, True])
def test_a_cut_store_is_the_store_of_the_parts_before_the_cut(make, move):
    parts = make()
    assert make is not coalesced_parts or any(p.merged for p in parts)
    for position in sorted({0, 1, 2, 5, len(parts) // 2, len(parts) - 1, len(parts)}):
        store = RunStore()
        store.ingest(parts)
        store.finish("done")
        before = summary(store)
        cut = store.truncated(position, move=move)
        fresh = RunStore()
        fresh.ingest(parts[:position])
        assert summary(cut) == summary(fresh), position
        if move:
            assert len(store.parts) == 0 and not store.runs
        else:
            assert summary(store) == before
        cut.ingest(parts[position:])  # and it goes on as if never cut
        whole = RunStore()
        whole.ingest(parts)
        assert summary(cut) == summary(whole)


def test_a_cut_of_a_store_fed_from_a_log_reads_its_parts_back(tmp_path):
    parts = roundtrip(graph_parts())
    with LogFile.open(write_log(tmp_path / "run.jsonl", parts)) as log:
        store = RunStore()
        store.ingest(log.logged_parts(0, len(log)))
        cut = store.truncated(10, move=True)
        assert list(cut.parts) == parts[:10]
        cut.ingest(log.logged_parts(10, len(log)))
        assert list(cut.parts) == parts


# --- the pump seeks ---------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_restart_goes_back_by_a_cut_and_forward_over_frames(tmp_path):
    parts = roundtrip(graph_parts())
    clock = FakeClock()
    source = open_replay(write_log(tmp_path / "run.jsonl", parts), speed=1.0, clock=clock)
    pump = FramePump(source, clock=clock, per_frame=7)
    clock.now += 1000
    while not pump.finished:
        pump.tick()
    assert len(pump.store.parts) == len(parts)
    old = pump.store
    changes = pump.restart(5)
    assert pump.store is not old and len(old.parts) == 0
    assert list(pump.store.parts) == parts[:5] and source.position == 5
    assert changes.first == 0 and changes.added_runs == list(pump.store.runs)
    source.pause()
    pump.restart(9)  # a short jump forward is read at once, even paused
    assert list(pump.store.parts) == parts[:9] and not source.fast_forwarding
    pump.restart(len(parts))  # a long one goes on over the next frames
    assert source.fast_forwarding and source.position == 9 and pump.behind == len(parts) - 9
    frames = 0
    while source.fast_forwarding:
        pump.tick()
        frames += 1
    assert frames == -(-(len(parts) - 9) // 7)
    assert list(pump.store.parts) == parts and source.finished and not source.playing
    fresh = RunStore()
    fresh.ingest(parts)
    assert summary(pump.store) == summary(fresh)
    pump.restart(-5)
    assert len(pump.store.parts) == 0 and source.position == 0
    source.close()


def test_restart_over_a_list_of_parts_and_after_a_skipped_line(tmp_path):
    parts = roundtrip(joke_parts())
    pump = FramePump(ReplaySource(parts, speed=None))
    pump.tick()
    pump.restart(4)
    assert list(pump.store.parts) == parts[:4]
    with pytest.raises(TypeError, match="only a replay"):
        FramePump(object()).restart(0)  # type: ignore[arg-type]
    path = write_log(tmp_path / "run.jsonl", parts)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3][:-1] + b"#"  # file line 4, part index 2: unreadable
    path.write_bytes(b"\n".join(lines))
    source = open_replay(path, speed=None)
    pump = FramePump(source)
    pump.tick()
    assert len(pump.store.parts) == len(parts) - 1 and len(source) == len(parts)
    pump.restart(5)  # five positions of the log: one was unreadable
    assert [p.seq for p in pump.store.parts] == [1, 2, 4, 5]
    source.close()


def test_live_runs_keep_whole_parts_in_the_store():
    bus = EventBus()
    sub = bus.subscribe("coalescing")
    from streamtui.tui.sources import LiveSource

    pump = FramePump(LiveSource(sub))
    parts = joke_parts()
    for part in parts:
        bus.publish(part.mode, part.data, part.ns)
    pump.tick()
    assert pump.store.parts.log_index(0) is None
    assert [p.data for p in pump.store.parts] == [p.data for p in parts]
    assert pump.store.parts[3] is pump.store.parts[3]


def test_a_frame_budget_moves_a_replay_in_slices_and_reports_every_change():
    parts = graph_parts()
    whole = FramePump(ReplaySource(parts, speed=None))
    expected = whole.tick()
    budgeted = FramePump(ReplaySource(parts, speed=None), budget=60.0, slice_parts=4)
    changes = budgeted.tick()
    assert len(budgeted.store.parts) == len(parts) and budgeted.frames == 1
    assert (changes.first, changes.added_runs, changes.changed_runs, changes.token_runs) == (
        expected.first,
        expected.added_runs,
        expected.changed_runs,
        expected.token_runs,
    )
    assert changes.state == expected.state
    starved = FramePump(ReplaySource(parts, speed=None), budget=0.0, slice_parts=4)
    starved.tick()
    assert len(starved.store.parts) == 4  # one slice a frame when the budget is spent
    capped = FramePump(ReplaySource(parts, speed=None), budget=60.0, slice_parts=4, per_frame=10)
    capped.tick()
    assert len(capped.store.parts) == 10
    while not starved.finished:
        starved.tick()
    assert summary(starved.store) == summary(whole.store)
