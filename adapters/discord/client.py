"""The Discord client: gateway events and interactions → core events → ``arena.handle``.

Triggers: a message whose content mentions the bot (or a reply to the bot that pings it; its
attachments fetched by :mod:`adapters.discord.files`), and ``/codegen ask task:<text>``. Raw
reaction events become :class:`~bot.events.ReactionChanged`; the persistent buttons become
Run/Retry/Reveal requests. Replies to the user (``notify``) are ephemeral interaction followups,
or a non-pinging reply to the triggering message for mentions. No business rule lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord.files import attached_files
from adapters.discord.render import render
from adapters.discord.surface import NO_MENTIONS, DiscordSurface, private_reply_target
from adapters.discord.views import BUTTONS
from bot import metrics
from bot.events import (
    Event,
    ReactionChanged,
    RetryRequested,
    RevealRequested,
    RunRequested,
    TaskRequested,
    User,
)
from bot.messages import ActionKind, Message, Tone
from bot.surface import MessageRef

if TYPE_CHECKING:
    from bot.arena import Arena

log = logging.getLogger(__name__)
PLATFORM = "discord"
ARCHIVED = "This thread is archived: unarchive it (or start a new task) and try again."
NO_THREADS = ("I can't create threads here: give me the 'Create Public Threads' and "
              "'Send Messages in Threads' permissions in this channel.")


# discord.py logs request URLs (interaction webhook URLs embed the interaction token) and whole
# gateway payloads (INTERACTION_CREATE carries the token; READY the session id) at DEBUG/INFO.
QUIET_LOGGERS = ("discord.http", "discord.gateway", "discord.webhook.async_", "discord.state",
                 "discord.client", "discord.shard")


def quiet_discord_logs() -> None:
    """Keep discord.py's chatter (which can carry tokens) at WARNING even when debugging the bot."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def intents() -> discord.Intents:
    """Only non-privileged intents: guilds, guild messages (mentions carry content), reactions."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.guild_reactions = True
    return wanted


_ID = re.compile(r"^\d+$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{30,}$")


def route_of(path: str) -> str:
    """A REST path as a metric label: ids → {id}, tokens → {token} (never a secret in a label)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api" and parts[1].startswith("v"):
        parts = parts[2:]
    return "/" + "/".join("{id}" if _ID.match(p) else "{token}" if _TOKEN.match(p) else p for p in parts)


def rate_limit_trace() -> aiohttp.TraceConfig:
    """Counts every HTTP 429 discord.py receives (it retries most itself), per method and route."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status == 429:
            metrics.rate_limited(PLATFORM, f"{params.method} {route_of(params.url.path)}")

    trace.on_request_end.append(on_request_end)
    return trace


class ArenaClient(discord.AutoShardedClient):
    """``AutoShardedClient`` so the gateway URL comes from ``GET /gateway/bot`` of the API base."""

    def __init__(self, arena: Arena, *, reconcile_days: float = 7.0, **options: Any) -> None:
        quiet_discord_logs()
        options.setdefault("http_trace", rate_limit_trace())
        super().__init__(intents=intents(), allowed_mentions=NO_MENTIONS, **options)
        self.arena = arena
        self.surface = DiscordSurface(self)
        arena.services.surfaces.add(self.surface)  # this process's jobs post through this client
        self.reconcile_days = reconcile_days
        self.tree = app_commands.CommandTree(self)
        from adapters.discord.commands import codegen_group

        self.tree.add_command(codegen_group())
        self.reconciled = asyncio.Event()
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._reconcile_started = False
        self._last_reaction_us = 0

    async def setup_hook(self) -> None:
        """Register the persistent buttons (they work for messages sent before a restart)."""
        self.add_dynamic_items(*BUTTONS)

    # -- bookkeeping (lets tests and shutdown wait for in-flight work) ---------------------------

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Mark work in flight for :meth:`wait_idle`."""
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def wait_idle(self, settle: float = 0.05) -> None:
        """Wait until no handler has been running for ``settle`` seconds and the work they
        started in this process (the arena's jobs) is done."""
        while True:
            await self._idle.wait()
            await self.arena.join()
            await asyncio.sleep(settle)
            if self._busy == 0:
                return

    async def submit(self, event: Event) -> None:
        """Hand one core event to the arena."""
        await self.arena.handle(event, self.surface)

    # -- gateway events --------------------------------------------------------------------------

    async def on_ready(self) -> None:
        """Reconcile reactions given while the bot was down (once per process)."""
        if self._reconcile_started:
            return
        self._reconcile_started = True
        from adapters.discord.reconcile import reconcile

        async with self.busy():
            try:
                await reconcile(self, days=self.reconcile_days)
            except Exception:
                log.exception("reaction reconciliation failed")
            finally:
                self.reconciled.set()

    async def on_message(self, message: discord.Message) -> None:
        """A message that mentions the bot (in its content), or replies to one of its messages
        pinging it, is a task (or, in a task's thread, a follow-up: the core decides)."""
        me = self.user
        if me is None or message.author.bot:
            return
        replying_to = str(message.reference.message_id) if message.reference and message.reference.message_id else None
        pinged = replying_to is not None and any(u.id == me.id for u in message.mentions)
        if me.id not in message.raw_mentions and not pinged:
            return
        async with self.busy():
            text = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
            user = User(str(message.author.id), message.author.display_name)
            notify = _reply_notify(message)
            channel = message.channel
            reply_to = private_reply_target(channel=channel.id, message=message.id)
            files = await attached_files(message.attachments)
            if isinstance(channel, discord.Thread):
                if channel.archived:
                    await notify(_error(ARCHIVED))
                    return
                event = TaskRequested(platform=PLATFORM, user=user, event_id=f"message:{message.id}",
                                      notify=notify, reply_to=reply_to, channel=str(channel.parent_id),
                                      thread=str(channel.id), text=text, replying_to=replying_to, files=files)
            else:
                anchor = MessageRef(str(channel.id), str(message.id))
                event = TaskRequested(platform=PLATFORM, user=user, event_id=f"message:{message.id}",
                                      notify=notify, reply_to=reply_to, channel=str(channel.id), anchor=anchor,
                                      text=text, replying_to=replying_to, files=files)
            await self.submit(event)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """👍 👎 1️⃣–5️⃣ on an answer: a rating (the core decides what counts)."""
        await self._reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """Removing a rating reaction retracts it."""
        await self._reaction(payload, added=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        if self.user is not None and payload.user_id == self.user.id:
            return
        # Raw reaction events carry no time: the receive time, strictly increasing in this process,
        # orders them (the core applies one rater's events on a message in this order).
        self._last_reaction_us = max(time.time_ns() // 1000, self._last_reaction_us + 1)
        async with self.busy():
            await self.submit(ReactionChanged(
                platform=PLATFORM, user=User(str(payload.user_id)), channel=str(payload.channel_id),
                message_id=str(payload.message_id), emoji=str(payload.emoji), added=added,
                occurred_us=self._last_reaction_us))

    # -- interactions ----------------------------------------------------------------------------

    async def on_arena_action(self, interaction: discord.Interaction[Any], kind: ActionKind,
                              target_id: int) -> None:
        """A persistent button was pressed."""
        async with self.busy():
            await interaction.response.defer(ephemeral=True, thinking=True)
            notify, notified = followup_notify(interaction)
            base: dict[str, Any] = {"platform": PLATFORM, "user": interaction_user(interaction),
                                    "event_id": f"interaction:{interaction.id}", "notify": notify,
                                    "reply_to": interaction_reply_target(interaction)}
            if _archived(interaction):
                await notify(_error(ARCHIVED))
                return
            event: Event
            if kind == ActionKind.RUN:
                channel, thread = where(interaction)
                event = RunRequested(answer_id=target_id, channel=channel, thread=thread, **base)
            elif kind == ActionKind.RETRY:
                event = RetryRequested(answer_id=target_id, **base)
            else:
                event = RevealRequested(task_id=target_id, **base)
            await self.submit(event)
            await finish_interaction(interaction, notified)

    async def command_task(self, interaction: discord.Interaction[Any], task: str, *,
                           tests: tuple[str, ...] = (), show_tests: bool = False,
                           models: tuple[str, ...] | None = None) -> None:
        """``/codegen ask task:<text> [test:<test>] [show_tests:…] [models:a,b]``: defer at once, then
        the core posts and threads."""
        async with self.busy():
            await interaction.response.defer(ephemeral=True, thinking=True)
            notify, notified = followup_notify(interaction)
            if _archived(interaction):
                await notify(_error(ARCHIVED))
                return
            channel, thread = where(interaction)
            perms = interaction.app_permissions
            if thread is None and not (perms.create_public_threads and perms.send_messages_in_threads):
                await notify(_error(NO_THREADS))
                return
            await self.submit(TaskRequested(
                platform=PLATFORM, user=interaction_user(interaction), event_id=f"interaction:{interaction.id}",
                notify=notify, reply_to=interaction_reply_target(interaction), channel=channel, thread=thread,
                text=task, tests=tests, show_tests=show_tests, models=models))
            await finish_interaction(interaction, notified)

    async def command_simple(self, interaction: discord.Interaction[Any],
                             build: Callable[[dict[str, Any]], Event]) -> None:
        """Leaderboard / subscribe / unsubscribe: defer, build the event, hand it over."""
        async with self.busy():
            await interaction.response.defer(ephemeral=True, thinking=True)
            notify, notified = followup_notify(interaction)
            base = {"platform": PLATFORM, "user": interaction_user(interaction),
                    "event_id": f"interaction:{interaction.id}", "notify": notify}
            await self.submit(build(base))
            await finish_interaction(interaction, notified)


def where(interaction: discord.Interaction[Any]) -> tuple[str, str | None]:
    """(channel, thread) of an interaction; inside a thread the channel is its parent."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id), str(channel.id)
    return str(interaction.channel_id), None


def interaction_reply_target(interaction: discord.Interaction[Any]) -> str:
    """How a job can follow up privately on this interaction (for 15 minutes)."""
    return private_reply_target(application_id=interaction.application_id, token=interaction.token)


def interaction_user(interaction: discord.Interaction[Any]) -> User:
    """The core's view of who pressed or typed; ``admin`` when they have Manage Server here."""
    perms = interaction.permissions
    return User(str(interaction.user.id), interaction.user.display_name,
                admin=bool(perms.manage_guild or perms.administrator))


def _archived(interaction: discord.Interaction[Any]) -> bool:
    channel = interaction.channel
    return isinstance(channel, discord.Thread) and channel.archived


def _error(text: str) -> Message:
    return Message(text=f"⚠️ {text}", tone=Tone.ERROR)


def followup_notify(interaction: discord.Interaction[Any]) -> tuple[Callable[[Message], Awaitable[None]], list[bool]]:
    """An ephemeral-followup notify for a deferred interaction, and a flag list set when used."""
    notified: list[bool] = []

    async def notify(message: Message) -> None:
        out = render(message)
        files = out.discord_files()
        for i, piece in enumerate(out.pieces):
            extra: dict[str, Any] = {}
            if i == 0 and out.embed:
                extra["embed"] = out.embed
            if i == 0 and files:
                extra["files"] = files
            try:
                await interaction.followup.send(piece, ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)
            except discord.HTTPException as exc:
                log.warning("ephemeral reply failed: HTTP %s code %s", exc.status, exc.code)
                return
        notified.append(True)

    return notify, notified


async def finish_interaction(interaction: discord.Interaction[Any], notified: list[bool]) -> None:
    """Remove the 'thinking…' placeholder when the core had nothing private to say."""
    if notified:
        return
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()


def _reply_notify(message: discord.Message) -> Callable[[Message], Awaitable[None]]:
    """Mentions have no ephemeral replies: answer the message itself, pinging no one."""

    async def notify(reply: Message) -> None:
        out = render(reply)
        try:
            await message.reply(out.pieces[0], embed=out.embed, mention_author=False,  # type: ignore[arg-type]
                                allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("reply failed: HTTP %s code %s", exc.status, exc.code)

    return notify

