"""A Slack user's whole flow, end to end: signed requests → Bolt → core → fake Web API."""

from __future__ import annotations

import json
import time

from sqlmodel import select

from bot.sandbox.service import SandboxService
from storage.models import Answer, ChannelSettings, Rating, Task
from tests.slack.conftest import Harness, command_body
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"


def answers(h: Harness) -> list[Answer]:
    with h.arena.store.session() as s:
        return list(s.exec(select(Answer).order_by(Answer.id)))


def tasks(h: Harness) -> list[Task]:
    with h.arena.store.session() as s:
        return list(s.exec(select(Task)))


def ratings(h: Harness) -> list[Rating]:
    """Current ratings (a retraction leaves a tombstone row, which is no rating)."""
    with h.arena.store.session() as s:
        return list(s.exec(select(Rating).where(Rating.retracted == False)))  # noqa: E712


async def test_slash_command_posts_parent_and_threaded_streaming_answers(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text="Use a loop:\n```python\nfor i in range(3):\n    print(i)\n```\n" + "word " * 40,
                    chunk_delay=0.02)
    h.models.script("beta", text="```python\nprint('beta')\n```")
    status, body = await h.command("write a loop that prints 0..2")
    assert status == 200 and body == ""
    await h.settle()

    top = [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]
    assert len(top) == 1, "one parent message in the channel"
    parent = top[0]
    assert "write a loop that prints 0..2" in parent.all_text()
    assert "alice" in parent.all_text() and "ALPHA" in parent.all_text() and "BETA" in parent.all_text()

    replies = h.slack.thread(CHANNEL, parent.ts)
    assert len(replies) == 2, "one threaded reply per model"
    by_model = {("alpha" if "ALPHA" in r.all_text() else "beta"): r for r in replies}
    final_alpha = by_model["alpha"].all_text()
    assert "for i in range(3):" in final_alpha and "```" in final_alpha
    assert "first token" in final_alpha and "tokens" in final_alpha  # the footer
    assert "▌" not in final_alpha  # the streaming cursor is gone from the final edit
    buttons = [b for b in by_model["alpha"].blocks if b["type"] == "actions"][0]["elements"]
    alpha_answer = next(a for a in answers(h) if a.contestant_id == "alpha")
    assert [(b["action_id"], b["value"]) for b in buttons] == [("codegen_run", str(alpha_answer.id))]
    assert alpha_answer.message_id == by_model["alpha"].ts

    # streamed by edits (~0.8 s of stream), but throttled to about one per edit interval (0.1 s)
    alpha_updates = [c for c in h.slack.calls_to("chat.update") if c.body["ts"] == by_model["alpha"].ts]
    assert 3 <= len(alpha_updates) <= 14
    stamps = [c.at for c in alpha_updates]
    assert (stamps[-1] - stamps[0]) / (len(stamps) - 1) >= 0.09  # ~one edit per interval on average


async def test_model_output_cannot_ping(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text="<!channel> <!here|here> <@U0BOSS> <!subteam^S123|devs> @everyone hi & bye")
    await h.command("say hello")
    await h.settle()
    sent = json.dumps([c.body for c in h.slack.calls if c.method.startswith("chat.")])
    for ping in ("<!channel>", "<!here", "<@U0BOSS>", "<!subteam", "@everyone"):
        assert ping not in sent
    reply = next(m for m in h.slack.channel_messages(CHANNEL) if "ALPHA" in m.all_text() and m.thread_ts)
    assert "&lt;!channel&gt;" in reply.all_text() and "&amp; bye" in reply.all_text()


async def test_mention_in_thread_answers_in_that_thread(harness: Harness) -> None:
    h = harness
    status, _ = await h.event({
        "type": "app_mention", "user": "U0BOB", "text": f"<@{BOT_USER_ID}> parse a &lt;csv&gt; file",
        "ts": "1700000500.000200", "thread_ts": "1700000400.000100", "channel": CHANNEL,
        "event_ts": "1700000500.000200", "team": "T0FAKE",
    })
    assert status == 200
    await h.settle()
    in_thread = h.slack.thread(CHANNEL, "1700000400.000100")
    assert len(in_thread) == 3  # the task header and two answers, all in the user's thread
    assert not [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]
    prompts = [r.json["messages"][-1]["content"] for r in h.models.requests]
    assert prompts == ["parse a <csv> file", "parse a <csv> file"]


async def test_reactions_rate_and_retract(harness: Harness) -> None:
    h = harness
    await h.command("write fizzbuzz")
    await h.settle()
    answer = answers(h)[0]
    parent = tasks(h)[0].parent_message_id

    def reaction(kind: str, emoji: str, ts: str, user: str = "U0CAROL") -> dict[str, object]:
        return {"type": kind, "user": user, "reaction": emoji, "item_user": BOT_USER_ID,
                "item": {"type": "message", "channel": CHANNEL, "ts": ts}, "event_ts": f"{time.time():.6f}"}

    await h.event(reaction("reaction_added", "+1::skin-tone-3", answer.message_id or ""))
    await h.event(reaction("reaction_added", "four", answer.message_id or ""))
    await h.event(reaction("reaction_added", "tada", answer.message_id or ""))  # not a rating emoji
    await h.event(reaction("reaction_added", "+1", parent or ""))  # the task header is not an answer
    await h.event(reaction("reaction_added", "-1", answer.message_id or "", user=BOT_USER_ID))  # the bot itself
    await h.settle()
    assert sorted((r.answer_id, r.rater_id, r.scale, r.value) for r in ratings(h)) == [
        (answer.id, "U0CAROL", "stars", 4), (answer.id, "U0CAROL", "thumbs", 1)]

    await h.event(reaction("reaction_removed", "+1", answer.message_id or ""))
    await h.settle()
    assert [(r.scale, r.value) for r in ratings(h)] == [("stars", 4)]


async def test_event_retries_and_repeated_triggers_are_deduplicated(harness: Harness) -> None:
    h = harness
    mention = {"type": "app_mention", "user": "U0BOB", "text": f"<@{BOT_USER_ID}> sort a list",
               "ts": "1700000600.000100", "channel": CHANNEL, "event_ts": "1700000600.000100"}
    assert (await h.event(mention, event_id="Ev0DUPLICATE"))[0] == 200
    for retry in (1, 2):
        status, _ = await h.event(mention, event_id="Ev0DUPLICATE",
                                  headers={"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        assert status == 200
    body = command_body("reverse a string", trigger_id="42.42.same-trigger", response_url=h.slack.response_url())
    for _ in range(2):
        await h.post(body, "application/x-www-form-urlencoded")
    await h.settle()
    assert sorted(t.text for t in tasks(h)) == ["reverse a string", "sort a list"]
    assert len(h.models.requests) == 4  # two models per task, each asked once


async def test_bad_signature_and_stale_timestamp_are_rejected(harness: Harness) -> None:
    h = harness
    body = command_body("write a web server", response_url=h.slack.response_url())
    forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}
    status, _ = await h.post(body, "application/x-www-form-urlencoded", headers=forged, signed=False)
    assert status == 401
    from tests.slack.conftest import sign

    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    status, _ = await h.post(body, "application/x-www-form-urlencoded", headers=stale, signed=False)
    assert status == 401
    wrong_secret = sign(body, secret="not-the-secret")
    status, _ = await h.post(body, "application/x-www-form-urlencoded", headers=wrong_secret, signed=False)
    assert status == 401
    await h.settle()
    assert tasks(h) == [] and h.models.requests == []
    assert [c.method for c in h.slack.calls if c.method != "auth.test"] == []


async def test_help_empty_and_too_long_are_ephemeral(harness: Harness) -> None:
    h = harness
    await h.command("")
    await h.command("help")
    await h.command("x" * 5000)
    await h.settle()
    assert h.slack.calls_to("chat.postMessage") == []
    texts = [json.dumps(r) for r in h.slack.responses]
    assert len(texts) == 3 and all('"response_type": "ephemeral"' in t for t in texts)
    assert "/codegen" in texts[0] and "/codegen" in texts[1]
    assert "5,000" in texts[2] and "4,000" in texts[2]


async def test_not_in_channel_tells_user_how_to_invite(harness: Harness) -> None:
    h = harness
    h.slack.not_member.add("C0PRIVATE")
    await h.command("write a parser", channel="C0PRIVATE")
    await h.settle()
    assert len(h.slack.responses) == 1
    assert "/invite @Codegen Arena" in json.dumps(h.slack.responses[0])
    assert h.slack.responses[0]["response_type"] == "ephemeral"
    assert [t.status for t in tasks(h)] == ["interrupted"]


async def test_retry_button_reruns_a_failed_model(harness: Harness) -> None:
    h = harness
    h.models.script("beta", status=500, error_message="upstream exploded")
    await h.command("write a stack")
    await h.settle()
    beta = next(a for a in answers(h) if a.contestant_id == "beta")
    assert beta.status == "error"
    thread = tasks(h)[0].thread
    reply = h.slack.message(CHANNEL, beta.message_id or "")
    retry = [b for b in reply.blocks if b["type"] == "actions"][0]["elements"]
    assert [(b["action_id"], b["value"]) for b in retry] == [("codegen_retry", str(beta.id))]

    h.models.script("beta", text="```python\nstack = []\n```")
    status, _ = await h.action("codegen_retry", str(beta.id), channel=CHANNEL, message_ts=beta.message_id or "",
                               thread_ts=thread)
    assert status == 200
    await h.settle()
    beta = next(a for a in answers(h) if a.contestant_id == "beta")
    assert beta.status == "done"
    assert "stack = []" in h.slack.message(CHANNEL, beta.message_id or "").all_text()
    assert len(h.slack.thread(CHANNEL, thread or "")) == 2  # edited in place, no new reply


async def test_subscribe_and_leaderboard(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("subscribe")
    await h.settle()
    with h.arena.store.session() as s:
        assert [(c.channel, c.subscribed) for c in s.exec(select(ChannelSettings))] == [(CHANNEL, True)]
    assert "weekly leaderboard" in json.dumps(h.slack.responses[-1])
    await h.command("leaderboard")
    await h.settle()
    posted = h.slack.calls_to("chat.postMessage")
    assert len(posted) == 1 and posted[0].body["channel"] == CHANNEL
    assert "leaderboard" in h.slack.channel_messages(CHANNEL)[0].all_text().lower()


async def test_app_home_shows_leaderboard(harness: Harness) -> None:
    h = harness
    await h.event({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home",
                   "event_ts": f"{time.time():.6f}"})
    await h.settle()
    assert len(h.slack.views) == 1
    view = h.slack.views[0]
    assert view["user_id"] == "U0ALICE" and view["view"]["type"] == "home"
    assert "leaderboard" in json.dumps(view["view"]).lower()


async def test_healthz(harness: Harness) -> None:
    async with harness.session.get(harness.url.replace("/slack/events", "/healthz")) as resp:
        assert resp.status == 200 and (await resp.json()) == {"ok": True}


async def test_run_button_replies_in_thread_with_result(harness: Harness) -> None:
    h = harness
    h.arena.services.sandbox = SandboxService()
    h.models.script("alpha", text="```python\nprint('hello from the sandbox', 6 * 7)\n```")
    await h.command("print something")
    await h.settle()
    alpha = next(a for a in answers(h) if a.contestant_id == "alpha")
    thread = tasks(h)[0].thread or ""
    before = len(h.slack.thread(CHANNEL, thread))
    status, _ = await h.action("codegen_run", str(alpha.id), channel=CHANNEL, message_ts=alpha.message_id or "",
                               thread_ts=thread)
    assert status == 200
    await h.settle()
    await h.arena.sandbox.drain()
    replies = h.slack.thread(CHANNEL, thread)
    assert len(replies) == before + 1
    result = replies[-1].all_text()
    assert "hello from the sandbox 42" in result and "alice" in result


async def test_run_button_with_bad_value_gets_a_clear_ephemeral(harness: Harness) -> None:
    h = harness
    await h.command("write x")
    await h.settle()
    thread = tasks(h)[0].thread or ""
    await h.action("codegen_run", "not-a-number", channel=CHANNEL, message_ts=thread, thread_ts=thread)
    await h.action("codegen_run", "99999", channel=CHANNEL, message_ts=thread, thread_ts=thread)
    await h.settle()
    texts = [json.dumps(e) for e in h.slack.ephemerals]
    assert len(texts) == 2 and all(e["user"] == "U0ALICE" and e["thread_ts"] == thread for e in h.slack.ephemerals)
    assert "no valid answer id" in texts[0] and "no longer exists" in texts[1]


async def test_leaderboard_where_bot_is_not_a_member_explains_invite(harness: Harness) -> None:
    h = harness
    h.slack.not_member.add("C0PRIVATE")
    await h.command("leaderboard", channel="C0PRIVATE")
    await h.settle()
    assert len(h.slack.responses) == 1
    assert "/invite @Codegen Arena" in json.dumps(h.slack.responses[0])


async def test_blind_mode_hides_names_and_reveal_button_shows_them(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("blind on")
    await h.settle()
    with h.arena.store.session() as s:
        assert [(c.channel, c.blind) for c in s.exec(select(ChannelSettings))] == [(CHANNEL, True)]
    await h.command("write a blind-test parser")
    await h.settle()
    task = tasks(h)[0]
    assert task.text == "write a blind-test parser" and task.blind
    replies = h.slack.thread(CHANNEL, task.thread or "")
    shown = " ".join(m.all_text() for m in replies)
    assert "ALPHA" not in shown and "BETA" not in shown and "Answer A" in shown
    header = h.slack.message(CHANNEL, task.parent_message_id or "")
    reveal = [e for b in header.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in reveal] == [("codegen_reveal", str(task.id))]
    await h.action("codegen_reveal", str(task.id), channel=CHANNEL, message_ts=header.ts, thread_ts=None)
    await h.settle()
    shown = " ".join(m.all_text() for m in h.slack.thread(CHANNEL, task.thread or ""))
    assert "ALPHA" in shown and "BETA" in shown


async def test_run_with_long_output_attaches_the_full_output(harness: Harness) -> None:
    h = harness
    sandbox = SandboxService()
    h.arena.services.sandbox = sandbox
    h.models.script("alpha", text="```python\nfor i in range(3000):\n    print('line', i)\n```")
    await h.command("print many lines")
    await h.settle()
    alpha = next(a for a in answers(h) if a.contestant_id == "alpha")
    thread = tasks(h)[0].thread or ""
    await h.action("codegen_run", str(alpha.id), channel=CHANNEL, message_ts=alpha.message_id or "",
                   thread_ts=thread)
    await h.settle()
    await sandbox.drain()
    [upload] = h.slack.files
    assert upload.channel == CHANNEL and upload.thread_ts == thread
    full = upload.content.decode()
    assert "line 0" in full and "line 2999" in full
    shown = h.slack.thread(CHANNEL, thread)[-2:]
    assert any("line 0" in m.all_text() and "line 2999" not in m.all_text() for m in shown)


async def test_weekly_post_reaches_subscribed_slack_channel_once_with_chart(harness: Harness) -> None:
    from datetime import UTC, datetime

    from bot.weekly import WeeklyPoster

    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("subscribe")
    await h.command("write a hash map", channel="C0OTHER")
    await h.settle()
    by_model = {a.contestant_id: a for a in answers(h)}
    for rater in ("U0CAROL", "U0DAVE"):
        for model, emoji in (("alpha", "+1"), ("beta", "-1")):
            await h.event({"type": "reaction_added", "user": rater, "reaction": emoji, "item_user": BOT_USER_ID,
                           "item": {"type": "message", "channel": "C0OTHER", "ts": by_model[model].message_id},
                           "event_ts": f"{time.time():.6f}"})
    await h.settle()
    assert len(ratings(h)) == 4

    poster = WeeklyPoster(h.arena.store, {"slack": h.adapter.surface}, "UTC")
    now = datetime.now(UTC)
    first = await poster.tick(now)
    again = await poster.tick(now)
    assert [r.action for r in first] == ["posted"] and [r.action for r in again] == ["skipped"]
    [post] = h.slack.channel_messages(CHANNEL)
    assert f"Weekly leaderboard {poster.iso_week(poster.due_slot(now))}" in post.all_text()
    assert "ALPHA" in post.all_text() and post.thread_ts is None
    assert [f.filename for f in h.slack.files] == ["leaderboard.png", "value.png"]
    assert {f.channel for f in h.slack.files} == {CHANNEL}
    assert h.slack.files[0].content.startswith(b"\x89PNG")


async def test_rate_limited_edits_back_off_and_answers_still_complete(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text="word " * 30 + "\n```python\nprint('ok')\n```", chunk_delay=0.02)
    h.slack.rate_limit("chat.update", retry_after=0.3, times=3)
    await h.command("write something while Slack is busy")
    await h.settle()
    limited = [c for c in h.slack.calls_to("chat.update")][:3]
    after = h.slack.calls_to("chat.update")[3]
    assert after.at - limited[0].at >= 0.25  # waited out Retry-After instead of hammering
    for answer in answers(h):
        final = h.slack.message(CHANNEL, answer.message_id or "").all_text()
        assert answer.status == "done" and "first token" in final and "▌" not in final
    assert h.slack.responses == []  # nothing went wrong from the user's point of view


async def test_url_verification_challenge_is_answered(harness: Harness) -> None:
    body = json.dumps({"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    status, text = await harness.post(body, "application/json")
    assert status == 200 and json.loads(text) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_debug_logs_never_contain_the_bot_token_or_signing_secret(harness: Harness, caplog) -> None:
    import logging

    from tests.slack.conftest import SECRET

    caplog.set_level(logging.DEBUG)
    await harness.command("write a haiku generator")
    await harness.settle()
    assert harness.slack.calls_to("chat.update"), "the flow ran"
    assert "xoxb-test-token" not in caplog.text
    assert SECRET not in caplog.text
