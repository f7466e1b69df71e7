"""A declared graph (``state:``, ``nodes:``, ``edges:``): reducers, call and chain nodes,
routes by safe expression or import path, and what goes wrong at run time."""

from __future__ import annotations

import typing

import pytest

from streamtui import AIMessage
from streamtui.graph import CompiledStateGraph
from streamtui.spec import SpecError
from streamtui.spec.expr import ExpressionError

NODES = """
def bump(state):
    return {"count": state["count"] + 1, "log": f"bump {state['count'] + 1}"}

def finish(state):
    return {"log": ["finish", "done"]}

def route(state):
    return "bump" if state["count"] < 2 else "finish"
"""


def test_loop_with_a_route_expression_and_an_append_reducer(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        name: counter
        state:
          count: {{type: int, default: 0}}
          log: {{reducer: append}}
        nodes:
          bump: {{call: {mod}:bump}}
          finish: {{call: {mod}:finish}}
        edges:
          - [START, bump]
          - from: bump
            route: "state['count'] < 3"
            then: {{true: bump, false: finish}}
          - {{from: finish, to: END}}
        """
    )
    graph = spec.target
    assert isinstance(graph, CompiledStateGraph) and graph.name == "counter"
    assert (spec.kind, spec.input) == ("graph", {"count": 0})
    final = graph.invoke(spec.input)
    assert final == {"count": 3, "log": ["bump 1", "bump 2", "bump 3", "finish", "done"]}
    updates = [u for u in graph.stream(spec.input, stream_mode="updates")]
    assert [next(iter(u)) for u in updates] == ["bump", "bump", "bump", "finish"]


def test_the_state_schema_carries_types_and_reducers(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        state:
          count: int
          log: {{reducer: append}}
          total: {{type: int, reducer: add}}
          messages: messages
          note: {{type: str, reducer: replace}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges: [[START, bump], [bump, END]]
        """
    )
    hints = typing.get_type_hints(spec.target.builder.state_schema, include_extras=True)
    assert hints["count"] is int and hints["note"] is str
    assert typing.get_origin(hints["log"]) is typing.Annotated
    assert typing.get_args(hints["messages"])[1].__name__ == "add_messages"


def test_a_route_by_import_path_without_then_returns_node_names(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        input: {{count: 0}}
        state: {{count: int, log: {{reducer: append}}}}
        nodes:
          bump: {{call: {mod}:bump}}
          finish: {{call: {mod}:finish}}
        edges:
          - [START, bump]
          - {{from: bump, route: "{mod}:route"}}
          - [finish, END]
        """
    )
    assert spec.target.invoke(spec.input)["log"] == ["bump 1", "bump 2", "finish", "done"]


def test_an_expression_may_return_a_node_name_or_END(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        input: {{count: 0}}
        state: {{count: int, log: {{reducer: append}}}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges:
          - [START, bump]
          - {{from: bump, route: "'bump' if state.get('count', 0) < 2 else 'END'"}}
        """
    )
    assert spec.target.invoke(spec.input) == {"count": 2, "log": ["bump 1", "bump 2"]}


def test_chain_nodes_write_their_output_and_stream_their_tokens(load):
    spec = load(
        """
        input: {topic: otters}
        state:
          topic: str
          joke: str
          size: int
        nodes:
          write:
            steps:
              - prompt: "a joke about {topic}"
              - model: {responses: ["Otters hold hands."]}
              - parser: str
            output: joke
          reply:
            steps:
              - lambda: "builtins:len"
            output: size
        edges:
          - [START, write]
          - [write, reply]
          - [reply, END]
        """
    )
    final = spec.target.invoke(spec.input)
    assert final == {"topic": "otters", "joke": "Otters hold hands.", "size": 2}
    items = list(spec.target.stream(spec.input, stream_mode=["messages", "updates"]))
    tokens = "".join(item[0].content for mode, item in items if mode == "messages")
    assert tokens == "Otters hold hands."
    assert ("updates", {"write": {"joke": "Otters hold hands."}}) in items


def test_a_chain_node_without_output_returns_the_update(load, helper_module):
    mod = helper_module(
        """
        from streamtui import AIMessage

        def answer(state):
            return {"messages": [AIMessage("hi there")]}

        def text(state):
            return "not a dict"
        """
    )
    spec = load(
        f"""
        input: {{messages: [[human, hello]]}}
        state: {{messages: messages}}
        nodes:
          answer: {{steps: [{{lambda: "{mod}:answer"}}]}}
        edges: [[START, answer], [answer, END]]
        """
    )
    messages = spec.target.invoke(spec.input)["messages"]
    assert [(m.type, m.content) for m in messages] == [("human", "hello"), ("ai", "hi there")]
    assert isinstance(messages[-1], AIMessage)
    bad = load(
        f"""
        state: {{messages: messages}}
        nodes:
          answer: {{steps: [{{lambda: "{mod}:text"}}]}}
        edges: [[START, answer], [answer, END]]
        """
    )
    with pytest.raises(TypeError, match="add `output: KEY`"):
        bad.target.invoke({"messages": []})


def test_a_missing_key_at_run_time_names_the_expression_and_the_key(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        state: {{count: int, log: {{reducer: append}}, score: int}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges:
          - [START, bump]
          - from: bump
            route: "state['score'] > 2"
            then: {{true: bump, false: END}}
        """
    )
    with pytest.raises(KeyError) as caught:
        spec.target.invoke({"count": 0})
    error = caught.value
    assert isinstance(error, ExpressionError)
    text = str(error)
    assert "chain.yaml:7" in text
    assert "state['score'] > 2" in text and "has no key 'score'" in text


def test_a_route_value_then_does_not_map_is_a_clear_error(load, helper_module):
    mod = helper_module(NODES)
    spec = load(
        f"""
        state: {{count: int, log: {{reducer: append}}}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges:
          - [START, bump]
          - from: bump
            route: "state['count']"
            then: {{0: bump, 5: END}}
        """
    )
    with pytest.raises(
        LookupError, match=r"returned 1, which then: does not map \(it maps '0' and '5'\)"
    ):
        spec.target.invoke({"count": 0})


def test_state_defaults_fill_the_input_and_are_type_checked(load, helper_module):
    mod = helper_module(NODES)
    body = f"""
        input: {{count: 5}}
        state:
          count: {{type: int, default: 0}}
          log: {{reducer: append, default: [start]}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges: [[START, bump], [bump, END]]
        """
    spec = load(body)
    assert spec.input == {"count": 5, "log": ["start"]}
    assert spec.target.invoke(spec.input) == {"count": 6, "log": ["start", "bump 6"]}
    with pytest.raises(SpecError, match="the default of 'count' must be int, got 'zero'"):
        load(body.replace("default: 0", "default: zero"))


@pytest.mark.parametrize(
    ("edges", "words"),
    [
        ("[[START, a], [a, START]]", "START cannot be the end"),
        ("[[START, a], [a, END], {from: a, route: 'state[0]', then: {}}]", "it is empty"),
        (
            "[[START, a], [a, END], {from: a, route: 'no_such_mod_q:f'}]",
            "no module named 'no_such_mod_q'",
        ),
        ("[[START, a], [a, END], [a, b, c]]", "names exactly two nodes"),
    ],
)
def test_edge_mistakes(load, helper_module, edges, words):
    mod = helper_module(NODES)
    with pytest.raises(SpecError) as caught:
        load(f"state: {{count: int}}\nnodes:\n  a: {{call: {mod}:bump}}\nedges: {edges}\n")
    assert words in caught.value.message


LINEAR = "edges: [[START, a], [a, END]]\n"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("state: {x: int}\nnodes: {}\nedges: []\n", "at least one node"),
        ("state: {x: int}\nnodes:\n  a: {}\n" + LINEAR, "needs steps: (a chain) or call:"),
        ("nodes:\n  a: {call: m:f}\nedges: [[START, a]]\n", "this file has no state:"),
        ("state: {x: int}\nnodes:\n  END: {call: m:f}\nedges: []\n", "reserved"),
        (
            "state: {x: int}\ninput: [1]\nnodes:\n  a: {call: builtins:len}\n" + LINEAR,
            "mapping of state keys",
        ),
        (
            "state: {x: int}\nnodes:\n  a: {call: builtins:len, output: x}\n" + LINEAR,
            "output: is for steps: nodes",
        ),
        (
            "state: {x: int}\nnodes:\n  a: {call: builtins:len, steps: [parser: str]}\n" + LINEAR,
            "not both",
        ),
        ("state: {x: int}\nnodes:\n  a: {call: builtins:None}\n" + LINEAR, "not a function"),
    ],
)
def test_node_and_state_mistakes(load, body, words):
    with pytest.raises(SpecError) as caught:
        load(body)
    assert words in caught.value.message


def test_a_conditional_edge_without_then_may_go_anywhere_so_no_dead_loop_is_claimed(
    load, helper_module
):
    mod = helper_module(NODES)
    spec = load(
        f"""
        state: {{count: int, log: {{reducer: append}}}}
        nodes:
          bump: {{call: {mod}:bump}}
        edges:
          - {{from: START, route: "'bump'"}}
          - {{from: bump, route: "'END' if state['count'] > 0 else 'bump'"}}
        """
    )
    assert spec.target.invoke({"count": 0})["count"] == 1
