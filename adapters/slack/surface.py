"""SlackSurface: the core's Surface over the Slack Web API (AsyncWebClient).

Posts and edits Block Kit (see :mod:`adapters.slack.render`), throttles edits per message
(coalescing: only the newest content is sent), waits out HTTP 429 ``Retry-After`` per Web API
method, uploads attachments and over-long answers as files (``files_upload_v2``), and turns
Slack errors into :class:`SurfaceError` with a message safe to show the user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import Rendered, escape, home_view, render
from bot import metrics
from bot.messages import Attachment, Message, Tone
from bot.surface import Destination, MessageRef, SurfaceError

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
MARKER_EVENT = "codegen_arena_post"  # message metadata event_type of tagged posts (Message.marker)


def user_message(error: str) -> str:
    """A safe, specific explanation of a Slack error code."""
    return _USER_MESSAGES.get(error, f"Slack refused the request ({error}).")


@dataclass
class _EditState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    version: int = 0
    sent_version: int = 0
    last_sent: float = float("-inf")
    latest: Message | None = None
    uploaded: set[tuple[str, int]] = field(default_factory=set)
    inflight: asyncio.Future[Any] | None = None


class SlackSurface:
    """The Slack implementation of :class:`bot.surface.Surface`."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        edit_interval: float = 1.0,
        max_retries: int = 3,
        max_backoff: float = 30.0,
    ) -> None:
        self.client = client
        self.edit_interval = edit_interval
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self._edits: dict[tuple[str, str], _EditState] = {}
        self._blocked_until: dict[str, float] = {}

    # ------------------------------------------------------------------------ Surface protocol

    async def post(self, where: Destination, message: Message) -> MessageRef:
        """chat.postMessage (threaded when ``where.thread``); attachments follow as files."""
        rendered = render(message)
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"marker": message.marker}} if message.marker else None
        response = await self._send_message("chat.postMessage", rendered, channel=where.channel,
                                            thread_ts=where.thread, metadata=metadata)
        ref = MessageRef(str(response.get("channel") or where.channel), str(response["ts"]), where.thread)
        state = self._state(ref)
        state.last_sent = time.monotonic()
        await self._upload_extras(ref, rendered, message, state)
        return ref

    async def edit(self, ref: MessageRef, message: Message) -> None:
        """chat.update, at most once per ``edit_interval`` per message; newer content wins.

        A progress edit waits for its slot; a final one (any tone but PROGRESS) goes out at once,
        so a finished answer never lags behind its stream."""
        state = self._state(ref)
        state.version += 1
        mine = state.version
        state.latest = message
        async with state.lock:
            if state.sent_version >= mine:
                return  # a later edit already carried newer content
            wait = state.last_sent + self.edit_interval - time.monotonic()
            if wait > 0 and message.tone == Tone.PROGRESS:
                await asyncio.sleep(wait)
            if state.inflight is not None and not state.inflight.done():
                # An earlier edit whose caller was cancelled may still reach Slack: let it land
                # first, so it can never overwrite newer content.
                await asyncio.wait([state.inflight])
            latest, version = state.latest, state.version
            assert latest is not None
            state.last_sent = time.monotonic()
            rendered = render(latest)
            state.inflight = asyncio.ensure_future(
                self._send_message("chat.update", rendered, channel=ref.channel, ts=ref.message_id))
            state.inflight.add_done_callback(_consume_error)  # its caller may be gone
            await asyncio.shield(state.inflight)
            state.sent_version = version
            await self._upload_extras(ref, rendered, latest, state)
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

    async def publish_home(self, user_id: str, message: Message) -> None:
        """views.publish: show ``message`` on the user's App Home tab."""
        await self._call("views.publish", user_id=user_id, view=home_view(message))

    # ------------------------------------------------------------------------ internals

    def _state(self, ref: MessageRef) -> _EditState:
        return self._edits.setdefault((ref.channel, ref.message_id), _EditState())

    def _prune(self, keep: int = 2000) -> None:
        if len(self._edits) <= keep:
            return
        idle = time.monotonic() - 600
        for key, state in list(self._edits.items()):
            if state.last_sent < idle and not state.lock.locked():
                del self._edits[key]

    async def _upload_extras(self, ref: MessageRef, rendered: Rendered, message: Message,
                             state: _EditState) -> None:
        """Attach files once per message: the message's attachments and any overflow text."""
        files = list(message.attachments)
        if rendered.overflow is not None and message.tone != Tone.PROGRESS:
            files.append(Attachment(OVERFLOW_FILENAME, rendered.overflow.encode(), title=message.title))
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
        """Call a Web API method, waiting out 429 Retry-After (per method) up to ``max_retries``."""
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
                    if attempt > self.max_retries or retry_after > self.max_backoff:
                        raise _surface_error(
                            "Slack is rate-limiting me; try again in a minute.", error, retry_after
                        ) from exc
                    log.info("%s rate limited; retrying in %.1f s", method, retry_after)
                    self._blocked_until[method] = time.monotonic() + retry_after
                    continue
                raise _surface_error(user_message(error), error) from exc
            except SlackClientError as exc:
                raise _surface_error("I couldn't reach Slack; try again shortly.", "client_error") from exc
            except (TimeoutError, OSError) as exc:
                raise _surface_error("I couldn't reach Slack; try again shortly.", "network") from exc


def _consume_error(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.info("an abandoned progress edit failed: %s", future.exception())


def _retry_after(headers: Any) -> float:
    for key in ("Retry-After", "retry-after"):
        value = headers.get(key) if headers else None
        if value:
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except ValueError:
                break
    return 1.0


def _surface_error(message: str, slack_error: str, retry_after: float | None = None) -> SurfaceError:
    exc = SurfaceError(message, retry_after=retry_after)
    exc.slack_error = slack_error  # type: ignore[attr-defined]
    return exc


__all__ = ["INVITE_HELP", "SlackSurface", "user_message"]
