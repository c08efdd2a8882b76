"""Slack: the limits of issue 12 through signed slash commands, the fake Web API and the fake models:
a user's tasks per hour, and a workspace's tasks running at once (the others queue, in order)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.arena import Arena
from storage.db import Store
from storage.tasks import get_task
from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import Harness, running_harness

CHANNEL = "C0GENERAL"


@contextlib.asynccontextmanager
async def limited(store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena],
                  **settings: Any) -> AsyncIterator[Harness]:
    def build(store: Store, contestants: list[Any], **options: Any) -> Arena:
        return make_arena(store, contestants, **options, **settings)

    async with running_harness(store, fake_openai, build) as h:
        yield h


def asked_tasks(models: FakeOpenAI) -> list[str]:
    return [r.json["messages"][1]["content"] for r in models.requests if isinstance(r.json, dict)]


def header(h: Harness, task_id: int) -> Any:
    [found] = [m for m in h.slack.channel_messages(CHANNEL) if f"Codegen task #{task_id}" in m.all_text()]
    return found


async def until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait (polling) until ``predicate()`` holds; fail naming ``what`` if it never does."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, f"never happened: {what}"
        await asyncio.sleep(0.02)


async def test_over_the_hourly_limit_the_user_is_told_privately_and_nothing_is_posted(
        sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> None:
    async with limited(sqlite_store, fake_openai, make_arena, user_tasks_per_hour=2) as h:
        for text in ("write a stack class", "write a queue class"):
            await h.command(text)
            await h.settle()
        posted = len(h.slack.calls_to("chat.postMessage"))
        asked = len(h.models.requests)

        await h.command("write a heap class")
        await h.settle()
        refusal = json.dumps(h.slack.responses[-1], ensure_ascii=False)
        assert h.slack.responses[-1].get("response_type", "ephemeral") == "ephemeral"
        assert "You have asked 2 tasks in the last hour; the limit is 2 an hour" in refusal
        assert "You can ask again in 60 min. Nothing was posted." in refusal
        assert len(h.slack.calls_to("chat.postMessage")) == posted  # nothing in the channel
        assert len(h.models.requests) == asked and "heap" not in " ".join(asked_tasks(h.models))

        await h.command("write a heap class", user="U0BOB", user_name="bob")  # another user is not limited
        await h.settle()
        assert sum("heap" in t for t in asked_tasks(h.models)) == 2


async def test_tasks_past_the_workspace_limit_queue_in_order_and_say_how_many_are_ahead(
        sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> None:
    async with limited(sqlite_store, fake_openai, make_arena, workspace_concurrent_tasks=1) as h:
        for model in ("alpha", "beta"):
            h.models.script(model, text="first answer", first_token_delay=1.5)
        await h.command("write task one", user="U0ANN")
        await until(lambda: len(h.models.requests) == 2, "task one asked its models")
        for model in ("alpha", "beta"):
            h.models.script(model, text="later answer")
        await h.command("write task two", user="U0BOB")
        await until(lambda: get_task(h.arena.store, 2) is not None, "task two stored")  # asked in this order
        await h.command("write task three", user="U0CAT")
        await until(lambda: "queued, 1 ahead of you" in json.dumps([m.all_text() for m in
                    h.slack.channel_messages(CHANNEL)]), "task three's header says it is queued")
        assert "queued, next to start" in header(h, 2).all_text()
        assert "queued, 1 ahead of you" in header(h, 3).all_text()
        assert h.slack.thread(CHANNEL, header(h, 3).ts) == []  # no answer placeholders while queued
        assert len(h.models.requests) == 2

        await h.settle()
        assert asked_tasks(h.models) == ["write task one"] * 2 + ["write task two"] * 2 + ["write task three"] * 2
        shown = [json.dumps(edit, ensure_ascii=False) for edit in header(h, 3).history] + [header(h, 3).all_text()]
        queue_lines = [("1 ahead" in s, "next to start" in s) for s in shown if "queued" in s]
        assert queue_lines[0] == (True, False) and queue_lines[-1] == (False, True)  # the count went down
        for task_id in (1, 2, 3):
            assert "queued" not in header(h, task_id).all_text()
            answers = h.slack.thread(CHANNEL, header(h, task_id).ts)
            assert len(answers) == 2 and all("answer" in a.all_text() for a in answers)
