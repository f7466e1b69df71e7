"""``StateGraph``: declare nodes and edges, then ``compile()`` into a runnable graph."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from streamtui.graph.channels import state_fields

__all__ = ["END", "START", "Send", "StateGraph"]

START = "__start__"
END = "__end__"


class Send:
    """From a conditional edge: run ``node`` in the next step with ``arg`` as its input
    (instead of the state). Several ``Send`` s to one node fan out into parallel tasks."""

    __slots__ = ("arg", "node")

    def __init__(self, node: str, arg: Any) -> None:
        self.node = node
        self.arg = arg

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Send) and (self.node, self.arg) == (other.node, other.arg)

    __hash__ = None  # type: ignore[assignment]


class Branch:
    """A conditional edge: ``path(state)`` names where to go next."""

    __slots__ = ("path", "path_map")

    def __init__(self, path: Callable[..., Any], path_map: dict[Hashable, str] | None) -> None:
        self.path = path
        self.path_map = path_map


class StateGraph:
    """A graph over a state schema whose fields may carry reducers (``Annotated``)."""

    def __init__(self, state_schema: Any) -> None:
        self.state_schema = state_schema
        self.fields = state_fields(state_schema)
        self.nodes: dict[str, Any] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, list[Branch]] = {}

    def add_node(self, node: Any, action: Any = None) -> StateGraph:
        """``add_node("name", fn)`` or ``add_node(fn)`` (named after the function)."""
        if action is None:
            action, node = node, _name_of(node)
        if not isinstance(node, str):
            raise TypeError(f"a node name is a string, not {node!r}")
        if node in (START, END):
            raise ValueError(f"{node!r} is reserved; name the node something else")
        if node in self.nodes:
            raise ValueError(f"a node named {node!r} already exists")
        self.nodes[node] = action
        return self

    def add_edge(self, start_key: str | Sequence[str], end_key: str) -> StateGraph:
        """After ``start_key`` runs, run ``end_key``; with a list of starts, wait for all."""
        if isinstance(start_key, str):
            if start_key == END:
                raise ValueError("END cannot be the start of an edge")
            self.edges.add((start_key, end_key))
        else:
            self.waiting_edges.add((tuple(start_key), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | Sequence[str] | None = None,
    ) -> StateGraph:
        """After ``source`` runs, ``path(state)`` returns the next node name(s), ``END``,
        or ``Send`` s; ``path_map`` translates its return values into node names."""
        if path_map is not None and not isinstance(path_map, dict):
            path_map = {name: name for name in path_map}
        self.branches.setdefault(source, []).append(Branch(path, path_map))
        return self

    def add_sequence(self, nodes: Sequence[Any]) -> StateGraph:
        """Add nodes (functions or ``(name, fn)`` pairs) chained one after another."""
        previous: str | None = None
        for item in nodes:
            name, action = item if isinstance(item, tuple) else (_name_of(item), item)
            self.add_node(name, action)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def set_entry_point(self, key: str) -> StateGraph:
        return self.add_edge(START, key)

    def set_finish_point(self, key: str) -> StateGraph:
        return self.add_edge(key, END)

    def compile(
        self,
        checkpointer: Any = None,
        *,
        name: str | None = None,
        interrupt_before: Sequence[str] | None = None,
        interrupt_after: Sequence[str] | None = None,
    ) -> Any:
        """Check the graph and return a runnable ``CompiledStateGraph``; with a
        ``checkpointer`` (``InMemorySaver()``) it keeps each thread's state."""
        from streamtui.graph.pregel import CompiledStateGraph

        if interrupt_before or interrupt_after:
            raise NotImplementedError(
                "interrupt_before/interrupt_after breakpoints are not supported yet; "
                "call interrupt() inside the node instead"
            )
        self._validate()
        return CompiledStateGraph(
            self._frozen(), name=name or "LangGraph", checkpointer=checkpointer
        )

    def _frozen(self) -> StateGraph:
        """A copy for the compiled graph: later add_node/add_edge calls do not change it."""
        copy = StateGraph.__new__(StateGraph)
        copy.state_schema = self.state_schema
        copy.fields = dict(self.fields)
        copy.nodes = dict(self.nodes)
        copy.edges = set(self.edges)
        copy.waiting_edges = set(self.waiting_edges)
        copy.branches = {source: list(b) for source, b in self.branches.items()}
        return copy

    def _validate(self) -> None:
        known = set(self.nodes) | {START, END}
        sources = {s for s, _ in self.edges} | set(self.branches)
        sources |= {s for starts, _ in self.waiting_edges for s in starts}
        for source in sources:
            if source not in known:
                raise ValueError(f"an edge starts at {source!r}, which is not a node")
        targets = {t for _, t in self.edges} | {t for _, t in self.waiting_edges}
        for target in targets:
            if target not in known:
                raise ValueError(f"an edge goes to {target!r}, which is not a node")
        for source, branches in self.branches.items():
            for branch in branches:
                for target in (branch.path_map or {}).values():
                    if target not in known:
                        raise ValueError(
                            f"a conditional edge from {source!r} maps to {target!r}, "
                            "which is not a node"
                        )
        if not any(s == START for s, _ in self.edges) and START not in self.branches:
            raise ValueError(
                "the graph has no entry point: add an edge from START, "
                "e.g. graph.add_edge(START, 'first_node')"
            )


def _name_of(action: Any) -> str:
    name = getattr(action, "name", None) or getattr(action, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>" or not name:
        raise ValueError(f"give the node a name: add_node('name', {action!r})")
    return name


def accepts_positional(fn: Callable[..., Any], count: int) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= count or any(p.kind is p.VAR_POSITIONAL for p in params)
