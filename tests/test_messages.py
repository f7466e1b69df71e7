"""Messages: chunk merging, tool-call parsing, usage arithmetic, coercion."""

from __future__ import annotations

import pytest

from streamtui import AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from streamtui.runtime.messages import add_usage, coerce_to_message, merge_chunks
from streamtui.runtime.partial_json import parse_partial_json


def test_chunks_concatenate_content_and_keep_the_best_id():
    a = AIMessageChunk(content="Hel", id="lc_run--1")
    b = AIMessageChunk(content="lo", id="provider-7")
    merged = a + b
    assert merged.content == "Hello"
    assert merged.id == "provider-7"


def test_tool_call_chunks_merge_by_index_and_parse():
    parts = [
        AIMessageChunk(
            content="",
            tool_call_chunks=[{"name": "search", "args": '{"q": "ca', "id": "c1", "index": 0}],
        ),
        AIMessageChunk(
            content="", tool_call_chunks=[{"name": "lookup", "args": "{}", "id": "c2", "index": 1}]
        ),
        AIMessageChunk(
            content="", tool_call_chunks=[{"name": None, "args": 'ts"}', "id": None, "index": 0}]
        ),
    ]
    merged = parts[0] + parts[1] + parts[2]
    assert [tc["args"] for tc in merged.tool_call_chunks] == ['{"q": "cats"}', "{}"]
    assert merged.tool_calls == [
        {"name": "search", "args": {"q": "cats"}, "id": "c1", "type": "tool_call"},
        {"name": "lookup", "args": {}, "id": "c2", "type": "tool_call"},
    ]


def test_partial_tool_arguments_parse_as_far_as_they_go():
    chunk = AIMessageChunk(
        content="",
        tool_call_chunks=[{"name": "f", "args": '{"a": 1, "b": "hal', "id": "x", "index": 0}],
    )
    assert chunk.tool_calls[0]["args"] == {"a": 1, "b": "hal"}


def test_merge_chunks_equals_pairwise_addition():
    chunks = [AIMessageChunk(content=c) for c in "abcdef"]
    chunks[-1].usage_metadata = {"input_tokens": 1, "output_tokens": 6, "total_tokens": 7}
    pairwise = chunks[0]
    for c in chunks[1:]:
        pairwise = pairwise + c
    assert merge_chunks(chunks) == pairwise


def test_usage_adds_field_by_field():
    left = {
        "input_tokens": 1,
        "output_tokens": 2,
        "total_tokens": 3,
        "output_token_details": {"reasoning": 1},
    }
    right = {
        "input_tokens": 4,
        "output_tokens": 5,
        "total_tokens": 9,
        "output_token_details": {"reasoning": 2},
    }
    assert add_usage(left, right) == {
        "input_tokens": 5,
        "output_tokens": 7,
        "total_tokens": 12,
        "output_token_details": {"reasoning": 3},
    }


def test_adding_a_non_chunk_is_a_type_error():
    with pytest.raises(TypeError):
        AIMessageChunk(content="a") + "b"


def test_coercion_from_tuples_dicts_and_text():
    assert coerce_to_message(("system", "be brief")) == SystemMessage(content="be brief")
    assert coerce_to_message({"role": "user", "content": "hi"}) == HumanMessage(content="hi")
    assert coerce_to_message("hey") == HumanMessage(content="hey")
    with pytest.raises(ValueError, match="unknown message role"):
        coerce_to_message(("wizard", "x"))


def test_tool_message_has_status_and_call_id():
    message = ToolMessage(content="4", tool_call_id="c1")
    assert message.status == "success" and message.tool_call_id == "c1"
    assert message.model_dump()["type"] == "tool"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('["x", "y', ["x", "y"]),
        ('{"k": "a\\', {"k": "a"}),
        ("{", {}),
        ('{"a": tr', {}),
    ],
)
def test_parse_partial_json(text, value):
    assert parse_partial_json(text) == value


def test_tool_calls_sharing_an_index_but_not_an_id_stay_separate():
    # OpenAI-compatible servers often send every call at index 0.
    a = AIMessageChunk(
        content="",
        tool_call_chunks=[{"name": "add", "args": '{"a": 1}', "id": "call_1", "index": 0}],
    )
    b = AIMessageChunk(
        content="",
        tool_call_chunks=[{"name": "mul", "args": '{"b": 2}', "id": "call_2", "index": 0}],
    )
    merged = a + b
    assert [(tc["name"], tc["args"], tc["id"]) for tc in merged.tool_calls] == [
        ("add", {"a": 1}, "call_1"),
        ("mul", {"b": 2}, "call_2"),
    ]


def test_metadata_merge_rules():
    parts = [
        AIMessageChunk(
            content="a",
            response_metadata={
                "model_provider": "openai",
                "created": 1,
                "tokens": 2,
                "model_name": "m",
            },
        ),
        AIMessageChunk(
            content="b", response_metadata={"model_provider": "openai", "created": 5, "tokens": 3}
        ),
    ]
    merged = parts[0] + parts[1]
    assert merged.response_metadata == {
        "model_provider": "openai",
        "created": 5,
        "tokens": 5,
        "model_name": "m",
    }
    with pytest.raises(TypeError, match="cannot merge"):
        (
            AIMessageChunk(content="", additional_kwargs={"x": 1})
            + AIMessageChunk(content="", additional_kwargs={"x": "s"})
        )
