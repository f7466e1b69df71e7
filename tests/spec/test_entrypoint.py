"""``load_entrypoint`` and ``entrypoint:``: streamtui runnables, and LangChain/LangGraph
objects by duck typing (imported here only, by the test files)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from streamtui.runtime.base import Runnable
from streamtui.spec import SpecError, load_entrypoint, load_spec

STREAMTUI_APP = """
from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser
INPUT = {"topic": "cats"}
chain = (
    ChatPromptTemplate.from_template("joke about {topic}")
    | ScriptedChatModel(responses=["Cats rule."])
    | StrOutputParser()
)
"""

LANGCHAIN_APP = """
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

INPUT = {"topic": "dogs"}
chain = (
    ChatPromptTemplate.from_template("joke about {topic}")
    | FakeListChatModel(responses=["Dogs drool."])
    | StrOutputParser()
)
"""

LANGGRAPH_APP = """
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    topic: str
    steps: Annotated[list, operator.add]


def research(state):
    return {"steps": [f"research {state['topic']}"]}


graph = StateGraph(State)          # a builder: not runnable, so `app` is picked
graph.add_node("research", research)
graph.add_edge(START, "research")
graph.add_edge("research", END)
app = graph.compile()
INPUT = {"topic": "owls"}
"""


def write(tmp_path: Path, body: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_streamtui_chain_and_its_input(tmp_path):
    path = write(tmp_path, STREAMTUI_APP)
    chain, value = load_entrypoint(str(path))
    assert isinstance(chain, Runnable) and value == {"topic": "cats"}
    assert chain.invoke(value) == "Cats rule."
    named, _ = load_entrypoint(f"{path}:chain")  # the file runs again: a fresh chain
    assert named is not chain and named.invoke(value) == "Cats rule."
    relative, _ = load_entrypoint("app.py:chain", base_dir=tmp_path)
    assert relative.invoke(value) == "Cats rule."


def test_a_langchain_runnable_runs_unchanged(tmp_path):
    pytest.importorskip("langchain_core")
    path = write(tmp_path, LANGCHAIN_APP)
    chain, value = load_entrypoint(str(path))
    assert not isinstance(chain, Runnable)  # duck-typed: it has astream_events
    assert chain.invoke(value) == "Dogs drool."

    async def events():
        return [e async for e in chain.astream_events(value, version="v2")]

    kinds = [e["event"] for e in asyncio.run(events())]
    assert kinds[0] == "on_chain_start" and "on_chat_model_stream" in kinds


def test_a_langgraph_graph_is_found_under_app_when_graph_is_the_builder(tmp_path):
    pytest.importorskip("langgraph")
    path = write(tmp_path, LANGGRAPH_APP)
    app, value = load_entrypoint(str(path))
    assert type(app).__module__.startswith("langgraph")
    assert app.invoke(value) == {"topic": "owls", "steps": ["research owls"]}
    updates = list(app.stream(value, stream_mode="updates"))
    assert updates == [{"research": {"steps": ["research owls"]}}]


def test_an_entrypoint_spec_merges_its_input_over_the_files(tmp_path):
    pytest.importorskip("langgraph")
    write(tmp_path, LANGGRAPH_APP, "graph_app.py")
    spec_path = write(
        tmp_path,
        """
        name: owls
        entrypoint: graph_app.py:app
        input: {topic: bats}
        stream: {modes: [updates, values]}
        """,
        "spec.yaml",
    )
    spec = load_spec(spec_path, env={})
    assert (spec.kind, spec.name, spec.input) == ("entrypoint", "owls", {"topic": "bats"})
    assert spec.stream.modes == ["updates", "values"]
    assert spec.target.invoke(spec.input)["steps"] == ["research bats"]


def test_load_spec_takes_a_python_file_too(tmp_path):
    path = write(tmp_path, STREAMTUI_APP)
    spec = load_spec(f"{path}:chain")
    assert (spec.kind, spec.name, spec.input) == ("entrypoint", "app", {"topic": "cats"})
    assert spec.hash.startswith("sha256:") and len(spec.hash) == 7 + 64


def test_an_import_path_entrypoint(tmp_path, helper_module):
    mod = helper_module(STREAMTUI_APP)
    spec_path = write(tmp_path, f"entrypoint: {mod}:chain\n", "spec.yaml")
    spec = load_spec(spec_path, env={})
    assert spec.input == {"topic": "cats"}
    assert spec.target.invoke(spec.input) == "Cats rule."


def test_a_file_without_input_defaults_to_an_empty_dict(tmp_path):
    path = write(tmp_path, "from streamtui import RunnableLambda\napp = RunnableLambda(len)\n")
    app, value = load_entrypoint(str(path))
    assert value == {} and app.invoke("abc") == 3


def error_of(target: str, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_entrypoint(target, **kwargs)
    assert "Traceback" not in str(caught.value)
    return caught.value


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "x = 1\ndef broken(:\n    pass\n")
    error = error_of(str(path))
    assert error.path == path and error.line == 2
    assert "syntax error" in error.message
    assert str(error).startswith(f"{path}:2:")


def test_an_exception_while_importing_names_the_raising_line(tmp_path):
    path = write(tmp_path, "import os\n\nvalue = {}['missing']\n")
    error = error_of(str(path))
    assert (error.path, error.line) == (path, 3)
    assert "importing the file raised KeyError: 'missing'" in error.message


@pytest.mark.parametrize(
    ("body", "target", "words"),
    [
        (STREAMTUI_APP, "app.py:chian", "no attribute 'chian' — did you mean 'chain'?"),
        ("x = 1\n", "app.py", "no runnable named 'chain', 'graph' or 'app'"),
        ("chain = 'text'\n", "app.py", "'chain' is a str, not a runnable"),
        ("from streamtui import ChatPromptTemplate as chain\n", "app.py", "is a class"),
        (
            "from streamtui.graph import StateGraph\ngraph = StateGraph(dict)\n",
            "app.py",
            "not compiled",
        ),
        (STREAMTUI_APP, "app.txt", "expected a Python file"),
        (STREAMTUI_APP, "nope.py", "nope.py: no such file"),
        ("import sys\nsys.exit(3)\n", "app.py", "raised SystemExit"),
    ],
)
def test_entrypoint_mistakes(tmp_path, body, target, words):
    write(tmp_path, body)
    (tmp_path / "app.txt").write_text("x")
    error = error_of(target, base_dir=tmp_path)
    assert words in str(error)
    assert error.path is not None and error.path.parent == tmp_path


def test_a_missing_file_in_a_spec_points_at_the_entrypoint_line(tmp_path):
    spec_path = write(tmp_path, "name: x\nentrypoint: missing.py:chain\n", "spec.yaml")
    with pytest.raises(SpecError) as caught:
        load_spec(spec_path, env={})
    assert (caught.value.path, caught.value.line, caught.value.column) == (spec_path, 2, 13)


def test_a_syntax_error_behind_a_spec_points_into_the_python_file(tmp_path):
    write(tmp_path, "chain = (\n", "bad_app.py")
    spec_path = write(tmp_path, "entrypoint: bad_app.py\n", "spec.yaml")
    with pytest.raises(SpecError) as caught:
        load_spec(spec_path, env={})
    assert caught.value.path == tmp_path / "bad_app.py" and caught.value.line == 1
