"""A local mock LLM provider for tests and demos: OpenAI and Anthropic wire formats, faults.

Not imported by ``import streamtui``; import it explicitly::

    from streamtui.testing import MockProviderServer, Scenario

See docs/mock-server.md.
"""

from __future__ import annotations

from streamtui.testing.scenarios import FAULTS, QUIRKS, Scenario, ToolCall, builtin_scenarios
from streamtui.testing.server import MockProviderServer, RecordedRequest, serve

__all__ = [
    "FAULTS",
    "QUIRKS",
    "MockProviderServer",
    "RecordedRequest",
    "Scenario",
    "ToolCall",
    "builtin_scenarios",
    "serve",
]
