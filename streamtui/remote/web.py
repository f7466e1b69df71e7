"""The TUI in a browser: textual-serve on loopback, refusing other sites' pages.

textual-serve starts the command for every websocket that connects to ``/ws`` and does
not look at where the page came from, so any web page the user has open could start a
run (spending API credit) and read its screen. Only a page served by this server (its
own origin) may open a session, and only under a loopback host name (no DNS
rebinding). Uses textual-serve's ``_make_app`` (pinned ``textual-serve<2``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["serve_web"]


def serve_web(command: str, port: int, title: str) -> None:
    """Serve ``command``'s TUI at http://127.0.0.1:PORT until Ctrl-C."""
    from aiohttp import web
    from textual_serve.server import Server

    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    origins = {f"http://{host}" for host in hosts}

    @web.middleware
    async def same_origin(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.host not in hosts:
            raise web.HTTPForbidden(text=f"streamtui --web answers only to {sorted(hosts)}\n")
        if request.path == "/ws" and request.headers.get("Origin") not in origins:
            raise web.HTTPForbidden(text="a page from another site cannot open a session\n")
        return await handler(request)

    class LoopbackServer(Server):
        async def _make_app(self) -> Any:
            app = await super()._make_app()
            app.middlewares.append(same_origin)
            return app

    LoopbackServer(
        command, host="127.0.0.1", port=port, title=title, public_url=f"http://127.0.0.1:{port}"
    ).serve()
