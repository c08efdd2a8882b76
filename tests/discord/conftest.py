"""Fixtures: a fake Discord, the arena's models on the fake OpenAI server, a connected client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import discord
import pytest

from adapters.discord.client import ArenaClient
from adapters.discord.serve import configure_api_base
from bot.arena import Arena
from tests.conftest import contestant
from tests.discord.fake_discord import FakeDiscord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.violations import fail_on_violations

StartClient = Callable[..., Awaitable[ArenaClient]]


@pytest.fixture(autouse=True)
def _discord_accepts_every_request() -> Iterator[None]:
    """Fail any Discord test during which a fake Discord saw a request the real Discord would refuse."""
    yield
    fail_on_violations()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord REST API + gateway; discord.py's REST base points at it meanwhile."""
    saved = discord.http.Route.BASE
    async with FakeDiscord() as fake:
        configure_api_base(fake.api_base)
        try:
            yield fake
        finally:
            discord.http.Route.BASE = saved


@pytest.fixture
def arena(sqlite_store: Any, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> Arena:
    """Two contestants served by the fake provider; small task limit for the 'too long' check."""
    return make_arena(sqlite_store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")],
                      edit_interval=0.01, max_task_chars=200)


@pytest.fixture
async def start_client(fake_discord: FakeDiscord) -> AsyncIterator[StartClient]:
    """Start an ArenaClient against the fake (logs in, connects, waits for on_ready)."""
    running: list[tuple[ArenaClient, asyncio.Task[None]]] = []

    async def start(arena: Arena, **options: Any) -> ArenaClient:
        client = ArenaClient(arena, guild_ready_timeout=0.01, **options)
        task = asyncio.create_task(client.start("fake-token"))
        running.append((client, task))
        done, _ = await asyncio.wait([task, asyncio.ensure_future(client.reconciled.wait())],
                                     timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raise the failure
        assert client.reconciled.is_set(), "client did not become ready"
        await client.wait_idle()
        return client

    yield start
    for client, task in running:
        await stop_client(client, task)


async def stop_client(client: ArenaClient, task: asyncio.Task[None] | None = None) -> None:
    """Close a client (a simulated shutdown)."""
    if not client.is_closed():
        await client.close()
    if task is not None:
        await asyncio.wait([task], timeout=5)


async def push(client: ArenaClient, fake: FakeDiscord, event: str, data: dict[str, Any]) -> None:
    """Send a gateway dispatch and wait until the client has handled it completely."""
    seen = asyncio.ensure_future(client.wait_for("socket_event_type", check=lambda t: t == event, timeout=10))
    await asyncio.sleep(0)
    await fake.dispatch(event, data)
    await seen
    await client.wait_idle(settle=0.1)
