"""Shared setup for the langchain-core differential tests.

Each test module starts with ``pytest.importorskip("langchain_core")``, so the suite
is skipped cleanly when langchain-core is not installed; ``harness.py`` and
``normalize.py`` are helpers, not test modules.
"""

from __future__ import annotations

import os

import pytest

# Never let langchain reach LangSmith from these tests.
for _var in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"):
    os.environ.pop(_var, None)


@pytest.fixture
def lc():
    """The langchain side of a differential test."""
    from .harness import LC

    return LC


@pytest.fixture
def st():
    """The streamtui side of a differential test."""
    from .harness import ST

    return ST
