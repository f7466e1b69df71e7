"""Small functions that the chain.yaml demos name by import path."""

from __future__ import annotations

from typing import Any


def reverse_word(value: Any) -> str:
    """``{"word": "hello"}`` (or just ``"hello"``) -> ``"olleh"``."""
    word = value["word"] if isinstance(value, dict) else value
    return str(word)[::-1]
