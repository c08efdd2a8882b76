"""Slack: `--models a,b` in `/codegen` and in app mentions asks exactly those contestants, within the
channel's roster; an unknown or left-out id gets, privately, the ids that can be asked there."""

from __future__ import annotations

import json

from sqlmodel import select

from storage.models import Answer, Task
from tests.slack.conftest import Harness
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"


def asked(h: Harness) -> list[str]:
    return sorted(r.json["model"] for r in h.models.requests)


def stored_tasks(h: Harness) -> list[tuple[str, list[str]]]:
    with h.arena.store.session() as s:
        return [(t.text, sorted(a.contestant_id for a in s.exec(select(Answer).where(Answer.task_id == t.id))))
                for t in s.exec(select(Task).order_by(Task.id))]


async def test_the_models_flag_picks_exactly_those_contestants(harness: Harness) -> None:
    h = harness
    await h.command("--models beta write a queue in Go")
    await h.settle()
    assert asked(h) == ["beta"]
    assert stored_tasks(h) == [("write a queue in Go", ["beta"])], "the flag is not part of the task"
    [parent] = [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]
    assert "BETA" in parent.all_text() and "ALPHA" not in parent.all_text()

    await h.event({"type": "app_mention", "user": "U0BOB", "text": f"<@{BOT_USER_ID}> --models=ALPHA, beta sort a list",
                   "ts": "1700000700.000100", "channel": CHANNEL, "event_ts": "1700000700.000100", "team": "T0FAKE"})
    await h.settle()
    assert stored_tasks(h)[1] == ("sort a list", ["alpha", "beta"]), "ids match without regard to case"


async def test_an_unknown_id_gets_the_known_ones_privately(harness: Harness) -> None:
    h = harness
    await h.command("--models gpt5,beta write a queue")
    await h.settle()
    assert "Unknown model id: gpt5. Models you can ask here: alpha, beta." in json.dumps(h.slack.responses[-1])
    assert h.slack.responses[-1]["response_type"] == "ephemeral"
    assert h.models.requests == [] and stored_tasks(h) == []
    assert not h.slack.calls_to("chat.postMessage"), "nothing public"

    await h.event({"type": "app_mention", "user": "U0BOB", "text": f"<@{BOT_USER_ID}> --models nope sort",
                   "ts": "1700000800.000100", "channel": CHANNEL, "event_ts": "1700000800.000100", "team": "T0FAKE"})
    await h.settle()
    [private] = h.slack.ephemerals
    assert private["user"] == "U0BOB" and "Unknown model id: nope" in json.dumps(private)


async def test_the_flag_stays_within_the_channels_roster(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ADA")
    await h.command("models use alpha", user="U0ADA", user_name="ada")
    await h.settle()
    await h.command("--models beta write a queue")
    await h.settle()
    reply = json.dumps(h.slack.responses[-1])
    assert "Not in this channel's roster: beta" in reply and "Models you can ask here: alpha." in reply
    assert h.models.requests == []

    await h.command("--models alpha write a queue")
    await h.settle()
    assert asked(h) == ["alpha"]
