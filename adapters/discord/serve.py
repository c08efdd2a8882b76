"""Run the Discord adapter (``codegen-bot serve`` with DISCORD_TOKEN) and sync its commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING

import aiohttp
import discord

from adapters.discord.client import ArenaClient
from adapters.discord.surface import NO_MENTIONS, DiscordSurface
from bot.config import env_setting, number
from bot.errors import ConfigError, ServiceUnreachable

if TYPE_CHECKING:
    from bot.arena import Arena
    from bot.config import Settings

log = logging.getLogger(__name__)
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here: no warning on every start
DEFAULT_API_BASE = "https://discord.com/api/v10"


class DiscordConfigError(ConfigError):
    """A Discord setting is unusable; the message says which and why."""


def configure_api_base(url: str | None = None) -> str:
    """Point discord.py's REST client at ``url`` (or DISCORD_API_BASE); returns the base used.

    The gateway URL then comes from that API's ``GET /gateway/bot`` (``AutoShardedClient``).
    """
    base = (url if url is not None else os.environ.get("DISCORD_API_BASE", "")).strip() or DEFAULT_API_BASE
    if not base.startswith(("http://", "https://")):
        raise DiscordConfigError(
            f"DISCORD_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, got {base!r}")
    discord.http.Route.BASE = base.rstrip("/")
    return discord.http.Route.BASE


def _token() -> str:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise DiscordConfigError("DISCORD_TOKEN is not set: create a bot at "
                                 "https://discord.com/developers/applications and export its token.")
    return token


def check_env() -> None:
    """Check the Discord settings before anything starts (raises :class:`DiscordConfigError`)."""
    _token()
    configure_api_base()
    _reconcile_days()


def _reconcile_days() -> float:
    return env_setting("DISCORD_RECONCILE_DAYS", 7.0, number(minimum=0))


async def login(client: discord.Client) -> None:
    """Log ``client`` in; a refused token or an unreachable API is an error a person can act on."""
    try:
        await client.login(_token())
    except discord.LoginFailure:
        raise DiscordConfigError("Discord refused DISCORD_TOKEN (improper token): copy the bot token again "
                                 "from the application's Bot page") from None
    except (aiohttp.ClientConnectionError, OSError) as error:
        raise ServiceUnreachable(f"cannot reach Discord's API at {discord.http.Route.BASE} "
                                 f"({type(error).__name__}: {error}); check DISCORD_API_BASE and the network") from None


class DiscordRunning:
    """A started Discord adapter: the gateway connection, in the background."""

    def __init__(self, client: ArenaClient, connection: asyncio.Task[None]) -> None:
        self.client = client
        self.connection = connection

    async def stop_accepting(self) -> None:
        """Nothing to stop early: a task asked meanwhile is stored and taken over by whoever runs
        its jobs (another worker, or this process's next start)."""

    async def close(self) -> None:
        """Disconnect (after the work in flight is done)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.client.wait_idle(settle=0), timeout=5)
        if not self.client.is_closed():
            await self.client.close()
        self.connection.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.connection


async def start_discord(arena: Arena, settings: Settings) -> DiscordRunning:
    """Log in and connect to the gateway (in the background); the client's surface serves jobs."""
    configure_api_base()
    client = ArenaClient(arena, reconcile_days=_reconcile_days())
    try:
        await login(client)
    except BaseException:
        await client.close()
        raise
    return DiscordRunning(client, asyncio.create_task(_connect(client)))


async def _connect(client: ArenaClient) -> None:
    try:
        await client.connect()
    except discord.PrivilegedIntentsRequired:
        log.error("Discord refused the gateway intents; this bot needs no privileged intent, "
                  "so switch them off in the application's Bot page")
        raise


async def rest_surface() -> DiscordSurface:
    """A Discord surface for a worker: REST through discord.py, logged in without the gateway."""
    configure_api_base()
    client = discord.Client(intents=discord.Intents.none(), allowed_mentions=NO_MENTIONS)
    await login(client)
    return DiscordSurface(client)


async def sync_commands(guild_id: int | None = None) -> list[str]:
    """Register ``/codegen`` with Discord (globally, or in one guild for instant updates)."""
    from discord import app_commands

    from adapters.discord.commands import codegen_group

    configure_api_base()
    client = discord.Client(intents=discord.Intents(guilds=True))
    tree = app_commands.CommandTree(client)
    tree.add_command(codegen_group())
    try:
        await login(client)
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        return [command.name for command in synced]
    finally:
        await client.close()
