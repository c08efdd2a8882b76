"""`codegen-bot serve` and `codegen-bot worker`: the processes, and how they stop.

``serve`` starts the adapters the configured tokens call for (else the console) and, unless
``--no-worker``, runs jobs in the same process; ``worker`` runs jobs only (PostgreSQL). On
SIGTERM or SIGINT a process takes no new work, lets answers in flight finish for up to the grace
period (``CODEGEN_SHUTDOWN_GRACE``, default 25 s), hands what is left back to the queue
(PostgreSQL) or leaves it for the next start to resume (SQLite), and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from app.wiring import build_arena, close_arena
from bot.arena import Arena
from bot.background import scheduled_jobs
from bot.config import Settings
from bot.errors import ConfigError
from bot.inprocess import InProcessQueue
from bot.metrics import serve_metrics_from_env
from storage.pgqueue import ProcrastinateQueue

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from app.web import WebServer

log = logging.getLogger(__name__)
CLOSED_ON_RESTART = ("console",)  # its messages do not survive the process: close, don't resume


class Running(Protocol):
    """A started adapter."""

    async def stop_accepting(self) -> None: ...

    async def close(self) -> None: ...


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM (every deploy sends it) and SIGINT."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, _stopping, stop, signum)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _stopping(stop: asyncio.Event, signum: int) -> None:
    if not stop.is_set():
        log.warning("%s: finishing the work in flight, then stopping", signal.Signals(signum).name)
    stop.set()


async def serve(settings: Settings, adapter: str = "auto", *, worker: bool = True) -> int:
    """Run until SIGTERM/SIGINT (or the console's quit). Slack and Discord may run side by side;
    the console runs alone."""
    if adapter == "slack" and not os.environ.get("SLACK_BOT_TOKEN"):
        raise ConfigError("--adapter slack needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)")
    if adapter == "discord" and not os.environ.get("DISCORD_TOKEN"):
        raise ConfigError("--adapter discord needs DISCORD_TOKEN")
    wants_slack = adapter in ("auto", "slack") and bool(os.environ.get("SLACK_BOT_TOKEN"))
    wants_discord = adapter in ("auto", "discord") and bool(os.environ.get("DISCORD_TOKEN"))
    if not (wants_slack or wants_discord):
        return await _console(settings)
    if wants_slack:
        from adapters.slack.serve import check_env

        check_env(dict(os.environ))  # a missing secret is said before anything starts
    if wants_discord:
        from adapters.discord.serve import check_env as check_discord_env

        check_discord_env()
    _metrics()
    arena = build_arena(settings)
    if not worker and isinstance(arena.queue, InProcessQueue):
        await close_arena(arena)
        raise ConfigError("--no-worker needs a PostgreSQL DATABASE_URL: with SQLite this process runs the jobs")
    stop = asyncio.Event()
    started: list[Running] = []
    try:
        with stop_on_signals(stop):
            if wants_slack:
                started.append(await start_slack(arena, settings))
            if wants_discord:
                from adapters.discord.serve import start_discord

                started.append(await start_discord(arena, settings))
            await _work_until(arena, settings, stop, run_jobs=worker)
    finally:
        for item in started:
            with contextlib.suppress(Exception):
                await item.stop_accepting()
        await _drain(arena, settings)
        for item in reversed(started):
            with contextlib.suppress(Exception):
                await item.close()
        await close_arena(arena)
    return 0


async def work(settings: Settings) -> int:
    """`codegen-bot worker`: run jobs (no event connection) until SIGTERM/SIGINT."""
    _metrics()
    arena = build_arena(settings, with_sandbox=True)
    if not isinstance(arena.queue, ProcrastinateQueue):
        await close_arena(arena)
        raise ConfigError("`codegen-bot worker` needs a PostgreSQL DATABASE_URL; "
                          "with SQLite, `codegen-bot serve` runs the jobs itself")
    stop = asyncio.Event()
    try:
        with stop_on_signals(stop):
            await _add_configured_surfaces(arena, settings)
            await _work_until(arena, settings, stop, run_jobs=True)
    finally:
        await _drain(arena, settings)
        await close_arena(arena)
    return 0


def _metrics() -> None:
    """A process without the web app (gateway, worker) serves /metrics on METRICS_PORT."""
    try:
        serve_metrics_from_env()
    except (ValueError, OSError) as exc:
        raise ConfigError(str(exc)) from exc


class SlackRunning:
    """A started Slack adapter: the web process's HTTP server (HTTP mode) or Socket Mode."""

    def __init__(self, adapter: SlackAdapter, server: WebServer | None = None, socket: Any = None) -> None:
        self.adapter, self.server, self.socket = adapter, server, socket

    async def stop_accepting(self) -> None:
        """Stop taking events: the listener closes (the load balancer sends them elsewhere) after
        the requests in flight are answered, or the Socket Mode connection is closed."""
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None

    async def close(self) -> None:
        """Release the Web API session (after the work in flight is done)."""
        await self.stop_accepting()
        await self.adapter.close()


async def start_slack(arena: Arena, settings: Settings, env: dict[str, str] | None = None) -> SlackRunning:
    """Socket Mode when SLACK_APP_TOKEN is set, else HTTP: one ASGI app with /slack/events,
    /healthz, /metrics and the mounted apps (app.web), on HOST:PORT."""
    from adapters.slack.serve import adapter_from_env, connect_socket_mode
    from app.web import WebServer, build_web_app, header_timeout_from_env, listen_address, web_mounts

    env = dict(os.environ) if env is None else env
    adapter = adapter_from_env(arena, settings, env)
    if env.get("SLACK_APP_TOKEN"):
        return SlackRunning(adapter, socket=await connect_socket_mode(adapter, env["SLACK_APP_TOKEN"]))
    host, port = listen_address(env)
    server = WebServer(build_web_app(slack=adapter, mounts=web_mounts(arena)), host, port,
                       header_timeout=header_timeout_from_env(env))
    await server.start()
    log.warning("web: serving Slack HTTP mode on http://%s:%d", host, server.port)
    return SlackRunning(adapter, server=server)


async def _add_configured_surfaces(arena: Arena, settings: Settings) -> None:
    """A worker posts and edits through the platforms' REST APIs, built from configuration."""
    if os.environ.get("SLACK_BOT_TOKEN"):
        from adapters.slack.serve import web_api_surface

        arena.services.surfaces.add(web_api_surface(edits_per_minute=settings.slack_edits_per_minute))
    if os.environ.get("DISCORD_TOKEN"):
        from adapters.discord.serve import rest_surface

        arena.services.surfaces.add(await rest_surface())
    if not arena.services.surfaces.platforms:
        raise ConfigError("a worker needs SLACK_BOT_TOKEN or DISCORD_TOKEN to post answers")


async def _work_until(arena: Arena, settings: Settings, stop: asyncio.Event, *, run_jobs: bool) -> None:
    """Resume what a previous process left (one process) or run a worker (shared queue), plus
    the scheduled jobs, until ``stop``."""
    async with scheduled_jobs(arena, settings):
        queue = arena.queue
        if isinstance(queue, ProcrastinateQueue):
            if run_jobs:
                await queue.run_worker(stop, settings.shutdown_grace_s)
            else:
                await stop.wait()
        else:
            resumed = await arena.resume(close=CLOSED_ON_RESTART)
            if resumed:
                log.warning("resuming %d task(s) the previous process left unfinished", resumed)
            await stop.wait()


async def _drain(arena: Arena, settings: Settings) -> None:
    """Let work in flight finish within the grace period (the PostgreSQL worker did already)."""
    queue = arena.queue
    if isinstance(queue, InProcessQueue):
        left = await queue.shutdown(settings.shutdown_grace_s)
        if left:
            log.warning("%d job(s) still running after %.0f s; they resume on the next start",
                        left, settings.shutdown_grace_s)
    await arena.services.tracker.shutdown(5.0)


async def _console(settings: Settings) -> int:
    from adapters.console import ConsoleSession, ConsoleSurface

    arena = build_arena(settings, shared_queue=False)
    try:
        surface = ConsoleSurface()
        arena.services.surfaces.add(surface)
        closed = await arena.resume(close=CLOSED_ON_RESTART)
        if closed:
            surface.console.print(f"[dim]{closed} unfinished task(s) from an earlier run marked interrupted.[/dim]")
        await ConsoleSession(arena, surface).run()
    finally:
        if isinstance(arena.queue, InProcessQueue):
            await arena.queue.shutdown(0)
        await close_arena(arena)
    return 0
