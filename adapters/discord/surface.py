"""DiscordSurface: the core's :class:`~bot.surface.Surface` on Discord.

Posts and edits go through discord.py (whose HTTP client handles rate limits), always with
``AllowedMentions.none()``. When and how often to edit is :class:`bot.edits.Editor`'s decision
(``edit_rate``: Discord allows about 5 message edits per 5 s per channel). Long content is
spread over continuation messages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import discord

from adapters.discord.render import Rendered, render
from adapters.discord.views import actions_view
from bot.messages import Message
from bot.surface import Destination, EditRate, MessageRef, SurfaceError

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
THREAD_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440  # the durations Discord takes

ERR_ARCHIVED = 50083
ERR_THREAD_EXISTS = 160004
ERR_MISSING_ACCESS = 50001
ERR_MISSING_PERMISSIONS = 50013
ERR_UNKNOWN_MESSAGE = 10008
ERR_UNKNOWN_CHANNEL = 10003


def surface_error(exc: discord.HTTPException, doing: str) -> SurfaceError:
    """Translate a Discord refusal into a message a user can act on (never the raw response)."""
    if exc.code == ERR_ARCHIVED:
        return SurfaceError("This thread is archived: unarchive it (or start a new task) and try again.")
    if isinstance(exc, discord.Forbidden) or exc.code in (ERR_MISSING_ACCESS, ERR_MISSING_PERMISSIONS):
        if doing == "create a thread":
            return SurfaceError("I can't create threads here: give me the 'Create Public Threads' and "
                                "'Send Messages in Threads' permissions in this channel.")
        return SurfaceError(f"I'm not allowed to {doing} here: check my permissions in this channel "
                            "(View Channel, Send Messages, Send Messages in Threads, Attach Files).")
    if exc.code in (ERR_UNKNOWN_MESSAGE, ERR_UNKNOWN_CHANNEL):
        return SurfaceError(f"Could not {doing}: the message or channel no longer exists.")
    retry_after = getattr(exc, "retry_after", None)
    if exc.status == 429:
        return SurfaceError(f"Discord is rate-limiting me; could not {doing}.", retry_after=retry_after or 1.0)
    return SurfaceError(f"Discord refused to {doing} (HTTP {exc.status}, code {exc.code}).",
                        transient=exc.status >= 500)


@dataclass
class _EditState:
    continuations: list[int] = field(default_factory=list)  # ids of messages holding pieces 2..n


class DiscordSurface:
    """The surface a :class:`discord.Client` offers the core (gateway-connected, or logged in
    for REST only in a worker). Edits are scheduled by :class:`bot.edits.Editor`."""

    platform = "discord"
    edit_rate: EditRate | None = EditRate(limit=5, per_seconds=5, scope="channel")
    workspace = ""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._states: dict[str, _EditState] = {}

    def _state(self, message_id: str) -> _EditState:
        return self._states.setdefault(message_id, _EditState())

    def _messageable(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    async def _send(self, channel: discord.PartialMessageable, content: str, **extra: Any) -> discord.Message:
        return await channel.send(content=content, allowed_mentions=NO_MENTIONS, **extra)

    async def post(self, where: Destination, message: Message) -> MessageRef:
        """Post ``message`` in the thread (if any) or the channel of ``where``."""
        target = where.thread or where.channel
        channel = self._messageable(target)
        out = render(message)
        try:
            first = await self._send(channel, out.pieces[0], **self._extras(out, message))
            state = self._state(str(first.id))
            for piece in out.pieces[1:]:
                state.continuations.append((await self._send(channel, piece)).id)
        except discord.HTTPException as exc:
            raise surface_error(exc, "post a message") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SurfaceError("I couldn't reach Discord; try again shortly.", transient=True) from exc
        return MessageRef(channel=target, message_id=str(first.id), thread=where.thread)

    def _extras(self, out: Rendered, message: Message, *, edit: bool = False) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        view = actions_view(message.actions)
        if edit:
            extra["embeds"] = [out.embed] if out.embed else []
            extra["view"] = view
            extra["attachments"] = out.discord_files()
        else:
            if out.embed:
                extra["embed"] = out.embed
            if view is not None:
                extra["view"] = view
            if out.files:
                extra["files"] = out.discord_files()
        return extra

    async def edit(self, ref: MessageRef, message: Message) -> None:
        """Replace a posted message (and its continuation messages)."""
        state = self._state(ref.message_id)
        try:
            await self._apply_edit(ref, message, state)
        except discord.HTTPException as exc:
            raise surface_error(exc, "edit a message") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SurfaceError("I couldn't reach Discord; try again shortly.", transient=True) from exc

    async def reply_privately(self, reply_to: str, message: Message) -> None:
        """An ephemeral followup of the user's interaction (its token lasts 15 minutes), or a
        non-pinging reply to the user's message; ``reply_to`` is :func:`private_reply_target`'s."""
        target = json.loads(reply_to)
        out = render(message)
        extra: dict[str, Any] = {"embed": out.embed} if out.embed else {}
        try:
            if target.get("token"):
                webhook = discord.Webhook.partial(int(target["application_id"]), target["token"], client=self.client)
                await webhook.send(out.pieces[0], ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)
            else:
                channel = self._messageable(target["channel"])
                reference = discord.MessageReference(message_id=int(target["message"]), channel_id=int(target["channel"]),
                                                     fail_if_not_exists=False)
                await channel.send(out.pieces[0], reference=reference, allowed_mentions=NO_MENTIONS,
                                   mention_author=False, **extra)
        except discord.HTTPException as exc:
            raise surface_error(exc, "reply to you") from exc

    async def _apply_edit(self, ref: MessageRef, message: Message, state: _EditState) -> None:
        channel = self._messageable(ref.channel)
        out = render(message)
        await channel.get_partial_message(int(ref.message_id)).edit(
            content=out.pieces[0], allowed_mentions=NO_MENTIONS, **self._extras(out, message, edit=True))
        rest = out.pieces[1:]
        for i, piece in enumerate(rest):
            if i < len(state.continuations):
                await channel.get_partial_message(state.continuations[i]).edit(
                    content=piece, allowed_mentions=NO_MENTIONS)
            else:
                state.continuations.append((await self._send(channel, piece)).id)
        for stale in state.continuations[len(rest):]:
            await channel.get_partial_message(stale).edit(content="\u200b", allowed_mentions=NO_MENTIONS)
        del state.continuations[len(rest):]

    async def find_recent(self, where: Destination, marker: str, limit: int = 50) -> MessageRef | None:
        """Our newest message among the channel's last ``limit`` whose embed footer carries ``marker``."""
        target = where.thread or where.channel
        me = self.client.user
        try:
            async for message in self._messageable(target).history(limit=limit):
                if me is not None and message.author.id != me.id:
                    continue
                if any(marker in (embed.footer.text or "") for embed in message.embeds):
                    return MessageRef(target, str(message.id), where.thread)
        except discord.HTTPException as exc:
            raise surface_error(exc, "read this channel's recent messages") from exc
        return None

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        """Open a public thread on ``parent`` (or reuse it) and return it as the destination."""
        if parent.thread:
            return Destination(parent.channel, parent.thread)
        channel = self.client.get_channel(int(parent.channel))
        try:
            if channel is None:
                channel = await self.client.fetch_channel(int(parent.channel))
            if isinstance(channel, discord.Thread):
                # Discord has no threads inside threads: answer in this one.
                return Destination(str(channel.parent_id), str(channel.id))
            if not isinstance(channel, discord.TextChannel):
                raise SurfaceError("I can only open answer threads in text channels; mention me in one.")
            thread = await channel.create_thread(
                name=_thread_name(name), message=discord.Object(int(parent.message_id)),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:
            if exc.code == ERR_THREAD_EXISTS:  # a message's thread has the message's id
                return Destination(parent.channel, parent.message_id)
            raise surface_error(exc, "create a thread") from exc
        return Destination(parent.channel, str(thread.id))


def private_reply_target(*, application_id: int | None = None, token: str | None = None,
                         channel: int | None = None, message: int | None = None) -> str:
    """What :meth:`DiscordSurface.reply_privately` needs: an interaction, or a message to reply to."""
    if token:
        return json.dumps({"application_id": str(application_id), "token": token})
    return json.dumps({"channel": str(channel), "message": str(message)})


def _thread_name(name: str) -> str:
    name = " ".join(name.split()) or "codegen task"
    return name if len(name) <= 100 else name[:99] + "…"
