"""Subgraphs: a compiled graph as a node, streamed with and without subgraphs=True,
compared with langgraph (namespaces normalized: the task id part is random)."""

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


def inner(ns: Any) -> Any:
    def first(state: State) -> dict:
        ns.get_stream_writer()({"inner saw": state["x"]})
        return {"x": state["x"] * 10, "log": ["i1"]}

    sub = ns.StateGraph(State)
    sub.add_node("i1", first)
    sub.add_node("i2", lambda s: {"log": ["i2"]})
    sub.add_edge(ns.START, "i1")
    sub.add_edge("i1", "i2")
    return sub.compile()


def as_node(ns: Any) -> Any:
    g = ns.StateGraph(State)
    g.add_node("pre", lambda s: {"log": ["pre"]})
    g.add_node("sub", inner(ns))
    g.add_edge(ns.START, "pre")
    g.add_edge("pre", "sub")
    return g.compile()


def called_by_a_node(ns: Any) -> Any:
    sub = inner(ns)

    def call(state: State) -> dict:
        out = sub.invoke({"x": state["x"]})
        return {"x": out["x"], "log": ["called"]}

    g = ns.StateGraph(State)
    g.add_node("call", call)
    g.add_edge(ns.START, "call")
    return g.compile()


def _norm(items: list[Any]) -> str:
    return re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", repr(items)
    )


def _stream(app: Any, kwargs: dict[str, Any], use_async: bool) -> list[Any]:
    if not use_async:
        return list(app.stream({"x": 1}, **kwargs))

    async def collect() -> list[Any]:
        return [item async for item in app.astream({"x": 1}, **kwargs)]

    return run_async(collect())


CASES = [
    {"stream_mode": ["updates", "custom"]},
    {"stream_mode": "updates", "subgraphs": True},
    {"stream_mode": ["values", "custom"], "subgraphs": True},
    {"stream_mode": ["updates", "tasks"], "subgraphs": True},
    {"stream_mode": ["updates"], "subgraphs": True, "version": "v2"},
]


@pytest.mark.parametrize("build", [as_node, called_by_a_node], ids=["as-node", "called"])
@pytest.mark.parametrize("kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("use_async", [False, True], ids=["stream", "astream"])
def test_subgraph_items_match_langgraph(build: Any, kwargs: dict[str, Any], use_async: bool):
    ours = _stream(build(ST), kwargs, use_async)
    theirs = _stream(build(LG), kwargs, use_async)
    assert _norm(ours) == _norm(theirs)


@pytest.mark.parametrize("build", [as_node, called_by_a_node], ids=["as-node", "called"])
def test_subgraph_final_state_matches_langgraph(build: Any):
    assert build(ST).invoke({"x": 1}) == build(LG).invoke({"x": 1})
