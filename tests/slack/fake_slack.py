"""A fake Slack Web API on a random loopback port, for tests and benchmarks.

It speaks the methods the adapter uses (``auth.test``, ``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``, ``reactions.add``, the three-step file upload, ``views.publish``,
``conversations.info``, ``conversations.history`` with message ``metadata``, ``files.info``) plus
``response_url`` webhooks, Socket Mode (``apps.connections.open`` and a WebSocket that delivers
envelopes and records acks) and the file host: ``share_file`` makes a file object (checked against
the spec's ``objs_file``) whose ``url_private`` it serves only with a bot token, as Slack does
(without one: its sign-in page), recording each download in ``downloads``. It answers with realistic
JSON and records every call with its body.

Every call is checked against Slack's published Web API spec and Block Kit limits
(:mod:`tests.specs.slack_api`): a call the real Slack would refuse is answered as Slack would
(``ok: false`` with ``invalid_arguments``, ``invalid_blocks``, ``unknown_method`` ...) and recorded
in ``violations``; the autouse fixture in tests/slack/conftest.py fails the test on any (a test that
sends a bad call on purpose takes them with ``take_violations()``). Failures on demand:
``fail(method, error)`` (e.g. ``not_in_channel``), ``rate_limit(method, retry_after)`` (HTTP 429),
``slow(method, seconds)`` (a call Slack applies late), ``hold_reply(method)`` (a call Slack applies
but whose reply never comes back, as for a client killed mid-request),
and ``msg_too_long`` whenever top-level ``text`` exceeds ``text_limit``.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback
from tests.fakes.violations import SpecChecked
from tests.specs.slack_api import Refusal, check_call, check_file_object, check_response_url

BOT_USER_ID = "U0CODEGEN"
BOT_ID = "B0CODEGEN"
TEAM_ID = "T0FAKE"


@dataclass
class Call:
    """One request the fake received: the Web API method and its merged parameters."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class PostedMessage:
    """A message as the fake currently holds it (updated in place by chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None  # chat.postMessage `metadata` (event_type, event_payload)
    posted_at: float = field(default_factory=time.monotonic)
    edited_at: float = 0.0  # time.monotonic() of the latest chat.update

    def all_text(self) -> str:
        """Top-level text plus every text found in the blocks (what a user can read)."""
        return "\n".join([self.text, *_block_texts(self.blocks)])


@dataclass
class HostedFile:
    """A file someone shared in Slack, served at its ``url_private``."""

    id: str
    name: str
    content: bytes
    mimetype: str
    redirect: str | None = None  # answer its url_private with a 302 to this address instead


@dataclass
class Download:
    """One request to the file host: which file, and the token it carried (None: none)."""

    file_id: str
    token: str | None


@dataclass
class UploadedFile:
    """A file completed through files.completeUploadExternal."""

    id: str
    filename: str
    title: str | None
    content: bytes
    channel: str | None
    thread_ts: str | None
    initial_comment: str | None


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


class FakeSlack(SpecChecked):
    """The fake Web API server. Use as an async context manager."""

    fake_name = "fake Slack"

    def __init__(self, *, text_limit: int = 4000) -> None:
        super().__init__()
        self.text_limit = text_limit
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], PostedMessage] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.files: list[UploadedFile] = []
        self.hosted: dict[str, HostedFile] = {}  # shared files, by id (share_file)
        self.downloads: list[Download] = []
        self.views: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        self.not_member: set[str] = set()
        self.admins: set[str] = set()  # users.info says is_admin for these user ids
        self.owners: set[str] = set()  # … and is_owner for these
        self.missing_channels: set[str] = set()
        self._failures: dict[str, list[str]] = {}
        self._limits: dict[str, list[float]] = {}
        self._delays: dict[str, list[float]] = {}
        self._drop_until: dict[str, float] = {}
        self._tiers: dict[str, tuple[int, float]] = {}
        self._served: dict[str, list[float]] = {}
        self.throttled: list[Call] = []  # every call answered 429 (scripted or by a tier limit)
        self._held_replies: dict[str, list[Any]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        self._socket_ready = asyncio.Event()
        self._envelopes: set[str] = set()
        self._ack_arrived = asyncio.Event()
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/link/", self._socket)
        app.router.add_get("/files-pri/{team_file}/{name}", self._file)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._file)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self.closed = True

    @property
    def api_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL`` (ends with /)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str = "r1") -> str:
        """A ``response_url`` to put in a command or interaction payload."""
        return f"http://127.0.0.1:{self.port}/response/{key}"

    # ---- scripting -------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._failures.setdefault(method, []).extend([error] * times)

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` take ``seconds`` before Slack applies them."""
        self._delays.setdefault(method, []).extend([seconds] * times)

    def hold_reply(self, method: str = "chat.postMessage") -> asyncio.Event:
        """Apply the next call of ``method`` (the message is posted) but withhold the HTTP reply until
        the returned event is set: the client never learns the ts, as when it dies mid-request."""
        released = asyncio.Event()

        async def reply_later() -> web.Response:  # the handler awaits this coroutine's result
            await released.wait()
            return self._err("request_abandoned")

        self._held_replies.setdefault(method, []).append(reply_later)
        return released

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After``."""
        self._limits.setdefault(method, []).extend([retry_after] * times)

    def drop(self, method: str, seconds: float) -> None:
        """For the next ``seconds``, cut the connection of every ``method`` call without answering
        (the client sees the server disconnect, as when Slack or the network hiccups)."""
        self._drop_until[method] = time.monotonic() + seconds

    def tier(self, method: str, per_minute: int = 50, window: float = 60.0) -> None:
        """Enforce a Web API rate tier on ``method``: past ``per_minute`` calls in any ``window``
        seconds, answer 429 with the Retry-After Slack would give (Tier 3 is about 50 a minute)."""
        self._tiers[method] = (per_minute, window)

    def share_file(self, name: str, content: bytes, mimetype: str = "text/plain", *, filetype: str = "text",
                   redirect: str | None = None, size: int | None = None, **extra: Any) -> dict[str, Any]:
        """A file shared in a message: the file object Slack puts in the event's ``files``
        (``extra`` overrides fields, e.g. ``url_private=`` a stranger's address)."""
        file_id = f"F{next(self._ids):08d}"
        self.hosted[file_id] = HostedFile(file_id, name, content, mimetype, redirect)
        obj = self._file_object(self.hosted[file_id], filetype, len(content) if size is None else size)
        obj.update(extra)
        problems = check_file_object(obj)
        if problems:
            self.record_violation("file object", problems)
        return obj

    # ---- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of one Web API method, in order."""
        return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[PostedMessage]:
        """Messages posted in ``channel`` (top level and threads), oldest first."""
        return sorted((m for m in self.messages.values() if m.channel == channel), key=lambda m: m.ts)

    def thread(self, channel: str, thread_ts: str) -> list[PostedMessage]:
        """Replies in one thread, oldest first."""
        return [m for m in self.channel_messages(channel) if m.thread_ts == thread_ts]

    def message(self, channel: str, ts: str) -> PostedMessage:
        """One posted message by channel and ts."""
        return self.messages[(channel, ts)]

    # ---- handlers --------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    @staticmethod
    def _ok(payload: dict[str, Any]) -> web.Response:
        return web.json_response({"ok": True, **payload})

    @staticmethod
    def _err(error: str, status: int = 200) -> web.Response:
        return web.json_response({"ok": False, "error": error}, status=status)

    def _refuse(self, request: str, refusal: Refusal, status: int = 200) -> web.Response:
        """Answer a call the real Slack would refuse as it would, and record it."""
        self.record_violation(request, [refusal.error, *refusal.messages])
        return web.json_response(refusal.body(), status=status)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            ctype = request.content_type
            if ctype == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(dict(parse_qsl(raw.decode())))
        for key in ("blocks", "view", "files", "attachments", "metadata"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    pass
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        self.calls.append(Call(method, params, headers, time.monotonic()))
        auth = request.headers.get("Authorization", "")
        if method == "apps.connections.open":
            if not auth.startswith("Bearer xapp-"):
                return self._err("not_allowed_token_type")
        elif not auth.startswith("Bearer xox"):
            return self._err("not_authed")
        refusal = check_call(method, request.method, request.content_type, params)
        if refusal is not None:
            return self._refuse(method, refusal, status=404 if refusal.error == "unknown_method" else 200)
        if time.monotonic() < self._drop_until.get(method, 0.0):
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the connection is gone
        limits = self._limits.get(method)
        tiered = self._tier_wait(method)
        if tiered is not None:
            limits = [tiered]
        if limits:
            retry_after = limits.pop(0)
            self.throttled.append(self.calls[-1])
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(int(retry_after)) if retry_after >= 1 else str(retry_after)},
            )
        delays = self._delays.get(method)
        if delays:
            await asyncio.sleep(delays.pop(0))
        failures = self._failures.get(method)
        if failures:
            return self._err(failures.pop(0))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._err("unknown_method", status=404)
        response = handler(params)
        if callable(response):  # a held reply (hold_reply): wait for the test to release it
            return await response()
        return response

    def _tier_wait(self, method: str) -> float | None:
        """Seconds to wait when ``method`` is over its tier (the call is not counted), else None."""
        if method not in self._tiers:
            return None
        per_minute, window = self._tiers[method]
        now = time.monotonic()
        served = [t for t in self._served.get(method, []) if now - t < window]
        self._served[method] = served
        if len(served) >= per_minute:
            return max(1.0, float(int(window - (now - served[0])) + 1))
        served.append(now)
        return None

    def _channel_error(self, channel: str | None) -> str | None:
        if not channel:
            return "channel_not_found"
        if channel in self.missing_channels:
            return "channel_not_found"
        if channel in self.not_member:
            return "not_in_channel"
        return None

    def _message_error(self, params: dict[str, Any]) -> str | None:
        """Refusals that depend on this fake's settings (the spec check has passed already)."""
        text = params.get("text") or ""
        blocks = params.get("blocks")
        if not text and not blocks:
            return "no_text"
        if len(text) > self.text_limit:
            return "msg_too_long"
        return None

    def _m_auth_test(self, params: dict[str, Any]) -> web.Response:
        return self._ok(
            {
                "url": "https://fake-team.slack.com/",
                "team": "Fake Team",
                "user": "codegen_arena",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        )

    def _bot_message(self, msg: PostedMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": "A0CODEGEN",
            "team": TEAM_ID,
            "text": msg.text,
            "blocks": msg.blocks,
            "ts": msg.ts,
        }
        if msg.thread_ts:
            out["thread_ts"] = msg.thread_ts
        return out

    def _m_chat_postMessage(self, params: dict[str, Any]) -> web.Response:
        channel = params.get("channel")
        error = self._channel_error(channel) or self._message_error(params)
        if error:
            return self._err(error)
        assert channel is not None
        thread_ts = params.get("thread_ts") or None
        metadata = params.get("metadata")
        if metadata is not None and not (isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                                         and isinstance(metadata.get("event_payload"), dict)):
            return self._err("invalid_metadata_format")
        msg = PostedMessage(
            channel=channel,
            ts=self._next_ts(),
            text=params.get("text") or "",
            blocks=params.get("blocks") or [],
            thread_ts=thread_ts,
            metadata=metadata,
        )
        self.messages[(channel, msg.ts)] = msg
        for hold in self._held_replies.get("chat.postMessage", [])[:1]:  # applied; the reply is held back
            self._held_replies["chat.postMessage"].pop(0)
            return hold
        return self._ok({"channel": channel, "ts": msg.ts, "message": self._bot_message(msg)})

    def _m_conversations_history(self, params: dict[str, Any]) -> web.Response:
        """Top-level messages of a channel, newest first; metadata only with include_all_metadata."""
        channel = params.get("channel") or ""
        error = self._channel_error(channel)
        if error:
            return self._err(error)
        try:
            limit = min(int(params.get("limit") or 100), 999)
        except (TypeError, ValueError):
            return self._err("invalid_limit")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        top = [m for m in self.channel_messages(channel) if m.thread_ts in (None, m.ts)]
        out = []
        for msg in reversed(top[-limit:]):
            item = self._bot_message(msg)
            if with_metadata and msg.metadata is not None:
                item["metadata"] = msg.metadata
            out.append(item)
        return self._ok({"messages": out, "has_more": len(top) > limit, "pin_count": 0,
                         "response_metadata": {"next_cursor": ""}})

    def _m_chat_update(self, params: dict[str, Any]) -> web.Response:
        channel = params.get("channel")
        error = self._channel_error(channel)
        if error:
            return self._err(error)
        msg = self.messages.get((channel or "", params.get("ts") or ""))
        if msg is None:
            return self._err("message_not_found")
        error = self._message_error(params)
        if error:
            return self._err(error)
        msg.history.append({"text": msg.text, "blocks": msg.blocks})
        msg.text = params.get("text") or ""
        msg.blocks = params.get("blocks") or []
        msg.edits += 1
        msg.edited_at = time.monotonic()
        return self._ok({"channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": self._bot_message(msg)})

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> web.Response:
        error = self._channel_error(params.get("channel")) or self._message_error(params)
        if error:
            return self._err(error)
        if not params.get("user"):
            return self._err("user_not_in_channel")
        self.ephemerals.append(params)
        return self._ok({"message_ts": self._next_ts()})

    def _m_reactions_add(self, params: dict[str, Any]) -> web.Response:
        key = (params.get("channel") or "", params.get("timestamp") or "")
        if key not in self.messages:
            return self._err("message_not_found")
        if any(r["channel"] == key[0] and r["timestamp"] == key[1] and r["name"] == params.get("name")
               for r in self.reactions):
            return self._err("already_reacted")
        self.reactions.append(params)
        return self._ok({})

    def _m_conversations_info(self, params: dict[str, Any]) -> web.Response:
        channel = params.get("channel") or ""
        if not channel or channel in self.missing_channels:
            return self._err("channel_not_found")
        return self._ok(
            {
                "channel": {
                    "id": channel,
                    "name": f"chan-{channel.lower()}",
                    "is_channel": True,
                    "is_private": False,
                    "is_archived": False,
                    "is_member": channel not in self.not_member,
                }
            }
        )

    def _m_users_info(self, params: dict[str, Any]) -> web.Response:
        user = params.get("user") or ""
        if not user.startswith(("U", "W")):
            return self._err("user_not_found")
        return self._ok({"user": {
            "id": user, "team_id": TEAM_ID, "name": user.lower(), "deleted": False, "real_name": user,
            "is_admin": user in self.admins or user in self.owners, "is_owner": user in self.owners,
            "is_primary_owner": False, "is_restricted": False, "is_ultra_restricted": False,
            "is_bot": False, "is_app_user": False, "updated": 1_700_000_000,
        }})

    def _m_files_info(self, params: dict[str, Any]) -> web.Response:
        hosted = self.hosted.get(params.get("file") or "")
        if hosted is None:
            return self._err("file_not_found")
        return self._ok({"file": self._file_object(hosted), "comments": [],
                         "response_metadata": {"next_cursor": ""}})

    def _file_object(self, hosted: HostedFile, filetype: str = "text", size: int | None = None) -> dict[str, Any]:
        base = f"http://127.0.0.1:{self.port}/files-pri/{TEAM_ID}-{hosted.id}"
        return {
            "id": hosted.id, "created": 1_700_000_000, "timestamp": 1_700_000_000, "name": hosted.name,
            "title": hosted.name, "mimetype": hosted.mimetype, "filetype": filetype, "pretty_type": filetype.title(),
            "user": "U0ALICE", "user_team": TEAM_ID, "editable": False,
            "size": len(hosted.content) if size is None else size, "mode": "hosted", "is_external": False,
            "external_type": "", "is_public": True, "public_url_shared": False, "display_as_bot": False,
            "username": "", "url_private": f"{base}/{hosted.name}", "url_private_download": f"{base}/download/{hosted.name}",
            "permalink": f"https://fake-team.slack.com/files/U0ALICE/{hosted.id}/{hosted.name}",
            "permalink_public": f"https://slack-files.com/{TEAM_ID}-{hosted.id}-0000000000", "is_starred": False,
            "has_rich_preview": False,
        }

    async def _file(self, request: web.Request) -> web.Response:
        """The file host: a shared file for a bot token, Slack's sign-in page for anything else."""
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM_ID}-")
        auth = request.headers.get("Authorization", "")
        self.downloads.append(Download(file_id, auth.removeprefix("Bearer ") if auth else None))
        hosted = self.hosted.get(file_id)
        if not auth.startswith("Bearer xox"):
            return web.Response(text="<html><body>Sign in to Fake Team</body></html>", content_type="text/html")
        if hosted is None or hosted.name != request.match_info["name"]:
            return web.Response(status=404, text="file not found")
        if hosted.redirect:
            raise web.HTTPFound(hosted.redirect)
        return web.Response(body=hosted.content, content_type=hosted.mimetype)

    def _m_views_publish(self, params: dict[str, Any]) -> web.Response:
        view = params.get("view")
        if not params.get("user_id") or not isinstance(view, dict):
            return self._err("invalid_arguments")
        if view.get("type") != "home":
            return self._err("invalid_arguments")
        self.views.append(params)
        return self._ok({"view": {"id": f"V{next(self._ids):08d}", **view}})

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> web.Response:
        filename = params.get("filename")
        try:
            length = int(params.get("length", ""))
        except ValueError:
            return self._err("invalid_arguments")
        if not filename or length <= 0:
            return self._err("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self._pending_uploads[file_id] = {"filename": filename, "length": length, "content": None}
        return self._ok({"upload_url": f"http://127.0.0.1:{self.port}/upload/v1/{file_id}", "file_id": file_id})

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": file_id, "bytes": len(data)}, {}, time.monotonic()))
        pending = self._pending_uploads.get(file_id)
        if pending is None:
            return web.Response(status=404, text="unknown upload")
        pending["content"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> web.Response:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return self._err("invalid_arguments")
        channel = params.get("channel_id")
        if channel:
            error = self._channel_error(channel)
            if error:
                return self._err(error)
        out = []
        for item in files:
            pending = self._pending_uploads.pop(item.get("id", ""), None)
            if pending is None or pending["content"] is None:
                return self._err("file_not_found")
            uploaded = UploadedFile(
                id=item["id"],
                filename=pending["filename"],
                title=item.get("title"),
                content=pending["content"],
                channel=channel,
                thread_ts=params.get("thread_ts"),
                initial_comment=params.get("initial_comment"),
            )
            self.files.append(uploaded)
            out.append({"id": uploaded.id, "name": uploaded.filename, "title": uploaded.title or uploaded.filename,
                        "size": len(uploaded.content)})
        return self._ok({"files": out})

    def _m_apps_connections_open(self, params: dict[str, Any]) -> web.Response:
        return self._ok({"url": f"ws://127.0.0.1:{self.port}/link/?ticket=fake-{next(self._ids)}"})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.sockets),
                            "connection_info": {"app_id": "A0CODEGEN"},
                            "debug_info": {"host": "fake", "approximate_connection_time": 18060}})
        self._socket_ready.set()
        try:
            async for msg in ws:
                if msg.type.name == "TEXT":
                    ack = json.loads(msg.data)
                    self._check_ack(ack)
                    self.socket_acks.append(ack)
                    self._ack_arrived.set()
        finally:
            self.sockets.remove(ws)
        return ws

    def _check_ack(self, ack: Any) -> None:
        """An acknowledgement names a delivered envelope; its optional payload is a message."""
        if not isinstance(ack, dict) or ack.get("envelope_id") not in self._envelopes:
            self.record_violation("socket ack", [f"not an acknowledgement of a delivered envelope: {ack!r:.200}"])
            return
        payload = ack.get("payload")
        if payload is not None:
            refusal = check_response_url(payload) if isinstance(payload, dict) else Refusal(
                "invalid_payload", ("an ack payload is a JSON object",))
            if refusal is not None:
                self.record_violation("socket ack payload", [refusal.error, *refusal.messages])

    async def wait_for_socket(self, timeout: float = 10) -> None:
        """Wait until a Socket Mode client has connected and received ``hello``."""
        await asyncio.wait_for(self._socket_ready.wait(), timeout)

    async def send_envelope(self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None,
                            retry_attempt: int = 0, timeout: float = 10) -> dict[str, Any]:
        """Deliver one Socket Mode envelope (``slash_commands``, ``events_api``, ``interactive``)
        and return the client's acknowledgement."""
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        body: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            body |= {"retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""}
        self._envelopes.add(envelope_id)
        await self.sockets[-1].send_json(body)

        async def acked() -> dict[str, Any]:
            while True:
                for ack in self.socket_acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
                self._ack_arrived.clear()
                await self._ack_arrived.wait()

        return await asyncio.wait_for(acked(), timeout)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("response_url", body, {}, time.monotonic()))
        refusal = check_response_url(body)
        if refusal is not None:
            self.record_violation("response_url", [refusal.error, *refusal.messages])
            return web.Response(status=400, text=refusal.error)
        self.responses.append({"key": request.match_info["key"], **body})
        return web.Response(text="ok")
