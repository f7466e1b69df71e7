"""A graph's chat model tokens (stream_mode="messages") and its astream_events, compared
with langgraph + langchain-core: the same graph, a node that calls a model with plain
invoke(), a node that returns a hand-made message."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph")

import langchain_core.language_models as lc_models
import langchain_core.messages as lc_messages
import langgraph.graph as lg_graph
import langgraph.graph.message as lg_message

import streamtui
import streamtui.graph as st_graph

from ..conftest import run_async

REPLY = "streaming graphs are fun"


class LGState(TypedDict):
    messages: Annotated[list, lg_message.add_messages]
    log: Annotated[list, operator.add]


class STState(TypedDict):
    messages: Annotated[list, st_graph.add_messages]
    log: Annotated[list, operator.add]


class NS:
    def __init__(self, graph: Any, state: Any, model: Any, ai: Any) -> None:
        self.StateGraph = graph.StateGraph
        self.START = graph.START
        self.State = state
        self.model = model
        self.AIMessage = ai


LG = NS(
    lg_graph,
    LGState,
    lambda: lc_models.GenericFakeChatModel(messages=iter([lc_messages.AIMessage(content=REPLY)])),
    lc_messages.AIMessage,
)
ST = NS(
    st_graph,
    STState,
    lambda: streamtui.ScriptedChatModel(responses=[REPLY]),
    streamtui.AIMessage,
)


def chat_graph(ns: NS) -> Any:
    model = ns.model()

    def chat(state: Any) -> dict:
        return {"messages": [model.invoke(state["messages"])], "log": ["chat"]}

    def canned(state: Any) -> dict:
        return {"messages": [ns.AIMessage(content="a canned reply")], "log": ["canned"]}

    g = ns.StateGraph(ns.State)
    g.add_node("chat", chat)
    g.add_node("canned", canned)
    g.add_edge(ns.START, "chat")
    g.add_edge("chat", "canned")
    return g.compile()


INPUT = {"messages": [("human", "hi")]}
KEYS = ("langgraph_step", "langgraph_node", "langgraph_triggers", "langgraph_path")


def messages_view(items: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (type(message).__name__, message.content, *(meta[k] for k in KEYS))
        for message, meta in items
    ]


@pytest.mark.parametrize("use_async", [False, True], ids=["stream", "astream"])
def test_messages_mode_matches_langgraph(use_async: bool):
    def collect(ns: NS) -> list[tuple[Any, ...]]:
        app = chat_graph(ns)
        if not use_async:
            return messages_view(list(app.stream(INPUT, stream_mode="messages")))

        async def go() -> list[Any]:
            return [item async for item in app.astream(INPUT, stream_mode="messages")]

        return messages_view(run_async(go()))

    ours, theirs = collect(ST), collect(LG)
    assert ours == theirs
    assert ours[-1][:2] == ("AIMessage", "a canned reply")  # once, whole
    assert "".join(m[1] for m in ours[:-1]) == REPLY  # tokens, and no repeated final message


def _plain(value: Any) -> Any:
    """Messages as (type, content): the two fakes differ in metadata, not in what they say."""
    if hasattr(value, "content") and hasattr(value, "type"):
        return (type(value).__name__, value.content)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _event_view(event: dict[str, Any]) -> tuple[Any, ...]:
    name = event["name"]
    if event["event"].startswith("on_chat_model"):
        name = "MODEL"
    meta = event["metadata"]
    data = event["data"]
    shown: Any = sorted(data)
    if "chunk" in data:
        shown = repr(_plain(data["chunk"]))
    return (
        event["event"],
        name,
        event["tags"],
        {k: meta[k] for k in KEYS if k in meta},
        "checkpoint_ns" in meta,
        len(event["parent_ids"]),
        str(shown),
    )


def test_astream_events_on_a_graph_match_langgraph():
    def collect(ns: NS) -> list[tuple[Any, ...]]:
        app = chat_graph(ns)

        async def go() -> list[Any]:
            return [_event_view(e) async for e in app.astream_events(INPUT, version="v2")]

        return run_async(go())

    ours, theirs = collect(ST), collect(LG)
    assert ours == theirs
    assert ours[0][:2] == ("on_chain_start", "LangGraph")
    assert ours[-1][:2] == ("on_chain_end", "LangGraph")
