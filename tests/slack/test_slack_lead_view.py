"""Slack: `/codegen tag 12 data` and `/codegen leaderboard data 7d`, through signed requests and the fake Web API."""

from __future__ import annotations

import json

from sqlmodel import select

from storage.models import Task
from tests.slack.conftest import Harness

CHANNEL = "C0GENERAL"


def only_task(h: Harness) -> Task:
    with h.arena.store.session() as s:
        [task] = list(s.exec(select(Task)))
        return task


async def test_asker_tags_a_task_and_others_are_refused(harness: Harness) -> None:
    h = harness
    await h.command("write a FastAPI CRUD app with JWT auth")
    await h.settle()
    task = only_task(h)
    header = h.slack.channel_messages(CHANNEL)[0].all_text()
    assert "Web/backend · Python" in header

    await h.command(f"tag {task.id} data", user="U0BOB", user_name="bob")
    await h.settle()
    assert "Only the person who asked" in json.dumps(h.slack.responses[-1], ensure_ascii=False)
    assert only_task(h).kind == "web"

    await h.command(f"tag #{task.id} data sql")
    await h.settle()
    assert (only_task(h).kind, only_task(h).language, only_task(h).tagged_by) == ("data", "sql", "U0ALICE")
    # Slack's wire format escapes "&" as "&amp;".
    assert "is tagged Data &amp; ML · SQL" in json.dumps(h.slack.responses[-1], ensure_ascii=False)
    note = h.slack.thread(CHANNEL, task.thread or "")[-1].all_text()
    assert "now tagged *Data &amp; ML · SQL* (was Web/backend · Python), by alice" in note

    await h.command("tag twelve data")
    await h.settle()
    assert "Usage: `/codegen tag &lt;task number&gt; &lt;category&gt;`" in json.dumps(h.slack.responses[-1], ensure_ascii=False)


async def test_leaderboard_for_one_category_and_window(harness: Harness) -> None:
    h = harness
    await h.command("leaderboard data 7d")
    await h.settle()
    [board] = h.slack.channel_messages(CHANNEL)
    assert "Data &amp; ML · last 7d" in board.all_text()

    await h.command("leaderboard cooking")
    await h.settle()
    error = json.dumps(h.slack.responses[-1], ensure_ascii=False)
    assert "Unknown category 'cooking'" in error and "a window looks like 7d" in error
    assert len(h.slack.channel_messages(CHANNEL)) == 1  # nothing posted for a bad category
