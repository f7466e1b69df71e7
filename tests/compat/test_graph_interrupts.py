"""Checkpoints and interrupts, compared with langgraph: interrupt() ends the stream with
an __interrupt__ item, Command(resume=...) re-runs the node, the thread's history and the
checkpoints mode (ids, timestamps and interrupt ids normalized)."""

from __future__ import annotations

import operator
import re
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph")

from ..conftest import run_async
from .graph_sides import LG, ST


class State(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def asking(ns: Any, questions: int = 1, checkpointer: bool = True) -> tuple[Any, list[str]]:
    calls: list[str] = []

    def ask(state: State) -> dict:
        calls.append("ask")
        answers = [ns.interrupt({"question": i, "x": state["x"]}) for i in range(questions)]
        return {"log": [f"answers={answers}"]}

    g = ns.StateGraph(State)
    g.add_node("pre", lambda s: {"log": ["pre"]})
    g.add_node("ask", ask)
    g.add_node("post", lambda s: {"log": ["post"]})
    g.add_edge(ns.START, "pre")
    g.add_edge("pre", "ask")
    g.add_edge("ask", "post")
    return g.compile(checkpointer=ns.InMemorySaver() if checkpointer else None), calls


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def norm(value: Any) -> str:
    text = re.sub(UUID, "ID", repr(value))
    text = re.sub(r"id='[0-9a-f]{32}'|'id': '[0-9a-f]{32}'", "IID", text)
    return re.sub(r"'20\d\d-[0-9T:.+-]+'", "TS", text)


def consume(app: Any, input: Any, config: dict, kwargs: dict, use_async: bool) -> list[Any]:
    if not use_async:
        return list(app.stream(input, config, **kwargs))

    async def collect() -> list[Any]:
        return [item async for item in app.astream(input, config, **kwargs)]

    return run_async(collect())


MODES = [
    {"stream_mode": ["updates", "values"]},
    {"stream_mode": "checkpoints"},
    {"stream_mode": ["debug"]},
    {"stream_mode": ["tasks", "updates"]},
]


@pytest.mark.parametrize("kwargs", MODES, ids=["updates+values", "checkpoints", "debug", "tasks"])
@pytest.mark.parametrize("use_async", [False, True], ids=["stream", "astream"])
@pytest.mark.parametrize("questions", [1, 2])
def test_interrupt_and_resume_match_langgraph(kwargs, use_async, questions):
    results = []
    for ns in (ST, LG):
        app, calls = asking(ns, questions)
        config = {"configurable": {"thread_id": "t"}}
        runs = [consume(app, {"x": 1}, config, kwargs, use_async)]
        for answer in range(questions):
            runs.append(consume(app, ns.Command(resume=f"a{answer}"), config, kwargs, use_async))
        results.append((norm(runs), len(calls)))
    assert results[0] == results[1]


def test_state_and_history_match_langgraph():
    def story(ns: Any) -> list[str]:
        app, _ = asking(ns)
        config = {"configurable": {"thread_id": "t"}}
        seen = [norm(app.invoke({"x": 1}, config)), norm(app.get_state(config))]
        app.invoke(ns.Command(resume="yes"), config)
        seen.append(norm(app.get_state(config)))
        seen.append(norm([(h.values, h.next, h.metadata) for h in app.get_state_history(config)]))
        seen.append(norm(app.invoke({"x": 5}, config)))  # the thread goes on from its state
        return seen

    assert story(ST) == story(LG)


def test_interrupt_without_checkpointer_ends_the_stream_like_langgraph():
    ours = list(asking(ST, checkpointer=False)[0].stream({"x": 1}))
    theirs = list(asking(LG, checkpointer=False)[0].stream({"x": 1}))
    assert norm(ours) == norm(theirs)


def test_a_checkpointer_needs_a_thread_and_resume_needs_an_interrupted_one():
    app, _ = asking(ST)
    with pytest.raises(ValueError, match="thread_id"):
        app.invoke({"x": 1})
    with pytest.raises(ValueError, match="interrupted thread"):
        app.invoke(ST.Command(resume="x"), {"configurable": {"thread_id": "new"}})


class Out(TypedDict):
    out: Annotated[list, operator.add]


def beside_a_sibling(ns: Any) -> Any:
    def ask(state: Out) -> dict:
        return {"out": [f"ask={ns.interrupt('q')}"]}

    g = ns.StateGraph(Out)
    g.add_node("ask", ask)
    g.add_node("other", lambda s: {"out": ["other"]})
    g.add_node("final", lambda s: {"out": ["final"]})
    g.add_edge(ns.START, "ask")
    g.add_edge(ns.START, "other")
    g.add_edge(["ask", "other"], "final")
    return g.compile(checkpointer=ns.InMemorySaver())


def test_interrupt_beside_a_finished_sibling_matches_langgraph():
    def story(ns: Any) -> list[str]:
        app = beside_a_sibling(ns)
        config = {"configurable": {"thread_id": "t"}}
        paused = app.invoke({"out": []}, config)
        state = app.get_state(config)
        seen = [norm(paused), norm((state.values, state.next, [t.name for t in state.tasks]))]
        seen.append(norm(app.invoke(ns.Command(resume="yes"), config)))
        streamed = beside_a_sibling(ns).stream(
            {"out": []}, {"configurable": {"thread_id": "s"}}, stream_mode="values"
        )
        seen.append(norm(list(streamed)))
        return seen

    assert story(ST) == story(LG)


def test_recursion_limit_counts_like_langgraph_on_resume_and_on_new_input():
    def smallest_limit(ns: Any, resume: bool) -> int:
        for limit in range(1, 10):
            app, _ = asking(ns)
            config = {"configurable": {"thread_id": "t"}}
            app.invoke({"x": 1}, config)
            follow_up = ns.Command(resume="a") if resume else {"x": 2}
            try:
                app.invoke(follow_up, {**config, "recursion_limit": limit})
            except Exception as e:
                assert type(e).__name__ == "GraphRecursionError"
                continue
            return limit
        raise AssertionError("no limit was enough")

    for resume in (True, False):
        assert smallest_limit(ST, resume) == smallest_limit(LG, resume)
