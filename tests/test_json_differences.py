"""The deliberate differences from LangChain listed in docs/compat.md, one test each."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from streamtui import JsonOutputParser, OutputParserException
from streamtui.jsonstream import JsonStreamParser


def _stream(text: str, size: int = 3, **kwargs: object) -> list[object]:
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    return list(JsonOutputParser(**kwargs).transform(iter(chunks)))  # type: ignore[arg-type]


def test_upper_case_json_fence_is_parsed():
    assert _stream('Here:\n```JSON\n{"a": 1}\n```') == [{}, {"a": 1}]


def test_prose_that_starts_like_a_number_is_prose():
    assert _stream('1. Here it is: ```json\n{"a": 1}\n```') == [{}, {"a": 1}]


def test_prose_that_starts_like_a_json_word_is_prose():
    assert _stream("Note: ```json\n[true]\n```") == [[], [True]]


def test_a_leading_bare_value_followed_by_prose_is_kept():
    # "42 is ..." is a complete number, then text after the value: ignored, like LangChain.
    assert _stream("42 is the answer", size=1) == [4, 42]


def test_no_json_at_all_raises_at_the_end_of_the_stream():
    with pytest.raises(OutputParserException, match=r"offset 0 .*```json fence"):
        _stream("I cannot help with that.")


def test_malformed_json_yields_the_last_good_value_then_raises():
    seen: list[object] = []
    with pytest.raises(OutputParserException) as info:
        for value in JsonOutputParser().transform(iter(['{"a": 1, ', '"b": x}'])):
            seen.append(value)
    assert seen == [{"a": 1}]
    assert "offset 14 (line 1, column 15): expected a JSON value, found 'x'" in str(info.value)
    assert info.value.llm_output == '{"a": 1, "b": x}'


def test_quirks_off_shows_partial_escapes_trailing_spaces_and_float_growth():
    text = '{"a": "x \\u00e9", "n": 1.0}'
    chunks = ['{"a": "x ', "\\u00", 'e9", "n": 1', ".0}"]
    with_quirks = list(JsonOutputParser().transform(iter(chunks)))
    without = list(JsonOutputParser(langchain_quirks=False).transform(iter(chunks)))
    assert with_quirks == [{"a": "x"}, {}, {"a": "x é", "n": 1}]
    assert without == [{"a": "x "}, {"a": "x é", "n": 1}, {"a": "x é", "n": 1.0}]
    assert type(without[-1]["n"]) is float
    assert JsonOutputParser(langchain_quirks=False).invoke(text) == {"a": "x é", "n": 1.0}


def test_snapshots_share_finished_containers_and_copy_open_ones():
    parser = JsonStreamParser()
    parser.feed('{"done": [1, 2], "open": [')
    first = parser.value
    parser.feed("3")
    second = parser.value
    assert first == {"done": [1, 2], "open": []} and second["open"] == [3]
    assert first["done"] is second["done"]  # finished: shared
    assert first["open"] is not second["open"]  # open: copied, the old one unchanged


def test_delta_ops_append_to_strings_while_rfc6902_replaces_them():
    delta = JsonStreamParser(ops="delta")
    rfc = JsonStreamParser(ops="rfc6902")
    for parser in (delta, rfc):
        parser.feed('{"s": "ab')
        parser.take_ops()
        parser.feed("cd")
    assert delta.take_ops() == [{"op": "append", "path": "/s", "value": "cd"}]
    assert rfc.take_ops() == [{"op": "replace", "path": "/s", "value": "abcd"}]


def test_pydantic_object_shapes_the_format_instructions_only():
    class Joke(BaseModel):
        setup: str
        punchline: str

    parser = JsonOutputParser(pydantic_object=Joke)
    instructions = parser.get_format_instructions()
    assert '"required": ["setup", "punchline"]' in instructions
    assert parser.invoke('{"setup": "x"}') == {"setup": "x"}  # not validated, as in LangChain


def test_event_stream_reports_the_last_good_value_then_the_error():
    from streamtui import ScriptedChatModel

    from .conftest import run_async

    model = ScriptedChatModel(responses=['{"a": 1, "b": x}'], chunking=4)

    async def watch() -> tuple[list[object], BaseException | None]:
        chunks: list[object] = []
        try:
            async for event in (model | JsonOutputParser()).astream_events("q"):
                if event["event"] == "on_parser_stream":
                    chunks.append(event["data"]["chunk"])
        except OutputParserException as e:
            return chunks, e
        return chunks, None

    chunks, error = run_async(watch())
    assert chunks == [{}, {"a": 1}]
    assert error is not None and "offset 14" in str(error)
