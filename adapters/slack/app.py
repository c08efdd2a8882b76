"""The Slack Bolt app: Slack payloads in, core events out. No business rule lives here.

Handlers ack at once and hand the event to :meth:`bot.arena.Arena.handle` in a background task:

- ``/codegen <task>`` → TaskRequested (``leaderboard [category] [window]``, ``tag <task> <category>``,
  ``subscribe``, ``unsubscribe``, ``blind on|off``, ``autorun on|off`` map to their events, and
  ``settings``, ``models``, ``prompt``, ``budget``, ``usage``, ``forget`` to ControlRequested, ``dashboard`` to
  DashboardRequested; ``help`` /
  empty go to the core, which answers with usage; ``--test "…"`` / ``--show-tests`` stay in the text
  for the core)
- ``app_mention`` → TaskRequested (threaded when the mention is in a thread; its ``files`` fetched
  with the bot token by :mod:`adapters.slack.files`)
- ``reaction_added`` / ``reaction_removed`` on a message → ReactionChanged
- ``codegen_run`` / ``codegen_retry`` / ``codegen_reveal`` buttons → Run/Retry/RevealRequested
- ``app_home_opened`` → the leaderboard on the App Home tab

Retries of a delivery carry the same ``event_id`` (events) or ``trigger_id`` (commands,
buttons), passed on as ``Event.event_id`` so the core drops duplicates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.files import SlackFiles
from adapters.slack.render import ACTION_PREFIX, render
from adapters.slack.surface import SlackSurface, private_reply_target, slack_edit_rate
from bot.controls import parse_control
from bot.events import (
    AutorunChanged,
    BlindModeChanged,
    ControlRequested,
    DashboardRequested,
    Event,
    LeaderboardRequested,
    ReactionChanged,
    RetryRequested,
    RevealRequested,
    RunRequested,
    SubscriptionChanged,
    TagRequested,
    TaskRequested,
    User,
)
from bot.messages import Message

log = logging.getLogger(__name__)

COMMAND = "/codegen"
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SWITCH = {"on": True, "off": False, "enable": True, "disable": False}
_BUTTON = re.compile(rf"^{ACTION_PREFIX}(run|retry|reveal)(?:_\d+)?$")


def _task_number(word: str) -> int | None:
    """'12' or '#12' → 12; anything else → None (the core answers with usage)."""
    digits = word.strip().removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


def task_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack message text → the task as the user meant it (mentions of the bot removed,
    links and entities decoded, other mentions kept as readable ``@U…`` without pinging)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER_MENTION.sub(lambda m: "@" + m.group(1), text)
    text = _CHANNEL_LINK.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _SUBTEAM.sub(lambda m: "@" + (m.group(1) or "group").lstrip("@"), text)
    text = _LINK.sub(lambda m: m.group(1).removeprefix("mailto:") if not m.group(2) or m.group(2) in m.group(1)
                     else f"{m.group(2)} ({m.group(1)})", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.strip()


def ts_to_us(ts: Any) -> int | None:
    """Slack's ``"1700000000.123456"`` timestamp as exact µs since the epoch (None if malformed)."""
    seconds, _, fraction = str(ts or "").partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


@dataclass
class SlackAdapter:
    """A Bolt app bound to an arena, with its Web API client and surface."""

    app: AsyncApp
    client: AsyncWebClient
    surface: SlackSurface
    arena: Any
    files: SlackFiles
    signing_secret: str | None = None
    _session: aiohttp.ClientSession | None = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run core work in the background (the HTTP request was already acked)."""
        self.arena.services.tracker.spawn(coro, name="slack")

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until the work events started (and the jobs they deferred here) has finished."""
        await asyncio.wait_for(self.arena.join(), timeout)

    async def close(self) -> None:
        """Close the HTTP session (shutdown; the arena's tracker stops the background work)."""
        if self._session is not None:
            await self._session.close()

    def dispatch(self, event: Event) -> None:
        """Hand a core event to the arena in the background."""
        self.spawn(self.arena.handle(event, self.surface))

    # ---------------------------------------------------------------- notify helpers

    def ephemeral_notify(self, channel: str, user: str, thread: str | None) -> Callable[[Message], Awaitable[None]]:
        """Reply privately with chat.postEphemeral (in the thread when there is one)."""
        async def notify(message: Message) -> None:
            await self.surface.ephemeral(channel, user, message, thread)

        return notify


def respond_notify(respond: Any) -> Callable[[Message], Awaitable[None]]:
    """Reply privately through a command's ``response_url`` (works even where the bot isn't a member)."""
    async def notify(message: Message) -> None:
        rendered = render(message)
        await respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral",
                      replace_original=False)

    return notify


def pooled_session() -> aiohttp.ClientSession | None:
    """A keep-alive session when called inside a running loop (else slack_sdk's per-call default)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
                                 timeout=aiohttp.ClientTimeout(total=30))


def web_client(token: str, api_url: str | None, session: aiohttp.ClientSession | None) -> AsyncWebClient:
    """A Web API client with the bot token (``api_url`` replaces Slack's base: GovSlack, proxies, tests)."""
    return AsyncWebClient(token=token, session=session, base_url=api_url or AsyncWebClient.BASE_URL)


def create_app(
    arena: Any,
    *,
    token: str,
    signing_secret: str | None = None,
    api_url: str | None = None,
) -> SlackAdapter:
    """Build the Bolt app and register every handler. ``api_url`` overrides the Web API base."""
    # One pooled HTTP session for every Web API call (slack_sdk otherwise opens one per call).
    session = pooled_session()
    client = web_client(token, api_url, session)
    app = AsyncApp(client=client, signing_secret=signing_secret or "", request_verification_enabled=bool(
        signing_secret), process_before_response=True, raise_error_for_unhandled_request=False)
    surface = SlackSurface(client, edit_rate=slack_edit_rate(arena.services.settings.slack_edits_per_minute))
    arena.services.surfaces.add(surface)  # this process's jobs post through this app's client
    adapter = SlackAdapter(app=app, client=client, surface=surface, arena=arena,
                           files=SlackFiles(client, token, api_url), signing_secret=signing_secret, _session=session)
    _register(adapter)
    return adapter


def _register(adapter: SlackAdapter) -> None:
    app = adapter.app

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        user = User(command.get("user_id", ""), command.get("user_name", ""))
        channel = command.get("channel_id", "")
        text = task_text(command.get("text") or "")
        word, _, rest = text.partition(" ")
        common: dict[str, Any] = {
            "platform": "slack", "user": user, "event_id": command.get("trigger_id"),
            "notify": respond_notify(respond),
            "reply_to": private_reply_target(channel, user.id, None, command.get("response_url")),
        }
        keyword = word.lower()
        event: Event
        control = parse_control(text)
        if control is not None:
            event = ControlRequested(channel=channel, control=control[0], args=control[1], **common)
        elif keyword == "leaderboard":
            from bot.leaderboard import split_leaderboard_words  # numpy loads on first use, not at start

            window, category = split_leaderboard_words(rest.split())
            event = LeaderboardRequested(channel=channel, window=window, category=category, **common)
        elif keyword == "tag":
            number, _, tags = rest.strip().partition(" ")
            event = TagRequested(task_id=_task_number(number), tags=tuple(tags.split()), **common)
        elif keyword == "dashboard" and not rest.strip():
            event = DashboardRequested(**common)
        elif keyword in ("subscribe", "unsubscribe") and not rest.strip():
            event = SubscriptionChanged(channel=channel, subscribed=keyword == "subscribe", **common)
        elif keyword == "blind" and rest.strip().lower() in _SWITCH:
            event = BlindModeChanged(channel=channel, enabled=_SWITCH[rest.strip().lower()], **common)
        elif keyword == "autorun" and rest.strip().lower() in _SWITCH:
            event = AutorunChanged(channel=channel, enabled=_SWITCH[rest.strip().lower()], **common)
        else:
            event = TaskRequested(channel=channel, text=text, **common)
        adapter.dispatch(event)

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        channel, user_id = event.get("channel", ""), event.get("user", "")
        thread = event.get("thread_ts")
        request = functools.partial(
            TaskRequested, platform="slack", user=User(user_id), event_id=body.get("event_id"),
            notify=adapter.ephemeral_notify(channel, user_id, thread),
            reply_to=private_reply_target(channel, user_id, thread),
            channel=channel, text=task_text(event.get("text") or "", context.get("bot_user_id")), thread=thread,
        )
        files = event.get("files")
        if not isinstance(files, list) or not files:
            adapter.dispatch(request())
            return

        async def with_files() -> None:  # fetched after the ack, like every other piece of work
            await adapter.arena.handle(request(files=await adapter.files.fetch(files)), adapter.surface)

        adapter.spawn(with_files())

    async def on_reaction(body: dict[str, Any], event: dict[str, Any], added: bool) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
            return
        user_id = event.get("user", "")
        adapter.dispatch(ReactionChanged(
            platform="slack", user=User(user_id), event_id=body.get("event_id"),
            notify=adapter.ephemeral_notify(item["channel"], user_id, None),
            channel=item["channel"], message_id=item["ts"], emoji=event.get("reaction", ""), added=added,
            occurred_us=ts_to_us(event.get("event_ts")),
        ))

    @app.event("reaction_added")
    async def on_reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        await on_reaction(body, event, True)

    @app.event("reaction_removed")
    async def on_reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        await on_reaction(body, event, False)

    @app.action(_BUTTON)
    async def on_button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        kind = _BUTTON.match(action.get("action_id", ""))
        channel = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts")
        user = (body.get("user") or {})
        notify = adapter.ephemeral_notify(channel, user.get("id", ""), thread)
        common: dict[str, Any] = {
            "platform": "slack", "user": User(user.get("id", ""), user.get("username") or user.get("name", "")),
            "event_id": body.get("trigger_id"), "notify": notify,
            "reply_to": private_reply_target(channel, user.get("id", ""), thread, body.get("response_url")),
        }
        try:
            target = int(action.get("value", ""))
        except ValueError:
            adapter.spawn(notify(Message(text="⚠️ That button carries no valid answer id.")))
            return
        assert kind is not None
        event: Event
        if kind.group(1) == "run":
            event = RunRequested(answer_id=target, channel=channel, thread=thread, **common)
        elif kind.group(1) == "retry":
            event = RetryRequested(answer_id=target, **common)
        else:
            event = RevealRequested(task_id=target, **common)
        adapter.dispatch(event)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        adapter.spawn(publish_home(adapter, event["user"]))

    @app.event("message")
    async def ignore_messages() -> None:
        return None


async def publish_home(adapter: SlackAdapter, user_id: str) -> None:
    """Show the current leaderboard on a user's App Home tab."""
    from bot.leaderboard import build_leaderboard, render_leaderboard

    board = await asyncio.to_thread(build_leaderboard, adapter.arena.store, window="28d")
    message = render_leaderboard(board)
    message.attachments = []  # a Home view cannot hold files
    await adapter.surface.publish_home(user_id, message)
