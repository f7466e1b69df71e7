"""A readable, coloured transcript of a run's parts, for ``--format pretty``.

Tokens are written as they arrive; when another model run starts speaking, a short
header names it. Runs that fail are shown in red with the error, tools with their input
and output, custom events and graph updates on one line each. Everything a model wrote
is stripped of control characters (no escape-sequence injection into the terminal).
Colour follows ``NO_COLOR`` and whether the output is a terminal.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, TextIO

from streamtui.envelope import Part

__all__ = ["Transcript", "chunk_pieces", "one_line", "printable", "use_color"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STYLES = {
    "dim": "2",
    "bold": "1",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "reasoning": "2;3",
}


def use_color(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def printable(text: Any) -> str:
    """Text with control characters (ESC, BEL, ...) removed; newlines and tabs kept."""
    return _CONTROL.sub("", text if isinstance(text, str) else str(text))


def one_line(value: Any, limit: int = 160) -> str:
    """``value`` as one printable line of at most ``limit`` characters."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=_plain)
        except (TypeError, ValueError):
            text = repr(value)
    text = printable(text).replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(obj: Any) -> Any:
    pieces = chunk_pieces(obj)
    if any(pieces):  # a message chunk: what it says, not its fields
        return "".join(pieces)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump()
    return repr(obj)


class Transcript:
    """Writes parts as a human-readable transcript; call it with each batch of parts."""

    def __init__(
        self, out: TextIO, color: bool | None = None, redact: Callable[[str], str] | None = None
    ) -> None:
        self.out = out
        self.color = use_color(out) if color is None else color
        self.redact = redact
        self._speaking: str | None = None  # run id whose tokens were written last
        self._at_line_start = True
        self._names: dict[str, str] = {}
        self._spoke: set[str] = set()

    def _style(self, style: str, text: str) -> str:
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if self.color else text

    def _line(self, text: str) -> str:
        """A line of its own, ending any tokens being written."""
        self._speaking = None
        prefix = "" if self._at_line_start else "\n"
        self._at_line_start = True
        return f"{prefix}{text}\n"

    def __call__(self, parts: list[Part]) -> None:
        pieces: list[str] = []
        for part in parts:
            text = self._format(part)
            if text:
                pieces.append(text)
        if pieces:
            text = "".join(pieces)
            self.out.write(self.redact(text) if self.redact is not None else text)
            self.out.flush()

    def finish(self) -> None:
        """End the last line of tokens."""
        if not self._at_line_start:
            self.out.write("\n")
            self._at_line_start = True
            self.out.flush()

    def _format(self, part: Part) -> str:
        data = part.data
        if part.mode == "events" and isinstance(data, dict):
            kind = data.get("event")
            if not isinstance(kind, str):
                return ""
            handler = _EVENT_HANDLERS.get(kind)
            if not isinstance(data.get("data"), dict) or not isinstance(
                data.get("metadata", {}), dict
            ):
                # A log edited by hand or written elsewhere: show the kind, skip the details.
                data = {**data, "data": {}, "metadata": {}}
            if handler is not None:
                return handler(self, data)
            if kind.endswith("_error"):
                return self._error(data)
            return ""
        if part.mode == "messages" and isinstance(data, (tuple, list)) and len(data) == 2:
            chunk, meta = data
            node = meta.get("langgraph_node", "") if isinstance(meta, dict) else ""
            return self._tokens(f"messages:{node}", node or "model", chunk)
        if part.mode == "updates" and isinstance(data, dict):
            where = "/".join(part.ns)
            lines = []
            for node, update in data.items():
                label = f"{where}/{node}" if where else node
                lines.append(self._line(self._style("blue", f"◆ {label}") + " " + one_line(update)))
            return "".join(lines)
        if part.mode == "custom":
            return self._line(self._style("magenta", "• custom") + " " + one_line(data))
        if part.mode in ("debug", "tasks", "checkpoints"):
            kind = data.get("type", part.mode) if isinstance(data, dict) else part.mode
            return self._line(self._style("dim", f"· {part.mode} {kind}"))
        return ""  # values: the graph's end event shows the final state

    def _tokens(self, run_id: str, name: str, chunk: Any) -> str:
        text, reasoning, tool_args = chunk_pieces(chunk)
        if not (text or reasoning or tool_args):
            return ""
        out = []
        if self._speaking != run_id:
            if not self._at_line_start:
                out.append("\n")
            out.append(self._style("dim", f"── {printable(name)} ──") + "\n")
            self._speaking = run_id
            self._at_line_start = True
        for style, piece in (("reasoning", reasoning), ("cyan", tool_args), ("", text)):
            if piece:
                piece = printable(piece)
                out.append(self._style(style, piece) if style else piece)
                self._at_line_start = piece.endswith("\n")
        self._spoke.add(run_id)
        return "".join(out)

    def _stream(self, data: dict[str, Any]) -> str:
        run_id = data.get("run_id", "")
        name = self._names.get(run_id) or data.get("name", "model")
        return self._tokens(run_id, name, data.get("data", {}).get("chunk"))

    def _model_start(self, data: dict[str, Any]) -> str:
        node = data.get("metadata", {}).get("langgraph_node")
        name = data.get("name", "model")
        self._names[data.get("run_id", "")] = f"{node} · {name}" if node else name
        return ""

    def _root_start(self, data: dict[str, Any]) -> str:
        if data.get("parent_ids"):
            return ""
        summary = one_line(data.get("data", {}).get("input"))
        return self._line(
            self._style("bold", f"▶ {printable(data.get('name', 'run'))}") + f" {summary}"
        )

    def _root_end(self, data: dict[str, Any]) -> str:
        if data.get("parent_ids"):
            return ""
        output = data.get("data", {}).get("output")
        shown = "" if self._spoke and isinstance(output, str) else " " + one_line(output, 400)
        return self._line(self._style("green", f"✓ {printable(data.get('name', 'run'))}") + shown)

    def _tool_start(self, data: dict[str, Any]) -> str:
        args = one_line(data.get("data", {}).get("input"))
        return self._line(
            self._style("yellow", f"⚙ {printable(data.get('name', 'tool'))}") + f" {args}"
        )

    def _tool_end(self, data: dict[str, Any]) -> str:
        return self._line(
            self._style("yellow", "  →") + " " + one_line(data.get("data", {}).get("output"))
        )

    def _retriever_end(self, data: dict[str, Any]) -> str:
        docs = data.get("data", {}).get("output")
        count = len(docs) if isinstance(docs, list) else 0
        return self._line(
            self._style("yellow", f"⌕ {printable(data.get('name', 'retriever'))}")
            + f" {count} documents"
        )

    def _custom(self, data: dict[str, Any]) -> str:
        body = one_line(data.get("data"))
        return self._line(
            self._style("magenta", f"• {printable(data.get('name', 'custom'))}") + f" {body}"
        )

    def _error(self, data: dict[str, Any]) -> str:
        error = data.get("data", {}).get("error")
        if isinstance(error, dict):
            text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
        else:
            text = str(error)
        kind = data.get("event", "")[3 : -len("_error")]
        head = f"✗ {printable(data.get('name', '?'))} ({kind})"
        return self._line(self._style("red", head) + " " + one_line(text, 400))


def chunk_pieces(chunk: Any) -> tuple[str, str, str]:
    """(answer text, reasoning, tool-call arguments) of a streamed chunk of any shape: a
    message chunk, a generation chunk, plain text, or a dict read from a foreign log."""
    if chunk is None:
        return "", "", ""
    if isinstance(chunk, str):
        return chunk, "", ""
    if isinstance(chunk, dict):  # a chunk from a duck-typed app, read back as JSON
        content = chunk.get("content", chunk.get("text", ""))
        return (content if isinstance(content, str) else ""), "", ""
    text = getattr(chunk, "text", "")
    text = text if isinstance(text, str) else ""
    reasoning = ""
    content = getattr(chunk, "content", None)
    if isinstance(content, list):
        reasoning = "".join(
            str(b.get("thinking") or b.get("reasoning") or "")
            for b in content
            if isinstance(b, dict) and b.get("type") in ("thinking", "reasoning")
        )
    extra = getattr(chunk, "additional_kwargs", None)
    if isinstance(extra, dict) and isinstance(extra.get("reasoning_content"), str):
        reasoning += extra["reasoning_content"]
    calls = getattr(chunk, "tool_call_chunks", None) or []
    args = "".join(
        (f"{c.get('name')}(" if c.get("name") else "") + (c.get("args") or "")
        for c in calls
        if isinstance(c, dict)
    )
    return text, reasoning, args


_EVENT_HANDLERS: dict[str, Callable[[Transcript, dict[str, Any]], str]] = {
    "on_chat_model_stream": Transcript._stream,
    "on_llm_stream": Transcript._stream,
    "on_chat_model_start": Transcript._model_start,
    "on_llm_start": Transcript._model_start,
    "on_chain_start": Transcript._root_start,
    "on_chain_end": Transcript._root_end,
    "on_tool_start": Transcript._tool_start,
    "on_tool_end": Transcript._tool_end,
    "on_retriever_end": Transcript._retriever_end,
    "on_custom_event": Transcript._custom,
}
