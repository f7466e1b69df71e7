"""SDK clients with short timeouts and a deadline-bound async runner, so no test can hang.

Imported only after ``pytest.importorskip("openai")`` / ``("anthropic")`` in each module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import anthropic
import openai

from streamtui.testing import MockProviderServer

T = TypeVar("T")

#: Long enough for any scripted stream here, short enough that nothing hangs CI.
CLIENT_TIMEOUT = 5.0
MESSAGES = [{"role": "user", "content": "hi"}]


def run(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """Run an async test body on a fresh loop, failing instead of hanging."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def openai_client(srv: MockProviderServer, **kw: Any) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", CLIENT_TIMEOUT)
    return openai.OpenAI(base_url=srv.openai_base_url, api_key="test", **kw)


def async_openai_client(srv: MockProviderServer, **kw: Any) -> openai.AsyncOpenAI:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", CLIENT_TIMEOUT)
    return openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="test", **kw)


def anthropic_client(srv: MockProviderServer, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", CLIENT_TIMEOUT)
    return anthropic.Anthropic(base_url=srv.anthropic_base_url, api_key="test", **kw)


def async_anthropic_client(srv: MockProviderServer, **kw: Any) -> anthropic.AsyncAnthropic:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", CLIENT_TIMEOUT)
    return anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="test", **kw)
