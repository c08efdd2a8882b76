"""SlackSurface: the core's Surface over the Slack Web API (AsyncWebClient).

Posts and edits Block Kit (see :mod:`adapters.slack.render`), throttles edits per message
(coalescing: only the newest content is sent), waits out HTTP 429 ``Retry-After`` per Web API
method, uploads attachments and over-long answers as files (``files_upload_v2``), and turns
Slack errors into :class:`SurfaceError` with a message safe to show the user.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.render import Rendered, escape, home_view, render
from bot import metrics
from bot.messages import Attachment, Message, Tone
from bot.surface import Destination, EditRate, MessageRef, SurfaceError

log = logging.getLogger(__name__)

INVITE_HELP = (
    "I'm not a member of this channel, so I can't post here. "
    "Invite me with `/invite @Codegen Arena` (or pick another channel) and try again."
)
_USER_MESSAGES = {
    "not_in_channel": INVITE_HELP,
    "channel_not_found": INVITE_HELP,
    "is_archived": "This channel is archived; unarchive it or use another channel.",
    "restricted_action": "This workspace doesn't allow me to post in this channel.",
    "msg_too_long": "That message is too long for Slack.",
    "invalid_auth": "The Slack bot token is invalid; ask an admin to reinstall the app.",
    "not_authed": "The Slack bot token is missing; ask an admin to set SLACK_BOT_TOKEN.",
    "token_revoked": "The Slack bot token was revoked; ask an admin to reinstall the app.",
    "account_inactive": "The Slack app was deactivated; ask an admin to reinstall it.",
}
OVERFLOW_FILENAME = "answer.md"
ADMIN_CACHE_S = 60.0  # how long a users.info answer (admin or not) is trusted
MARKER_EVENT = "codegen_arena_post"  # message metadata event_type of tagged posts (Message.marker)


def user_message(error: str) -> str:
    """A safe, specific explanation of a Slack error code."""
    return _USER_MESSAGES.get(error, f"Slack refused the request ({error}).")


BUDGET_WINDOW_S = 12  # the shared edit budget counts in fixed windows this long


def slack_edit_rate(per_minute: int = 50) -> EditRate:
    """The chat.update budget for ``per_minute`` edits a minute per workspace (Tier 3: about 50).

    It counts in fixed 12 s windows; any 60 s span touches at most 6 of them, so a window gets
    ``per_minute // 6`` edits and no minute can exceed ``per_minute`` (50 -> 8 a window, 48 a minute).
    """
    return EditRate(limit=max(1, per_minute // 6), per_seconds=BUDGET_WINDOW_S)


@dataclass
class _Extras:
    """Files already attached to one message (each is uploaded once, whatever the edits)."""

    uploaded: set[tuple[str, int]] = field(default_factory=set)
    touched: float = 0.0


class SlackSurface:
    """The Slack implementation of :class:`bot.surface.Surface`.

    It sends what it is asked to, when it is asked to: the scheduling of edits (Tier 3 budget,
    finals first, retries) is :class:`bot.edits.Editor`'s job. ``chat.update`` 429s are raised
    at once with their Retry-After for the editor to honour; other methods wait them out.
    """

    platform = "slack"
    # chat.update is Tier 3 (about 50 a minute per workspace): see slack_edit_rate.
    edit_rate: EditRate | None = slack_edit_rate()
    workspace = ""  # one bot token is one workspace

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        max_retries: int = 3,
        max_backoff: float = 30.0,
        edit_rate: EditRate | None = None,
    ) -> None:
        self.client = client
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        if edit_rate is not None:
            self.edit_rate = edit_rate
        self._extras: dict[tuple[str, str], _Extras] = {}
        self._blocked_until: dict[str, float] = {}
        self._admins: dict[str, tuple[bool, float]] = {}  # user id -> (admin or owner, looked up at)

    # ------------------------------------------------------------------------ Surface protocol

    async def post(self, where: Destination, message: Message) -> MessageRef:
        """chat.postMessage (threaded when ``where.thread``); attachments follow as files."""
        rendered = render(message)
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"marker": message.marker}} if message.marker else None
        response = await self._send_message("chat.postMessage", rendered, channel=where.channel,
                                            thread_ts=where.thread, metadata=metadata)
        ref = MessageRef(str(response.get("channel") or where.channel), str(response["ts"]), where.thread)
        await self._upload_extras(ref, rendered, message)
        return ref

    async def edit(self, ref: MessageRef, message: Message) -> None:
        """chat.update; files the message carries are attached once."""
        rendered = render(message)
        await self._send_message("chat.update", rendered, channel=ref.channel, ts=ref.message_id)
        await self._upload_extras(ref, rendered, message)
        self._prune()

    async def open_thread(self, parent: MessageRef, name: str) -> Destination:
        """Slack threads need no creation: replies carry the parent's ts."""
        return Destination(parent.channel, parent.thread or parent.message_id)

    async def find_recent(self, where: Destination, marker: str, limit: int = 100) -> MessageRef | None:
        """Our newest post among the channel's last ``limit`` messages whose metadata carries ``marker``
        (conversations.history with include_all_metadata; needs channels:history / groups:history)."""
        response = await self._call("conversations.history", channel=where.channel, limit=limit,
                                    include_all_metadata=True)
        for item in response.get("messages") or []:
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if item.get("bot_id") and metadata.get("event_type") == MARKER_EVENT and payload.get("marker") == marker:
                return MessageRef(where.channel, str(item["ts"]))
        return None

    # ------------------------------------------------------------------------ extras

    async def ephemeral(self, channel: str, user: str, message: Message, thread: str | None = None) -> None:
        """chat.postEphemeral: only ``user`` sees it."""
        rendered = render(message)
        await self._send_message("chat.postEphemeral", rendered, channel=channel, user=user, thread_ts=thread)

    async def reply_privately(self, reply_to: str, message: Message) -> None:
        """Through the command's response_url while it works (it reaches the user even where the
        bot is not a member), else chat.postEphemeral; ``reply_to`` is :func:`private_reply_target`'s."""
        target = json.loads(reply_to)
        if target.get("response_url"):
            rendered = render(message)
            try:
                response = await AsyncWebhookClient(target["response_url"]).send(
                    text=rendered.text, blocks=rendered.blocks, response_type="ephemeral", replace_original=False)
                if response.status_code < 300:
                    return
                log.info("response_url refused (HTTP %s); replying with chat.postEphemeral", response.status_code)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.info("response_url failed (%s); replying with chat.postEphemeral", type(exc).__name__)
        await self.ephemeral(target["channel"], target["user"], message, target.get("thread"))

    async def react(self, ref: MessageRef, emoji: str) -> None:
        """reactions.add (an existing identical reaction is not an error)."""
        try:
            await self._call("reactions.add", channel=ref.channel, timestamp=ref.message_id, name=emoji)
        except SurfaceError as exc:
            if getattr(exc, "slack_error", None) != "already_reacted":
                raise

    async def upload(self, where: Destination, attachment: Attachment, comment: str | None = None) -> None:
        """Upload one file into a channel or thread (files.getUploadURLExternal + complete)."""
        await self._call(
            "files_upload_v2",
            channel=where.channel,
            thread_ts=where.thread,
            filename=attachment.filename,
            title=attachment.title or attachment.filename,
            content=attachment.content,
            initial_comment=escape(comment) if comment else None,
        )

    async def is_workspace_admin(self, user_id: str) -> bool:
        """users.info: whether the user is a workspace admin or owner (cached for a minute)."""
        cached = self._admins.get(user_id)
        if cached is not None and time.monotonic() - cached[1] < ADMIN_CACHE_S:
            return cached[0]
        user = (await self._call("users.info", user=user_id)).get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._admins[user_id] = (admin, time.monotonic())
        return admin

    async def publish_home(self, user_id: str, message: Message) -> None:
        """views.publish: show ``message`` on the user's App Home tab."""
        await self._call("views.publish", user_id=user_id, view=home_view(message))

    # ------------------------------------------------------------------------ internals

    def _prune(self, keep: int = 2000) -> None:
        if len(self._extras) <= keep:
            return
        idle = time.monotonic() - 600
        for key, extras in list(self._extras.items()):
            if extras.touched < idle:
                del self._extras[key]

    async def _upload_extras(self, ref: MessageRef, rendered: Rendered, message: Message) -> None:
        """Attach files once per message: the message's attachments and any overflow text."""
        files = list(message.attachments)
        if rendered.overflow is not None and message.tone != Tone.PROGRESS:
            files.append(Attachment(OVERFLOW_FILENAME, rendered.overflow.encode(), title=message.title))
        if not files:
            return
        state = self._extras.setdefault((ref.channel, ref.message_id), _Extras())
        state.touched = time.monotonic()
        thread = ref.thread or (ref.message_id if rendered.overflow is not None else None)
        where = Destination(ref.channel, thread)
        for attachment in files:
            key = (attachment.filename, len(attachment.content))
            if key in state.uploaded:
                continue
            state.uploaded.add(key)
            try:
                await self.upload(where, attachment)
            except SurfaceError as exc:
                log.warning("upload of %s failed: %s", attachment.filename, exc.user_message)

    async def _send_message(self, method: str, rendered: Rendered, **kwargs: Any) -> dict[str, Any]:
        """Send a rendered message; on msg_too_long, retry once shortened with the text as a file."""
        args = {k: v for k, v in kwargs.items() if v is not None}
        if method == "chat.postMessage":  # the only one of the three that takes them
            args |= {"unfurl_links": False, "unfurl_media": False}
        try:
            return await self._call(method, text=rendered.text, blocks=rendered.blocks, **args)
        except SurfaceError as exc:
            if getattr(exc, "slack_error", None) != "msg_too_long":
                raise
        full = "\n\n".join(
            b["text"]["text"] for b in rendered.blocks if b.get("type") == "section" and "text" in b
        )
        rendered.overflow = rendered.overflow or full
        short = [b for b in rendered.blocks if b.get("type") != "section" or "fields" in b]
        note = {"type": "section", "text": {"type": "mrkdwn", "text":
                "_Too long for one Slack message: the full text is attached as a file._"}}
        header = [b for b in short if b.get("type") == "header"]
        rest = [b for b in short if b.get("type") != "header"]
        rendered.blocks = header + [note] + rest
        return await self._call(method, text=rendered.text[:200], blocks=rendered.blocks, **args)

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """Call a Web API method. A 429 is waited out (per method, up to ``max_retries``), except
        on ``chat.update``, whose Retry-After goes to the caller (the editor schedules edits).
        Whatever the client raises becomes a :class:`SurfaceError` (transient when retrying may
        help)."""
        attempt = 0
        while True:
            blocked = self._blocked_until.get(method, 0.0) - time.monotonic()
            if blocked > 0:
                await asyncio.sleep(blocked)
            try:
                response = await getattr(self.client, method.replace(".", "_"))(**kwargs)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                status = exc.response.status_code
                error = str(exc.response.get("error") or f"http_{status}")
                if status == 429:
                    metrics.rate_limited("slack", method)
                    retry_after = _retry_after(exc.response.headers)
                    attempt += 1
                    self._blocked_until[method] = time.monotonic() + retry_after
                    if method == "chat.update" or attempt > self.max_retries or retry_after > self.max_backoff:
                        raise _surface_error(
                            "Slack is rate-limiting me; try again in a minute.", error, retry_after
                        ) from exc
                    log.info("%s rate limited; retrying in %.1f s", method, retry_after)
                    continue
                raise _surface_error(user_message(error), error, transient=status >= 500) from exc
            except asyncio.CancelledError:
                raise
            except (SlackClientError, TimeoutError, OSError, aiohttp.ClientError) as exc:
                log.info("%s: could not reach Slack: %s", method, type(exc).__name__)
                raise _surface_error("I couldn't reach Slack; try again shortly.", "network", transient=True) from exc
            except Exception as exc:  # a client bug must not leave a message half-done
                log.warning("%s: unexpected %s from the Slack client", method, type(exc).__name__)
                raise _surface_error("I couldn't reach Slack; try again shortly.", "client", transient=True) from exc


def _retry_after(headers: Any) -> float:
    for key in ("Retry-After", "retry-after"):
        value = headers.get(key) if headers else None
        if value:
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except ValueError:
                break
    return 1.0


def _surface_error(
    message: str, slack_error: str, retry_after: float | None = None, *, transient: bool = False
) -> SurfaceError:
    exc = SurfaceError(message, retry_after=retry_after, transient=transient)
    exc.slack_error = slack_error  # type: ignore[attr-defined]
    return exc


def private_reply_target(channel: str, user: str, thread: str | None = None, response_url: str | None = None) -> str:
    """What :meth:`SlackSurface.reply_privately` needs, as the string events carry."""
    return json.dumps({"channel": channel, "user": user, "thread": thread, "response_url": response_url or None})


__all__ = ["INVITE_HELP", "SlackSurface", "private_reply_target", "user_message"]
