"""Fixtures for the mock provider tests: a fresh loopback server per test, no proxies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamtui.testing import MockProviderServer


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from the environment must not see (or break) loopback traffic."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")


@pytest.fixture
def server() -> Iterator[MockProviderServer]:
    """A fresh server, so each test sees only its own recorded requests."""
    with MockProviderServer() as srv:
        yield srv
