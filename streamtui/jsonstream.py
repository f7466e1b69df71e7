"""Incremental JSON: follow a document while a model writes it, in linear time.

LangChain's ``JsonOutputParser`` re-parses the whole text on every chunk (quadratic, and
cubic inside a ```` ```json ```` fence). ``JsonStreamParser`` keeps its place between
chunks: each chunk costs time proportional to its own length. The value it shows after
each chunk is the one LangChain shows (``docs/compat.md`` lists the few deliberate
differences), so ``model | JsonOutputParser()`` streams the same objects.

Three views of the same progress, all cheap:

- ``feed(text)`` says whether the visible value changed;
- ``value`` is a snapshot that never changes afterwards. Closed containers are shared
  between snapshots; only the containers still open (the path being written) are copied;
- ``take_ops()`` lists what changed as JSON-Pointer operations: ``"delta"`` ops grow a
  string with ``append`` (linear in the input, what the TUI redraws from), ``"rfc6902"``
  ops are plain JSON Patch (``JsonOutputParser(diff=True)``).

Malformed input stops the parser at the first bad character: ``error`` names the offset,
line, column and what was expected, and the last good value stays available.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

__all__ = ["JsonStreamError", "JsonStreamParser", "OpsMode", "apply_ops"]

OpsMode = Literal["delta", "rfc6902"]

_ABSENT: Any = object()

# Parser states. The hot ones (inside a string, between values) come first in _consume.
_PRE = 0  # before the document: whitespace, backticks, prose
_PROSE = 1  # text that is not JSON: waiting for a ``` fence
_FENCE_LANG = 2  # right after ```: an optional "json"
_FENCE_BODY = 3  # after the fence line: the value must start here
_VALUE = 4  # a value must start here
_FIRST_ITEM = 5  # after "[": a value or "]"
_FIRST_KEY = 6  # after "{": a key or "}"
_KEY = 7  # after "," in an object: a key
_COLON = 8
_AFTER = 9  # after a value inside a container: "," or the closer
_STRING = 10
_NUMBER = 11
_LITERAL = 12
_DONE = 13  # the top-level value is complete; the rest of the text is ignored

_JSON_WS = re.compile(r"[ \t\n\r]*").match
_LEADING = re.compile(r"[\s`]*").match  # what LangChain strips before the document
_FENCE_LEADING = re.compile(r"[ \t\n\r`]*").match
_STRING_RUN = re.compile(r'[^"\\]*').match
_NUMBER_RUN = re.compile(r"[-+0-9.eE]*").match
_LETTERS = re.compile(r"[A-Za-z]*").match
_HEX = re.compile(r"[0-9a-fA-F]*").match
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").match
_NUMBER_PREFIX = re.compile(
    r"-?(?:(?:0|[1-9][0-9]*)(?:\.(?:[0-9]+(?:[eE][+-]?[0-9]*)?)?|[eE][+-]?[0-9]*)?)?\Z"
).match

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# Python's json module accepts NaN and the infinities; so does LangChain, so do we.
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": math.nan,
    "Infinity": math.inf,
    "-Infinity": -math.inf,
}
_LITERAL_PREFIXES = frozenset(w[:k] for w in _LITERALS for k in range(1, len(w) + 1))
_SCALAR_STARTS = frozenset("-0123456789tfnNI")
_CLOSERS = {True: "}", False: "]"}


class JsonStreamError(ValueError):
    """The text is not JSON from ``offset`` on (0-based, in characters of the input)."""

    def __init__(self, reason: str, *, offset: int, line: int, column: int, found: str) -> None:
        shown = repr(found) if found else "the end of the input"
        super().__init__(
            f"invalid JSON at offset {offset} (line {line}, column {column}): "
            f"{reason}, found {shown}"
        )
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
        self.found = found


class _Frame:
    """One open container: the object being filled and where its next member goes."""

    __slots__ = ("is_dict", "key", "obj", "path")

    def __init__(self, obj: Any, is_dict: bool, path: str) -> None:
        self.obj = obj
        self.is_dict = is_dict
        self.key: str = ""
        self.path = path


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if ("~" in key or "/" in key) else key


class JsonStreamParser:
    """Parses one JSON document fed in pieces; see the module docstring.

    ``langchain_quirks`` (default on) reproduces what LangChain shows mid-stream:
    whitespace and backticks at the very end of a partial string are held back, a string
    member disappears while a ``\\u`` escape is half written, and ``1`` then ``1.0`` counts
    as no change. Off, partial strings show everything decoded so far and numbers compare
    type-strictly.
    """

    def __init__(self, *, ops: OpsMode | None = None, langchain_quirks: bool = True) -> None:
        self._quirks = langchain_quirks
        self._rfc = ops == "rfc6902"
        self._ops: list[dict[str, Any]] | None = [] if ops is not None else None
        self.error: JsonStreamError | None = None
        self._state = _PRE
        self._stack: list[_Frame] = []
        self._root: Any = _ABSENT
        self._carry = ""  # an escape or fence marker cut by a chunk boundary
        self._pre = ""  # everything before the document (prose) while it may hide a fence
        self._pre_searched = 0
        self._tentative = False  # a bare number or word at the start may still be prose
        self._base = 0  # offset in the whole input of the text being scanned
        self._jump: tuple[str, int] | None = None  # text to scan instead (after a fence)
        self._lines = 0  # newlines before the text being scanned
        self._line_start = 0  # offset where the line containing that text's start begins
        # The value being written (string, number or word) is the "tail".
        self._seq = 0  # which tail: bumped at each new scalar
        self._tail_is_str = False
        self._tail_path = ""
        self._tail_start = 0
        self._in_key = False
        self._s = ""
        self._esc_end = 0  # string length after the last escape: held-back spaces stop there
        self._pair_at = -1  # string length just after a high surrogate from an escape
        self._tail_rewritten = False  # a surrogate pair replaced a character already shown
        self._num = ""
        self._word = ""
        self._tok: Any = _ABSENT  # the tail's visible form after the last feed
        # What the consumer has seen at the last change: structure version and tail.
        self._struct = 0
        self._seen_struct = 0
        self._seen_seq = -1
        self._seen_tok: Any = _ABSENT

    # --- public --------------------------------------------------------------------

    def feed(self, text: str) -> bool:
        """Take the next piece of text; True when the visible value changed."""
        if self.error is not None or self._state == _DONE:
            return False
        if self._tentative:
            self._pre += text  # kept in case the start turns out to be prose
        if self._carry:
            text = self._carry + text
            self._base -= len(self._carry)
            self._carry = ""
        elif self._state == _STRING and '"' not in text and "\\" not in text:
            # Most chunks only extend a string: no scanning needed.
            s = self._s
            self._s = ""
            s += text
            self._s = s
            self._count_lines(text)
            self._base += len(text)
            return self._settle()
        self._consume(text)
        return self._settle()

    def close(self) -> bool:
        """The input has ended: finish a top-level number or word, check a value exists.

        Returns whether the visible value changed. Raises ``JsonStreamError`` if the input
        was malformed or held no JSON value. A document cut off inside a container is not
        an error (LangChain returns what it has); ``complete`` tells the two apart.
        """
        if self.error is not None:
            raise self.error
        if self._state == _NUMBER:
            m = _NUMBER(self._num)
            if m is not None and m.end() == len(self._num):
                self._commit(self._number_value(self._num))
        if self._tentative and self._state != _DONE:
            self._fail_tentative(0)  # a cut-off "1." or "tru" at the start: prose
            self._jump = None
        if not self._stack and self._root is _ABSENT and self._tail() is _ABSENT:
            if self._state in (_PRE, _PROSE, _FENCE_LANG, _FENCE_BODY):
                found = self._pre.strip()[:30]
                self._error("expected a JSON value or a ```json fence", 0, 1, 1, found)
            else:
                end = self._base + len(self._carry)
                column = end - self._line_start + 1
                self._error("expected the rest of the value", end, self._lines + 1, column, "")
            raise self.error  # type: ignore[misc]
        return self._settle()

    @property
    def complete(self) -> bool:
        """The top-level value has been read to its end."""
        return self._state == _DONE

    @property
    def offset(self) -> int:
        """Characters taken so far (a cut escape or fence marker is not yet counted)."""
        return self._base

    @property
    def value(self) -> Any:
        """The document as far as it is visible; ``None`` before anything is.

        A new object each time it changes, never modified afterwards: containers still
        open are copied, finished ones are shared with earlier snapshots (treat them as
        read-only).
        """
        if self._state == _DONE:
            return self._root
        tail = self._tail_value()
        stack = self._stack
        if not stack:
            return None if tail is _ABSENT else tail
        top = stack[-1]
        out = top.obj.copy()
        if tail is not _ABSENT:
            if top.is_dict:
                out[top.key] = tail
            else:
                out.append(tail)
        for k in range(len(stack) - 2, -1, -1):
            frame = stack[k]
            parent = frame.obj.copy()
            if frame.is_dict:
                parent[frame.key] = out
            else:
                parent[-1] = out
            out = parent
        return out

    @property
    def is_null(self) -> bool:
        """The document is a bare ``null`` (which LangChain never yields)."""
        return self._root is None

    @property
    def has_value(self) -> bool:
        """Something is visible (``value`` is not just the ``None`` of "nothing yet")."""
        return bool(self._stack) or self._root is not _ABSENT or self._tok is not _ABSENT

    def take_ops(self) -> list[dict[str, Any]]:
        """The operations since the last call; applied in order they rebuild ``value``
        as of the last change. Needs ``ops=`` at construction."""
        ops = self._ops
        if ops is None:
            raise RuntimeError("create the parser with ops='delta' or ops='rfc6902'")
        self._ops = []
        return ops

    # --- scanning ------------------------------------------------------------------

    def _consume(self, text: str) -> None:
        """Advance through ``text``; stops at its end, at a cut token, or at an error."""
        i = 0
        n = len(text)
        while i < n:
            state = self._state
            if state == _STRING:
                j = _STRING_RUN(text, i).end()
                if j > i:
                    s = self._s
                    self._s = ""  # one reference left, so += can extend in place
                    s += text[i:j]
                    self._s = s
                if j == n:
                    break
                if text[j] == '"':
                    i = j + 1
                    self._end_string()
                    continue
                i = self._escape(text, j)
            elif state == _AFTER:
                j = _JSON_WS(text, i).end()
                if j == n:
                    break
                c = text[j]
                is_dict = self._stack[-1].is_dict
                if c == ",":
                    self._state = _KEY if is_dict else _VALUE
                    i = j + 1
                elif c == _CLOSERS[is_dict]:
                    self._close_container()
                    i = j + 1
                else:
                    i = self._fail_at(text, j, f"expected ',' or '{_CLOSERS[is_dict]}'")
            elif state in (_VALUE, _FIRST_ITEM):
                j = _JSON_WS(text, i).end()
                if j == n:
                    break
                if state == _FIRST_ITEM and text[j] == "]":
                    self._close_container()
                    i = j + 1
                else:
                    i = self._start_value(text, j)
            elif state in (_KEY, _FIRST_KEY):
                j = _JSON_WS(text, i).end()
                if j == n:
                    break
                c = text[j]
                if c == '"':
                    self._state = _STRING
                    self._in_key = True
                    self._s = ""
                    self._esc_end = 0
                    self._pair_at = -1
                    i = j + 1
                elif c == "}" and state == _FIRST_KEY:
                    self._close_container()
                    i = j + 1
                else:
                    want = "expected '\"' or '}'" if state == _FIRST_KEY else "expected '\"'"
                    i = self._fail_at(text, j, want)
            elif state == _COLON:
                j = _JSON_WS(text, i).end()
                if j == n:
                    break
                if text[j] == ":":
                    self._state = _VALUE
                    i = j + 1
                else:
                    i = self._fail_at(text, j, "expected ':'")
            elif state == _NUMBER:
                i = self._scan_number(text, i)
            elif state == _LITERAL:
                i = self._scan_word(text, i)
            elif state == _DONE:
                break
            else:
                i = self._preamble(text, i)
            if i < 0:  # stopped: a cut escape, an error, or a jump into the fence's text
                if self._jump is None:
                    break
                text, i = self._jump
                n = len(text)
                self._jump = None
        self._count_lines(text)
        self._base += n

    def _count_lines(self, text: str) -> None:
        newlines = text.count("\n")
        if newlines:
            self._lines += newlines
            self._line_start = self._base + text.rfind("\n") + 1

    def _start_value(self, text: str, j: int) -> int:
        """Begin the value whose first character is ``text[j]``."""
        c = text[j]
        if c == '"':
            self._start_tail(is_str=True, at=j)
            self._state = _STRING
            self._in_key = False
            self._s = ""
            self._esc_end = 0
            self._pair_at = -1
            return j + 1
        if c == "{" or c == "[":
            self._open(c == "{")
            return j + 1
        if c in _SCALAR_STARTS:
            self._start_tail(is_str=False, at=j)
            if c == "-" or c.isdigit():
                self._state = _NUMBER
                self._num = ""
            else:
                self._state = _LITERAL
                self._word = ""
            return j
        return self._fail_at(text, j, "expected a JSON value")

    def _escape(self, text: str, j: int) -> int:
        """Decode the escape whose backslash is at ``text[j]``."""
        n = len(text)
        if j + 1 >= n:
            return self._cut(text, j)
        e = text[j + 1]
        if e == "u":
            digits = text[j + 2 : j + 6]
            good = _HEX(digits).end()
            if good < len(digits):
                self._carry = text[j : j + 2 + good]  # shown as it was before the bad digit
                return self._fail_at(text, j + 2 + good, "expected 4 hex digits after \\u")
            if len(digits) < 4:
                return self._cut(text, j)
            code = int(digits, 16)
            s = self._s
            if 0xDC00 <= code <= 0xDFFF and self._pair_at == len(s):
                # Python's json joins an escaped surrogate pair into one character.
                code = 0x10000 + ((ord(s[-1]) - 0xD800) << 10) + (code - 0xDC00)
                seen = self._seen_tok
                if self._seen_seq == self._seq and seen is not _ABSENT and seen >= len(s):
                    self._tail_rewritten = True  # the consumer was shown the lone high half
                s = s[:-1] + chr(code)
            else:
                s += chr(code)
                if 0xD800 <= code <= 0xDBFF:
                    self._pair_at = len(s)
            self._s = s
            self._esc_end = len(s)
            return j + 6
        decoded = _ESCAPES.get(e)
        if decoded is None:
            self._carry = "\\"  # shown as it was before the bad character
            return self._fail_at(text, j + 1, 'expected one of " \\ / b f n r t u after "\\"')
        s = self._s
        self._s = ""
        s += decoded
        self._s = s
        self._esc_end = len(s)
        return j + 2

    def _scan_number(self, text: str, i: int) -> int:
        j = _NUMBER_RUN(text, i).end()
        num = self._num + text[i:j]
        self._num = num
        if j == len(text):
            if _NUMBER_PREFIX(num):
                return j
            return self._bad_number(text, j)
        if num == "-" and text[j] == "I":
            self._state = _LITERAL
            self._word = "-"
            return j
        m = _NUMBER(num)
        if m is None or m.end() != len(num):
            return self._bad_number(text, j)
        self._commit(self._number_value(num))
        return j

    def _bad_number(self, text: str, j: int) -> int:
        num = self._num
        good = next((k for k in range(len(num), 0, -1) if _NUMBER_PREFIX(num[:k])), 0)
        at = j - (len(num) - good)
        if good == len(num):  # a valid prefix that stopped too early: "1.", "-", "1e+"
            return self._fail_at(text, j, "expected a digit")
        self._num = num[:good]
        return self._fail_at(text, at, "expected a digit, '.', 'e', ',' or a closer")

    def _scan_word(self, text: str, i: int) -> int:
        j = _LETTERS(text, i).end()
        word = self._word + text[i:j]
        if word not in _LITERAL_PREFIXES:
            for literal, value in _LITERALS.items():
                if word.startswith(literal):  # "true" then letters: like "true" then a cut
                    self._commit(value)
                    return i + len(literal) - len(self._word)
            good = max(k for k in range(len(word)) if k == 0 or word[:k] in _LITERAL_PREFIXES)
            return self._fail_at(text, i + good - len(self._word), "expected true, false or null")
        self._word = word
        if word in _LITERALS:
            self._commit(_LITERALS[word])
        elif j < len(text):
            return self._fail_at(text, j, "expected true, false or null")
        return j

    def _preamble(self, text: str, i: int) -> int:
        """Before the document: skip what LangChain strips; in prose, find a ``` fence."""
        state = self._state
        n = len(text)
        if state == _FENCE_LANG:
            rest = text[i : i + 4].lower()  # LangChain only knows "json"; "JSON" is common
            if len(rest) < 4 and "json".startswith(rest):
                return self._cut(text, i)
            self._state = _FENCE_BODY
            return i + 4 if rest == "json" else i
        if state == _FENCE_BODY:
            j = _FENCE_LEADING(text, i).end()
            if j == n:
                return n
            c = text[j]
            if c in _SCALAR_STARTS or c in '{["':
                self._state = _VALUE
                return j
            return self._fail_at(text, j, "expected a JSON value after the ``` fence")
        self._pre += text[i:]
        if state == _PRE:
            j = _LEADING(text, i).end()
            if j == n:
                return n
            c = text[j]
            if c in '{["':
                self._pre = ""
                self._state = _VALUE
                return j
            if c in _SCALAR_STARTS:
                # "1." or "Note:" may be prose before a fence: decided when the word ends.
                self._tentative = True
                self._state = _VALUE
                return j
            self._state = _PROSE
        return self._find_fence(n)

    def _find_fence(self, n: int) -> int:
        """Look for ``` in the prose so far; jump to what follows it, or use up the chunk."""
        pre = self._pre
        k = pre.find("```", max(0, self._pre_searched - 2))
        self._pre_searched = len(pre)
        if k < 0:
            return n
        self._state = _FENCE_LANG
        self._tentative = False
        self._pre = ""
        # The prose starts at offset 0, so the fence's text starts at offset k + 3.
        self._jump = (pre[k + 3 :], 0)
        self._base = k + 3
        self._lines = pre.count("\n", 0, k + 3)
        self._line_start = pre.rfind("\n", 0, k + 3) + 1
        return -1

    def _cut(self, text: str, j: int) -> int:
        """A token continues in the next chunk: keep its start for then."""
        self._carry = text[j:]
        return len(text)

    # --- errors --------------------------------------------------------------------

    def _fail_at(self, text: str, j: int, reason: str) -> int:
        """Stop at ``text[j]``; the value shown so far stays. -1 ends the scan."""
        if self._tentative:
            return self._fail_tentative(len(text))
        offset = self._base + j
        line = self._lines + text.count("\n", 0, j) + 1
        nl = text.rfind("\n", 0, j)
        start = self._base + nl + 1 if nl >= 0 else self._line_start
        self._error(reason, offset, line, offset - start + 1, text[j : j + 1])
        return -1

    def _error(self, reason: str, offset: int, line: int, column: int, found: str) -> None:
        self.error = JsonStreamError(reason, offset=offset, line=line, column=column, found=found)

    def _fail_tentative(self, n: int) -> int:
        """The bare word or number at the start was prose after all: look for a fence."""
        self._tentative = False
        self._state = _PROSE
        self._num = self._word = ""
        self._pre_searched = 0
        return self._find_fence(n)

    # --- building ------------------------------------------------------------------

    def _start_tail(self, *, is_str: bool, at: int) -> None:
        self._seq += 1
        self._tail_is_str = is_str
        self._tail_start = self._base + at
        if self._ops is not None:
            stack = self._stack
            self._tail_path = self._child_path(stack[-1]) if stack else ""

    def _child_path(self, frame: _Frame) -> str:
        if frame.is_dict:
            return f"{frame.path}/{_pointer_token(frame.key)}"
        return f"{frame.path}/{len(frame.obj)}"

    def _open(self, is_dict: bool) -> None:
        obj: Any = {} if is_dict else []
        stack = self._stack
        path = ""
        if stack:
            parent = stack[-1]
            if self._ops is not None:
                path = self._child_path(parent)
            if parent.is_dict:
                parent.obj[parent.key] = obj
            else:
                parent.obj.append(obj)
        stack.append(_Frame(obj, is_dict, path))
        self._struct += 1
        self._tentative = False
        if self._ops is not None:
            op = "add" if len(stack) > 1 else "replace"
            self._ops.append({"op": op, "path": path, "value": {} if is_dict else []})
        self._state = _FIRST_KEY if is_dict else _FIRST_ITEM

    def _close_container(self) -> None:
        frame = self._stack.pop()
        if self._stack:
            self._state = _AFTER
        else:
            self._root = frame.obj
            self._state = _DONE

    def _end_string(self) -> None:
        if self._in_key:
            self._stack[-1].key = self._s
            self._state = _COLON
            return
        self._commit(self._s)

    def _number_value(self, text: str) -> Any:
        try:
            if "." in text or "e" in text or "E" in text:
                return float(text)
            return int(text)
        except ValueError:  # more digits than Python's int() allows
            return float(text)

    def _commit(self, value: Any) -> None:
        """The tail is complete: put it in its container, as the consumer will see it."""
        seq = self._seq
        shown = self._seen_seq == seq and self._seen_tok is not _ABSENT
        is_str = self._tail_is_str
        tok = len(value) if is_str else value
        if (
            shown
            and self._struct == self._seen_struct
            and not self._tail_rewritten
            and self._same(tok, self._seen_tok)
        ):
            pass  # what the consumer saw is what it now is: no change
        else:
            self._struct += 1
        if self._ops is not None:
            self._commit_op(value, shown)
        self._seen_tok = _ABSENT
        self._tail_rewritten = False
        self._tentative = False
        stack = self._stack
        if stack:
            frame = stack[-1]
            if frame.is_dict:
                frame.obj[frame.key] = value
            else:
                frame.obj.append(value)
            self._state = _AFTER
        else:
            self._root = value
            self._state = _DONE

    def _same(self, a: Any, b: Any) -> bool:
        # LangChain compares whole values with ==, so 1 and 1.0 are "the same".
        return a == b and (self._quirks or type(a) is type(b))

    # --- what is visible -----------------------------------------------------------

    def _tail(self) -> Any:
        """The visible form of the value being written: a string's visible length, a
        number's value, or _ABSENT when LangChain would not show it yet."""
        state = self._state
        if state == _STRING:
            if self._in_key:
                return _ABSENT
            s = self._s
            if self._carry:  # the chunk ended inside an escape
                if len(self._carry) > 1 and self._quirks:
                    return _ABSENT  # a half-written \\u escape hides the member
                return len(s)
            end = len(s)
            if self._quirks and end > self._esc_end:
                last = s[-1]
                if last.isspace() or last == "`":
                    return self._held_back(s)
            return end
        if state == _NUMBER:
            m = _NUMBER(self._num)
            return _ABSENT if m is None else self._number_value(m.group())
        return _ABSENT

    def _held_back(self, s: str) -> int:
        """LangChain strips the text before parsing: trailing whitespace (``str.strip``),
        then spaces, newlines, tabs and backticks. Inside an unfinished string that hides
        the string's last characters until something else follows them."""
        k = len(s)
        lo = self._esc_end
        while k > lo and (s[k - 1].isspace() or s[k - 1] == "`"):
            k -= 1
        run = s[k:]
        return k + len(run.rstrip().rstrip(" \n\r\t`"))

    def _tail_value(self) -> Any:
        tok = self._tok  # as of the last feed
        if tok is _ABSENT or not self._tail_is_str:
            return tok
        s = self._s
        return s if tok == len(s) else s[:tok]

    def _settle(self) -> bool:
        """After a chunk: has the visible value changed since the consumer last saw it?"""
        if self._state == _STRING and not self._in_key and not self._carry:
            s = self._s  # the common case, inlined: a string value growing
            tok = len(s)
            if tok > self._esc_end and self._quirks:
                last = s[-1]
                if last.isspace() or last == "`":
                    tok = self._held_back(s)
        else:
            tok = self._tail()
        self._tok = tok
        if self._struct != self._seen_struct or self._tail_rewritten:
            changed = True
        elif tok is _ABSENT:
            changed = self._seen_tok is not _ABSENT
        else:
            seen = self._seen_tok
            changed = (
                self._seq != self._seen_seq
                or tok != seen
                or not (self._quirks or type(tok) is type(seen))
            )
        if changed:
            if self._ops is not None:
                self._tail_ops(tok)
            self._seen_struct = self._struct
            self._seen_seq = self._seq
            self._seen_tok = tok
            self._tail_rewritten = False
        return changed

    # --- operations ----------------------------------------------------------------

    def _string_op(self, path: str, shown: int, end: int) -> dict[str, Any]:
        s = self._s
        if self._rfc or self._tail_rewritten:
            return {"op": "replace", "path": path, "value": s[:end]}
        return {"op": "append", "path": path, "value": s[shown:end]}

    def _commit_op(self, value: Any, shown: bool) -> None:
        ops = self._ops
        assert ops is not None
        path = self._tail_path
        if not shown:
            ops.append({"op": "add" if self._stack else "replace", "path": path, "value": value})
        elif self._tail_is_str:
            if self._seen_tok < len(value) or self._tail_rewritten:
                ops.append(self._string_op(path, self._seen_tok, len(value)))
        elif not (value == self._seen_tok and type(value) is type(self._seen_tok)):
            ops.append({"op": "replace", "path": path, "value": value})

    def _tail_ops(self, tok: Any) -> None:
        """Bring the consumer's copy of the value being written up to ``tok``."""
        ops = self._ops
        assert ops is not None
        path = self._tail_path
        if self._seen_seq == self._seq and self._seen_tok is not _ABSENT:
            seen = self._seen_tok
            if tok is _ABSENT:
                if path:
                    ops.append({"op": "remove", "path": path})
                else:  # RFC 6902 cannot remove the document itself
                    ops.append({"op": "replace", "path": "", "value": None})
            elif self._tail_is_str:
                if tok != seen or self._tail_rewritten:
                    ops.append(self._string_op(path, seen, tok))
            elif not (tok == seen and type(tok) is type(seen)):
                ops.append({"op": "replace", "path": path, "value": tok})
        elif tok is not _ABSENT:
            value = self._s[:tok] if self._tail_is_str else tok
            ops.append({"op": "add" if self._stack else "replace", "path": path, "value": value})


def apply_ops(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply ``JsonStreamParser`` operations (delta or RFC 6902 add/replace/remove) to
    ``doc`` in place where it can; returns the new document (the root may be replaced)."""
    for op in ops:
        path = op["path"]
        kind = op["op"]
        if path == "":
            if kind == "append":
                doc = doc + op["value"]
            elif kind == "remove":
                doc = None
            else:
                doc = op["value"]
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(index, op["value"])
            elif kind == "remove":
                del parent[index]
            elif kind == "append":
                parent[index] += op["value"]
            else:
                parent[index] = op["value"]
        elif kind == "remove":
            del parent[last]
        elif kind == "append":
            parent[last] += op["value"]
        else:
            parent[last] = op["value"]
    return doc
