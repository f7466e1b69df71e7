"""``SpecError``: a user's mistake in a spec file, told in one screen with file:line:col.

The command line prints ``str(error)`` and exits 2, so the message must say what is wrong
and how to fix it; a traceback would only hide that.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SpecError", "did_you_mean", "quote_list"]

_MAX_MESSAGE_LINES = 8
_WINDOW = 90


class SpecError(Exception):
    """A mistake in a spec (or entrypoint) file, located at ``path:line:column`` (1-based).

    ``message`` says what is wrong and how to fix it; ``str()`` adds the location and the
    offending source line with a caret under the column.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        redact: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column if line is not None else None
        self._source = source
        self._redact = redact  # a secret on the shown line (a literal api_key) is masked

    def __str__(self) -> str:
        where = [str(self.path)] if self.path is not None else []
        if self.line is not None:
            where.append(str(self.line))
            if self.column is not None:
                where.append(str(self.column))
        lines = self.message.splitlines() or [""]
        if len(lines) > _MAX_MESSAGE_LINES:
            lines = [*lines[: _MAX_MESSAGE_LINES - 1], "..."]
        head = f"{':'.join(where)}: {lines[0]}" if where else lines[0]
        return "\n".join([head, *lines[1:], *self._snippet()])

    def _snippet(self) -> list[str]:
        """The offending line and a caret, or nothing when the text is not at hand."""
        text = self._line_text()
        if text is None or self.line is None:
            return []
        if self._redact:
            text = text.replace(self._redact, "*" * min(len(self._redact), 8))
        column = self.column
        start = 0
        if len(text) > _WINDOW + 10:
            at = (column or 1) - 1
            start = max(0, min(at - _WINDOW // 2, len(text) - _WINDOW))
            text = ("…" if start else "") + text[start : start + _WINDOW] + "…"
            start -= 1 if start else 0
        out = [f"{self.line:>5} | {text}"]
        if column is not None:
            offset = max(0, column - 1 - start)
            # Keep the line's tabs under the caret so it lines up in a terminal.
            pad = "".join(c if c == "\t" else " " for c in text[:offset])
            out.append(f"{'':>5} | {pad}^")
        return out

    def _line_text(self) -> str | None:
        source = self._source
        if source is None and self.path is not None:
            try:
                source = self.path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
        if source is None or self.line is None:
            return None
        lines = source.splitlines()
        if not 1 <= self.line <= len(lines):
            return None
        return lines[self.line - 1].rstrip("\r\n")


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """`` — did you mean 'x'?`` for the closest choice, or ``""`` when none is close."""
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        hit = lowered.get(str(word).lower())
        close = [hit] if hit else []
    return f" — did you mean '{close[0]}'?" if close else ""


def quote_list(items: Iterable[object], last: str = "or") -> str:
    """``'a', 'b' or 'c'`` for messages."""
    quoted = [f"'{i}'" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {last} {quoted[-1]}"
