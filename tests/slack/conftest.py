"""Slack end-to-end harness: the real Bolt app in the web process's real ASGI app and server
(Starlette on uvicorn, app/web.py), a fake Web API, fake models, and helpers that send signed
requests with real Slack payload shapes."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackAdapter, create_app
from app.web import WebServer, build_web_app, web_mounts
from bot.arena import Arena
from storage.db import Store
from tests.conftest import PostgresSchemas, contestant
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.violations import fail_on_violations
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "A0CODEGEN"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _slack_accepts_every_request() -> Iterator[None]:
    """Fail any Slack test during which a fake Slack saw a call the real Slack would refuse."""
    yield
    fail_on_violations()


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request-signing headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def command_body(text: str, *, user: str = "U0ALICE", user_name: str = "alice", channel: str = "C0GENERAL",
                 trigger_id: str | None = None, response_url: str = "") -> str:
    """A form-encoded slash command payload as Slack sends it."""
    return urlencode({
        "token": "verification-token-unused",
        "team_id": TEAM_ID, "team_domain": "fake-team",
        "channel_id": channel, "channel_name": "general",
        "user_id": user, "user_name": user_name,
        "command": "/codegen", "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_ids)}.1111.{'a' * 32}",
    })


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    """An Events API ``event_callback`` envelope."""
    return json.dumps({
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": "4-fake",
    })


def action_body(action_id: str, value: str, *, channel: str, message_ts: str, thread_ts: str | None,
                user: str = "U0ALICE", response_url: str = "", trigger_id: str | None = None) -> str:
    """A form-encoded ``block_actions`` payload for a button on a bot message."""
    message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "bot_id": "B0CODEGEN", "ts": message_ts,
                               "text": "answer", "team": TEAM_ID}
    container: dict[str, Any] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                 "is_ephemeral": False}
    if thread_ts:
        message["thread_ts"] = thread_ts
        container["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "verification-token-unused",
        "container": container,
        "trigger_id": trigger_id or f"{next(_ids)}.2222.{'b' * 32}",
        "team": {"id": TEAM_ID, "domain": "fake-team"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "general"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": "▶ Run", "emoji": True},
                     "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class Harness:
    """Everything a Slack end-to-end test drives and inspects."""

    slack: FakeSlack
    models: FakeOpenAI
    arena: Arena
    adapter: SlackAdapter
    session: aiohttp.ClientSession
    url: str
    statuses: list[int] = field(default_factory=list)

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
                   signed: bool = True) -> tuple[int, str]:
        """POST a raw body to /slack/events; returns (status, response text)."""
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return resp.status, await resp.text()

    async def command(self, text: str, **kwargs: Any) -> tuple[int, str]:
        kwargs.setdefault("response_url", self.slack.response_url())
        return await self.post(command_body(text, **kwargs), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> tuple[int, str]:
        return await self.post(event_body(event, event_id=event_id), "application/json", headers)

    async def action(self, action_id: str, value: str, **kwargs: Any) -> tuple[int, str]:
        kwargs.setdefault("response_url", self.slack.response_url("action"))
        return await self.post(action_body(action_id, value, **kwargs), "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        """Wait for every task the requests started to finish."""
        await self.adapter.drain(timeout=20)


@contextlib.asynccontextmanager
async def running_harness(store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> AsyncIterator[Harness]:
    """Two fake models, ``store``, the Slack app in the real web server on a random port (with the
    dashboard mounted at /dashboard, as in production), the fake Web API."""
    arena = make_arena(store, [contestant(fake_openai, "alpha"), contestant(fake_openai, "beta")],
                       edit_interval=0.1)
    async with FakeSlack() as slack:
        adapter = create_app(arena, token="xoxb-test-token", signing_secret=SECRET, api_url=slack.api_url)
        app = build_web_app(slack=adapter, mounts=web_mounts(arena))
        async with WebServer(app, "127.0.0.1", 0) as server, aiohttp.ClientSession() as session:
            yield Harness(slack, fake_openai, arena, adapter, session, f"http://127.0.0.1:{server.port}/slack/events")
            await adapter.close()


@pytest.fixture
async def harness(sqlite_store: Store, fake_openai: FakeOpenAI,
                  make_arena: Callable[..., Arena]) -> AsyncIterator[Harness]:
    """The Slack harness on a SQLite store."""
    async with running_harness(sqlite_store, fake_openai, make_arena) as h:
        yield h


@pytest.fixture
async def pg_harness(fake_openai: FakeOpenAI, make_arena: Callable[..., Arena],
                     postgres_url: str) -> AsyncIterator[Harness]:
    """The Slack harness on a fresh PostgreSQL schema."""
    schemas = PostgresSchemas(postgres_url)
    store = schemas.store()
    try:
        async with running_harness(store, fake_openai, make_arena) as h:
            yield h
    finally:
        store.dispose()
        schemas.drop_all()
