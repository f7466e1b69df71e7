"""Scripted scenarios: what the mock provider says, and how it misbehaves.

A :class:`Scenario` holds *logical* content (reasoning, text, refusal, tool calls) and at most
one fault. The wire modules render the same content in each provider's protocol, so a test
can ask OpenAI and Anthropic clients for ``mock:tool_call`` and compare like with like.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: Faults answered with an HTTP error status before any body is streamed.
STATUS_FAULTS = frozenset(
    {"rate_limit", "server_error", "overloaded", "auth_error", "forbidden", "not_found"}
)
#: Faults injected after ``fault_after`` deltas of an otherwise normal stream.
STREAM_FAULTS = frozenset({"error_mid_stream", "drop_mid_stream", "stall", "malformed_chunk"})
#: Every fault a scenario may carry.
FAULTS = STATUS_FAULTS | STREAM_FAULTS | {"fail_once"}

#: OpenAI-compatible wire quirks. ``crlf`` and ``comments`` apply to every SSE stream; the
#: others only change Chat Completions chunks (they are bugs of OpenAI-compatible servers).
QUIRKS = frozenset(
    {
        "role_every_chunk",
        "tool_no_index",
        "tools_all_index0",
        "odd_object",
        "crlf",
        "comments",
        "no_done",
    }
)

DEFAULT_SCENARIO = "text"

_WORD = re.compile(r"\s*\S+")


def split_words(text: str) -> list[str]:
    """Word-sized deltas that concatenate back to ``text`` (a leading space stays on a word)."""
    pieces = _WORD.findall(text)
    rest = text[len("".join(pieces)) :]
    if rest:  # trailing whitespace: keep it so the join is exact
        pieces.append(rest)
    return pieces


def split_fixed(text: str, size: int) -> list[str]:
    """Fixed-size pieces, cutting through JSON tokens the way real argument streams do."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass(frozen=True)
class ToolCall:
    """One tool call. ``id`` is a suffix: OpenAI sees ``call_<id>``, Anthropic ``toolu_<id>``."""

    name: str
    arguments: dict[str, Any]
    id: str
    piece_size: int = 7

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text the model 'types'."""
        return json.dumps(self.arguments)

    def fragments(self) -> list[str]:
        """The argument text in several pieces (each alone is not valid JSON)."""
        return split_fixed(self.arguments_json, self.piece_size)


@dataclass(frozen=True)
class Scenario:
    """A scripted reply plus an optional fault, selected by ``model="mock:<name>"``.

    ``fault_after`` counts deltas (text, reasoning, refusal or argument pieces) sent before a
    stream fault fires; ``stall_seconds`` is how long ``stall`` stays silent; ``fail_status``
    is what ``fail_once`` answers the first attempt with.
    """

    name: str
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    fault: str | None = None
    fault_after: int = 3
    stall_seconds: float = 30.0
    fail_status: int = 500
    quirks: frozenset[str] = field(default_factory=frozenset)
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"scenario name must be non-empty without spaces: {self.name!r}")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; known: {sorted(FAULTS)}")
        unknown = set(self.quirks) - QUIRKS
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}; known: {sorted(QUIRKS)}")
        if self.fail_status not in (429, 500, 503, 529):
            raise ValueError("fail_status must be 429, 500, 503 or 529")
        if self.fault_after < 0 or self.stall_seconds < 0:
            raise ValueError("fault_after and stall_seconds must be >= 0")

    def has(self, quirk: str) -> bool:
        """Whether this scenario's stream carries ``quirk``."""
        return quirk in self.quirks


TEXT = (
    "Hello from the streamtui mock server. This reply streams one word at a time, "
    "just like a real model would. That is all for now."
)
REASONING = "The user said hello. A short, friendly answer is enough; no tools are needed."
REASONING_ANSWER = "Hello! Nice to meet you."
REFUSAL = "I'm sorry, but I can't help with that request."

WEATHER = ToolCall("get_weather", {"city": "Paris", "unit": "celsius"}, id="mock_weather_1")
TIME = ToolCall("get_time", {"timezone": "Europe/Paris"}, id="mock_time_2")


def _builtin() -> list[Scenario]:
    """The scenarios every server starts with (see docs/mock-server.md)."""
    text = Scenario("text", text=TEXT, description="a few sentences in word-sized deltas")
    out = [
        text,
        Scenario(
            "tool_call", tool_calls=(WEATHER,), description="one tool call, arguments in pieces"
        ),
        Scenario("parallel_tools", tool_calls=(WEATHER, TIME), description="two tool calls"),
        Scenario(
            "reasoning",
            reasoning=REASONING,
            text=REASONING_ANSWER,
            description="reasoning/thinking deltas, then the answer",
        ),
        Scenario("refusal", refusal=REFUSAL, description="a refusal instead of an answer"),
    ]
    quirk_text = {
        "quirk_role_every_chunk": "role_every_chunk",
        "quirk_odd_object": "odd_object",
        "quirk_crlf": "crlf",
        "quirk_comments": "comments",
        "quirk_no_done": "no_done",
    }
    for name, quirk in quirk_text.items():
        out.append(Scenario(name, text=TEXT, quirks=frozenset({quirk}), description=quirk))
    out.append(
        Scenario(
            "quirk_tool_no_index",
            tool_calls=(WEATHER,),
            quirks=frozenset({"tool_no_index"}),
            description="tool-call deltas without index",
        )
    )
    out.append(
        Scenario(
            "quirk_tools_all_index0",
            tool_calls=(WEATHER, TIME),
            quirks=frozenset({"tools_all_index0"}),
            description="two tool calls, both at index 0, told apart by id",
        )
    )
    for fault in sorted(FAULTS):
        out.append(Scenario(fault, text=TEXT, fault=fault, description=f"fault: {fault}"))
    return out


def builtin_scenarios() -> dict[str, Scenario]:
    """A fresh name -> scenario map of the built-in scenarios."""
    return {s.name: s for s in _builtin()}
