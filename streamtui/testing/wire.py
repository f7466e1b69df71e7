"""What both protocols share: SSE framing, compact JSON, per-request render context.

Kept byte-exact on purpose: the point of the mock is that an SDK parses what it sends
through its real decoder, so line endings, blank lines and comments are all explicit here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


def dumps(obj: Any) -> str:
    """Compact JSON, as both providers put it on the wire."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Frame:
    """One SSE event (or comment) ready to write; ``delta`` marks model output."""

    payload: bytes
    delta: bool = False


@dataclass(frozen=True)
class RenderContext:
    """Per-request facts a renderer needs: ids, the echoed model, token estimates, quirks."""

    model: str
    serial: int
    created: int
    prompt_tokens: int
    include_usage: bool = False
    crlf: bool = False
    comments: bool = False

    def ident(self, prefix: str) -> str:
        """A deterministic id like ``chatcmpl-mock000007``."""
        return f"{prefix}mock{self.serial:06d}"

    @property
    def newline(self) -> str:
        return "\r\n" if self.crlf else "\n"

    def event(self, data: str, event: str | None = None, *, delta: bool = False) -> Frame:
        """An SSE event: optional ``event:`` line, one ``data:`` line, a blank line."""
        nl = self.newline
        head = f"event: {event}{nl}" if event is not None else ""
        return Frame(f"{head}data: {data}{nl}{nl}".encode(), delta)

    def json_event(self, obj: Any, event: str | None = None, *, delta: bool = False) -> Frame:
        return self.event(dumps(obj), event, delta=delta)

    def comment(self, text: str = "keep-alive") -> Frame:
        """An SSE comment line (``: keep-alive``) followed by a blank line."""
        nl = self.newline
        return Frame(f": {text}{nl}{nl}".encode())

    def with_comments(self, frames: list[Frame]) -> list[Frame]:
        """Sprinkle keep-alive comments (first, then every third frame) when asked to."""
        if not self.comments:
            return frames
        out: list[Frame] = []
        for i, frame in enumerate(frames):
            if i % 3 == 0:
                out.append(self.comment())
            out.append(frame)
        return out


def estimate_tokens(obj: Any) -> int:
    """A stable, rough token count (4 characters a token) for usage numbers."""
    try:
        text = dumps(obj)
    except (TypeError, ValueError):
        text = str(obj)
    return max(1, len(text) // 4)


def fake_signature(text: str) -> str:
    """A deterministic stand-in for Anthropic's opaque thinking signature."""
    return "EqMock" + hashlib.sha256(text.encode()).hexdigest()
