"""Socket Mode and configuration: `start_slack` picks the mode from the environment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from adapters.slack.serve import SlackConfigError, adapter_from_env
from app.serve import start_slack
from bot.arena import Arena
from storage.db import Store
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI
from tests.slack.conftest import command_body, event_body
from tests.slack.fake_slack import BOT_USER_ID, FakeSlack


async def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    """Wait (without timing anything) until ``condition()`` holds."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_socket_mode_task_and_duplicate_event(sqlite_store: Store, fake_openai: FakeOpenAI,
                                                    make_arena: Callable[..., Arena]) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], edit_interval=0.1)
    async with FakeSlack() as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-1-test", "SLACK_API_URL": slack.api_url}
        server = await start_slack(arena, arena.settings, env)
        try:
            await slack.wait_for_socket()
            payload: dict[str, Any] = dict(parse_qsl(command_body("write a quicksort",
                                                                  response_url=slack.response_url())))
            ack = await slack.send_envelope("slash_commands", payload)
            assert set(ack) == {"envelope_id"}  # acked at once, nothing shown in the channel
            await until(lambda: len(slack.calls_to("chat.update")) >= 1 and any(
                "first token" in m.all_text() for m in slack.messages.values()))
            parent = next(m for m in slack.messages.values() if m.thread_ts is None)
            assert "write a quicksort" in parent.all_text()

            mention = json.loads(event_body({"type": "app_mention", "user": "U0BOB",
                                             "text": f"<@{BOT_USER_ID}> sort a list", "ts": "1700000800.000100",
                                             "thread_ts": "1700000700.000100",
                                             "channel": "C0GENERAL", "event_ts": "1700000700.000100"},
                                            event_id="Ev0SOCKETDUP"))
            await slack.send_envelope("events_api", mention)
            await slack.send_envelope("events_api", mention, retry_attempt=1)
            await until(lambda: len(fake_openai.requests) >= 2)
            await until(lambda: len([m for m in slack.messages.values() if m.thread_ts == "1700000700.000100"]) == 2)
            await asyncio.sleep(0.3)  # give a duplicate the chance to show up
            assert len(fake_openai.requests) == 2
        finally:
            await server.stop_accepting()
            await server.close()


def test_http_mode_without_signing_secret_is_a_clear_error() -> None:
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        adapter_from_env(object(), None, {"SLACK_BOT_TOKEN": "xoxb-1"})  # type: ignore[arg-type]
    with pytest.raises(SlackConfigError, match="xoxb-"):
        adapter_from_env(object(), None, {"SLACK_BOT_TOKEN": "oops", "SLACK_SIGNING_SECRET": "s"})  # type: ignore[arg-type]


async def test_socket_mode_rejects_a_bot_token_as_app_token(sqlite_store: Store, fake_openai: FakeOpenAI,
                                                           make_arena: Callable[..., Arena]) -> None:
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xoxb-wrong", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    with pytest.raises(SlackConfigError, match="xapp-") as info:
        await start_slack(arena, arena.settings, env)
    assert "xoxb-wrong" not in str(info.value)  # never echo a secret
