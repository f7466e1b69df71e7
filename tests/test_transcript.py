"""The ``--format pretty`` transcript: who is speaking, what failed, colour only where wanted."""

from __future__ import annotations

import io

from streamtui import AIMessageChunk
from streamtui.envelope import Part
from streamtui.transcript import Transcript, use_color


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def ev(
    seq: int, kind: str, run_id: str, data: dict, name: str = "M", parents: int = 1, **meta
) -> Part:
    event = {
        "event": kind,
        "name": name,
        "run_id": run_id,
        "parent_ids": ["root"] * parents,
        "tags": [],
        "metadata": meta,
        "data": data,
    }
    return Part(seq, 0.0, "events", (), event)


def render(parts: list[Part], color: bool = False) -> str:
    out = io.StringIO()
    transcript = Transcript(out, color=color)
    transcript(parts)
    transcript.finish()
    return out.getvalue()


def test_colour_follows_the_terminal_and_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Terminal()) is False
    out = Terminal()
    Transcript(out)([ev(1, "on_chain_start", "root", {"input": 1}, name="Seq", parents=0)])
    assert "\x1b[" not in out.getvalue()


def test_interleaved_model_runs_get_a_header_each_time_the_speaker_changes():
    parts = [
        ev(1, "on_chat_model_start", "a", {}, name="M", langgraph_node="left"),
        ev(2, "on_chat_model_start", "b", {}, name="M", langgraph_node="right"),
        ev(3, "on_chat_model_stream", "a", {"chunk": AIMessageChunk("one ")}),
        ev(4, "on_chat_model_stream", "a", {"chunk": AIMessageChunk("two")}),
        ev(5, "on_chat_model_stream", "b", {"chunk": AIMessageChunk("uno")}),
        ev(6, "on_chat_model_stream", "a", {"chunk": AIMessageChunk(" three")}),
    ]
    assert render(parts).splitlines() == [
        "── left · M ──",
        "one two",
        "── right · M ──",
        "uno",
        "── left · M ──",
        " three",
    ]


def test_reasoning_and_tool_call_arguments_look_different_from_the_answer():
    thinking = AIMessageChunk([{"type": "thinking", "thinking": "hmm"}])
    call = AIMessageChunk(
        "", tool_call_chunks=[{"name": "add", "args": '{"a": 1}', "id": "c", "index": 0}]
    )
    text = render(
        [
            ev(1, "on_chat_model_stream", "a", {"chunk": thinking}),
            ev(2, "on_chat_model_stream", "a", {"chunk": call}),
            ev(3, "on_chat_model_stream", "a", {"chunk": AIMessageChunk("done")}),
        ],
        color=True,
    )
    assert "\x1b[2;3mhmm\x1b[0m" in text
    assert '\x1b[36madd({"a": 1}\x1b[0m' in text
    assert text.rstrip().endswith("done")


def test_failures_tools_custom_events_and_graph_updates_are_one_line_each():
    parts = [
        ev(1, "on_tool_start", "t", {"input": {"a": 1}}, name="add"),
        ev(2, "on_tool_end", "t", {"output": 2}, name="add"),
        ev(3, "on_custom_event", "c", {"step": 1}, name="progress"),
        Part(4, 0.0, "updates", ("inner:1",), {"draft": {"text": "x"}}),
        Part(5, 0.0, "custom", (), {"pct": 50}),
        ev(
            6,
            "on_chain_error",
            "r",
            {"error": {"type": "ValueError", "message": "bad"}},
            name="Seq",
            parents=0,
        ),
    ]
    assert render(parts).splitlines() == [
        '⚙ add {"a": 1}',
        "  → 2",
        '• progress {"step": 1}',
        '◆ inner:1/draft {"text": "x"}',
        '• custom {"pct": 50}',
        "✗ Seq (chain) ValueError: bad",
    ]


def test_a_root_that_streamed_no_tokens_shows_its_output():
    parts = [
        ev(1, "on_chain_start", "r", {"input": "hello"}, name="reverse", parents=0),
        ev(2, "on_chain_end", "r", {"output": "olleh"}, name="reverse", parents=0),
    ]
    assert render(parts).splitlines() == ["▶ reverse hello", "✓ reverse olleh"]


def test_odd_shapes_from_a_foreign_log_are_skipped_not_fatal():
    parts = [
        Part(
            1,
            0.0,
            "events",
            (),
            {"event": "on_chain_start", "name": 5, "parent_ids": [], "data": 7, "metadata": 3},
        ),
        Part(2, 0.0, "events", (), {"event": None}),
        Part(3, 0.0, "events", (), ["not", "a", "dict"]),
    ]
    assert render(parts).splitlines() == ["▶ 5 null"]


def test_redaction_applies_to_everything_written():
    out = io.StringIO()
    Transcript(out, color=False, redact=lambda text: text.replace("hunter2", "***"))(
        [ev(1, "on_chain_start", "r", {"input": {"pw": "hunter2"}}, name="Seq", parents=0)]
    )
    assert out.getvalue() == '▶ Seq {"pw": "***"}\n'
