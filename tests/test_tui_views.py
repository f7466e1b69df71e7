"""What the state pane, the filter dialog and export compute, without Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streamtui import (
    ChatPromptTemplate,
    JsonOutputParser,
    ScriptedChatModel,
)
from streamtui.eventlog import EventLog
from streamtui.spec import load_spec
from streamtui.tui.export import default_export_path, export_view, filter_words
from streamtui.tui.filters import FilteredView, PartFilter, filter_choices
from streamtui.tui.state_view import diff, path_text, pretty_lines, snapshot
from streamtui.tui.store import RunStore
from tests.tui_support import bus_parts

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def store_of(target, value, **kwargs) -> RunStore:
    store = RunStore()
    store.ingest(bus_parts(target, value, **kwargs))
    return store


def loop_graph_store(monkeypatch) -> RunStore:
    loaded = load_spec(DEMOS / "loop_graph.yaml")
    nodes = sys.modules["demo_nodes"]
    monkeypatch.setattr(nodes, "FIRST_CHUNK_LATENCY", 0.0)  # no waiting on the scripted model
    monkeypatch.setattr(nodes, "CHUNK_LATENCY", 0.0)
    return store_of(loaded.target, loaded.input, modes=loaded.stream.modes)


def test_diff_names_added_removed_and_changed_paths_as_deep_as_both_go():
    old = {"a": 1, "b": [1, 2], "c": {"d": "x"}, "gone": True}
    new = {"a": 1, "b": [1, 3, 4], "c": {"d": "xy"}, "new": None}
    got = {(path_text(c.path), c.kind) for c in diff(old, new)}
    assert got == {
        ("gone", "removed"),
        ("b[1]", "changed"),
        ("b[2]", "added"),
        ("c.d", "changed"),
        ("new", "added"),
    }
    assert diff([1, 2], [1])[0].kind == "removed"
    assert diff(1, 1.0) and not diff({"a": [1]}, {"a": [1]})  # a type change is a change
    assert path_text(()) == "$"


def test_pretty_lines_are_json_and_each_knows_its_path():
    value = {"topic": "otters", "facts": ["a", "b"], "n": {"k": 1}, "empty": []}
    lines = pretty_lines(value)
    assert json.loads("\n".join(text for _, text in lines)) == value
    by_text = {text.strip(): path for path, text in lines}
    assert by_text['"b"'] == ("facts", 1)
    assert by_text['"k": 1'] == ("n", "k")
    assert by_text['"empty": []'] == ("empty",)  # the last key: no comma
    cut = pretty_lines(list(range(100)), limit=10)
    assert len(cut) == 11 and cut[-1][1].startswith("… cut at 10 lines")


def test_a_graph_node_shows_the_state_after_its_step_and_what_it_changed(monkeypatch):
    store = loop_graph_store(monkeypatch)
    assert len(store.states) >= 3
    latest = snapshot(store)
    assert latest is not None and latest.title == f"state after step {len(store.states) - 1}"
    assert latest.value == json.loads(json.dumps(store.parts[store.states[-1]].data))
    drafts = [r for r in store.runs.values() if r.node == "draft" and r.run_type == "chain"]
    first = snapshot(store, drafts[0].run_id)
    assert first.title == f"state after step {drafts[0].step} (draft)"
    changed = {path_text(c.path) for c in first.changes()}
    assert {"draft", "round"} <= changed and "topic" not in changed
    assert first.previous["round"] == 0 and first.value["round"] == 1
    # The input state has no step before it.
    assert not snapshot_at_input(store).has_previous


def snapshot_at_input(store: RunStore):
    from streamtui.tui.state_view import _state

    return _state(store, 0)


def test_a_json_parser_run_shows_its_latest_object_and_the_one_before():
    model = ScriptedChatModel(['{"name": "Ada", "langs": ["en", "fr"]}'])
    chain = ChatPromptTemplate.from_template("{q}") | model | JsonOutputParser()
    store = store_of(chain, {"q": "who"})
    [parser] = [r for r in store.runs.values() if r.run_type == "parser"]
    shown = snapshot(store, parser.run_id)
    assert shown.value == {"name": "Ada", "langs": ["en", "fr"]}
    assert shown.has_previous and shown.previous != shown.value
    assert all(c.kind in ("added", "changed") for c in shown.changes())
    # The top-level chain streams the same objects; with nothing selected it is shown.
    assert snapshot(store).value == {"name": "Ada", "langs": ["en", "fr"]}


def test_string_deltas_show_as_the_text_so_far_and_a_model_as_its_output():
    from streamtui import StrOutputParser

    model = ScriptedChatModel(["Polly-ester."])
    chain = ChatPromptTemplate.from_template("{q}") | model | StrOutputParser()
    store = store_of(chain, {"q": "joke"})
    root = snapshot(store)
    assert root.value == "Polly-ester." and root.title.endswith("streamed text")
    assert root.value.startswith(root.previous) and root.previous != root.value
    [chat] = [r for r in store.runs.values() if r.run_type == "chat_model"]
    out = snapshot(store, chat.run_id)
    assert out.title.endswith("output") and "Polly-ester." in json.dumps(out.value)
    assert snapshot(RunStore()) is None


def test_filter_choices_count_kinds_names_and_tags():
    model = ScriptedChatModel(["hi"])
    chain = (ChatPromptTemplate.from_template("{q}") | model).with_config(tags=["demo"])
    store = store_of(chain, {"q": "x"})
    choices = filter_choices(store)
    kinds = dict(choices.kinds)
    assert kinds["on_chat_model_stream"] == len(store.by_event["on_chat_model_stream"])
    assert dict(choices.names)["ScriptedChatModel"] == 1
    assert dict(choices.tags)["demo"] >= 1
    assert choices.kinds[0][1] >= choices.kinds[-1][1]  # most common first


def test_an_export_is_a_log_replay_opens_and_markdown_is_a_table(tmp_path):
    model = ScriptedChatModel(["my key is sk-abcdefghijklmnopqrstu | ok"])
    store = store_of(ChatPromptTemplate.from_template("{q}") | model, {"q": "x"})
    view = FilteredView(store, PartFilter(kinds=frozenset({"on_chat_model_stream"})))
    view.extend()
    running = export_view(store, view.positions, tmp_path / "mid-run.jsonl")
    assert EventLog.open(tmp_path / "mid-run.jsonl").status == "incomplete" and running
    store.finish("done")
    count = export_view(store, view.positions, tmp_path / "out.jsonl", name="j", wanted=view.filter)
    assert count == len(view) > 0
    log = EventLog.open(tmp_path / "out.jsonl")
    assert [p.seq for p in log.parts] == [store.parts[i].seq for i in view.positions]
    assert log.status == "done" and log.header["exported"]["filter"] == "event on_chat_model_stream"
    assert "sk-abcdefghijklmnopqrstu" not in (tmp_path / "out.jsonl").read_text()

    export_view(store, view.positions, tmp_path / "out.md", name="j", wanted=view.filter)
    text = (tmp_path / "out.md").read_text()
    assert text.startswith(f"# j: {count} events")
    assert "| seq | time (s) | event |" in text
    assert "\\|" in text  # a pipe in model text does not break the table
    assert "sk-abcdefghijklmnopqrstu" not in text

    assert export_view(store, [], tmp_path / "gz" / "none.jsonl.gz") == 0
    assert EventLog.open(tmp_path / "gz" / "none.jsonl.gz").parts == []
    assert default_export_path("my run/1").name.startswith("streamtui-export-my-run-1-")
    assert filter_words(store, PartFilter()) == ""


def test_the_views_never_import_textual():
    code = (
        "import sys, streamtui.tui.state_view, streamtui.tui.export; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_failed_run_shows_its_error_and_what_it_was_given():
    from streamtui import RunnableLambda

    def boom(_: object) -> str:
        raise ValueError("no source given")

    store = store_of(RunnableLambda(boom, name="checker"), {"claim": "x"})
    [run] = store.runs.values()
    shown = snapshot(store, run.run_id)
    assert shown.title == "checker (chain) · failed"
    assert shown.value == {
        "error": {"type": "ValueError", "message": "no source given"},
        "input": {"claim": "x"},
    }
