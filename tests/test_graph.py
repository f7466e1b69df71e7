"""``streamtui.graph`` on its own: what a comparison with LangGraph cannot show.

Builder validation messages, the stream writer outside a graph or when ``custom`` is not
requested, stopping a graph by leaving ``stream``/``astream`` early, the sync API from
async code, and error messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import threading
import time
import warnings
from typing import Annotated

import pydantic
import pytest
from typing_extensions import TypedDict

from streamtui.graph import (
    END,
    START,
    EmptyInputError,
    GraphRecursionError,
    InvalidUpdateError,
    StateGraph,
    get_stream_writer,
)

from .conftest import run_async


class State(TypedDict, total=False):
    n: int
    log: Annotated[list, operator.add]


def noop(state: State) -> dict:
    return {}


# --- builder validation ----------------------------------------------------------------


def test_edge_to_an_unknown_node_names_it():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_edge(START, "a")
    g.add_edge("a", "nowhere")
    with pytest.raises(ValueError, match=r"'nowhere'.*not a node"):
        g.compile()


def test_edge_from_an_unknown_node_names_it():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_edge(START, "a")
    g.add_edge("ghost", "a")
    with pytest.raises(ValueError, match=r"'ghost'.*not a node"):
        g.compile()


def test_join_edge_from_an_unknown_node_names_it():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_node("c", noop)
    g.add_edge(START, "a")
    g.add_edge(["a", "ghost"], "c")
    with pytest.raises(ValueError, match=r"'ghost'"):
        g.compile()


def test_path_map_to_an_unknown_node_names_it():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: "go", {"go": "nowhere"})
    with pytest.raises(ValueError, match=r"'nowhere'"):
        g.compile()


def test_no_entry_point_says_how_to_add_one():
    g = StateGraph(State)
    g.add_node("a", noop)
    with pytest.raises(ValueError, match=r"entry point") as info:
        g.compile()
    assert "START" in str(info.value)


def test_conditional_edge_from_start_is_an_entry_point():
    g = StateGraph(State)
    g.add_node("a", lambda s: {"n": 1})
    g.add_conditional_edges(START, lambda s: "a")
    assert g.compile().invoke({"n": 0}) == {"n": 1, "log": []}


def test_set_entry_and_finish_point():
    g = StateGraph(State)
    g.add_node("a", lambda s: {"n": 1})
    g.set_entry_point("a")
    g.set_finish_point("a")
    assert g.compile().invoke({"n": 0}) == {"n": 1, "log": []}


@pytest.mark.parametrize("name", [START, END])
def test_reserved_node_names(name):
    g = StateGraph(State)
    with pytest.raises(ValueError, match="reserved") as info:
        g.add_node(name, noop)
    assert name in str(info.value)


def test_duplicate_node_names_it():
    g = StateGraph(State)
    g.add_node("a", noop)
    with pytest.raises(ValueError, match=r"'a' already exists"):
        g.add_node("a", noop)


def test_duplicate_node_from_add_sequence():
    g = StateGraph(State)
    with pytest.raises(ValueError, match=r"'noop' already exists"):
        g.add_sequence([noop, noop])


def test_a_lambda_node_needs_a_name():
    g = StateGraph(State)
    with pytest.raises(ValueError, match="name"):
        g.add_node(lambda s: {})


def test_a_node_named_after_its_function():
    g = StateGraph(State)
    g.add_node(noop)
    assert "noop" in g.nodes


def test_edge_from_end_is_refused():
    g = StateGraph(State)
    with pytest.raises(ValueError, match="END"):
        g.add_edge(END, "a")


def test_schema_must_be_a_class_with_fields():
    with pytest.raises(TypeError, match="TypedDict, dataclass or pydantic"):
        StateGraph(42)


# --- what nodes return -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["text", 3, ["a"], ("n", 1)], ids=repr)
def test_node_returning_a_non_dict_raises_invalid_update_naming_it(value):
    g = StateGraph(State)
    g.add_node("returns_junk", lambda s: value)
    g.add_edge(START, "returns_junk")
    graph = g.compile()
    with pytest.raises(InvalidUpdateError, match="returns_junk"):
        graph.invoke({"n": 0})
    with pytest.raises(InvalidUpdateError, match="returns_junk"):
        list(graph.stream({"n": 0}))


def test_two_writes_to_a_plain_key_name_the_key():
    g = StateGraph(State)
    g.add_node("a", lambda s: {"n": 1})
    g.add_node("b", lambda s: {"n": 2})
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    with pytest.raises(InvalidUpdateError, match="'n'"):
        g.compile().invoke({"n": 0})


def test_none_input_is_an_empty_input_error():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_edge(START, "a")
    with pytest.raises(EmptyInputError):
        g.compile().invoke(None)


def test_unknown_stream_mode_is_refused():
    g = StateGraph(State)
    g.add_node("a", noop)
    g.add_edge(START, "a")
    with pytest.raises(ValueError, match="bogus"):
        list(g.compile().stream({"n": 0}, stream_mode="bogus"))


class Person(pydantic.BaseModel):
    name: str
    count: int = 0


def test_pydantic_instance_updates_do_not_warn():
    # (model_fields read on the class: on an instance it warns since pydantic 2.11)
    g = StateGraph(Person)
    g.add_node("rename", lambda s: Person(name=s.name + "!"))
    g.add_edge(START, "rename")
    graph = g.compile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert graph.invoke(Person(name="ann", count=2)) == {"name": "ann!", "count": 0}
    assert [str(w.message) for w in caught] == []


# --- the stream writer -----------------------------------------------------------------


def test_stream_writer_outside_a_graph_is_a_harmless_no_op():
    writer = get_stream_writer()
    assert callable(writer)
    assert writer({"any": "thing"}) is None
    assert writer(None) is None


def test_stream_writer_outside_a_graph_in_async_code_and_threads():
    async def inside() -> None:
        get_stream_writer()("from a coroutine")

    run_async(inside())
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            get_stream_writer()("from a thread")
        except BaseException as e:  # pragma: no cover - the failure being tested for
            errors.append(e)

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert errors == []


def writing_graph(calls: list):
    def talk(state: State) -> dict:
        writer = get_stream_writer()
        calls.append(writer)
        writer({"i": 1})
        writer("two")
        return {"n": state["n"] + 1}

    async def atalk(state: State) -> dict:
        writer = get_stream_writer()
        calls.append(writer)
        writer({"i": 3})
        return {"log": ["atalk"]}

    g = StateGraph(State)
    g.add_sequence([talk, atalk])
    g.add_edge(START, "talk")
    return g.compile()


@pytest.mark.parametrize("mode", ["updates", "values", ["updates", "values"]], ids=str)
def test_writer_does_nothing_when_custom_is_not_requested(mode):
    calls: list = []
    graph = writing_graph(calls)
    items = list(graph.stream({"n": 0}, stream_mode=mode))
    kinds = [i[0] for i in items] if isinstance(mode, list) else []
    assert "custom" not in kinds
    assert {"i": 1} not in items and "two" not in items
    assert len(calls) == 2
    # the same no-op as outside a graph
    assert all(w is get_stream_writer() for w in calls)


def test_writer_does_nothing_under_invoke():
    calls: list = []
    graph = writing_graph(calls)
    assert graph.invoke({"n": 0}) == {"n": 1, "log": ["atalk"]}
    assert run_async(graph.ainvoke({"n": 0})) == {"n": 1, "log": ["atalk"]}
    assert len(calls) == 4 and all(w is get_stream_writer() for w in calls)


def test_writer_streams_when_custom_is_requested():
    graph = writing_graph([])
    assert list(graph.stream({"n": 0}, stream_mode="custom")) == [{"i": 1}, "two", {"i": 3}]

    async def collect():
        return [x async for x in graph.astream({"n": 0}, stream_mode="custom")]

    assert run_async(collect()) == [{"i": 1}, "two", {"i": 3}]


def test_async_custom_items_reach_the_consumer_while_the_node_runs():
    """The consumer gets a custom item before the node that wrote it returns."""
    got_it = asyncio.Event()

    async def waits_for_consumer(state: State) -> dict:
        get_stream_writer()("ping")
        await asyncio.wait_for(got_it.wait(), timeout=5)
        return {"n": 1}

    g = StateGraph(State)
    g.add_node("waits_for_consumer", waits_for_consumer)
    g.add_edge(START, "waits_for_consumer")
    graph = g.compile()

    async def consume():
        items = []
        async for mode, item in graph.astream({"n": 0}, stream_mode=["custom", "updates"]):
            items.append((mode, item))
            if item == "ping":
                got_it.set()
        return items

    assert run_async(consume()) == [
        ("custom", "ping"),
        ("updates", {"waits_for_consumer": {"n": 1}}),
    ]


def test_sync_custom_items_reach_the_consumer_while_parallel_nodes_run():
    """In a sync ``stream``, items from sync nodes in the worker pool arrive live."""
    got_it = threading.Event()

    def waits_for_consumer(state: State) -> dict:
        get_stream_writer()("ping")
        assert got_it.wait(timeout=5), "the consumer never saw the item"
        return {"log": ["waited"]}

    def other(state: State) -> dict:
        return {"log": ["other"]}

    g = StateGraph(State)
    g.add_node("waits_for_consumer", waits_for_consumer)
    g.add_node("other", other)
    g.add_edge(START, "waits_for_consumer")
    g.add_edge(START, "other")
    items = []
    for item in g.compile().stream({"n": 0}, stream_mode="custom"):
        items.append(item)
        got_it.set()
    assert items == ["ping"]


# --- leaving a stream early ------------------------------------------------------------

FULL = 100_000  # steps the loop would run if nobody stopped it


def endless(kind: str, calls: list[int]):
    """A loop of FULL steps; ``calls[0]`` counts node executions."""

    def tick(state: State) -> dict:
        calls[0] += 1
        return {"n": state["n"] + 1}

    async def atick(state: State) -> dict:
        calls[0] += 1
        await asyncio.sleep(0)
        return {"n": state["n"] + 1}

    def side(state: State) -> dict:
        calls[0] += 1
        return {"log": [1]}

    def route(state: State):
        return ["tick", "side"] if kind == "parallel" else "tick"

    g = StateGraph(State)
    g.add_node("tick", atick if kind == "async" else tick)
    g.add_edge(START, "tick")
    if kind == "parallel":
        g.add_node("side", side)
        g.add_edge(START, "side")
        g.add_conditional_edges("side", lambda s: END)
    g.add_conditional_edges("tick", lambda s: route(s) if s["n"] < FULL else END)
    return g.compile()


def settled(calls: list[int], wait: float = 0.3) -> int:
    """The counter once it has not moved for a while (bounded wait)."""
    deadline = time.monotonic() + wait
    last = calls[0]
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if calls[0] == last:
            time.sleep(0.05)
            if calls[0] == last:
                return last
        last = calls[0]
    return calls[0]


@pytest.mark.parametrize("kind", ["sync", "async", "parallel"])
def test_breaking_out_of_sync_stream_stops_the_graph(kind):
    calls = [0]
    graph = endless(kind, calls)
    for i, _ in enumerate(graph.stream({"n": 0}, {"recursion_limit": FULL + 10})):
        if i == 3:
            break
    stopped_at = settled(calls)
    time.sleep(0.05)
    assert calls[0] == stopped_at, "the graph kept running after the consumer left"
    assert stopped_at < 1_000 < FULL


@pytest.mark.parametrize("kind", ["sync", "async", "parallel"])
def test_closing_astream_early_stops_the_graph(kind):
    calls = [0]
    graph = endless(kind, calls)

    async def consume() -> int:
        stream = graph.astream({"n": 0}, {"recursion_limit": FULL + 10})
        async with contextlib.aclosing(stream):
            i = 0
            async for _ in stream:
                i += 1
                if i == 4:
                    break
        await asyncio.sleep(0.05)  # give a runaway graph a chance to show itself
        return calls[0]

    after_close = run_async(consume())
    assert settled(calls) == after_close
    assert after_close < 1_000 < FULL


def test_leaving_a_stream_early_does_not_leak_threads():
    before = {t for t in threading.enumerate() if t.name == "streamtui-sync-stream"}
    for _ in range(5):
        calls = [0]
        for _item in endless("async", calls).stream({"n": 0}, {"recursion_limit": FULL + 10}):
            break
    after = {t for t in threading.enumerate() if t.name == "streamtui-sync-stream"}
    assert after <= before


# --- the sync API from async code ------------------------------------------------------


def small_graph():
    def a(state: State) -> dict:
        get_stream_writer()("from a")
        return {"n": state["n"] + 1, "log": ["a"]}

    async def b(state: State) -> dict:
        return {"log": ["b"]}

    g = StateGraph(State)
    g.add_sequence([a, b])
    g.add_edge(START, "a")
    return g.compile()


def test_sync_stream_and_invoke_from_inside_a_running_loop():
    graph = small_graph()

    async def main():
        assert asyncio.get_running_loop().is_running()
        items = list(graph.stream({"n": 0}, stream_mode=["updates", "custom"]))
        final = graph.invoke({"n": 0})
        return items, final

    items, final = run_async(main())
    assert items == [
        ("custom", "from a"),
        ("updates", {"a": {"n": 1, "log": ["a"]}}),
        ("updates", {"b": {"log": ["b"]}}),
    ]
    assert final == {"n": 1, "log": ["a", "b"]}


def test_sync_stream_inside_a_node_of_another_graph():
    inner = small_graph()

    async def outer_node(state: State) -> dict:
        values = list(inner.stream({"n": state["n"]}, stream_mode="values"))
        return {"log": [v["n"] for v in values]}

    g = StateGraph(State)
    g.add_node("outer_node", outer_node)
    g.add_edge(START, "outer_node")
    assert g.compile().invoke({"n": 5}) == {"n": 5, "log": [5, 6, 6]}


def test_async_nodes_run_under_sync_invoke_and_stream():
    # (langgraph refuses async nodes under invoke/stream; streamtui runs them)
    graph = small_graph()
    assert graph.invoke({"n": 1}) == {"n": 2, "log": ["a", "b"]}
    assert [list(u) for u in graph.stream({"n": 1})] == [["a"], ["b"]]


# --- recursion limit -------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_recursion_error_names_the_limit(limit):
    graph = endless("sync", [0])
    with pytest.raises(GraphRecursionError, match=rf"\b{limit}\b") as info:
        graph.invoke({"n": 0}, {"recursion_limit": limit})
    assert "recursion_limit" in str(info.value)
    with pytest.raises(GraphRecursionError, match=rf"Recursion limit of {limit}\b"):
        list(graph.stream({"n": 0}, {"recursion_limit": limit}))


def test_recursion_error_after_the_items_of_the_allowed_steps():
    calls = [0]
    items = []
    with pytest.raises(GraphRecursionError):
        for item in endless("sync", calls).stream({"n": 0}, {"recursion_limit": 4}):
            items.append(item)
    assert items == [{"tick": {"n": k}} for k in range(1, 5)]
    assert calls[0] == 4


def test_recursion_error_is_a_recursion_error():
    assert issubclass(GraphRecursionError, RecursionError)
