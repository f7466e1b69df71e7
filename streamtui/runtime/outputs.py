"""Text-completion output pieces (``GenerationChunk``), for non-chat LLMs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["GenerationChunk"]


class GenerationChunk:
    """A streamed piece of an LLM completion; pieces combine with ``+``."""

    __slots__ = ("generation_info", "text")
    type = "GenerationChunk"

    def __init__(self, text: str = "", generation_info: dict[str, Any] | None = None) -> None:
        self.text = text
        self.generation_info = generation_info

    def __add__(self, other: GenerationChunk) -> GenerationChunk:
        if not isinstance(other, GenerationChunk):
            raise TypeError(f"cannot add GenerationChunk and {type(other).__name__}")
        return GenerationChunk.merge([self, other])

    @classmethod
    def merge(cls, parts: Sequence[GenerationChunk]) -> GenerationChunk:
        info: dict[str, Any] | None = None
        for p in parts:
            if p.generation_info:
                info = {**(info or {}), **p.generation_info}
        return cls("".join(p.text for p in parts), info)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationChunk):
            return NotImplemented
        return (self.text, self.generation_info) == (other.text, other.generation_info)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GenerationChunk(text={self.text!r}, generation_info={self.generation_info!r})"
