"""JsonOutputParser streaming: streamtui against langchain-core, value for value.

For every valid document in ``CORPUS`` and every chunking, ``transform`` must yield the
same sequence as langchain's parser, compared type-strictly (``1`` is not ``1.0``, dict
key order counts). The ``diff=True`` patches of both sides, applied in order, must
rebuild those values, and so must ``JsonStreamParser(ops="delta")`` with ``apply_ops``.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

pytest.importorskip("langchain_core")

import jsonpatch
from langchain_core.messages import AIMessageChunk as LCAIMessageChunk
from langchain_core.output_parsers import JsonOutputParser as LCJsonOutputParser

from streamtui.jsonstream import JsonStreamParser, apply_ops
from streamtui.runtime.messages import AIMessageChunk
from streamtui.runtime.parsers import JsonOutputParser

from ..conftest import run_async
from ..strict_json import assert_strict_equal, strict_diff

COUNTRIES = {
    "countries": [
        {
            "name": "France",
            "capital": "Paris",
            "population": 68042591,
            "languages": ["French"],
            "eu_member": True,
            "gdp_growth": -0.3,
        },
        {
            "name": "Japan",
            "capital": "Tōkyō",
            "population": 124516650,
            "languages": ["Japanese"],
            "eu_member": False,
            "gdp_growth": 1.0,
            "notes": "Island nation; 日本",
        },
        {
            "name": "Côte d'Ivoire",
            "capital": "Yamoussoukro",
            "languages": ["French", "Baoulé"],
            "eu_member": False,
            "notes": None,
        },
    ],
    "source": "model knowledge",
}

_COUNTRIES_JSON = json.dumps(COUNTRIES, indent=2, ensure_ascii=False)

# (id, text): every text holds one valid JSON document, possibly in a fence with prose.
CORPUS: list[tuple[str, str]] = [
    # scalars at the top level
    ("top-string", '"hello world"'),
    ("top-string-trailing-spaces", '"ends in spaces   "'),
    ("top-empty-string", '""'),
    ("top-string-escapes", r'"caf\u00e9 \ud83d\ude00 \"q\" \\ end\n"'),
    ("top-int", "42"),
    ("top-negative-exp", "-3.25e-4"),
    ("top-float-1.0", "1.0"),
    ("top-true", "true"),
    ("top-false", "false"),
    ("top-null", "null"),
    # empty containers at every depth
    ("empty-object", "{}"),
    ("empty-array", "[]"),
    ("empties-nested", '{"a": {}, "b": [], "c": [{}], "d": [[]], "e": {"f": {"g": {}}}}'),
    ("empties-in-arrays", '[[[[]]], [{}], {"x": [[], {}]}, [], {}]'),
    # structure
    ("flat-object", '{"name": "Alice", "age": 30, "admin": false, "tags": null}'),
    ("flat-array", "[1, 2, 3]"),
    ("deep", '{"a": {"b": {"c": {"d": [1, [2, [3, {"e": "deep"}]]]}}}}'),
    ("literals-in-containers", '[true, false, null, {"t": true, "f": false, "n": null}, [null]]'),
    ("array-of-strings", '["a", "", "b c", " ", "d"]'),
    ("compact", '{"a":true,"b":[false,null],"c":0,"d":{"e":"f"}}'),
    ("pointer-chars-in-keys", '{"a/b": 1, "c~d": {"~1": [2]}, "": 3, "sp ace": 4}'),
    ("repeated-keys-nested", '{"a": {"a": {"a": 1}}, "b": [{"a": 2}, {"a": 3}]}'),
    # numbers
    (
        "numbers",
        "[-0, 0.5, 1e5, 1E+2, -3.25e-4, 1.0, 10.50, 0, -1, 12345678901234567890123, 2.5E10]",
    ),
    ("numbers-in-object", '{"zero": -0, "half": 0.5, "big": 1e5, "f": 1.0, "g": 10.50}'),
    ("negative-zero-float", '{"n": -0.0, "m": [-0.0, 0.0]}'),
    ("small-exponents", "[1e-7, 1E-0, 0e0, 9.99e+99]"),
    # escapes
    (
        "simple-escapes",
        r'{"s": "quote \" backslash \\ slash \/ b \b f \f n \n r \r t \t end"}',
    ),
    ("escape-at-end", r'{"a": "x\n", "b": "y\t", "c": "z\\", "d": "q\""}'),
    ("only-backslashes", r'["\\", "\\\\", "\\\""]'),
    ("unicode-escapes", r'{"u": "caf\u00e9", "e": "\u00e9\u00e8\u00EA", "nul": "\u0000\u001f"}'),
    (
        "surrogate-pairs",
        r'{"emoji": "\ud83d\ude00 smile", "end": "x\ud83d\ude00", "k": "\uD83C\uDF89"}',
    ),
    ("raw-emoji-cjk", '{"emoji": "😀🎉", "cjk": "漢字かなカナ", "mix": "a😀b漢 c"}'),
    ("unicode-keys", '{"clé": "valeur", "키": [1], "😀": {"🎉": true}}'),
    # whitespace and tricky string contents
    ("whitespace-everywhere", '  {\n\t"a" :\t[ 1 ,\n 2 ] ,\r\n "b"\t:\n{ } ,  "c" : "d" }  \n'),
    ("leading-newlines", '\n\n  [1, {"a": "b"}]'),
    ("trailing-whitespace", '{"a": 1}   \n\n\t'),
    ("strings-with-spaces", '{"text": "hello world, how are you", "pad": "  in the middle  "}'),
    (
        "trailing-spaces-in-strings",
        '{"t": "ends with spaces   ", "u": "tab\t", "v": "   ", "w": "x"}',
    ),
    (
        "backticks-in-strings",
        '{"code": "use `x` here", "tick": "`", "three": "a```b", "end": "c``"}',
    ),
    ("escaped-newlines", '{"poem": "line one\\nline two\\n", "crlf": "a\\r\\nb"}'),
    ("raw-newlines-in-strings", '{"poem": "line one\nline two\n", "x": 1}'),
    ("numbers-as-strings", '{"v": "1.0", "w": "-0", "x": "1e5"}'),
    ("pretty", json.dumps({"a": [1, {"b": None, "c": [True, 2.5]}], "d": "e"}, indent=4)),
    ("pretty-tabs", json.dumps({"k": [1, [2, []], {}], "s": "t"}, indent="\t")),
    # fences and prose
    ("fence", '```json\n{"a": 1, "b": [true, "x"]}\n```'),
    ("fence-unclosed", '```json\n{"a": [1, 2], "b": "end"}'),
    ("fence-text-after", '```json\n{"a": 1}\n```\nHope this helps! Let me know.'),
    ("fence-no-lang", '```\n[1, 2, {"c": null}]\n```'),
    ("prose-then-fence", 'Here is the JSON you asked for:\n\n```json\n{"answer": 42}\n```'),
    ("prose-note-then-fence", 'Note: the data follows.\n```json\n["a", 2]\n```\nDone.'),
    ("prose-true-then-fence", 'True story, here it is ```json {"t": true}```'),
    ("prose-dash-then-fence", '- the list:\n```json\n[-1, "-"]\n```'),
    ("fence-top-string", '```json\n"just a string"\n```'),
    ("fence-top-number", "```json\n-12.5e1\n```"),
    ("countries", "Sure! Here are the countries:\n\n```json\n" + _COUNTRIES_JSON + "\n```\n"),
    ("countries-bare", _COUNTRIES_JSON),
]

assert len(CORPUS) >= 40
assert len({name for name, _ in CORPUS}) == len(CORPUS)


def chunkings(text: str, name: str) -> list[tuple[str, list[str]]]:
    """1-char, 4-char and five seeded random chunkings (piece sizes 1..12)."""
    out = [("by1", list(text)), ("by4", [text[i : i + 4] for i in range(0, len(text), 4)])]
    for seed in range(5):
        rng = random.Random(f"{name}/{seed}")
        pieces, i = [], 0
        while i < len(text):
            k = rng.randint(1, 12)
            pieces.append(text[i : i + k])
            i += k
        out.append((f"random{seed}", pieces))
    return out


CASES = [
    pytest.param(text, chunks, id=f"{name}-{how}")
    for name, text in CORPUS
    for how, chunks in chunkings(text, name)
]


@functools.cache
def langchain_values(chunks: tuple[str, ...]) -> list[Any]:
    """LangChain's stream for these chunks (computed once: its parser is the slow side)."""
    return list(LCJsonOutputParser().transform(iter(chunks)))


def rebuild_with_patches(patches: Iterable[list[dict[str, Any]]]) -> list[Any]:
    """Apply each RFC 6902 patch to a running document starting at None."""
    doc: Any = None
    out = []
    for patch in patches:
        doc = jsonpatch.apply_patch(doc, patch)
        out.append(copy.deepcopy(doc))
    return out


def delta_snapshots(chunks: list[str]) -> tuple[list[Any], list[Any]]:
    """Values shown by JsonStreamParser(ops="delta") at each change, and the same values
    rebuilt from its ops. As in JsonOutputParser, "nothing visible" (a half-written \\u
    escape in a top-level string) and a top-level null are not values."""
    parser = JsonStreamParser(ops="delta")
    shown, rebuilt = [], []
    doc: Any = None

    def step(changed: bool) -> None:
        nonlocal doc
        if changed:
            doc = apply_ops(doc, parser.take_ops())
            if parser.has_value and not parser.is_null:
                shown.append(copy.deepcopy(parser.value))
                rebuilt.append(copy.deepcopy(doc))

    for chunk in chunks:
        step(parser.feed(chunk))
    step(parser.close())
    return shown, rebuilt


def assert_same_sequence(ours: list[Any], theirs: list[Any], what: str) -> None:
    for k, (a, b) in enumerate(zip(ours, theirs)):
        found = strict_diff(a, b)
        assert found is None, (
            f"{what}: value {k} differs: {found}\n  streamtui: {ours!r}\n  langchain: {theirs!r}"
        )
    assert len(ours) == len(theirs), (
        f"{what}: {len(ours)} values vs {len(theirs)}\n  streamtui: {ours!r}\n"
        f"  langchain: {theirs!r}"
    )


@pytest.mark.parametrize(("text", "chunks"), CASES)
def test_stream_matches_langchain(text: str, chunks: list[str]) -> None:
    assert "".join(chunks) == text
    theirs = copy.deepcopy(langchain_values(tuple(chunks)))
    ours = list(JsonOutputParser().transform(iter(chunks)))
    ours_copies = copy.deepcopy(ours)
    assert_same_sequence(ours, theirs, "snapshots")
    # Delta ops rebuild the parser's own values, which are LangChain's values.
    shown, rebuilt = delta_snapshots(chunks)
    assert_same_sequence(shown, theirs, "JsonStreamParser values")
    assert_same_sequence(rebuilt, shown, "delta ops")
    # A snapshot is never modified after it was yielded.
    assert_same_sequence(ours, ours_copies, "snapshots after the stream")


@pytest.mark.parametrize(("text", "chunks"), CASES)
def test_diff_patches_rebuild_the_stream(text: str, chunks: list[str]) -> None:
    """diff=True: both sides' patches, applied in order with jsonpatch, rebuild
    LangChain's values (the op lists themselves differ on purpose)."""
    theirs = copy.deepcopy(langchain_values(tuple(chunks)))
    their_patches = list(LCJsonOutputParser(diff=True).transform(iter(chunks)))
    assert_same_sequence(rebuild_with_patches(their_patches), theirs, "langchain diff=True")
    our_patches = list(JsonOutputParser(diff=True).transform(iter(chunks)))
    patch_copies = copy.deepcopy(our_patches)
    assert_same_sequence(rebuild_with_patches(our_patches), theirs, "streamtui diff=True")
    assert our_patches == patch_copies  # not modified after they were yielded


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[name for name, _ in CORPUS])
def test_whole_text_matches_langchain(name: str, text: str) -> None:
    """One chunk, and invoke(): the same final value (or the same refusal)."""
    theirs = list(LCJsonOutputParser().transform(iter([text])))
    ours = list(JsonOutputParser().transform(iter([text])))
    assert_same_sequence(ours, theirs, name)
    assert_strict_equal(JsonOutputParser().invoke(text), LCJsonOutputParser().invoke(text), name)


MESSAGE_DOCS = ["countries", "surrogate-pairs", "fence-text-after", "trailing-spaces-in-strings"]


@pytest.mark.parametrize("name", MESSAGE_DOCS)
def test_message_chunks_match_langchain(name: str) -> None:
    text = dict(CORPUS)[name]
    for how, pieces in chunkings(text, name)[2:5]:
        theirs = list(
            LCJsonOutputParser().transform(iter(LCAIMessageChunk(content=p) for p in pieces))
        )
        ours = list(JsonOutputParser().transform(iter(AIMessageChunk(content=p) for p in pieces)))
        assert_same_sequence(ours, theirs, f"{name}/{how}")
        our_patches = list(
            JsonOutputParser(diff=True).transform(iter(AIMessageChunk(content=p) for p in pieces))
        )
        assert_same_sequence(rebuild_with_patches(our_patches), theirs, f"{name}/{how} diff")


async def _agen(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _acollect(parser: Any, items: list[Any]) -> list[Any]:
    return [v async for v in parser.atransform(_agen(items))]


ASYNC_DOCS = ["countries", "escape-at-end", "prose-then-fence", "numbers", "top-string"]


@pytest.mark.parametrize("name", ASYNC_DOCS)
def test_atransform_matches_langchain(name: str) -> None:
    text = dict(CORPUS)[name]
    for how, pieces in chunkings(text, name)[2:4]:
        theirs = run_async(_acollect(LCJsonOutputParser(), pieces))
        ours = run_async(_acollect(JsonOutputParser(), pieces))
        assert_same_sequence(ours, theirs, f"{name}/{how}")
        assert_same_sequence(ours, list(JsonOutputParser().transform(iter(pieces))), "sync")
        messages = [AIMessageChunk(content=p) for p in pieces]
        lc_messages = [LCAIMessageChunk(content=p) for p in pieces]
        assert_same_sequence(
            run_async(_acollect(JsonOutputParser(), messages)),
            run_async(_acollect(LCJsonOutputParser(), lc_messages)),
            f"{name}/{how} messages",
        )
        patches = run_async(_acollect(JsonOutputParser(diff=True), pieces))
        assert_same_sequence(rebuild_with_patches(patches), theirs, f"{name}/{how} diff")
