"""Envelope lines: every part type round-trips, runtime objects come back as themselves,
secrets never reach a line."""

from __future__ import annotations

import json
import uuid

import pytest

from streamtui import (
    AIMessage,
    AIMessageChunk,
    ChatPromptValue,
    Document,
    GenerationChunk,
    HumanMessage,
    StringPromptValue,
    SystemMessage,
    ToolMessage,
)
from streamtui.envelope import Part, Redactor, encode_line, parse_line
from streamtui.graph import Send
from streamtui.graph.checkpoint import Interrupt


def roundtrip(part: Part) -> Part:
    line = encode_line(part)
    assert "\n" not in line
    json.loads(line)  # strict JSON, one line
    return parse_line(line)


def event(kind: str, data: dict) -> dict:
    return {
        "event": kind,
        "name": "ScriptedChatModel",
        "run_id": str(uuid.uuid4()),
        "parent_ids": [str(uuid.uuid4())],
        "tags": ["seq:step:2"],
        "metadata": {"langgraph_node": "draft"},
        "data": data,
    }


MESSAGES = [
    SystemMessage("be brief"),
    HumanMessage("hi", id="h1", name="ann"),
    AIMessage("hello", usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1"}]),
    ToolMessage("3", tool_call_id="c1"),
    AIMessageChunk("tok", id="run-1"),
    AIMessageChunk(
        "",
        tool_call_chunks=[{"name": "add", "args": '{"a": 1', "id": "c1", "index": 0}],
        response_metadata={"finish_reason": "tool_calls"},
    ),
    AIMessageChunk(
        "",
        chunk_position="last",
        usage_metadata={"input_tokens": 4, "output_tokens": 5, "total_tokens": 9},
    ),
    AIMessageChunk([{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "ok"}]),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{type(m).__name__}")
def test_messages_read_back_as_the_same_class_and_fields(message):
    back = roundtrip(Part(3, 0.25, "events", (), event("on_chat_model_stream", {"chunk": message})))
    chunk = back.data["data"]["chunk"]
    assert type(chunk) is type(message)
    assert chunk == message
    if isinstance(message, AIMessageChunk):
        assert chunk.tool_calls == message.tool_calls


def test_every_event_part_shape_round_trips():
    parts = [
        Part(1, 0.0, "events", (), event("on_chain_start", {"input": {"topic": "parrot"}})),
        Part(
            2,
            0.1,
            "events",
            (),
            event(
                "on_prompt_end",
                {"input": {"topic": "x"}, "output": ChatPromptValue([HumanMessage("q")])},
            ),
        ),
        Part(
            3,
            0.2,
            "events",
            (),
            event("on_prompt_end", {"input": {}, "output": StringPromptValue("q")}),
        ),
        Part(
            4, 0.3, "events", (), event("on_llm_stream", {"chunk": GenerationChunk("t", {"k": 1})})
        ),
        Part(
            5,
            0.4,
            "events",
            (),
            event("on_retriever_end", {"input": "q", "output": [Document("d", {"s": 1}, id="7")]}),
        ),
        Part(
            6,
            0.5,
            "events",
            (),
            event(
                "on_tool_error",
                {"error": ValueError("bad args"), "input": {}, "tool_call_id": "c1"},
            ),
        ),
        Part(7, 0.6, "events", (), event("on_custom_event", {"progress": 0.5})),
        Part(
            8,
            0.7,
            "events",
            (),
            event("on_chain_error", {"error": {"type": "KeyError", "message": "'x'"}}),
        ),
    ]
    for part in parts:
        back = roundtrip(part)
        assert (back.seq, back.ts, back.mode, back.ns) == (part.seq, part.ts, part.mode, part.ns)
        if part.seq == 6:
            assert back.data["data"]["error"] == {"type": "ValueError", "message": "bad args"}
        else:
            assert back == part


def test_graph_parts_round_trip_with_namespaces():
    parts = [
        Part(1, 0.0, "values", (), {"messages": [HumanMessage("q"), AIMessage("a")], "n": 1}),
        Part(2, 0.1, "updates", ("inner:abc",), {"draft": {"text": "x"}}),
        Part(3, 0.2, "custom", (), {"progress": "searching"}),
        Part(4, 0.3, "updates", (), {"__interrupt__": (Interrupt(value="ok?", id="i1"),)}),
        Part(
            5,
            0.4,
            "debug",
            (),
            {"type": "task", "step": 1, "payload": {"name": "n", "triggers": ["start:n"]}},
        ),
        Part(6, 0.5, "values", (), {"sends": [Send("worker", {"item": 1})]}),
    ]
    for part in parts:
        back = roundtrip(part)
        assert back.ns == part.ns
        if part.seq == 4:  # tuples are JSON arrays
            assert back.data == {"__interrupt__": [Interrupt(value="ok?", id="i1")]}
        elif part.seq == 6:
            send = back.data["sends"][0]
            assert (type(send), send.node, send.arg) == (Send, "worker", {"item": 1})
        else:
            assert back == part


def test_unknown_objects_keep_a_tagged_repr_and_odd_keys_survive():
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque 42>"

    back = roundtrip(Part(1, 0.0, "custom", (), {"thing": Opaque(), (1, 2): "tuple key", "s": {3}}))
    assert back.data["thing"] == {
        "_type": "object",
        "class": Opaque.__qualname__,
        "repr": "<opaque 42>",
    }
    assert back.data["(1, 2)"] == "tuple key"


def test_a_line_is_never_lost_to_an_unencodable_value():
    cycle: list = []
    cycle.append(cycle)
    back = roundtrip(Part(1, 0.0, "custom", (), {"loop": cycle}))
    assert back.data["_type"] == "object"


def test_reading_never_imports_what_a_log_names():
    line = encode_line(
        Part(1, 0.0, "custom", (), {"_type": "message", "class": "os.system", "content": "x"})
    )
    assert parse_line(line).data == {"_type": "message", "class": "os.system", "content": "x"}


def test_parse_line_rejects_what_is_not_a_part():
    with pytest.raises(ValueError):
        parse_line('{"type": "header"}')
    with pytest.raises(ValueError):
        parse_line('{"seq": 1, "ts": 0.0, "mode": "ev')


SECRET = "sk-live-0123456789abcdefABCDEF"


def test_redactor_removes_env_secrets_key_fields_and_bearer_tokens():
    redact = Redactor([SECRET, "abc"])  # too short to redact safely: ordinary words survive
    data = {
        "note": f"the key is {SECRET} ok",
        "headers": {"Authorization": "Bearer abcdefghijklmnop", "x-api-key": "whatever-it-is"},
        "api_key": "plain-secret-value",
        "openai_api_key": "another",
        "text": "abc is fine; tokens: 12",
        "usage_metadata": {"output_tokens": 3},
    }
    line = encode_line(Part(1, 0.0, "custom", (), data), redact)
    assert SECRET not in line and "abcdefghijklmnop" not in line
    assert (
        "plain-secret-value" not in line and "another" not in line and "whatever-it-is" not in line
    )
    back = parse_line(line).data
    assert back["note"] == "the key is *** ok"
    assert back["api_key"] == "***"
    assert back["headers"]["Authorization"] == "***"
    assert back["text"] == "abc is fine; tokens: 12"
    assert back["usage_metadata"] == {"output_tokens": 3}


def test_redactor_catches_escaped_forms_and_key_shapes():
    secret = 'pa"ss\\word-1234'
    redact = Redactor([secret])
    line = encode_line(
        Part(1, 0.0, "custom", (), {"v": f"x{secret}y", "k": "sk-ant-api03-abcdefghijk"}), redact
    )
    back = parse_line(line).data
    assert back == {"v": "x***y", "k": "***"}
    assert redact.text(f"failed with {secret}") == "failed with ***"


def test_an_object_whose_own_dump_raises_still_leaves_a_line():
    class Fragile:
        def model_dump(self, **kwargs):
            raise RuntimeError("cannot dump")

    back = roundtrip(Part(1, 0.0, "custom", (), {"f": Fragile(), "ok": 1}))
    assert back.data == {
        "f": {"_type": "object", "class": Fragile.__qualname__, "repr": "<RuntimeError>"},
        "ok": 1,
    }


def test_a_lone_surrogate_is_written_as_its_json_escape_and_reads_back():
    from streamtui.envelope import line_bytes

    line = encode_line(Part(1, 0.0, "custom", (), {"file": "caf\udce9.txt"}))
    raw = line_bytes(line)
    assert b"\\udce9" in raw
    assert parse_line(raw).data == {"file": "caf\udce9.txt"}


def test_env_secrets_are_redacted_only_inside_strings():
    redact = Redactor(["1024", "null", "true", "hunter2-x"])
    data = {"n": 1024, "x": None, "b": True, "s": "1024 null true hunter2-x"}
    back = parse_line(encode_line(Part(1, 0.0, "custom", (), data), redact)).data
    assert back == {"n": 1024, "x": None, "b": True, "s": "*** *** *** ***"}


@pytest.mark.parametrize(
    "line",
    [
        '{"seq": "1", "ts": 0, "mode": "custom", "ns": [], "data": 1}',
        '{"seq": 1, "ts": "x", "mode": "custom", "ns": [], "data": 1}',
        '{"seq": 1, "ts": 0, "mode": 3, "ns": [], "data": 1}',
        '{"seq": 1, "ts": 0, "mode": "custom", "ns": "a", "data": 1}',
        '{"seq": 1, "ts": true, "mode": "custom", "ns": [], "data": 1}',
        "[1, 2]",
    ],
)
def test_parts_with_wrong_field_types_are_refused(line):
    with pytest.raises(ValueError, match="not a part"):
        parse_line(line)
