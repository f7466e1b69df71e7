"""A run onto the bus: the same events astream_events gives, graph parts beside them,
failures recorded per run, foreign LangChain/LangGraph apps watched unchanged, and a log
whose footer is written however the run ends."""

from __future__ import annotations

import asyncio
import operator
import re
import time
from typing import Annotated, TypedDict

import pytest

from streamtui import (
    ChatPromptTemplate,
    RunnableLambda,
    ScriptedChatModel,
    StrOutputParser,
    tool,
)
from streamtui.bus import EventBus
from streamtui.envelope import Part, encode_line
from streamtui.eventlog import EventLog, PartPump
from streamtui.graph import END, START, StateGraph, get_stream_writer
from streamtui.session import check_modes, make_header, run_session, stream_to_bus, target_kind


def collect(target, value, **kwargs) -> list[Part]:
    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        try:
            await stream_to_bus(target, value, bus, **kwargs)
        finally:
            bus.close()
        return sub.drain()

    return asyncio.run(main())


def strip_ids(event: dict) -> tuple:
    return (event["event"], event["name"], tuple(event["tags"]), len(event["parent_ids"]))


def joke_chain():
    model = ScriptedChatModel(responses=["Why did the parrot wear a raincoat? Polly-ester."])
    return (
        ChatPromptTemplate.from_template("tell me a joke about {topic}") | model | StrOutputParser()
    )


def test_a_chain_on_the_bus_gives_exactly_the_astream_events_events():
    chain = joke_chain()

    async def expected() -> list[dict]:
        return [e async for e in chain.astream_events({"topic": "parrot"}, version="v2")]

    want = asyncio.run(expected())
    parts = collect(chain, {"topic": "parrot"})
    assert [p.mode for p in parts] == ["events"] * len(want)
    assert [p.seq for p in parts] == list(range(1, len(want) + 1))
    assert [strip_ids(p.data) for p in parts] == [strip_ids(e) for e in want]
    assert [without_ids(p.data) for p in parts] == [without_ids(e) for e in want]


def without_ids(event: dict) -> str:
    """The event as a line, without run and message ids (they differ between runs)."""
    line = encode_line(Part(0, 0.0, "events", (), event))
    return re.sub(r'"(id|run_id)":"[^"]*"|"parent_ids":\[[^\]]*\]', "", line)


def test_event_filters_apply_on_the_bus():
    parts = collect(joke_chain(), {"topic": "x"}, event_filter={"include_types": ["chat_model"]})
    assert {p.data["event"] for p in parts} == {
        "on_chat_model_start",
        "on_chat_model_stream",
        "on_chat_model_end",
    }


def test_a_failing_chain_records_an_error_part_for_each_run_it_failed():
    def explode(text: str) -> str:
        raise ValueError("no jokes today")

    chain = joke_chain() | RunnableLambda(explode)
    bus_parts: list[Part] = []

    async def main() -> None:
        bus = EventBus()
        sub = bus.subscribe()
        with pytest.raises(ValueError, match="no jokes today"):
            await stream_to_bus(chain, {"topic": "x"}, bus)
        bus_parts.extend(sub.drain())

    asyncio.run(main())
    errors = [p.data for p in bus_parts if p.data["event"].endswith("_error")]
    assert [(e["event"], e["name"], len(e["parent_ids"])) for e in errors] == [
        ("on_chain_error", "explode", 1),
        ("on_chain_error", "RunnableSequence", 0),
    ]
    assert errors[0]["data"] == {"error": {"type": "ValueError", "message": "no jokes today"}}
    assert bus_parts[-1].data is errors[-1]  # nothing after the root's failure


def test_a_failing_tool_is_reported_once_as_on_tool_error():
    @tool
    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        return a / b

    with pytest.raises(ZeroDivisionError):
        collect(divide, {"a": 1, "b": 0})

    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        with pytest.raises(ZeroDivisionError):
            await stream_to_bus(divide, {"a": 1, "b": 0}, bus)
        return sub.drain()

    kinds = [p.data["event"] for p in asyncio.run(main())]
    assert kinds == ["on_tool_start", "on_tool_error"]


class State(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def counting_graph():
    model = ScriptedChatModel(responses=["done counting"])

    def step(state: State) -> dict:
        get_stream_writer()({"at": state["n"]})
        return {"n": state["n"] + 1, "log": [state["n"]]}

    def finish(state: State) -> dict:
        return {"log": [model.invoke("sum up").content]}

    g = StateGraph(State)
    g.add_node("step", step)
    g.add_node("finish", finish)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: "step" if s["n"] < 3 else "finish")
    g.add_edge("finish", END)
    return g.compile()


def test_a_graph_gives_its_stream_modes_and_its_run_events_from_one_run():
    parts = collect(counting_graph(), {"n": 1, "log": []})
    modes = [p.mode for p in parts]
    assert set(modes) == {"events", "updates", "values", "custom"}
    assert [p.data for p in parts if p.mode == "custom"] == [{"at": 1}, {"at": 2}]
    assert [list(p.data) for p in parts if p.mode == "updates"] == [["step"], ["step"], ["finish"]]
    assert parts[-1].mode == "events" and parts[-1].data["event"] == "on_chain_end"
    final = [p.data for p in parts if p.mode == "values"][-1]
    assert final == {"n": 3, "log": [1, 2, "done counting"]}
    tokens = [
        p.data["data"]["chunk"].content
        for p in parts
        if p.mode == "events" and p.data["event"] == "on_chat_model_stream"
    ]
    assert "".join(tokens) == "done counting"  # the plain invoke() inside a node streamed


def test_graph_modes_can_be_chosen_and_events_left_out():
    parts = collect(counting_graph(), {"n": 1, "log": []}, modes=["values"])
    assert {p.mode for p in parts} == {"values"}


def test_modes_are_checked_against_the_target():
    assert check_modes("graph", None) == ("events", "updates", "values", "custom")
    assert check_modes("runnable", None) == ("events",)
    with pytest.raises(ValueError, match="is for graphs"):
        check_modes("runnable", ["events", "values"])
    with pytest.raises(ValueError, match="unknown stream mode 'valeus'"):
        check_modes("graph", ["valeus"])
    with pytest.raises(ValueError, match="cannot be streamed"):
        target_kind(42)


def test_a_langchain_runnable_is_watched_unchanged():
    lc = pytest.importorskip("langchain_core.runnables")
    chain = lc.RunnableLambda(lambda x: x * 2) | lc.RunnableLambda(lambda x: x + 1)
    parts = collect(chain, 5)
    assert target_kind(chain) == "events"
    assert parts[0].data["event"] == "on_chain_start" and parts[-1].data["data"]["output"] == 11


def test_a_failing_langchain_runnable_records_the_runs_that_were_open():
    lc = pytest.importorskip("langchain_core.runnables")

    def boom(x: int) -> int:
        raise KeyError("missing")

    chain = lc.RunnableLambda(lambda x: x) | lc.RunnableLambda(boom)

    async def main() -> list[Part]:
        bus = EventBus()
        sub = bus.subscribe()
        with pytest.raises(KeyError):
            await stream_to_bus(chain, 1, bus)
        return sub.drain()

    errors = [p.data for p in asyncio.run(main()) if p.data["event"].endswith("_error")]
    assert [(e["name"], len(e["parent_ids"])) for e in errors] == [
        ("boom", 1),
        ("RunnableSequence", 0),
    ]
    assert errors[0]["data"]["error"]["type"] == "KeyError"


def test_a_langgraph_app_gives_events_and_graph_modes_from_one_run():
    lg = pytest.importorskip("langgraph.graph")
    from langgraph.config import get_stream_writer as lg_writer

    def a(state: State) -> dict:
        lg_writer()({"progress": 1})
        return {"n": state["n"] + 1, "log": ["a"]}

    g = lg.StateGraph(State)
    g.add_node("a", a)
    g.add_edge(lg.START, "a")
    g.add_edge("a", lg.END)
    graph = g.compile()
    assert target_kind(graph) == "langgraph"
    parts = collect(graph, {"n": 1, "log": []})  # the default modes, as for our own graphs
    by_mode = {}
    for p in parts:
        by_mode.setdefault(p.mode, []).append(p.data)
    assert by_mode["custom"] == [{"progress": 1}]
    assert by_mode["updates"] == [{"a": {"n": 2, "log": ["a"]}}]
    assert by_mode["values"][-1] == {"n": 2, "log": ["a"]}
    assert by_mode["events"][0]["event"] == "on_chain_start"
    # The root's stream events became graph parts rather than being shown twice.
    assert not [
        e for e in by_mode["events"] if e["event"] == "on_chain_stream" and not e["parent_ids"]
    ]


def header() -> dict:
    return make_header(name="t", path=None, spec_hash=None, input={}, modes=None)


def test_run_session_records_a_failed_run_with_its_error_in_the_footer(tmp_path):
    def explode(text: str) -> str:
        raise RuntimeError("kaput")

    path = tmp_path / "fail.jsonl"
    seen: list[Part] = []
    outcome = asyncio.run(
        run_session(
            joke_chain() | explode,
            {"topic": "x"},
            header=header(),
            record_to=path,
            consumers=[("t", seen.extend)],
        )
    )
    assert outcome.status == "error" and isinstance(outcome.error, RuntimeError)
    log = EventLog.open(path)
    assert log.footer["status"] == "error"
    assert log.footer["error"] == {"type": "RuntimeError", "message": "kaput"}
    assert log.footer["counts"]["parts"] == len(log.parts) == len(seen) == outcome.tally.parts
    assert log.footer["counts"]["events"]["on_chain_error"] == 2
    assert [p.seq for p in log.parts] == [p.seq for p in seen]


def test_a_cancelled_run_keeps_its_log_with_an_interrupted_footer(tmp_path):
    model = ScriptedChatModel(responses=["word " * 1000], chunk_latency=0.002)
    path = tmp_path / "cancelled.jsonl"

    async def main() -> None:
        task = asyncio.ensure_future(run_session(model, "go", header=header(), record_to=path))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    log = EventLog.open(path)
    assert log.status == "interrupted" and log.footer["error"] is None
    kinds = [p.data["event"] for p in log.parts]
    assert kinds[0] == "on_chat_model_start" and "on_chat_model_stream" in kinds
    assert not any(k.endswith("_error") for k in kinds)  # cancelled, not failed


def test_the_footer_is_written_before_waiting_for_a_stalled_consumer(tmp_path):
    import threading

    release = threading.Event()
    path = tmp_path / "stalled.jsonl"

    def stalled_terminal(parts: list[Part]) -> None:
        release.wait(30)  # a terminal nobody reads (``| less``)

    def run() -> None:
        asyncio.run(
            run_session(
                joke_chain(),
                {"topic": "x"},
                header=header(),
                record_to=path,
                consumers=[("stdout", stalled_terminal)],
            )
        )

    worker = threading.Thread(target=run)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            not path.exists() or EventLog.open(path).footer is None
        ):
            time.sleep(0.02)
        assert EventLog.open(path).status == "done"
        assert worker.is_alive()  # still waiting for the terminal, with the log finished
    finally:
        release.set()
        worker.join(30)


def test_a_chain_without_a_model_waits_for_a_full_recorder():
    from streamtui import RunnableGenerator

    async def many(_: object):  # async: it runs on the loop, where publish never blocks
        for i in range(5000):
            yield f"{i} "

    async def main() -> tuple[int, int]:
        bus = EventBus()
        sub = bus.subscribe("lossless", capacity=64)
        seen = [0, 0]

        def slow(parts: list[Part]) -> None:
            seen[0] += len(parts)
            seen[1] = max(seen[1], len(parts))
            time.sleep(0.0005)

        pump = PartPump(sub, slow, "slow").start()
        await stream_to_bus(RunnableGenerator(many), None, bus)
        bus.close()
        await asyncio.to_thread(pump.join)
        return seen[0], seen[1]

    total, biggest = asyncio.run(main())
    assert total == 5002  # start, 5000 chunks, end
    assert biggest <= 64 + 2  # the buffer stayed bounded: the run waited
