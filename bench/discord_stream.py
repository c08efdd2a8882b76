"""Discord streaming benchmark: edits per answer message through the real adapter.

Starts the fake Discord (REST + gateway) and the fake OpenAI provider, connects the real
ArenaClient, and sends T mention-triggered tasks at once to N contestants that each stream for
about S seconds. Prints, per answer message, how many PATCH edits Discord received and the
highest edit rate seen in any 1-second window (the throttle's target is ~1/s/message), plus
the end-to-end time of the whole batch. The fakes run on their own loops in threads.

    .venv/bin/python bench/discord_stream.py [--tasks 5] [--contestants 4] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.discord.client import ArenaClient
from adapters.discord.serve import configure_api_base
from app.wiring import run_async
from bot.arena import Arena
from bot.config import Settings
from bot.providers.client import ChatClient
from bot.roster import Contestant, Roster
from storage.db import Store
from tests.discord.fake_discord import BOT_ID, CHANNEL_ID, FakeDiscord, user_payload
from tests.fakes.openai_server import FakeOpenAI

WORDS = 80


class Background:
    """An event loop in a daemon thread, so the fakes do not share the bot's loop (and CPU turns)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def main(tasks: int, contestants: int, seconds: float) -> None:
    background = Background()
    discord_fake = FakeDiscord()
    background.run(discord_fake.__aenter__())
    models = FakeOpenAI.start_in_thread()
    try:
        configure_api_base(discord_fake.api_base)
        roster = Roster([Contestant(id=f"m{i}", name=f"M{i}", base_url=models.base_url, model=f"m{i}")
                         for i in range(contestants)])
        for c in roster.contestants:
            models.script(c.model, text="word " * WORDS, chunk_delay=seconds / WORDS)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db")
            store.upgrade()
            settings = Settings(database_url=store.url, edit_interval=1.0, user_tasks_per_hour=0,
                                workspace_concurrent_tasks=0)  # measure the bot, not its limits
            arena = Arena(store, roster, ChatClient(), settings)
            client = ArenaClient(arena, edit_interval=1.0, guild_ready_timeout=0.01)
            runner = asyncio.create_task(client.start("bench-token"))
            await asyncio.wait_for(client.reconciled.wait(), 15)
            started = time.perf_counter()
            for i in range(tasks):
                msg = discord_fake.message_payload(CHANNEL_ID, user_payload(1000 + i, f"u{i}"),
                                                   f"<@{BOT_ID}> task {i}", mentions=[discord_fake.users[BOT_ID]])
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
                    discord_fake.dispatch("MESSAGE_CREATE", msg), background.loop))
            await asyncio.sleep(0.5)
            await client.wait_idle(settle=0.5)
            elapsed = time.perf_counter() - started
            await client.close()
            await asyncio.wait([runner], timeout=5)
            await arena.client.aclose()
            store.dispose()
    finally:
        background.run(discord_fake.__aexit__(None, None, None))
        background.stop()
        models.stop()

    stamps: dict[str, list[float]] = defaultdict(list)
    for rec in discord_fake.requests:
        if rec.method == "PATCH" and rec.path.startswith("/channels/"):
            stamps[rec.path].append(rec.at)
    per_message = [len(v) for v in stamps.values()]
    gaps = [b - a for v in stamps.values() for a, b in zip(v, v[1:], strict=False)]
    peak = max((sum(1 for t in v if s <= t < s + 1.0) for v in stamps.values() for s in v), default=0)
    print(f"tasks={tasks} contestants={contestants} stream≈{seconds:.1f}s edit_interval=1.0s")
    print(f"answer messages edited: {len(per_message)} (expected {tasks * contestants})")
    if per_message:
        print(f"edits per message: median {statistics.median(per_message):.0f}, max {max(per_message)}")
    print(f"peak edits of one message in any 1 s window: {peak}; smallest gap between two edits of one "
          f"message: {min(gaps, default=0):.3f} s (measured at the fake)")
    print(f"batch end-to-end: {elapsed:.2f} s")
    refused = discord_fake.take_violations()
    print(f"requests the real Discord would refuse: {len(refused)}")
    for violation in refused[:5]:
        print(f"  {violation}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--contestants", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    run_async(main(args.tasks, args.contestants, args.seconds))
