"""A small research graph (section 4 of the streaming guide): it fans out to parallel
searches, writes custom progress, and a node calls the model with a plain ``invoke()`` —
whose tokens still stream, because the run is being watched.

streamtui run demos/research_graph.py --input topic=otters
"""

import operator
from typing import Annotated, TypedDict

from streamtui import ScriptedChatModel
from streamtui.graph import END, START, Send, StateGraph, get_stream_writer

INPUT = {"topic": "otters"}

writer_model = ScriptedChatModel(
    responses=["Otters hold hands while sleeping so they do not drift apart."],
    first_chunk_latency=0.2,
    chunk_latency=0.04,
)


class State(TypedDict):
    topic: str
    notes: Annotated[list, operator.add]
    summary: str


def plan(state: State) -> dict:
    get_stream_writer()({"progress": f"planning searches about {state['topic']}"})
    return {}


def fan_out(state: State) -> list[Send]:
    return [Send("search", {"query": f"{state['topic']} {angle}"}) for angle in ("diet", "sleep")]


def search(task: dict) -> dict:
    get_stream_writer()({"progress": f"searched {task['query']!r}"})
    return {"notes": [f"found facts on {task['query']}"]}


def write(state: State) -> dict:
    answer = writer_model.invoke(f"Summarise: {state['notes']}")
    return {"summary": answer.content}


graph = StateGraph(State)
graph.add_node("plan", plan)
graph.add_node("search", search)
graph.add_node("write", write)
graph.add_edge(START, "plan")
graph.add_conditional_edges("plan", fan_out)
graph.add_edge("search", "write")
graph.add_edge("write", END)
graph = graph.compile()
