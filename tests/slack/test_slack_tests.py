"""Tests on a task from Slack: `/codegen --test "…" <task>` and `/codegen autorun on`, end to end."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.sandbox.limits import Limits
from bot.sandbox.local import LocalBackend
from bot.sandbox.service import SandboxService
from storage.models import ChannelSettings
from tests.slack.conftest import Harness

CHANNEL = "C0GENERAL"


async def test_a_test_flag_is_run_against_every_answer_and_shown_in_its_footer(harness: Harness) -> None:
    h = harness
    h.arena.sandbox = SandboxService(LocalBackend(Limits(wall_s=4.0, cpu_s=4)))
    h.models.script("alpha", text="```python\ndef is_even(n):\n    return n % 2 == 0\n```")
    h.models.script("beta", text="```python\ndef is_even(n):\n    return n % 2 == 1\n```")

    status, _ = await h.command('--test "is_even(4) and not is_even(3)" write is_even(n)')
    assert status == 200
    await h.settle()
    await h.arena.join()

    [parent] = [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]
    assert "write is_even(n)" in parent.all_text() and "assert is_even(4) and not is_even(3)" in parent.all_text()
    replies = {("alpha" if "ALPHA" in r.all_text() else "beta"): r.all_text() for r in h.slack.thread(CHANNEL, parent.ts)}
    assert "✅ tests 1/1 passed" in replies["alpha"]
    assert "❌ tests 0/1 passed" in replies["beta"]
    for request in h.models.requests:
        assert "is_even(3)" not in json.dumps(request.json), "the test is hidden from the models"


async def test_autorun_on_and_off_is_a_channel_setting(harness: Harness) -> None:
    h = harness
    h.slack.admins.add("U0ALICE")  # a workspace admin changes channel settings
    await h.command("autorun on")
    await h.settle()
    with h.arena.store.session() as s:
        assert [(c.channel, c.autorun) for c in s.exec(select(ChannelSettings))] == [(CHANNEL, True)]
    assert "Smoke runs are on" in json.dumps(h.slack.responses[-1])
    await h.command("autorun off")
    await h.settle()
    with h.arena.store.session() as s:
        assert [c.autorun for c in s.exec(select(ChannelSettings))] == [False]
    assert h.models.requests == [], "neither command is a task"
