"""get_graph(): the same nodes and edges as langgraph lists for the same graph."""

from __future__ import annotations

from typing import Literal, TypedDict

import pytest

pytest.importorskip("langgraph")

import langgraph.graph as lg_graph

import streamtui.graph as st_graph


class State(TypedDict):
    x: int


def build(ns):
    def route(state: State) -> Literal["b", "__end__"]:
        return ns.END

    g = ns.StateGraph(State)
    for name in "abcde":
        g.add_node(name, lambda s: {})
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", route)
    g.add_conditional_edges("b", lambda s: "go", {"go": "c", "stop": ns.END})
    g.add_edge(["c", "b"], "d")
    g.add_conditional_edges("d", lambda s: "a")  # targets unknown: drawn as ending
    g.add_conditional_edges("e", lambda s: "a", ["a", "b"])
    g.add_edge(ns.START, "e")
    return g.compile().get_graph()


def test_nodes_and_edges_match_langgraph():
    ours, theirs = build(st_graph), build(lg_graph)
    assert list(ours.nodes) == list(theirs.nodes)
    assert [tuple(e) for e in ours.edges] == [
        (e.source, e.target, e.data, e.conditional) for e in theirs.edges
    ]


def test_draw_ascii_lists_every_node_with_its_ways_out():
    drawing = build(st_graph).draw_ascii()
    assert drawing.splitlines()[:3] == ["__start__", "  ├--> a", "  └--> e"]
    assert "  ├..> __end__ [stop]" in drawing
    assert drawing.splitlines()[-1] == "__end__"
