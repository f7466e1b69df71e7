"""Graphs with LangGraph's names and stream modes: ``StateGraph``, ``START``, ``END``,
reducers via ``Annotated``, conditional edges, ``Send``, ``get_stream_writer``."""

from streamtui.graph.builder import END, START, Send, StateGraph
from streamtui.graph.channels import add_messages
from streamtui.graph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError
from streamtui.graph.pregel import STREAM_MODES, CompiledStateGraph, get_stream_writer

__all__ = [
    "END",
    "START",
    "STREAM_MODES",
    "CompiledStateGraph",
    "EmptyInputError",
    "GraphRecursionError",
    "InvalidUpdateError",
    "Send",
    "StateGraph",
    "add_messages",
    "get_stream_writer",
]
