"""Watching runs in other processes and on other machines.

``streamtui.remote.sse_server`` serves a run's parts as Server-Sent Events (``streamtui run
--serve``, or ``serve_sse(bus)`` from any app). Names load on first use, so importing this
package costs nothing until a transport is used; ``import streamtui`` never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamtui.remote.sse_server import SSEServer, serve_sse, stream_with_sse

__all__ = ["SSEServer", "serve_sse", "stream_with_sse"]

_EXPORTS: dict[str, str] = {
    "SSEServer": "streamtui.remote.sse_server",
    "serve_sse": "streamtui.remote.sse_server",
    "stream_with_sse": "streamtui.remote.sse_server",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streamtui.remote' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
