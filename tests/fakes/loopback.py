"""Serve an aiohttp app on 127.0.0.1 at a random free port (every wire-level fake uses this)."""

from __future__ import annotations

from aiohttp import web


async def serve_on_loopback(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, int]:
    """Start ``app``; returns its runner (call ``cleanup()`` to stop) and the port it listens on."""
    runner = web.AppRunner(app, access_log=None, **runner_options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.1, backlog=1024)  # a burst of connections
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[union-attr]
    return runner, server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
