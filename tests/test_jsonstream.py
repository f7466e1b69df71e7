"""JsonStreamParser and JsonOutputParser on their own (no langchain needed).

Property tests feed ``json.dumps`` output of random values, cut at random points, and
check that what the parser shows does not depend on the chunking, that snapshots are
never modified, that both op formats rebuild every snapshot, and that arbitrary text
never makes ``feed`` raise. Unit tests pin error positions and the LangChain quirks.

The property tests are derandomized (the same examples every run). To explore with
fresh random examples, ten times as many: ``STREAMTUI_JSON_EXPLORE=1 pytest ...``.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streamtui import AIMessage, ScriptedChatModel
from streamtui.jsonstream import JsonStreamError, JsonStreamParser, apply_ops
from streamtui.runtime.parsers import JsonOutputParser, OutputParserException

from .conftest import run_async
from .strict_json import assert_strict_equal, strict_diff

try:
    import jsonpatch
except ImportError:  # a langchain-core dependency: only the JSON Patch check needs it
    jsonpatch = None

_EXPLORE = bool(os.environ.get("STREAMTUI_JSON_EXPLORE"))
PROPERTY = settings(
    max_examples=2000 if _EXPLORE else 200,
    deadline=None,
    derandomize=not _EXPLORE,
    database=None,
    # Derandomized runs report a failing example as generated (they are small): shrinking
    # and the "explain" phase can take minutes. Explore mode shrinks.
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if _EXPLORE else [])],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Arbitrary text: a deadline far above the real cost (milliseconds), to flag a blow-up.
NO_BLOWUP = settings(PROPERTY, deadline=timedelta(seconds=2))


class _Nothing:
    """'Nothing visible yet', as opposed to a visible top-level null."""

    def __deepcopy__(self, memo: Any) -> _Nothing:
        return self

    def __repr__(self) -> str:
        return "<nothing>"


_NOTHING = _Nothing()

# --- strategies -------------------------------------------------------------------

# Any character but lone surrogates, with the ones the parser treats specially made common.
_chars = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(' \t\n\r`"\\/\b\f\x00\x1féü€😀🎉漢'),
)
_text = st.text(alphabet=_chars, max_size=10)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-20, 20),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
json_values = st.recursive(
    _scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(_text, kids, max_size=4)),
    max_leaves=12,
)

_BEFORE = ["", " ", "\n\t \r\n", "```json\n", "```json", "Here it is:\n```json\n", "```\n"]
_AFTER = ["", " ", "\n", "\n```", "```", "\n```\nDone. Anything else?"]


@st.composite
def split(draw: Any, text: str) -> list[str]:
    """``text`` cut at random points (empty pieces included), or one character a piece."""
    if len(text) > 1 and draw(st.integers(0, 5)) == 0:
        return list(text)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=24)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def documents(draw: Any) -> tuple[str, str, list[str]]:
    """(the JSON body, the full text with optional fence/prose around it, its chunks)."""
    value = draw(json_values)
    body = json.dumps(
        value,
        indent=draw(st.sampled_from([None, 0, 1, 2, "\t"])),
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t")])),
    )
    text = draw(st.sampled_from(_BEFORE)) + body + draw(st.sampled_from(_AFTER))
    return body, text, draw(split(text))


@st.composite
def arbitrary_texts(draw: Any) -> tuple[str, list[str]]:
    text = draw(
        st.one_of(
            st.text(max_size=80),
            st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
            # JSON-ish soup reaches deeper into the parser than random text does.
            st.text(alphabet='{}[]",: \n\\u0123456789abcdef.eE+-truefalsnNIy`', max_size=80),
            st.builds(
                lambda a, b, c: a + b + c,
                st.sampled_from(["", "```json\n", "Note: ```", "1. "]),
                json_values.map(json.dumps),
                st.text(alphabet='{}[]",:x \\`', max_size=6),
            ),
        )
    )
    return text, draw(split(text))


def _texts_of(docs: Any) -> Any:
    return docs.map(lambda d: (d[1], d[2]))


any_texts = st.one_of(_texts_of(documents()), arbitrary_texts())

# --- helpers ----------------------------------------------------------------------


def visible(parser: JsonStreamParser) -> Any:
    return parser.value if parser.has_value else _NOTHING


def one_piece(text: str, **kwargs: Any) -> JsonStreamParser:
    parser = JsonStreamParser(**kwargs)
    parser.feed(text)
    return parser


class Run:
    """One parser fed ``chunks`` then closed. Records each change (chunk index, value,
    deep copy); with ``ops=``, applies the ops at each change and checks the rebuild."""

    def __init__(self, chunks: list[str], **kwargs: Any) -> None:
        self.parser = parser = JsonStreamParser(**kwargs)
        self.ops = kwargs.get("ops")
        self.changes: list[tuple[int, Any, Any]] = []
        self.flags: list[bool] = []
        self.doc: Any = None  # rebuilt from the ops
        self.close_error: JsonStreamError | None = None
        for i, chunk in enumerate(chunks):
            self._step(i, parser.feed(chunk))
        self.feed_error = parser.error
        try:
            self._step(len(chunks), parser.close())
        except JsonStreamError as e:
            self.close_error = e

    def _step(self, i: int, changed: bool) -> None:
        assert changed is True or changed is False
        self.flags.append(changed)
        if not changed:
            return
        value = visible(self.parser)
        self.changes.append((i, value, copy.deepcopy(value)))
        if self.ops:
            ops = self.parser.take_ops()
            self.doc = apply_ops(self.doc, copy.deepcopy(ops))
            if value is not _NOTHING:
                assert_strict_equal(self.doc, value, f"{self.ops} ops at change {i}: {ops!r}")

    def assert_unmodified(self) -> None:
        for i, value, snapshot in self.changes:
            assert_strict_equal(value, snapshot, f"the snapshot of chunk {i} was modified")


def assert_prefix_view(shown: Any, final: Any, where: str = "$") -> None:
    """Without the quirks, a partial view holds finished keys, a prefix of each list,
    and a prefix of each string (an escaped surrogate pair may show its first half)."""
    if isinstance(final, str):
        assert isinstance(shown, str), where
        if final.startswith(shown):
            return
        head, last = shown[:-1], shown[-1:]
        assert final.startswith(head) and "\ud800" <= last <= "\udbff", (where, shown, final)
        assert ord(final[len(head)]) >= 0x10000, (where, shown, final)
    elif isinstance(final, dict):
        assert isinstance(shown, dict), where
        keys = list(shown)
        assert keys == list(final)[: len(keys)], (where, keys, list(final))
        for key in keys:
            assert_prefix_view(shown[key], final[key], f"{where}[{key!r}]")
    elif isinstance(final, list):
        assert isinstance(shown, list) and len(shown) <= len(final), where
        for k, item in enumerate(shown):
            assert_prefix_view(item, final[k], f"{where}[{k}]")
    elif isinstance(final, bool) or final is None:
        assert shown is final, where  # words appear only when complete
    else:
        assert type(shown) in (int, float), where  # a number may still be growing


@contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Turn a hang into a failure (generous: this is not a timing assertion)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the parser did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- properties on valid documents --------------------------------------------------


@PROPERTY
@given(documents())
def test_close_gives_the_document(doc: tuple[str, str, list[str]]) -> None:
    """(a) after close() the value is json.loads of the body, whatever the chunking."""
    body, text, chunks = doc
    expected = json.loads(body)
    for quirks in (True, False):
        run = Run(chunks, langchain_quirks=quirks)
        parser = run.parser
        assert run.close_error is None and parser.error is None
        assert parser.complete and parser.has_value
        assert parser.is_null is (expected is None)
        assert_strict_equal(parser.value, expected, f"{text!r} in {chunks!r}")


@PROPERTY
@given(documents(), st.booleans())
def test_snapshots_do_not_depend_on_the_chunking(doc: tuple[str, str, list[str]], quirks: bool):
    """(b) each change shows what one feed of all the text so far shows, and feed() is
    True exactly when that view changed (under == with the quirks, type-strictly
    without); (c) no snapshot is modified later."""
    body, _, chunks = doc
    final = json.loads(body)
    prev: Any = _NOTHING
    parser = JsonStreamParser(langchain_quirks=quirks)
    changes = []
    for i, chunk in enumerate(chunks):
        changed = parser.feed(chunk)
        now = visible(one_piece("".join(chunks[: i + 1]), langchain_quirks=quirks))
        if changed:
            assert_strict_equal(visible(parser), now, f"chunk {i} of {chunks!r}")
            changes.append((i, visible(parser), copy.deepcopy(now)))
        if quirks:
            differs = (now is _NOTHING) != (prev is _NOTHING) or now != prev
        else:
            differs = strict_diff(now, prev) is not None
            # Without the quirks every chunk end shows the one-piece view, changed or not,
            # and partial strings are prefixes of the final ones.
            assert_strict_equal(visible(parser), now, f"chunk {i} of {chunks!r}")
            if now is not _NOTHING:
                assert_prefix_view(now, final)
        assert changed == differs, f"feed -> {changed} at chunk {i} of {chunks!r}"
        if changed:
            prev = now
    for i, value, snapshot in changes:
        assert_strict_equal(value, snapshot, f"the snapshot of chunk {i} was modified")


@PROPERTY
@given(documents())
def test_output_parser_stream_is_the_parser_changes(doc: tuple[str, str, list[str]]) -> None:
    """JsonOutputParser yields exactly the JsonStreamParser changes, minus "nothing yet"
    and a bare null; its diff=True patches rebuild them; invoke() gives the value."""
    body, text, chunks = doc
    run = Run(chunks)
    expected = [
        v for _, v, _ in run.changes if v is not _NOTHING and not (v is None and run.parser.is_null)
    ]
    stream = list(JsonOutputParser().transform(iter(chunks)))
    assert len(stream) == len(expected)
    for a, b in zip(stream, expected):
        assert_strict_equal(a, b)
    rebuilt, doc_ = [], None
    for ops in JsonOutputParser(diff=True).transform(iter(chunks)):
        doc_ = apply_ops(doc_, ops)
        rebuilt.append(copy.deepcopy(doc_))
    assert len(rebuilt) == len(expected)
    for a, b in zip(rebuilt, expected):
        assert_strict_equal(a, b)
    assert_strict_equal(JsonOutputParser().invoke(text), json.loads(body))


# --- ops --------------------------------------------------------------------------


def _check_ops(mode: str, chunks: list[str], quirks: bool) -> None:
    plain = Run(chunks, langchain_quirks=quirks)
    run = Run(chunks, ops=mode, langchain_quirks=quirks)  # checks the rebuild at each change
    # Asking for ops changes nothing else.
    assert len(run.changes) == len(plain.changes)
    for (i, a, _), (j, b, _) in zip(run.changes, plain.changes):
        assert i == j
        assert_strict_equal(a, b)
    assert (run.close_error is None) == (plain.close_error is None)
    run.assert_unmodified()
    if run.parser.has_value and run.parser.error is None:
        # Ops queued after the last change (a 1 that became 1.0) bring the rebuild to
        # the final value.
        doc = apply_ops(run.doc, run.parser.take_ops())
        assert_strict_equal(doc, run.parser.value, f"{mode} ops at the end of {chunks!r}")


@PROPERTY
@given(any_texts, st.booleans())
def test_delta_ops_rebuild_every_snapshot(case: tuple[str, list[str]], quirks: bool) -> None:
    """(d) delta ops (strings grow by "append"), applied in order, rebuild each value."""
    _check_ops("delta", case[1], quirks)


@PROPERTY
@given(any_texts, st.booleans())
def test_rfc6902_ops_rebuild_every_snapshot(case: tuple[str, list[str]], quirks: bool) -> None:
    """(d) the same with RFC 6902 ops, applied by apply_ops."""
    _check_ops("rfc6902", case[1], quirks)


@pytest.mark.skipif(jsonpatch is None, reason="jsonpatch is not installed")
@PROPERTY
@given(documents(), st.booleans())
def test_rfc6902_ops_are_plain_json_patch(doc: tuple[str, str, list[str]], quirks: bool) -> None:
    """(d) the RFC 6902 ops work with the jsonpatch library, as LangChain's do."""
    chunks = doc[2]
    parser = JsonStreamParser(ops="rfc6902", langchain_quirks=quirks)
    rebuilt: Any = None
    for chunk in chunks:
        if parser.feed(chunk) and parser.has_value:
            rebuilt = jsonpatch.apply_patch(rebuilt, parser.take_ops())
            assert_strict_equal(rebuilt, parser.value, f"jsonpatch, {chunks!r}")


# --- arbitrary text ---------------------------------------------------------------


@NO_BLOWUP
@given(arbitrary_texts())
def test_arbitrary_text_never_breaks_feed(case: tuple[str, list[str]]) -> None:
    """(e) feed never raises, close returns a bool or raises JsonStreamError, nothing
    hangs, and an error's line and column match its offset."""
    text, chunks = case
    for quirks in (True, False):
        with watchdog(20):
            run = Run(chunks, langchain_quirks=quirks)
        run.assert_unmodified()
        error = run.parser.error
        if error is None:
            assert run.close_error is None
            continue
        assert run.close_error is error
        assert 0 <= error.offset <= len(text)
        assert error.line == text.count("\n", 0, error.offset) + 1, error
        assert error.column == error.offset - (text.rfind("\n", 0, error.offset) + 1) + 1, error
        assert f"offset {error.offset} (line {error.line}, column {error.column})" in str(error)
        if run.feed_error is not None:  # stopped at a bad character
            assert error.found == text[error.offset], error
            assert run.parser.feed("more") is False and run.parser.error is error


def _outcome(run: Run) -> list[Any]:
    e = run.parser.error
    if e is not None:
        return ["error", e.offset, e.line, e.column, e.reason, e.found, visible(run.parser)]
    return ["ok", visible(run.parser), run.parser.complete, run.parser.is_null]


@NO_BLOWUP
@given(arbitrary_texts())
def test_arbitrary_text_outcome_does_not_depend_on_the_chunking(case: tuple[str, list[str]]):
    """The value, or the error and the value kept, after close() are those of the text
    in one piece."""
    text, chunks = case
    expected = _outcome(Run([text]))
    got = _outcome(Run(chunks))
    assert strict_diff(got, expected) is None, f"{chunks!r}: {got} != {expected}"


@NO_BLOWUP
@given(arbitrary_texts(), st.booleans())
def test_an_error_keeps_the_value_of_the_text_before_it(case: tuple[str, list[str]], quirks):
    """After feed stops at a bad character (offset k), the value is the one-piece view of
    text[:k]: the last good value."""
    text, chunks = case
    run = Run(chunks, langchain_quirks=quirks)
    error = run.feed_error
    if error is not None:
        before = one_piece(text[: error.offset], langchain_quirks=quirks)
        assert_strict_equal(visible(run.parser), visible(before), f"{chunks!r} {error}")


# --- errors: position and what stays visible ---------------------------------------


def feed_all(chunks: list[str], **kwargs: Any) -> tuple[JsonStreamParser, list[Any]]:
    parser = JsonStreamParser(**kwargs)
    seen = [parser.value for chunk in chunks if parser.feed(chunk)]
    return parser, seen


@pytest.mark.parametrize(
    ("chunks", "offset", "line", "column", "found", "reason"),
    [
        (['{"a": 1, "b": x}'], 14, 1, 15, "x", "expected a JSON value"),
        (['{"a": 1, ', '"b": x}'], 14, 1, 15, "x", "expected a JSON value"),
        (['{\n  "a": [1,\n        2,,\n  ]\n}'], 23, 3, 11, ",", "expected a JSON value"),
        (
            ['{\n  "a": tr', 'ue,\n  "b": nul', "x\n}"],
            25,
            3,
            11,
            "x",
            "expected true, false or null",
        ),
        (['{"a": "\\u00', 'zz"}'], 11, 1, 12, "z", "expected 4 hex digits after \\u"),
        (['{"a": "x\\', 'q"}'], 9, 1, 10, "q", "after"),
        (["[1", ".", "x]"], 3, 1, 4, "x", "expected a digit"),
        (["[1 2]"], 3, 1, 4, "2", "expected ',' or ']'"),
        (['{"a" 1}'], 5, 1, 6, "1", "expected ':'"),
        (["{1: 2}"], 1, 1, 2, "1", "expected '\"' or '}'"),
        (["[01]"], 2, 1, 3, "1", "expected a digit, '.', 'e', ',' or a closer"),
        (["[True]"], 1, 1, 2, "T", "expected a JSON value"),
        (['Sure:\n```json\n{"a": 1,\n "b": ]}'], 29, 4, 7, "]", "expected a JSON value"),
        (["Sure:\n``", '`json\n{"a": 1,\n', ' "b": ]}'], 29, 4, 7, "]", "expected a JSON value"),
    ],
)
def test_error_position(chunks, offset, line, column, found, reason):
    parser, _ = feed_all(chunks)
    error = parser.error
    assert isinstance(error, JsonStreamError)
    assert (error.offset, error.line, error.column, error.found) == (offset, line, column, found)
    assert reason in error.reason
    assert f"offset {offset} (line {line}, column {column})" in str(error)
    with pytest.raises(JsonStreamError) as info:
        parser.close()
    assert info.value is error
    assert parser.feed('"more"') is False  # stopped for good


def test_an_error_keeps_the_last_good_value():
    parser, seen = feed_all(['{"a": [1, 2], "b": "te', 'xt", "c": tru', "x, ", '"d": 4}'])
    assert seen == [{"a": [1, 2], "b": "te"}, {"a": [1, 2], "b": "text"}]
    assert parser.error is not None and parser.error.offset == 35
    assert parser.value == {"a": [1, 2], "b": "text"}
    assert not parser.complete


def test_truncated_document_is_not_an_error_but_not_complete():
    parser, seen = feed_all(['{"a": [1, {"b": "unfin', "ished"])
    assert parser.close() is False
    assert parser.error is None and not parser.complete and parser.has_value
    assert parser.value == {"a": [1, {"b": "unfinished"}]}
    assert seen[-1] == parser.value


@pytest.mark.parametrize("text", ["", "   \n", "no json here", "12.", "tru", "-"])
def test_no_value_at_all_is_an_error_at_close(text):
    parser = JsonStreamParser()
    parser.feed(text)
    with pytest.raises(JsonStreamError, match="expected a JSON value or a ```json fence"):
        parser.close()
    assert (parser.error.offset, parser.error.line, parser.error.column) == (0, 1, 1)


def test_close_finishes_a_top_level_number():
    parser = JsonStreamParser()
    assert parser.feed("-12") is True and parser.value == -12 and not parser.complete
    parser.close()
    assert parser.complete and parser.value == -12


# --- the LangChain quirks, on and off ------------------------------------------------


def test_one_then_one_point_zero_is_not_a_change_with_quirks():
    with_quirks, seen = feed_all(["[1", ".", "0", "]"])
    assert seen == [[1]] and type(seen[0][0]) is int
    assert with_quirks.complete and type(with_quirks.value[0]) is float  # the final value
    _, seen = feed_all(["[1", ".", "0", "]"], langchain_quirks=False)
    assert len(seen) == 2
    assert_strict_equal(seen[0], [1])
    assert_strict_equal(seen[1], [1.0])
    assert_strict_equal(list(JsonOutputParser().transform(iter(["[1", ".0]"]))), [[1]])
    assert_strict_equal(
        list(JsonOutputParser(langchain_quirks=False).transform(iter(["[1", ".0]"]))),
        [[1], [1.0]],
    )


def test_half_written_unicode_escape_hides_the_member_with_quirks():
    chunks = ['{"a": 1, "s": "caf', "\\u00", 'e9 au lait"}']
    _, seen = feed_all(chunks)
    assert seen == [{"a": 1, "s": "caf"}, {"a": 1}, {"a": 1, "s": "café au lait"}]
    _, seen = feed_all(chunks, langchain_quirks=False)
    assert seen == [{"a": 1, "s": "caf"}, {"a": 1, "s": "café au lait"}]


def test_trailing_whitespace_and_backticks_are_held_back_with_quirks():
    chunks = ['{"s": "a ', "\t", "b`", "`", "c  ", '"}']
    _, seen = feed_all(chunks)
    assert seen == [{"s": "a"}, {"s": "a \tb"}, {"s": "a \tb``c"}, {"s": "a \tb``c  "}]
    _, seen = feed_all(chunks, langchain_quirks=False)
    assert seen == [
        {"s": "a "},
        {"s": "a \t"},
        {"s": "a \tb`"},
        {"s": "a \tb``"},
        {"s": "a \tb``c  "},
    ]


def test_escaped_whitespace_is_not_held_back():
    _, seen = feed_all(['{"s": "a\\n', '"}'])
    assert seen == [{"s": "a\n"}]


def test_surrogate_pair_split_across_chunks():
    chunks = ['["x\\ud83d', '\\ude00y"]']
    for quirks in (True, False):
        for mode in ("delta", "rfc6902"):
            run = Run(chunks, ops=mode, langchain_quirks=quirks)
            assert [v for _, v, _ in run.changes] == [["x\ud83d"], ["x😀y"]]
            assert run.parser.value == ["x😀y"]


# --- regressions: bugs these tests found (fixed in 186ec8f) ------------------------


def test_delta_ops_after_a_second_escaped_surrogate_pair_in_the_chunk():
    # Chunk 1 ends between the halves of an escaped pair, so "\ud83d" is shown; chunk 2
    # completes it and holds a second escaped pair. The second join used to reset the
    # "shown character rewritten" flag: the delta op appended "😀" to "\ud83d".
    chunks = ['["\\ud83d', '\\ude00\\ud83d\\ude00"]']
    for quirks in (True, False):
        run = Run(chunks, ops="delta", langchain_quirks=quirks)  # checks each rebuild
        assert [v for _, v, _ in run.changes] == [["\ud83d"], ["😀😀"]]
        assert_strict_equal(run.doc, ["😀😀"])


def test_rfc6902_ops_never_remove_the_whole_document():
    # A visible top-level string hidden by a half-written \u escape (the quirk) used to
    # get {"op": "remove", "path": ""}, which jsonpatch refuses ("can't remove the whole
    # document").
    chunks = ['"caf', "\\u00", 'e9"']
    patches = list(JsonOutputParser(diff=True).transform(iter(chunks)))
    values = list(JsonOutputParser().transform(iter(chunks)))
    assert values == ["caf", "café"]  # as LangChain: nothing is yielded while hidden
    root_removals = [op for patch in patches for op in patch if op == {"op": "remove", "path": ""}]
    assert root_removals == [], patches
    doc: Any = None
    rebuilt = []
    for patch in patches:
        doc = jsonpatch.apply_patch(doc, patch) if jsonpatch else apply_ops(doc, patch)
        rebuilt.append(doc)
    assert rebuilt == values


@pytest.mark.parametrize(
    ("text", "cut", "expected"),
    [
        ("trueish", 4, ["ok", True, True, False]),
        ("nullA", 4, ["ok", None, True, True]),
        ("[truex]", 5, ["error", 5, 1, 6, "expected ',' or ']'", "x", [True]]),
        ('{"a": falsey}', 11, ["error", 11, 1, 12, "expected ',' or '}'", "y", {"a": False}]),
    ],
)
def test_a_literal_followed_by_letters_does_not_depend_on_the_chunking(text, cut, expected):
    # In one chunk the letters used to make the whole run a bad word ("trueish": no JSON
    # at all; "[truex]": value []), while a cut right after the literal committed it.
    # LangChain yields True for "trueish".
    for chunks in ([text], [text[:cut], text[cut:]], list(text)):
        assert_strict_equal(_outcome(Run(chunks)), expected, repr(chunks))


@pytest.mark.parametrize(
    ("chunks", "last_good"),
    [
        (['["x \\', 'q"]'], ["x "]),  # was ["x"]: the trailing space held back again
        (['{"a": "\\u12', 'G4"}'], {}),  # was {"a": ""}: the hidden member reappeared
    ],
)
def test_an_error_right_after_an_escape_keeps_the_value_shown(chunks, last_good):
    parser = JsonStreamParser()
    assert parser.feed(chunks[0]) is True
    assert parser.value == last_good
    assert parser.feed(chunks[1]) is False
    assert parser.error is not None and parser.value == last_good
    stream: list[Any] = []
    with pytest.raises(OutputParserException):
        stream.extend(JsonOutputParser().transform(iter(chunks)))
    assert stream == [last_good]


# --- JsonOutputParser ------------------------------------------------------------


def test_top_level_null_is_never_yielded():
    assert list(JsonOutputParser().transform(iter(["nu", "ll"]))) == []
    assert list(JsonOutputParser(diff=True).transform(iter(["null"]))) == []
    assert JsonOutputParser().invoke("null") is None
    parser = one_piece("null")
    assert parser.is_null and parser.has_value and parser.value is None


def test_invoke_on_an_ai_message():
    message = AIMessage(content='Here:\n```json\n{"a": [1, 2.5, "x"]}\n```')
    assert_strict_equal(JsonOutputParser().invoke(message), {"a": [1, 2.5, "x"]})


def test_invoke_without_json_raises():
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke("I'm sorry, I can't do that.")
    assert info.value.llm_output == "I'm sorry, I can't do that."
    assert "offset 0 (line 1, column 1)" in str(info.value)


def test_invoke_on_malformed_json_raises_with_the_position():
    with pytest.raises(OutputParserException, match=r"offset 14 \(line 1, column 15\)"):
        JsonOutputParser().invoke('{"a": 1, "b": x}')


def test_stream_of_malformed_json_yields_the_last_good_value_then_raises():
    chunks = ['{"items": [', "1, 2", "]", ", ", '"b": [}']
    seen: list[Any] = []
    with pytest.raises(OutputParserException) as info:
        for value in JsonOutputParser().transform(iter(chunks)):
            seen.append(value)
    assert seen == [{"items": []}, {"items": [1, 2]}, {"items": [1, 2], "b": []}]
    message = str(info.value)
    assert "offset 24 (line 1, column 25)" in message and "found '}'" in message
    assert "expected a JSON value" in message
    assert info.value.llm_output == "".join(chunks)
    assert isinstance(info.value.__cause__, JsonStreamError)


def test_astream_of_malformed_json_yields_the_last_good_value_then_raises():
    async def main() -> tuple[list[Any], BaseException | None]:
        async def chunks():
            for c in ["[1, ", "2, ", "]"]:
                yield c

        seen: list[Any] = []
        try:
            async for value in JsonOutputParser().atransform(chunks()):
                seen.append(value)
        except OutputParserException as e:
            return seen, e
        return seen, None

    seen, error = run_async(main())
    assert seen == [[1], [1, 2]]
    assert error is not None and "offset 7" in str(error)


@pytest.mark.parametrize("diff", [False, True])
def test_astream_events_stream_chunks_are_the_stream_values(diff: bool) -> None:
    pieces = ['```json\n{"name": "Ad', 'a", "langs": ["en"', ', "fr"], "n": 1', ".5}\n```"]
    chain = ScriptedChatModel([pieces]) | JsonOutputParser(diff=diff)
    streamed = list(chain.stream("hi"))

    async def main() -> list[dict[str, Any]]:
        return [e async for e in chain.astream_events("hi", version="v2")]

    events = run_async(main())
    parser_events = [e for e in events if e["event"].startswith("on_parser_")]
    assert parser_events[0]["event"] == "on_parser_start"
    assert parser_events[-1]["event"] == "on_parser_end"
    chunks = [e["data"]["chunk"] for e in parser_events if e["event"] == "on_parser_stream"]
    assert len(chunks) == len(streamed) >= 4
    for a, b in zip(chunks, streamed):
        assert_strict_equal(a, b)
    final = {"name": "Ada", "langs": ["en", "fr"], "n": 1.5}
    if diff:
        doc = None
        for ops in chunks:
            doc = apply_ops(doc, ops)
        assert_strict_equal(doc, final)
    else:
        assert_strict_equal(chunks[-1], final)
        assert_strict_equal(parser_events[-1]["data"]["output"], final)


def test_astream_matches_stream_for_message_chunks():
    model = ScriptedChatModel(['{"a": [1, {"b": "c d"}], "e": null}'], chunking="chars")
    chain = model | JsonOutputParser()
    streamed = list(chain.stream("x"))

    async def main() -> list[Any]:
        return [v async for v in chain.astream("x")]

    assert run_async(main()) == streamed
    assert_strict_equal(streamed[-1], {"a": [1, {"b": "c d"}], "e": None})


def test_strict_helper_distinguishes_what_the_parsers_must():
    assert strict_diff(1, 1.0) and strict_diff(1, True) and strict_diff(0, False)
    assert strict_diff(0.0, -0.0)
    assert strict_diff({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert strict_diff([1, [2.5, {"x": None}]], [1, [2.5, {"x": None}]]) is None
    assert strict_diff([1, [2.5, {"x": None}]], [1, [2.5, {"x": False}]])
    assert strict_diff([], [None])
