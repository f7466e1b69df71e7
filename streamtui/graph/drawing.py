"""A compiled graph's topology: nodes and edges (as LangGraph's ``get_graph()`` lists
them) for the TUI's topology view, and a plain-text drawing."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, NamedTuple

from streamtui.graph.builder import END, START

if TYPE_CHECKING:
    from streamtui.graph.builder import Branch, StateGraph

__all__ = ["DrawableGraph", "Edge", "topology"]


class Edge(NamedTuple):
    source: str
    target: str
    data: Any = None  # the path_map key a conditional edge is taken for
    conditional: bool = False


class DrawableGraph:
    """Nodes (``__start__`` first, ``__end__`` last when reachable) and sorted edges."""

    def __init__(self, nodes: list[str], edges: list[Edge]) -> None:
        self.nodes: dict[str, str] = {name: name for name in nodes}
        self.edges = edges

    def draw_ascii(self) -> str:
        """One line per node with its ways out; ``-->`` always, ``..>`` conditionally."""
        lines: list[str] = []
        for node in self.nodes:
            outs = [e for e in self.edges if e.source == node]
            lines.append(node)
            for i, edge in enumerate(outs):
                branch = "└" if i == len(outs) - 1 else "├"
                arrow = "..>" if edge.conditional else "-->"
                label = f" [{edge.data}]" if edge.data is not None else ""
                lines.append(f"  {branch}{arrow} {edge.target}{label}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"DrawableGraph(nodes={list(self.nodes)}, edges={self.edges})"


def topology(builder: StateGraph) -> DrawableGraph:
    edges: set[Edge] = {Edge(s, t) for s, t in builder.edges}
    edges |= {Edge(s, t) for starts, t in builder.waiting_edges for s in starts}
    for source, branches in builder.branches.items():
        for branch in branches:
            edges |= {Edge(source, t, d, True) for t, d in _branch_targets(branch)}
    ordered = sorted(edges, key=lambda e: (e.source, e.target))
    sources = {e.source for e in ordered}
    # Nowhere known to go: the graph ends there (listed after the others, as LangGraph does).
    ordered += [Edge(node, END) for node in builder.nodes if node not in sources]
    nodes = [START, *builder.nodes]
    if any(e.target == END for e in ordered):
        nodes.append(END)
    return DrawableGraph(nodes, ordered)


def _branch_targets(branch: Branch) -> list[tuple[str, Any]]:
    if branch.path_map is not None:
        return [(t, k if k != t else None) for k, t in branch.path_map.items()]
    try:
        hint = typing.get_type_hints(branch.path).get("return")
    except Exception:
        return []
    if typing.get_origin(hint) is typing.Literal:
        return [(str(t), None) for t in typing.get_args(hint)]
    return []
