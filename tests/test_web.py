"""``streamtui run FILE --web``: the TUI served to a browser through textual-serve."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")

DEMOS = Path(__file__).resolve().parent.parent / "demos"
CLI = [sys.executable, "-m", "streamtui"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_tui_is_served_to_a_browser_on_loopback(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "run", str(DEMOS / "joke.yaml"), "--web", "--port", str(port), "--no-record"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    async def browse() -> str:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 20
            while True:  # the server is up when its page answers
                try:
                    async with session.get(f"http://127.0.0.1:{port}/") as page:
                        assert page.status == 200 and "textual" in (await page.text()).lower()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the web server did not start"
                    await asyncio.sleep(0.1)
            # The page's websocket: textual-serve starts `streamtui run ...` for it.
            # Another site's page may not open a session, nor may a rebound host name.
            ws_url = f"ws://127.0.0.1:{port}/ws?width=100&height=30"
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url, origin="https://evil.example")
            assert refused.value.status == 403
            rebound = {"Host": f"attacker.example:{port}"}
            async with session.get(f"http://127.0.0.1:{port}/", headers=rebound) as page:
                assert page.status == 403
            screen = b""
            own = f"http://127.0.0.1:{port}"  # the origin of the page the server gave out
            async with session.ws_connect(ws_url, origin=own) as ws:
                while b"Polly-ester" not in screen and time.monotonic() < deadline:
                    try:
                        message = await asyncio.wait_for(ws.receive(), timeout=1)
                    except asyncio.TimeoutError:
                        continue
                    if message.type == aiohttp.WSMsgType.BINARY:
                        screen += message.data
                    elif message.type != aiohttp.WSMsgType.TEXT:
                        break
            return screen.decode("utf-8", "replace")

    try:
        screen = asyncio.run(browse())
    finally:
        server.terminate()
        server.wait(timeout=10)
    # The run's TUI reached the browser: its panes and the model's answer.
    assert "tokens" in screen and "Polly-ester" in screen


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--no-tui"], "cannot be combined with --no-tui"),
        (["--serve", "0"], "cannot be combined with --serve"),
        (["--port", "70000"], "--port 70000"),
        (["--record", "x.jsonl"], "cannot be combined with --record"),
    ],
)
def test_web_refuses_what_it_cannot_do(extra, words):
    done = subprocess.run(
        [*CLI, "run", str(DEMOS / "joke.yaml"), "--web", *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_port_without_web_is_refused():
    done = subprocess.run(
        [*CLI, "run", str(DEMOS / "joke.yaml"), "--port", "8123"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--port is the port of --web" in done.stderr
