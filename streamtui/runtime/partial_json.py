"""Parse a prefix of a JSON document by closing what is still open.

Used for streamed tool-call arguments, which arrive as a growing JSON string. This is the
one-shot form; ``streamtui.jsonstream`` is the incremental parser for long documents.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["parse_partial_json"]


def parse_partial_json(text: str) -> Any:
    """Return the value a JSON prefix stands for so far.

    Raises ``ValueError`` when no prefix of ``text`` is valid JSON.
    """
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    closers: list[str] = []
    in_string = False
    escaped = False
    out: list[str] = []
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            elif ch == "\n":
                ch = "\\n"
        elif ch == '"':
            in_string = True
        elif ch == "{":
            closers.append("}")
        elif ch == "[":
            closers.append("]")
        elif ch in "}]":
            if not closers or closers[-1] != ch:
                raise ValueError(f"unbalanced {ch!r} in JSON text")
            closers.pop()
        out.append(ch)
    if in_string:
        if escaped:
            out.pop()
        out.append('"')
    # Drop trailing characters until what is left, closed, parses.
    while out:
        candidate = "".join(out) + "".join(reversed(closers))
        try:
            return json.loads(candidate, strict=False)
        except json.JSONDecodeError:
            removed = out.pop()
            if removed in "{[":
                closers.pop()
            elif removed in "}]":
                closers.append(removed)
    raise ValueError(f"no JSON value in {text[:40]!r}")
