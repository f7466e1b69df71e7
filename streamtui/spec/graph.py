"""A declared graph (``state:``, ``nodes:``, ``edges:``) -> a compiled ``StateGraph``.

The topology is checked before compiling, so a typo in an edge, a node nothing leads
to, or a loop with no way out is reported at its line instead of hanging a run.
"""

from __future__ import annotations

import operator
import re
import typing
from collections.abc import Hashable
from typing import Annotated, Any

from streamtui.runtime.base import Runnable
from streamtui.spec.build import Builder
from streamtui.spec.errors import did_you_mean, quote_list
from streamtui.spec.expr import ExpressionProblem, SafeExpression
from streamtui.spec.model import (
    IMPORT_PATTERN,
    ConditionalEdge,
    NodeSpec,
    SimpleEdge,
    SpecFile,
    StateFieldSpec,
)
from streamtui.spec.yamlpos import Loc

__all__ = ["build_graph"]

_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "messages": list,
    "any": Any,
}


def append(left: Any, right: Any) -> list[Any]:
    """The ``append`` reducer: a list extends the key's list, anything else is one item."""
    base = list(left) if left is not None else []
    return base + (list(right) if isinstance(right, (list, tuple)) else [right])


class RouteError(LookupError):
    """A route returned a value its ``then:`` does not map."""


class ChainNode(Runnable[Any, Any]):
    """A node that runs a chain on the state and writes its output to one key (or
    returns the chain's dict as the update)."""

    def __init__(self, name: str, chain: Any, output: str | None) -> None:
        self.name = name
        self.chain = chain
        self.output = output

    def _update(self, result: Any) -> Any:
        if self.output is not None:
            return {self.output: result}
        if result is None or isinstance(result, dict):
            return result
        raise TypeError(
            f"node {self.name!r}: its steps returned {type(result).__name__}, not a dict of "
            "state updates; add `output: KEY` to the node to write the result to a state key"
        )

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._update(self.chain.invoke(input, config))

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._update(await self.chain.ainvoke(input, config))


def build_graph(spec: SpecFile, builder: Builder, name: str) -> tuple[Any, dict[str, Any]]:
    """The compiled graph and the state defaults (merged into the default input)."""
    from streamtui.graph import START, StateGraph

    doc = builder.doc
    for key in ("state", "nodes", "edges"):
        if getattr(spec, key) is None:
            present = next(k for k in ("state", "nodes", "edges") if getattr(spec, k) is not None)
            raise doc.error(
                (present,),
                f"a declared graph needs state:, nodes: and edges:; this file has no {key}:",
                at_key=True,
            )
    assert spec.state is not None and spec.nodes is not None and spec.edges is not None
    state_keys = [str(k) for k in spec.state]
    schema, defaults = _state_schema(spec.state, builder)
    graph = StateGraph(schema)
    if not spec.nodes:
        raise doc.error(("nodes",), "a graph needs at least one node")
    for node_name, node in spec.nodes.items():
        _add_node(graph, str(node_name), node, ("nodes", node_name), builder, state_keys)
    nodes = [str(n) for n in spec.nodes]
    out: dict[str, set[str]] = {n: set() for n in [START, *nodes]}
    entry = False
    for i, edge in enumerate(spec.edges):
        loc = ("edges", i)
        if isinstance(edge, ConditionalEdge):
            source = _endpoint(edge.from_, (*loc, "from"), builder, nodes, start=True)
            targets = _add_route(graph, source, edge, loc, builder, nodes, state_keys)
        else:
            first, second = (
                ((*loc, "from"), (*loc, "to"))
                if isinstance(edge, SimpleEdge)
                else ((*loc, 0), (*loc, 1))
            )
            a, b = (edge.from_, edge.to) if isinstance(edge, SimpleEdge) else edge
            source = _endpoint(a, first, builder, nodes, start=True)
            target = _endpoint(b, second, builder, nodes, start=False)
            graph.add_edge(source, target)
            targets = {target}
        out[source] |= targets
        entry = entry or source == START
    if not entry:
        first = nodes[0]
        raise doc.error(
            ("edges",),
            f"no edge from START: add [START, {first}] to say where the graph begins",
            at_key=True,
        )
    _check_topology(out, nodes, builder)
    try:
        return graph.compile(name=name), defaults
    except ValueError as e:
        raise doc.error(("edges",), str(e), at_key=True) from None


# --- state ------------------------------------------------------------------------------


def _state_schema(state: dict[str, Any], builder: Builder) -> tuple[type, dict[str, Any]]:
    """A TypedDict whose fields carry the reducers (``Annotated``), and the defaults."""
    from streamtui.graph import add_messages

    reducers = {"append": append, "add": operator.add, "add_messages": add_messages}
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for key, field in state.items():
        loc: Loc = ("state", key)
        spec = field if isinstance(field, StateFieldSpec) else StateFieldSpec(type=field)
        reducer = spec.reducer
        type_name = spec.type
        if type_name is None:
            type_name = "list" if reducer in ("append", "add_messages") else "any"
        if reducer is None and type_name == "messages":
            reducer = "add_messages"  # as LangGraph's MessagesState
        if reducer in ("append", "add_messages") and type_name not in ("list", "messages", "any"):
            raise builder.error(
                (*loc, "reducer"),
                f"reducer {reducer} works on lists, but '{key}' is {type_name}: "
                "set type: list (or drop the reducer)",
            )
        base = list if reducer in ("append", "add_messages") else _TYPES[type_name]
        fields[str(key)] = (
            Annotated[base, reducers[reducer]] if reducer in reducers else base  # type: ignore[valid-type]
        )
        if "default" in spec.model_fields_set:
            _check_default(spec.default, type_name, (*loc, "default"), builder, str(key))
            defaults[str(key)] = spec.default
    return typing.TypedDict("State", fields), defaults  # type: ignore[operator]


def _check_default(value: Any, type_name: str, loc: Loc, builder: Builder, key: str) -> None:
    expected = _TYPES[type_name]
    if expected is Any or value is None:
        return
    ok = isinstance(value, expected) and not (isinstance(value, bool) and expected in (int, float))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise builder.error(loc, f"the default of '{key}' must be {type_name}, got {value!r}")


# --- nodes and edges ----------------------------------------------------------------


def _add_node(
    graph: Any, name: str, node: NodeSpec, loc: Loc, builder: Builder, state_keys: list[str]
) -> None:
    from streamtui.graph import END, START

    if name in (START, END, "START", "END"):
        raise builder.error(loc, f"'{name}' is reserved; name the node something else", at_key=True)
    given = [k for k in ("steps", "call") if getattr(node, k) is not None]
    if len(given) != 1:
        if given:
            raise builder.error((*loc, "call"), "a node has steps: or call:, not both", at_key=True)
        raise builder.error(
            loc,
            f"node '{name}' needs steps: (a chain) or call: package.module:function",
            at_key=True,
        )
    if node.call is not None:
        if node.output is not None:
            raise builder.error(
                (*loc, "output"),
                "output: is for steps: nodes; a call: function returns its update",
                at_key=True,
            )
        action = builder.import_(node.call, (*loc, "call"))
        if isinstance(action, type) or not callable(action):
            raise builder.error(
                (*loc, "call"), f"{node.call} is a {type(action).__name__}, not a function"
            )
    else:
        assert node.steps is not None
        if node.output is not None and node.output not in state_keys:
            raise builder.error(
                (*loc, "output"),
                f"output '{node.output}' is not a state key{did_you_mean(node.output, state_keys)}",
            )
        action = ChainNode(name, builder.chain(node.steps, (*loc, "steps")), node.output)
    graph.add_node(name, action)


def _endpoint(value: str, loc: Loc, builder: Builder, nodes: list[str], *, start: bool) -> str:
    """A node name from an edge, with START / END spelled as such."""
    from streamtui.graph import END, START

    if value in ("START", START):
        if not start:
            raise builder.error(loc, "START cannot be the end of an edge")
        return START
    if value in ("END", END):
        if start:
            raise builder.error(loc, "END cannot be the start of an edge")
        return END
    if value not in nodes:
        choices = [*nodes, "START" if start else "END"]
        raise builder.error(
            loc,
            f"unknown node '{value}' in an edge{did_you_mean(value, choices)} "
            f"(nodes: {', '.join(nodes)})",
        )
    return value


def _add_route(
    graph: Any,
    source: str,
    edge: ConditionalEdge,
    loc: Loc,
    builder: Builder,
    nodes: list[str],
    state_keys: list[str],
) -> set[str]:
    """Add the conditional edge; the set of places it may lead to."""
    from streamtui.graph import END

    route_loc = (*loc, "route")
    where = f"{builder.doc.path}:{builder.doc.line_of(route_loc)}"
    if re.fullmatch(IMPORT_PATTERN, edge.route.strip()):
        fn = builder.import_(edge.route.strip(), route_loc)
        if not callable(fn):
            raise builder.error(route_loc, f"{edge.route} is a {type(fn).__name__}, not a function")
    else:
        try:
            fn = SafeExpression(edge.route, where=where, state_keys=state_keys)
        except ExpressionProblem as e:
            raise builder.error(route_loc, e.message, offset=e.offset) from None
    if edge.then is None:
        graph.add_conditional_edges(source, _unmapped(fn, edge.route, where))
        return {*nodes, END}
    if not edge.then:
        raise builder.error((*loc, "then"), "then: maps route values to nodes; it is empty")
    path_map: dict[Hashable, str] = {}
    for value, target in edge.then.items():
        path_map[value] = _endpoint(target, (*loc, "then", value), builder, nodes, start=False)
    graph.add_conditional_edges(source, _mapped(fn, edge.route, where, path_map), path_map)
    return set(path_map.values())


def _mapped(fn: Any, text: str, where: str, path_map: dict[Hashable, str]) -> Any:
    def route(state: Any) -> Any:
        value = fn(state)
        try:
            known = value in path_map
        except TypeError:
            known = False
        if not known:
            keys = quote_list((_yaml_text(k) for k in path_map), "and")
            raise RouteError(
                f"{where}: route {text.strip()!r} returned {value!r}, which then: does not "
                f"map (it maps {keys})"
            )
        return value

    route.__name__ = getattr(fn, "__name__", "route")
    return route


def _unmapped(fn: Any, text: str, where: str) -> Any:
    from streamtui.graph import END

    def route(state: Any) -> Any:
        value = fn(state)
        if isinstance(value, list):
            return [END if v == "END" else v for v in value]
        return END if value == "END" else value

    route.__name__ = getattr(fn, "__name__", "route")
    return route


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_topology(out: dict[str, set[str]], nodes: list[str], builder: Builder) -> None:
    """Every node reached from START, every reached node able to reach END."""
    from streamtui.graph import END, START

    reached = _closure(START, out)
    for name in nodes:
        if name not in reached:
            raise builder.error(
                ("nodes", name),
                f"node '{name}' is never reached: no edge leads to it from START "
                f"(add an edge like [some_node, {name}], or remove it)",
                at_key=True,
            )
    for name in nodes:
        if not out[name]:
            raise builder.error(
                ("nodes", name),
                f"node '{name}' has no outgoing edge: add [{name}, END] or an edge to the "
                "next node",
                at_key=True,
            )
    into: dict[str, set[str]] = {}
    for source, targets in out.items():
        for target in targets:
            into.setdefault(target, set()).add(source)
    ends = _closure(END, into)
    stuck = [n for n in nodes if n not in ends]
    if stuck:
        raise builder.error(
            ("nodes", stuck[0]),
            f"{'nodes' if len(stuck) > 1 else 'node'} {quote_list(stuck, 'and')} never "
            "reach END (a loop with no way out): add an edge or a route value to END",
            at_key=True,
        )


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
