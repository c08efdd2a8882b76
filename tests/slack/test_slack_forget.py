"""Slack: `/codegen forget` (issue 12) through signed slash commands and reaction events: it says
what would go, deletes it only after `forget confirm`, removes every row of the caller's and
changes nothing of anyone else's; a second run finds nothing left."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from storage.db import Store
from storage.models import SQLModel
from tests.slack.conftest import Harness
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"
BOOKKEEPING = {"processedevent", "pseudonym_key", "ratecounter"}  # delivery keys, the pseudonym key, edit budgets


def reaction(emoji: str, ts: str, user: str) -> dict[str, object]:
    return {"type": "reaction_added", "user": user, "reaction": emoji, "item_user": BOT_USER_ID,
            "item": {"type": "message", "channel": CHANNEL, "ts": ts}, "event_ts": f"{time.time():.6f}"}


def rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of ours but the bookkeeping ones, as plain values."""
    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for table in (t for t in SQLModel.metadata.sorted_tables if t.name not in BOOKKEEPING):
            result = conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1'))
            out[table.name] = [dict(r._mapping) for r in result]
    return out


def mentions(rows_by_table: dict[str, list[dict[str, Any]]], *needles: str) -> list[str]:
    return [f"{table}: {row}" for table, found in rows_by_table.items() for row in found
            if any(n in str(row) for n in needles)]


def last_reply(h: Harness) -> str:
    return json.dumps(h.slack.responses[-1], ensure_ascii=False)


async def test_forget_deletes_only_the_callers_rows_after_confirmation(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")
    await h.command("prompt set we use pytest", user="U0ALICE", user_name="alice")
    await h.command("write a stack class", user="U0ALICE", user_name="alice")
    await h.command("write a queue class", user="U0BOB", user_name="bob")
    await h.settle()
    with h.arena.store.engine.connect() as conn:
        answers = {(task, model): ts for task, model, ts in conn.execute(text(
            "SELECT t.requester_id, a.contestant_id, a.message_id FROM answer a JOIN task t ON t.id = a.task_id"))}
    for (asker, model), ts in answers.items():
        await h.event(reaction("+1" if model == "alpha" else "-1", ts, "U0BOB"))  # bob rates everything
        if asker == "U0BOB":
            await h.event(reaction("four", ts, "U0ALICE"))  # alice rates bob's task's answers
    await h.settle()
    before = rows(h.arena.store)
    assert len(before["rating"]) == 6 and mentions(before, "U0ALICE")

    await h.command("forget", user="U0ALICE", user_name="alice")
    await h.settle()
    assert h.slack.responses[-1]["response_type"] == "ephemeral"
    assert "deletes 1 task, 2 ratings, 0 runs and 1 settings change of yours on slack" in last_reply(h)
    assert "`/codegen forget confirm`" in last_reply(h)
    assert rows(h.arena.store) == before  # nothing happens without the confirmation

    posted = len(h.slack.calls_to("chat.postMessage"))
    await h.command("forget confirm", user="U0ALICE", user_name="alice")
    await h.settle()
    assert "Done: deleted 1 task, 2 ratings, 0 runs and 1 settings change of yours" in last_reply(h)
    assert len(h.slack.calls_to("chat.postMessage")) == posted  # said privately
    after = rows(h.arena.store)
    left = mentions(after, "U0ALICE", "'alice'", "stack class")
    assert left == [], left

    def others(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """What is not alice's: bob's task with its answers, bob's ratings, the channel's settings."""
        bob_task = {r["id"] for r in snapshot["task"] if r["requester_id"] == "U0BOB"}
        return {
            "task": [r for r in snapshot["task"] if r["id"] in bob_task],
            "answer": [r for r in snapshot["answer"] if r["task_id"] in bob_task],
            "rating": [r for r in snapshot["rating"] if r["rater_id"] == "U0BOB"],
            "channelsettings": snapshot["channelsettings"],
        }

    assert others(after) == others(before)
    assert len(after["rating"]) == 4  # bob's four ratings, two of them on alice's task's answers
    [change] = after["settings_change"]
    assert (change["user_id"], change["user_name"], change["key"]) == ("forgotten", "a forgotten user", "prompt")
    [alices] = [r for r in after["task"] if r["requester_id"] == "forgotten"]
    assert alices["text"] == "" and alices["expired_at"] is None
    assert {a["contestant_id"]: (a["text"], a["code"]) for a in after["answer"] if a["task_id"] == alices["id"]} == {
        "alpha": ("", None), "beta": ("", None)}

    await h.command("forget confirm", user="U0ALICE", user_name="alice")
    await h.settle()
    assert "deleted 0 tasks, 0 ratings, 0 runs and 0 settings changes" in last_reply(h)
    assert rows(h.arena.store) == after

    alpha = next(a for a in after["answer"] if a["task_id"] == alices["id"])
    await h.action("codegen_run", str(alpha["id"]), channel=CHANNEL, message_ts=alpha["message_id"],
                   thread_ts=alices["thread"], user="U0BOB")
    await h.settle()
    [said] = h.slack.ephemerals  # ▶ Run on it says why, privately
    assert said["user"] == "U0BOB" and "That task's contents were deleted" in json.dumps(said, ensure_ascii=False)
