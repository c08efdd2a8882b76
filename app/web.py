"""The web process: one ASGI app (Starlette) served by uvicorn.

Routes:

    POST /slack/events   Slack HTTP mode (adapters.slack.serve.slack_routes), when Slack runs over HTTP
    GET  /healthz        liveness: {"ok": true}
    GET  /metrics        Prometheus metrics of this process (bot.metrics)
    /<prefix>/...        any other ASGI app, mounted with ``build_web_app(mounts={prefix: app})``

Other ASGI apps on the same port come from :func:`web_mounts` (the dashboard, at ``/dashboard``);
Starlette hands each every request under its prefix with ``root_path`` set, so its own routes
start at ``/``.

Why uvicorn: it is the most used maintained ASGI server, runs inside our event loop (uvloop), and
accepts our own HTTP protocol class, which adds the one thing it lacks: a deadline for the request
header (:class:`HeaderTimeoutProtocol`; uvicorn's keep-alive timeout is reset by every byte, so a
client trickling a header one byte at a time would hold a connection forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp
from uvicorn import Config, Server
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot import metrics
from bot.config import env_setting, integer, number

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.arena import Arena

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
DEFAULT_HEADER_TIMEOUT_S = 10.0


# ------------------------------------------------------------------------------------------ the app


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _metrics(request: Request) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def build_web_app(*, slack: SlackAdapter | None = None, mounts: Mapping[str, ASGIApp] | None = None) -> Starlette:
    """The web process's ASGI app: health, metrics, Slack HTTP mode when given, and ``mounts``."""
    routes: list[BaseRoute] = [Route(HEALTH_PATH, _health), Route(METRICS_PATH, _metrics)]
    if slack is not None:
        from adapters.slack.serve import slack_routes

        routes += slack_routes(slack)
    for prefix, app in (mounts or {}).items():
        routes.append(Mount(prefix, app=app))
    return Starlette(routes=routes)


def web_mounts(arena: Arena) -> dict[str, ASGIApp]:
    """Further ASGI apps served by the web process, by path prefix: the dashboard at /dashboard."""
    from adapters.dashboard.app import build_dashboard
    from bot.dashboard_access import DashboardAccess

    return {"/dashboard": build_dashboard(arena.store, DashboardAccess.from_settings(arena.settings))}


# --------------------------------------------------------------------------------------- the server


class WebConfig(Config):
    """uvicorn's Config plus the request-header deadline."""

    def __init__(self, app: ASGIApp, *, header_timeout: float = DEFAULT_HEADER_TIMEOUT_S, **options: Any) -> None:
        super().__init__(app, http=HeaderTimeoutProtocol, **options)
        self.header_timeout = header_timeout


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's header.

    The clock starts when the connection opens (for the first request) or when the first byte of a
    later request arrives, and is not reset by further bytes: a header still incomplete when it
    runs out gets 408 and the connection is closed.
    """

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.access_log = False  # no line per request: a flood of junk must not flood the log
        self.header_timeout = float(getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT_S))
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_clock()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:
            self._start_header_clock()

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def _start_header_clock(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout, self._header_too_slow)

    def _stop_header_clock(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        peer = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.info("closed a connection from %s: no complete request header within %.0f s", peer, self.header_timeout)
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()


class WebServer:
    """uvicorn serving ``app`` inside the running event loop, without touching signal handlers
    (the process's own shutdown code owns SIGTERM/SIGINT). ``port=0`` picks a free port."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 header_timeout: float = DEFAULT_HEADER_TIMEOUT_S, graceful_s: float = 5.0) -> None:
        self.config = WebConfig(app, host=host, port=port, header_timeout=header_timeout, lifespan="auto",
                                access_log=False, log_config=None, timeout_graceful_shutdown=graceful_s)
        self.server = Server(self.config)
        self.host = host
        self._socket: socket.socket | None = None
        self.port = port

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self.config.load()
        self.server.lifespan = self.config.lifespan_class(self.config)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self._socket.setblocking(False)
        self.port = self._socket.getsockname()[1]
        await self.server.startup(sockets=[self._socket])

    async def serve_forever(self) -> None:
        """Run until cancelled (or ``server.should_exit``)."""
        await self.server.main_loop()

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to the grace), close connections."""
        self.server.should_exit = True
        if self.server.started:
            await self.server.shutdown(sockets=[self._socket] if self._socket else None)

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def running(app: ASGIApp, host: str, port: int, **options: Any) -> AsyncIterator[WebServer]:
    """A started :class:`WebServer` for the body of the block."""
    server = WebServer(app, host, port, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def header_timeout_from_env(env: Mapping[str, str] | None = None) -> float:
    """``HTTP_HEADER_TIMEOUT`` seconds (default 10): how long a client may take to send a request header."""
    return env_setting("HTTP_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT_S, number(minimum=0.001), env)


def listen_address(env: Mapping[str, str] | None = None) -> tuple[str, int]:
    """``HOST``:``PORT`` (default 0.0.0.0:3000), where the web process listens."""
    env = env if env is not None else os.environ
    return env.get("HOST") or "0.0.0.0", env_setting("PORT", 3000, integer(minimum=1, maximum=65535), env)


async def serve_web(app: ASGIApp, env: Mapping[str, str] | None = None) -> None:
    """Serve ``app`` on ``HOST``:``PORT`` (default 0.0.0.0:3000) until cancelled."""
    env = env if env is not None else os.environ
    host, port = listen_address(env)
    async with running(app, host, port, header_timeout=header_timeout_from_env(env)) as server:
        log.warning("web: serving on http://%s:%d (%s, %s)", host, server.port, HEALTH_PATH, METRICS_PATH)
        await server.serve_forever()
