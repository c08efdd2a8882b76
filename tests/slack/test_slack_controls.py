"""Slack: channel controls (issue 12) through signed slash commands, users.info and the fake models."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlmodel import select

from bot.arena import Arena
from storage.controls import settings_history
from storage.db import Store
from storage.leaderboard import channel_settings
from storage.models import Answer
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import Harness, running_harness

CHANNEL, OTHER = "C0GENERAL", "C0OTHER"


def last_reply(h: Harness) -> str:
    return json.dumps(h.slack.responses[-1], ensure_ascii=False)


def asked_models(models: FakeOpenAI) -> list[str]:
    return [r.json["model"] for r in models.requests if isinstance(r.json, dict)]


def system_prompts(models: FakeOpenAI) -> list[str]:
    return [r.json["messages"][0]["content"] for r in models.requests if isinstance(r.json, dict)]


async def test_a_member_is_refused_and_nothing_changes(harness: Harness) -> None:
    h = harness
    for command in ("models use alpha", "prompt set we use Python 3.12", "budget 5/day", "blind on",
                    "subscribe", "autorun on", "models reset", "prompt clear", "budget off"):
        await h.command(command, user="U0BOB", user_name="bob")
        await h.settle()
        assert "Only admins can change this channel" in last_reply(h), command
        assert "Nothing was changed" in last_reply(h)
    row = channel_settings(h.arena.store, "slack", CHANNEL)
    assert row is None or not any([row.models, row.prompt, row.blind, row.subscribed, row.autorun, row.budget_daily_usd])
    assert settings_history(h.arena.store, "slack", CHANNEL) == []
    assert [c.body["user"] for c in h.slack.calls_to("users.info")] == ["U0BOB"]  # looked up once, cached

    await h.command("write a stack class", user="U0BOB")
    await h.settle()
    assert sorted(asked_models(h.models)) == ["alpha", "beta"]


async def test_a_workspace_admin_shapes_one_channel(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ADA")
    await h.command("models use alpha,nosuch", user="U0ADA", user_name="ada")
    await h.settle()
    assert "Unknown model id(s): nosuch. Known: alpha, beta" in last_reply(h)

    await h.command("models use alpha", user="U0ADA", user_name="ada")
    await h.command("prompt set we use Python 3.12, FastAPI and pytest", user="U0ADA", user_name="ada")
    await h.settle()
    assert "Every model in this channel now also gets" in last_reply(h)

    await h.command("write a stack class")
    await h.command("write a queue class", channel=OTHER)
    await h.settle()
    here = [r.json for r in h.models.requests if "stack" in r.json["messages"][1]["content"]]
    there = [r.json for r in h.models.requests if "queue" in r.json["messages"][1]["content"]]
    assert [r["model"] for r in here] == ["alpha"]
    assert "we use Python 3.12, FastAPI and pytest" in here[0]["messages"][0]["content"]
    assert sorted(r["model"] for r in there) == ["alpha", "beta"]
    assert all("FastAPI" not in r["messages"][0]["content"] for r in there)

    await h.command("models")
    await h.settle()
    listing = last_reply(h)
    assert "ALPHA* (`alpha`): ✅ available" in listing and "BETA* (`beta`): ➖ not in this channel" in listing

    await h.command("settings")
    await h.settle()
    shown = last_reply(h)
    assert "ada · models: all → alpha" in shown
    assert "ada · prompt: none → “we use Python 3.12, FastAPI and pytest”" in shown

    await h.command("models reset", user="U0ADA", user_name="ada")
    await h.command("prompt clear", user="U0ADA", user_name="ada")
    await h.settle()
    row = channel_settings(h.arena.store, "slack", CHANNEL)
    assert row is not None and row.models is None and row.prompt is None
    [latest, *_] = settings_history(h.arena.store, "slack", CHANNEL)
    assert (latest.key, latest.old, latest.new, latest.user_id) == ("prompt", "we use Python 3.12, FastAPI and pytest",
                                                                    None, "U0ADA")


async def test_a_task_that_looks_like_a_command_is_still_a_task(harness: Harness) -> None:
    h = harness
    await h.command("prompt engineering helper in Python")
    await h.settle()
    assert sorted(asked_models(h.models)) == ["alpha", "beta"]


@contextlib.asynccontextmanager
async def priced(store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena],
                 beta_price: float | None = None, **settings: Any) -> AsyncIterator[Harness]:
    """The harness with "alpha" priced ($5 per million tokens either way) and "beta" free (or at
    ``beta_price``)."""
    def build(store: Store, contestants: list[Any], **options: Any) -> Arena:
        roster = [contestant(fake_openai, "alpha", price_in=5.0, price_out=5.0, max_tokens=1000),
                  contestant(fake_openai, "beta", price_in=beta_price, price_out=beta_price, max_tokens=1000)]
        return make_arena(store, roster, **options, **settings)

    async with running_harness(store, fake_openai, build) as h:
        yield h


async def test_a_spent_budget_refuses_priced_models_and_lets_free_ones_run(
        sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> None:
    async with priced(sqlite_store, fake_openai, make_arena, admins=frozenset({"U0ADA"})) as h:
        await h.command("budget 0.01/day", user="U0ADA", user_name="ada")
        await h.settle()
        assert "$0.01/day" in last_reply(h) or "of $0.01 spent today (this channel)" in last_reply(h)

        h.models.script("alpha", usage={"completion_tokens": 2000})  # reported: $0.01 and a bit
        await h.command("write a stack class")
        await h.settle()
        assert sorted(asked_models(h.models)) == ["alpha", "beta"]

        await h.command("write a queue class")
        await h.settle()
        assert asked_models(h.models)[2:] == ["beta"]  # the free model still runs
        [header] = [m.all_text() for m in h.slack.channel_messages(CHANNEL) if "Codegen task #2" in m.all_text()]
        assert "Skipped (over this channel's daily budget: $0.00 of $0.01 left)*\nALPHA" in header.replace("&#39;", "'")

    async with priced(sqlite_store, fake_openai, make_arena, admins=frozenset({"U0ADA"})) as h:
        await h.command("models use alpha", user="U0ADA", user_name="ada")
        await h.command("write a heap class")
        await h.settle()
        refusal = last_reply(h)
        assert "would pass this channel's budget, so nothing was asked" in refusal
        assert "of $0.01 spent today (this channel); resets at 00:00 UTC, in" in refusal
        assert len([r for r in h.models.requests if "heap" in json.dumps(r.json)]) == 0

        await h.command("budget", user="U0BOB")
        await h.settle()
        assert "Daily: $0.0" in last_reply(h) and "of $0.01 spent today" in last_reply(h)


async def test_partial_fit_runs_only_the_models_that_fit(
        sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> None:
    # Estimates: alpha about $0.005 (1,000 answer tokens at $5 per million), beta about $0.001.
    async with priced(sqlite_store, fake_openai, make_arena, beta_price=1.0, budget_daily_usd=0.004) as h:
        await h.command("write a stack class")
        await h.settle()
        assert asked_models(h.models) == ["beta"]
        with h.arena.store.session() as s:
            [answer] = list(s.exec(select(Answer)))
        assert answer.contestant_id == "beta" and 0.001 <= (answer.cost_estimate_usd or 0) < 0.0011
        header = h.slack.channel_messages(CHANNEL)[0].all_text()
        assert "Skipped (over this channel's daily budget: $0.0040 of $0.0040 left)" in header.replace("&#39;", "'")
        assert "ALPHA" in header.split("Skipped")[1]
