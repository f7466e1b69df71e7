"""The chain.yaml demos load and run to what their comments promise (offline)."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path

import pytest

from streamtui.spec import load_spec

from .conftest import no_latency

DEMOS = Path(__file__).resolve().parents[2] / "demos"


def test_joke_streams_the_scripted_joke_word_by_word():
    spec = load_spec(DEMOS / "joke.yaml", env={})
    assert (spec.name, spec.kind, spec.input) == ("joke", "chain", {"topic": "parrot"})
    model = spec.target.steps[1]
    assert model._script.chunk_latency == 0.03  # realistic pacing when watched
    chunks = list(no_latency(spec.target).stream(spec.input))
    assert "".join(chunks) == (
        "Why did the parrot wear a raincoat? Because it wanted to be Polly-ester."
    )
    assert len(chunks) > 10


def test_countries_json_grows_visibly():
    spec = load_spec(DEMOS / "countries.yaml", env={})
    values = list(no_latency(spec.target).stream(spec.input))
    answer = {
        "countries": [
            {"name": "France", "population": 67750000},
            {"name": "Spain", "population": 47420000},
            {"name": "Japan", "population": 125700000},
        ]
    }
    assert values[0] == {} and values[-1] == answer
    assert {"countries": [{"name": "France"}]} in values
    assert len(values) > 10
    prompt = spec.target.steps[0].invoke(spec.input).to_messages()
    assert prompt[0].type == "system" and "France, Spain and Japan" in prompt[1].content
    assert json.dumps(values[-1])  # plain JSON all the way


def test_reverse_word():
    spec = load_spec(DEMOS / "reverse_word.yaml", env={})
    assert spec.input == {"word": "hello"}
    assert spec.target.invoke(spec.input) == "olleh"
    assert spec.target.invoke({"word": "streamtui"}) == "iutmaerts"


@pytest.fixture
def fast_nodes(monkeypatch):
    spec = load_spec(DEMOS / "loop_graph.yaml", env={})  # puts demo_nodes in sys.modules
    nodes = importlib.import_module("demo_nodes")
    monkeypatch.setattr(nodes, "FIRST_CHUNK_LATENCY", 0.0)
    monkeypatch.setattr(nodes, "CHUNK_LATENCY", 0.0)
    return spec, nodes


def test_loop_graph_runs_the_loop_until_the_review_is_good(fast_nodes):
    spec, nodes = fast_nodes
    assert spec.kind == "graph" and spec.stream.modes == ["events", "values", "updates", "custom"]
    assert spec.input == {"topic": "otters", "round": 0, "score": 0}
    final = spec.target.invoke(spec.input)
    assert final["draft"] == nodes.DRAFTS[-1]
    assert (final["round"], final["score"]) == (3, 3)
    assert sorted(final["facts"]) == ["docs: otters hold hands", "web: otters sleep floating"]
    assert final["log"] == [
        "research",
        "search_docs",
        "search_web",
        "draft 1",
        "review: 0",
        "draft 2",
        "review: 1",
        "draft 3",
        "review: 3",
    ]


def test_loop_graph_streams_progress_parallel_steps_and_model_tokens(fast_nodes):
    spec, nodes = fast_nodes
    items = list(spec.target.stream(spec.input, stream_mode=["custom", "updates", "messages"]))
    progress = [item["progress"] for mode, item in items if mode == "custom"]
    assert progress[0] == "researching otters"
    assert sorted(progress[1:]) == ["searching the docs", "searching the web"]
    updates = [next(iter(item)) for mode, item in items if mode == "updates"]
    assert updates[:3] == ["research", "search_web", "search_docs"] or updates[:3] == [
        "research",
        "search_docs",
        "search_web",
    ]
    tokens = "".join(item[0].content for mode, item in items if mode == "messages")
    assert tokens == "".join(nodes.DRAFTS)

    async def events():
        return [e async for e in spec.target.astream_events(spec.input, version="v2")]

    seen = asyncio.run(events())
    streamed = [e for e in seen if e["event"] == "on_chat_model_stream"]
    assert "".join(e["data"]["chunk"].content for e in streamed) == "".join(nodes.DRAFTS)
    tools = [e["name"] for e in seen if e["event"] == "on_tool_start"]
    assert tools == ["score_draft"] * 3
