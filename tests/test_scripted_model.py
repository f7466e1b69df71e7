"""The embedded scripted model: chunking, turns, tool calls, usage, failure injection."""

from __future__ import annotations

import asyncio

import pytest

from streamtui import AIMessage, AIMessageChunk, ScriptedChatModel, ScriptedLLM, ScriptedModelError
from streamtui.models.scripted import split_text


@pytest.mark.parametrize(
    ("chunking", "expected"),
    [
        ("words", ["Hi", "  ", "there", "\n", "you"]),
        ("chars", list("Hi  there\nyou")),
        (4, ["Hi  ", "ther", "e\nyo", "u"]),
    ],
)
def test_chunking_modes(chunking, expected):
    model = ScriptedChatModel(["Hi  there\nyou"], chunking=chunking)
    assert [c.content for c in model.stream("x")] == expected
    assert "".join(expected) == "Hi  there\nyou"


def test_list_response_streams_exactly_those_chunks():
    model = ScriptedChatModel([["a", "bc", " d"]])
    assert [c.content for c in model.stream("x")] == ["a", "bc", " d"]


def test_responses_are_used_in_turn_one_per_call():
    model = ScriptedChatModel(["one", "two"])
    assert [model.invoke("x").content for _ in range(3)] == ["one", "two", "one"]


def test_last_chunk_is_marked_and_carries_usage():
    chunks = list(ScriptedChatModel(["a b"]).stream("hello there"))
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
    assert chunks[-1].usage_metadata == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    merged = chunks[0] + chunks[1] + chunks[2]
    assert merged.content == "a b" and merged.usage_metadata["total_tokens"] == 5


def test_invoke_returns_an_ai_message_with_usage():
    message = ScriptedChatModel(["fine thanks"]).invoke("how are you")
    assert type(message) is AIMessage
    assert message.content == "fine thanks"
    assert message.usage_metadata["output_tokens"] == 3


def test_tool_calls_stream_as_tool_call_chunks_and_merge_back():
    reply = AIMessage(
        content="checking",
        tool_calls=[
            {"name": "weather", "args": {"city": "Paris", "days": 3}, "id": "call_1"},
            {"name": "time", "args": {"tz": "CET"}, "id": "call_2"},
        ],
    )
    chunks = list(ScriptedChatModel([reply]).stream("x"))
    tool_chunks = [tc for c in chunks for tc in c.tool_call_chunks]
    assert len(tool_chunks) > 2  # arguments arrive in pieces
    assert {tc["index"] for tc in tool_chunks} == {0, 1}
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.content == "checking"
    assert merged.tool_calls == [
        {
            "name": "weather",
            "args": {"city": "Paris", "days": 3},
            "id": "call_1",
            "type": "tool_call",
        },
        {"name": "time", "args": {"tz": "CET"}, "id": "call_2", "type": "tool_call"},
    ]
    assert ScriptedChatModel([reply]).invoke("x").tool_calls == merged.tool_calls


def test_error_on_chunk_raises_before_that_chunk():
    model = ScriptedChatModel(["a b c"], error_on_chunk=2)
    seen = []
    with pytest.raises(ScriptedModelError, match="before chunk 2"):
        for chunk in model.stream("x"):
            seen.append(chunk.content)
    assert seen == ["a", " "]


def test_error_may_be_a_class_or_an_instance():
    with pytest.raises(KeyError):
        ScriptedChatModel(["a"], error_on_chunk=0, error=KeyError).invoke("x")
    boom = ValueError("boom")
    with pytest.raises(ValueError) as info:
        ScriptedChatModel(["a"], error_on_chunk=0, error=boom).invoke("x")
    assert info.value is boom


def test_async_paths_match_sync():
    model = ScriptedChatModel(["x y"])

    async def main():
        chunks = [c.content async for c in model.astream("q")]
        message = await model.ainvoke("q")
        return chunks, message.content

    assert asyncio.run(main()) == (["x", " ", "y"], "x y")


def test_llm_streams_text_and_invokes_to_text():
    llm = ScriptedLLM(["to be or"], chunking="words")
    assert list(llm.stream("prompt")) == ["to", " ", "be", " ", "or"]
    assert llm.invoke("prompt") == "to be or"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"responses": []}, "at least one response"),
        ({"responses": ["a"], "chunking": "lines"}, "chunking must be"),
        ({"responses": ["a"], "chunking": 0}, "chunking must be"),
        ({"responses": ["a"], "chunk_latency": -1}, "latencies"),
        ({"responses": [3]}, "a scripted response is"),
        ({"responses": ["a"], "error": "oops"}, "error must be"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ScriptedChatModel(**kwargs)


def test_split_text_keeps_every_character():
    text = " lead\t\ttabs  and trailing "
    assert "".join(split_text(text, "words")) == text


def test_disable_streaming_yields_one_chunk():
    chunks = list(ScriptedChatModel(["a b c"], disable_streaming=True).stream("x"))
    assert len(chunks) == 1 and isinstance(chunks[0], AIMessageChunk)
    assert chunks[0].content == "a b c"


def test_streams_start_on_first_next_not_when_created():
    model = ScriptedChatModel(["first", "second"])
    unused = model.stream(object())  # a bad input: fails only once iterated
    assert model.invoke("x").content == "first"  # no turn was taken by the unused stream
    with pytest.raises(TypeError, match="chat model takes"):
        next(unused)
    llm_stream = ScriptedLLM(["a"]).stream(object())
    with pytest.raises(TypeError, match="LLM takes"):
        next(llm_stream)


def test_a_model_with_only_a_sync_stream_works_on_the_async_path():
    from streamtui import BaseChatModel
    from streamtui.runtime.messages import text_chunk

    class Echo(BaseChatModel):
        def _stream(self, messages, stop=None, **kwargs):
            for word in messages[-1].text.split():
                yield text_chunk(word)

    async def main():
        chunks = [c.content async for c in Echo().astream("one two")]
        events = [e["event"] async for e in Echo().astream_events("x y")]
        return chunks, events

    chunks, events = asyncio.run(main())
    assert chunks == ["one", "two", ""]  # the closing marker is added by the base
    assert events.count("on_chat_model_stream") == 3
    assert Echo().invoke("a b").content == "ab"


def test_latencies_set_after_construction_are_the_ones_played(monkeypatch):
    from streamtui.models import scripted

    slept: list[float] = []
    monkeypatch.setattr(scripted.time, "sleep", slept.append)
    chat = ScriptedChatModel(["a b c"], first_chunk_latency=5.0, chunk_latency=1.0)
    chat.first_chunk_latency = 0.25
    chat.chunk_latency = 0.0
    assert "".join(c.content for c in chat.stream("hi")) == "a b c"
    assert slept == [0.25]
    llm = ScriptedLLM(["x y"], chunk_latency=3.0)
    llm.chunk_latency = 0.5
    assert "".join(llm.stream("hi")) == "x y"
    assert slept[0] == 0.25 and slept[1:] and set(slept[1:]) == {0.5}
    with pytest.raises(ValueError, match="chunk_latency must be zero or more"):
        chat.chunk_latency = -1
