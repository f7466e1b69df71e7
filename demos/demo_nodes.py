"""Node functions for demos/loop_graph.yaml (named there as ``demo_nodes:...``).

Each node takes the state and returns an update. ``research`` reports progress on the
``custom`` stream, the two searches run in parallel, ``draft`` calls a scripted model
with a plain ``invoke()`` (its tokens still stream when the run is watched), and
``review`` scores the draft with a tool.
"""

from __future__ import annotations

from typing import Any

from streamtui import ScriptedChatModel, tool
from streamtui.graph import get_stream_writer

# One reply per round: each longer than the last, so the review's score rises.
DRAFTS = [
    "Otters hold hands.",
    "Sea otters hold hands while they sleep.",
    "Sea otters hold hands while they sleep so that they do not drift apart.",
]
FIRST_CHUNK_LATENCY = 0.2
CHUNK_LATENCY = 0.03  # tests set both to 0


def research(state: dict[str, Any]) -> dict[str, Any]:
    get_stream_writer()({"progress": f"researching {state['topic']}"})
    return {"log": "research"}


def search_web(state: dict[str, Any]) -> dict[str, Any]:
    get_stream_writer()({"progress": "searching the web"})
    return {"facts": [f"web: {state['topic']} sleep floating"], "log": "search_web"}


def search_docs(state: dict[str, Any]) -> dict[str, Any]:
    get_stream_writer()({"progress": "searching the docs"})
    return {"facts": [f"docs: {state['topic']} hold hands"], "log": "search_docs"}


def draft(state: dict[str, Any]) -> dict[str, Any]:
    round_ = state["round"]
    model = ScriptedChatModel(
        responses=[DRAFTS[min(round_, len(DRAFTS) - 1)]],
        first_chunk_latency=FIRST_CHUNK_LATENCY,
        chunk_latency=CHUNK_LATENCY,
    )
    reply = model.invoke(f"Write about {state['topic']} using {state['facts']}")
    return {"draft": reply.content, "round": round_ + 1, "log": f"draft {round_ + 1}"}


@tool
def score_draft(text: str) -> int:
    """Score a draft: one point per four words, at most 5.

    Args:
        text: The draft to score.
    """
    return min(5, len(text.split()) // 4)


def review(state: dict[str, Any]) -> dict[str, Any]:
    score = score_draft.invoke({"text": state["draft"]})
    return {"score": score, "log": f"review: {score}"}
