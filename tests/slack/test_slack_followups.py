"""Follow-ups in Slack (issue 11): `@bot <text>` in a task's thread continues each model's conversation."""

from __future__ import annotations

import time

from sqlmodel import select

from storage.models import Answer, Rating, Task
from tests.slack.conftest import Harness
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"


def rows(h: Harness, model: type) -> list:
    with h.arena.store.session() as s:
        return list(s.exec(select(model).order_by(model.id)))


def mention(text: str, thread: str, ts: str) -> dict[str, object]:
    return {"type": "app_mention", "user": "U0BOB", "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
            "thread_ts": thread, "channel": CHANNEL, "event_ts": ts}


def sent(h: Harness, model: str) -> list[list[tuple[str, str]]]:
    return [[(m["role"], m["content"]) for m in r.json["messages"][1:]] for r in h.models.requests_for(model)]


async def test_a_mention_in_the_tasks_thread_is_a_follow_up_to_every_model(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text="alpha: def add(a, b): ...")
    h.models.script("beta", text="beta: def add(a, b): ...")
    await h.command("write an add function")
    await h.settle()
    [task] = rows(h, Task)
    thread = task.thread or ""
    h.models.script("alpha", text="alpha async\n```python\nprint('alpha')\n```")
    h.models.script("beta", text="beta async")

    status, _ = await h.event(mention("now make it async", thread, f"{time.time():.6f}"))
    await h.settle()

    assert status == 200
    assert sent(h, "alpha")[-1] == [("user", "write an add function"), ("assistant", "alpha: def add(a, b): ..."),
                                   ("user", "now make it async")]
    assert sent(h, "beta")[-1] == [("user", "write an add function"), ("assistant", "beta: def add(a, b): ..."),
                                  ("user", "now make it async")]
    replies = h.slack.thread(CHANNEL, thread)
    assert len(replies) == 5  # two answers, the follow-up's header, two new answers
    header = replies[2].all_text()
    assert "Follow-up #2 by U0BOB" in header and "now make it async" in header
    assert "<@U0BOB>" not in header  # named, never pinged
    assert [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None] == [
        m for m in h.slack.channel_messages(CHANNEL) if m.ts == thread]  # no new parent message
    new = [a for a in rows(h, Answer) if a.task_id != task.id]
    assert {a.text.split("\n")[0] for a in new} == {"alpha async", "beta async"}
    assert {a.message_id for a in new} == {m.ts for m in replies[3:]}
    assert all("first token" in m.all_text() for m in replies[3:])  # the footer
    alpha2 = next(a for a in new if a.contestant_id == "alpha")
    shown = next(m for m in replies[3:] if m.ts == alpha2.message_id)
    buttons = [b for b in shown.blocks if b["type"] == "actions"][0]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("codegen_run", str(alpha2.id))]  # ▶ Run, per turn

    # a rating of a turn-2 answer is a rating of that answer (a ballot of turn 2)
    await h.event({"type": "reaction_added", "user": "U0CAROL", "reaction": "+1", "item_user": BOT_USER_ID,
                   "item": {"type": "message", "channel": CHANNEL, "ts": alpha2.message_id},
                   "event_ts": f"{time.time():.6f}"})
    await h.settle()
    assert [(r.answer_id, r.value) for r in rows(h, Rating)] == [(alpha2.id, 1)]


async def test_a_labelled_mention_continues_only_that_model(harness: Harness) -> None:
    h = harness
    await h.command("write an add function")
    await h.settle()
    [task] = rows(h, Task)
    beta = next(a for a in rows(h, Answer) if a.contestant_id == "beta")
    asked = len(h.models.requests)

    await h.event(mention(f"{beta.label}: add type hints", task.thread or "", f"{time.time():.6f}"))
    await h.settle()

    assert [r.json["model"] for r in h.models.requests[asked:]] == ["beta"]
    assert sent(h, "beta")[-1][-1] == ("user", "add type hints")
    followup = [t for t in rows(h, Task) if t.root_id == task.id]
    assert [t.turn for t in followup] == [2]
    assert len(h.slack.thread(CHANNEL, task.thread or "")) == 4  # two answers, a header, one new answer
