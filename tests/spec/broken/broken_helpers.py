"""Objects the broken chain.yaml corpus names by import path."""

from __future__ import annotations

NOT_RUNNABLE = 42


def reverse_word(value: str) -> str:
    return value[::-1]
