"""`codegen-bot serve`: start the adapters the configured tokens call for, else the console."""

from __future__ import annotations

import asyncio
import logging
import os

from bot.app import build_arena, close_arena
from bot.config import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    """Run until interrupted. Slack and Discord may run side by side; the console runs alone."""
    arena = build_arena(settings)
    try:
        runners = []
        if os.environ.get("SLACK_BOT_TOKEN"):
            from adapters.slack.serve import serve_slack

            runners.append(serve_slack(arena, settings))
        if os.environ.get("DISCORD_TOKEN"):
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
    await arena.recover({surface.platform: surface})
    await ConsoleSession(arena, surface).run()
    return 0
