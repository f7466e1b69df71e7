"""Graphs with LangGraph's names and stream modes: ``StateGraph``, ``START``, ``END``,
reducers via ``Annotated``, conditional edges, ``Send``, ``get_stream_writer``,
``interrupt``/``Command(resume=...)`` with ``InMemorySaver``."""

from streamtui.graph.builder import END, START, Send, StateGraph
from streamtui.graph.channels import add_messages
from streamtui.graph.checkpoint import (
    Command,
    InMemorySaver,
    Interrupt,
    PregelTask,
    StateSnapshot,
    interrupt,
)
from streamtui.graph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError
from streamtui.graph.pregel import STREAM_MODES, CompiledStateGraph, get_stream_writer

__all__ = [
    "END",
    "START",
    "STREAM_MODES",
    "Command",
    "CompiledStateGraph",
    "EmptyInputError",
    "GraphRecursionError",
    "InMemorySaver",
    "Interrupt",
    "InvalidUpdateError",
    "PregelTask",
    "Send",
    "StateGraph",
    "StateSnapshot",
    "add_messages",
    "get_stream_writer",
    "interrupt",
]
