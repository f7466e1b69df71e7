"""How a graph run starts, stops and shares nothing: early exits, cancellation, limits,
nesting, checkpoint isolation, several interrupts, options we do not support."""

from __future__ import annotations

import asyncio
import itertools
import operator
import threading
import time
from typing import Annotated, Any, TypedDict

import pytest

from streamtui.graph import (
    END,
    START,
    Command,
    InMemorySaver,
    Send,
    StateGraph,
    get_stream_writer,
    interrupt,
)

from .conftest import run_async


class State(TypedDict):
    x: int
    items: list


def chain_of(names: str, ran: list[str]) -> Any:
    g = StateGraph(State)
    for name in names:
        g.add_node(name, lambda s, n=name: ran.append(n) or {"x": s["x"] + 1})
    g.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    return g.compile()


def test_leaving_a_sync_stream_early_runs_nothing_more():
    ran: list[str] = []
    for _ in chain_of("abcd", ran).stream({"x": 0, "items": []}):
        break
    assert ran == ["a"]  # nothing ran ahead of the consumer


def test_closing_an_async_stream_cancels_the_running_node():
    seen: list[str] = []

    async def slow(state: State) -> dict:
        get_stream_writer()("slow started")
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return {"x": 1}

    async def fast(state: State) -> dict:
        return {"x": 1}

    g = StateGraph(State)
    g.add_node("fast", fast)
    g.add_node("slow", slow)
    g.add_edge(START, "fast")
    g.add_edge("fast", "slow")
    app = g.compile()

    async def main() -> None:
        stream = app.astream({"x": 0, "items": []}, stream_mode="custom")
        async for item in stream:
            assert item == "slow started"  # slow is now running
            break
        await stream.aclose()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(app.ainvoke({"x": 0, "items": []}), 0.3)

    run_async(main())
    assert seen == ["cancelled", "cancelled"]


def test_max_concurrency_caps_parallel_tasks():
    lock = threading.Lock()
    running = [0, 0]  # now, peak

    def work(task: dict) -> dict:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return {}

    g = StateGraph(State)
    g.add_node("fan", lambda s: {})
    g.add_node("work", work)
    g.add_edge(START, "fan")
    g.add_conditional_edges("fan", lambda s: [Send("work", {"i": i}) for i in range(6)])
    app = g.compile()
    app.invoke({"x": 0, "items": []}, {"max_concurrency": 2})
    assert running[1] == 2


def test_sync_subgraphs_called_from_parallel_sync_nodes_do_not_deadlock():
    child = StateGraph(State)
    child.add_node("c1", lambda s: {"items": ["c1"]})
    child.add_node("c2", lambda s: {"x": 1})
    child.add_edge(START, "c1")
    child.add_edge(START, "c2")
    child_app = child.compile()
    results: list[int] = []
    parent = StateGraph(State)
    parent.add_node("fan", lambda s: {})
    parent.add_node(
        "call", lambda task: results.append(child_app.invoke({"x": 0, "items": []})["x"])
    )
    parent.add_edge(START, "fan")
    parent.add_conditional_edges("fan", lambda s: [Send("call", i) for i in range(40)])
    app = parent.compile()
    done: list[Any] = []
    worker = threading.Thread(target=lambda: done.append(app.invoke({"x": 0, "items": []})))
    worker.start()
    worker.join(30)
    assert done and results == [1] * 40


def test_system_exit_in_a_node_reaches_the_caller_as_itself():
    def leave(state: State) -> dict:
        raise SystemExit(3)

    g = StateGraph(State)
    g.add_node("leave", leave)
    g.add_edge(START, "leave")
    with pytest.raises(SystemExit):
        g.compile().invoke({"x": 0, "items": []})


def test_checkpoints_do_not_share_objects_with_the_caller():
    g = StateGraph(State)
    g.add_node("add", lambda s: {"items": [*s["items"], "y"]})
    g.add_edge(START, "add")
    app = g.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    app.invoke({"x": 0, "items": ["x"]}, config)
    app.get_state(config).values["items"].append("CALLER")
    for item in app.stream({"x": 1}, config, stream_mode="checkpoints"):
        item["values"].get("items", []).append("CALLER")
    assert app.get_state(config).values["items"] == ["x", "y", "y"]


class Answers(TypedDict):
    items: Annotated[list, operator.add]


def two_questions() -> Any:
    def ask(state: Answers, name: str) -> dict:
        return {"items": [f"{name}={interrupt(name + '?')}"]}

    g = StateGraph(Answers)
    g.add_node("a", lambda s: ask(s, "a"))
    g.add_node("b", lambda s: ask(s, "b"))
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge("a", END)
    return g.compile(checkpointer=InMemorySaver())


def test_several_interrupts_are_answered_by_id():
    app = two_questions()
    config = {"configurable": {"thread_id": "t"}}
    asked = app.invoke({"items": []}, config)["__interrupt__"]
    assert sorted(i.value for i in asked) == ["a?", "b?"]
    with pytest.raises(ValueError, match="answer each by its id"):
        app.invoke(Command(resume="same for all"), config)
    answers = {i.id: i.value.upper() for i in asked}
    assert sorted(app.invoke(Command(resume=answers), config)["items"]) == ["a=A?", "b=B?"]


def test_breakpoints_and_unknown_options_are_refused_not_ignored():
    ran: list[str] = []
    app = chain_of("ab", ran)
    with pytest.raises(NotImplementedError, match="interrupt_before"):
        app.invoke({"x": 0, "items": []}, interrupt_before=["b"])
    with pytest.raises(TypeError, match="unexpected argument"):
        list(app.stream({"x": 0, "items": []}, stream_mod="values"))
    g = StateGraph(State)
    g.add_node("a", lambda s: {})
    g.add_edge(START, "a")
    with pytest.raises(NotImplementedError):
        g.compile(interrupt_after=["a"])
    assert ran == []


def test_a_compiled_graph_does_not_change_with_its_builder():
    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": 1})
    g.add_edge(START, "a")
    app = g.compile()
    g.add_node("b", lambda s: {"x": 2})
    g.add_edge("a", "b")
    assert app.invoke({"x": 0, "items": []})["x"] == 1


def test_custom_items_of_a_lone_sync_node_reach_a_sync_consumer_while_it_runs():
    proceed = threading.Event()
    order: list[str] = []

    def slow(state: State) -> dict:
        order.append("writing first")
        get_stream_writer()("first")
        # Blocks until the consumer has seen "first": only possible if it arrives live.
        order.append("released" if proceed.wait(10) else "timed out")
        return {"x": 1}

    g = StateGraph(State)
    g.add_node("slow", slow)
    g.add_edge(START, "slow")
    for item in g.compile().stream({"x": 0, "items": []}, stream_mode="custom"):
        order.append(f"got {item}")
        proceed.set()
    assert order == ["writing first", "got first", "released"]
