"""The demos do what their docstrings say (on the scripted model, offline)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fast(model: object) -> None:
    model.first_chunk_latency = 0.0  # type: ignore[attr-defined]
    model.chunk_latency = 0.0  # type: ignore[attr-defined]


def test_countries_demo_streams_ever_more_complete_objects():
    demo = _load("countries")
    _fast(demo.model)
    values = list(demo.chain.stream(demo.INPUT))
    assert values[0] == {}
    assert values[-1] == json.loads(demo.ANSWER)
    assert {"countries": [{"name": "France"}]} in values


def test_research_graph_demo_fans_out_reports_progress_and_streams_the_model():
    demo = _load("research_graph")
    _fast(demo.writer_model)
    items = list(demo.graph.stream(demo.INPUT, stream_mode=["custom", "updates", "messages"]))
    progress = [item["progress"] for mode, item in items if mode == "custom"]
    assert progress[0] == "planning searches about otters"
    assert sorted(progress[1:]) == ["searched 'otters diet'", "searched 'otters sleep'"]
    tokens = "".join(
        chunk.content for mode, (chunk, meta) in [(m, i) for m, i in items if m == "messages"]
    )
    assert tokens == demo.writer_model.responses[0]
    final = demo.graph.invoke(demo.INPUT)
    assert final["summary"] == tokens
    assert sorted(final["notes"]) == ["found facts on otters diet", "found facts on otters sleep"]
