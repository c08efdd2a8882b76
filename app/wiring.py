"""Wiring: build the arena (storage, roster, client, sandbox) from settings."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.arena import Arena
from bot.config import Settings
from bot.edits import LimitsBudget
from bot.inprocess import InProcessQueue
from bot.local_model import LocalModelServer
from bot.providers.client import ChatClient
from bot.retention import expire_old
from bot.roster import Roster, load_roster
from bot.secrets import redact_logs
from bot.services import Services, Surfaces
from storage.db import Store
from storage.pgqueue import ProcrastinateQueue
from storage.rate_budget import DatabaseStorage

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run the bot's event loop: uvloop where installed (it cut the fan-out benchmark's p50 by a
    third here: 2.58 -> 1.78 x L for 400 concurrent streams), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def configure_logging(verbose: bool = False, settings: Settings | None = None) -> None:
    """Log to stderr, with every configured secret redacted from every record (``settings``, by
    default read from the environment; :func:`build_arena` adds the roster's keys). HTTP client
    chatter stays quiet (it could print URLs with tokens)."""
    from bot import logcontext

    level = logging.DEBUG if verbose else getattr(logging, os.environ.get("LOG_LEVEL", "WARNING").upper(), logging.WARNING)
    logcontext.install()  # every line logged while handling a task says which (task=… answer=…)
    logging.basicConfig(level=level, format=logcontext.FORMAT)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact_logs((settings or Settings.from_env()).secret_values())


def configured_secrets(settings: Settings, roster: Roster) -> list[str]:
    """Every secret to keep out of answers, messages and logs: the platform tokens and database
    password from ``settings`` and every key the roster names."""
    return settings.secret_values(c.api_key_env for c in roster.contestants if c.api_key_env)


def provider_client(settings: Settings, roster: Roster) -> ChatClient:
    """The one provider client of a process: one aiohttp keep-alive pool for every contestant,
    redacting every configured secret (which are also redacted from the logs from now on)."""
    secrets = configured_secrets(settings, roster)
    redact_logs(secrets)
    return ChatClient(secrets=secrets)


def build_arena(settings: Settings, *, with_sandbox: bool = True, shared_queue: bool = True) -> Arena:
    """The core over the configured database (migrated) and roster.

    On PostgreSQL (and unless ``shared_queue`` is False: the console, ``ask``) jobs go to the
    queue every process shares and edit budgets are shared through the database; otherwise jobs
    run in this process.
    """
    store = Store(settings.database_url)
    store.upgrade()
    roster = load_roster(settings.roster_path)
    sandbox = None
    if with_sandbox:
        from bot.sandbox.service import SandboxService

        sandbox = SandboxService.from_env()
    queue: InProcessQueue | ProcrastinateQueue
    if shared_queue and not store.is_sqlite:
        queue = ProcrastinateQueue(store, daily=lambda: expire_old(store, settings))
        budget = LimitsBudget(DatabaseStorage(store))
    else:
        queue = InProcessQueue()
        budget = LimitsBudget()
    services = Services(
        store=store, roster=roster, client=provider_client(settings, roster), settings=settings, queue=queue,
        surfaces=Surfaces(edit_interval=settings.edit_interval, budget=budget), sandbox=sandbox,
        local_model=LocalModelServer(),
    )
    arena = Arena(services=services)
    queue.bind(arena.execute)
    return arena


async def close_arena(arena: Arena) -> None:
    """Release the queue, the HTTP client, the local model and the database pool."""
    if isinstance(arena.queue, ProcrastinateQueue):
        await arena.queue.close()
    await arena.client.aclose()
    if arena.sandbox is not None:
        await arena.sandbox.drain()  # let finished runs' cleanup (processes, cgroups) complete
    arena.local_model.close()
    arena.store.dispose()
