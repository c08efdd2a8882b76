"""`codegen-bot serve`: start the adapters the configured tokens call for, else the console."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from app.wiring import build_arena, close_arena
from bot.config import Settings
from bot.errors import ConfigError
from bot.metrics import serve_metrics_from_env

if TYPE_CHECKING:
    from bot.arena import Arena

log = logging.getLogger(__name__)


async def serve(settings: Settings, adapter: str = "auto") -> int:
    """Run until interrupted. Slack and Discord may run side by side; the console runs alone.

    ``adapter`` picks one explicitly (the Procfile's web and worker processes do); "auto" runs
    every platform whose token is set, else the console.
    """
    if adapter == "slack" and not os.environ.get("SLACK_BOT_TOKEN"):
        raise ConfigError("--adapter slack needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)")
    if adapter == "discord" and not os.environ.get("DISCORD_TOKEN"):
        raise ConfigError("--adapter discord needs DISCORD_TOKEN")
    if adapter in ("auto", "slack") and os.environ.get("SLACK_BOT_TOKEN"):
        from adapters.slack.serve import check_env

        check_env(dict(os.environ))  # a missing secret is said before anything starts
    if adapter in ("auto", "discord") and os.environ.get("DISCORD_TOKEN"):
        from adapters.discord.serve import check_env as check_discord_env

        check_discord_env()
    try:  # a process without the web app (gateway, worker) serves /metrics on METRICS_PORT
        serve_metrics_from_env()
    except (ValueError, OSError) as exc:
        raise ConfigError(str(exc)) from exc
    arena = build_arena(settings)
    try:
        runners = []
        if adapter in ("auto", "slack") and os.environ.get("SLACK_BOT_TOKEN"):
            from adapters.slack.serve import serve_slack
            from app.web import serve_slack_http

            runners.append(serve_slack(arena, settings, serve_http=serve_slack_http(arena)))
        if adapter in ("auto", "discord") and os.environ.get("DISCORD_TOKEN"):
            from adapters.discord.serve import serve_discord

            runners.append(serve_discord(arena, settings))
        if runners:
            tasks = [asyncio.ensure_future(runner) for runner in runners]
            try:
                await asyncio.gather(*tasks)
            finally:  # one platform failing (bad token, API unreachable) stops the other too
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            return 0
        return await _console(arena)
    finally:
        await close_arena(arena)


async def _console(arena: Arena) -> int:
    from adapters.console import ConsoleSession, ConsoleSurface

    surface = ConsoleSurface()
    recovered = await arena.recover({surface.platform: surface})
    if recovered:
        surface.console.print(f"[dim]{recovered} unfinished task(s) from an earlier run marked interrupted.[/dim]")
    await ConsoleSession(arena, surface).run()
    return 0
