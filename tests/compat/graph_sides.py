"""The same graph names from langgraph (LG) and streamtui (ST), for differential tests:
a graph is written once as ``build(ns)`` and built with each."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["LG", "ST"]


def _lg_namespace() -> SimpleNamespace:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_core.runnables import RunnableLambda
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.config import get_stream_writer
    from langgraph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError
    from langgraph.graph import END, START, StateGraph
    from langgraph.graph.message import add_messages
    from langgraph.types import Command, Send, interrupt

    return SimpleNamespace(
        side="langgraph",
        interrupt=interrupt,
        Command=Command,
        InMemorySaver=InMemorySaver,
        StateGraph=StateGraph,
        START=START,
        END=END,
        Send=Send,
        get_stream_writer=get_stream_writer,
        add_messages=add_messages,
        InvalidUpdateError=InvalidUpdateError,
        GraphRecursionError=GraphRecursionError,
        EmptyInputError=EmptyInputError,
        RunnableLambda=RunnableLambda,
        AIMessage=AIMessage,
        HumanMessage=HumanMessage,
        SystemMessage=SystemMessage,
    )


def _st_namespace() -> SimpleNamespace:
    from streamtui import AIMessage, HumanMessage, RunnableLambda, SystemMessage
    from streamtui.graph import (
        END,
        START,
        Command,
        EmptyInputError,
        GraphRecursionError,
        InMemorySaver,
        InvalidUpdateError,
        Send,
        StateGraph,
        add_messages,
        get_stream_writer,
        interrupt,
    )

    return SimpleNamespace(
        side="streamtui",
        interrupt=interrupt,
        Command=Command,
        InMemorySaver=InMemorySaver,
        StateGraph=StateGraph,
        START=START,
        END=END,
        Send=Send,
        get_stream_writer=get_stream_writer,
        add_messages=add_messages,
        InvalidUpdateError=InvalidUpdateError,
        GraphRecursionError=GraphRecursionError,
        EmptyInputError=EmptyInputError,
        RunnableLambda=RunnableLambda,
        AIMessage=AIMessage,
        HumanMessage=HumanMessage,
        SystemMessage=SystemMessage,
    )


LG = _lg_namespace()
ST = _st_namespace()
