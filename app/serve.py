"""`codegen-bot serve`: start the adapters the configured tokens call for, else the console."""

from __future__ import annotations

import asyncio
import logging
import os

from app.wiring import build_arena, close_arena
from bot.config import Settings
from bot.metrics import serve_metrics_from_env

log = logging.getLogger(__name__)


async def serve(settings: Settings, adapter: str = "auto") -> int:
    """Run until interrupted. Slack and Discord may run side by side; the console runs alone.

    ``adapter`` picks one explicitly (the Procfile's web and worker processes do); "auto" runs
    every platform whose token is set, else the console.
    """
    if adapter == "slack" and not os.environ.get("SLACK_BOT_TOKEN"):
        raise SystemExit("error: --adapter slack needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)")
    if adapter == "discord" and not os.environ.get("DISCORD_TOKEN"):
        raise SystemExit("error: --adapter discord needs DISCORD_TOKEN")
    try:  # a process without the web app (gateway, worker) serves /metrics on METRICS_PORT
        serve_metrics_from_env()
    except (ValueError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from exc
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
            await asyncio.gather(*runners)
            return 0
        return await _console(arena)
    finally:
        await close_arena(arena)


async def _console(arena) -> int:  # type: ignore[no-untyped-def]
    from adapters.console import ConsoleSession, ConsoleSurface

    surface = ConsoleSurface()
    recovered = await arena.recover({surface.platform: surface})
    if recovered:
        surface.console.print(f"[dim]{recovered} unfinished task(s) from an earlier run marked interrupted.[/dim]")
    await ConsoleSession(arena, surface).run()
    return 0
