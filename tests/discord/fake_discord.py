"""A fake Discord: REST API and gateway websocket on one aiohttp app on a random loopback port.

It speaks just enough of Discord's v10 API for discord.py 2.7 to log in, connect through
``GET /gateway/bot`` (as ``AutoShardedClient`` does), receive dispatches the test pushes, and
send/edit messages, open threads, answer interactions and read reactions, and serve users'
attachments as the CDN does (``attachment()``, each download recorded in ``cdn_requests``).
Every REST request is recorded with its decoded body (JSON or multipart: ``payload_json`` plus
file parts).

Every REST request is also checked against Discord's published OpenAPI spec and the documented
limits it lacks (:mod:`tests.specs.discord_api`): one the real Discord would refuse is answered as
Discord would (HTTP 400, code 50035 "Invalid Form Body", errors by field; 404/405 for an unknown
route) and recorded in ``violations``; the autouse fixture in tests/discord/conftest.py fails the
test on any (a test that sends a bad request on purpose takes them with ``take_violations()``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.fakes.loopback import serve_on_loopback
from tests.fakes.violations import SpecChecked
from tests.specs import discord_api

BOT_ID = 900000000000000001
APP_ID = BOT_ID
GUILD_ID = 800000000000000001
CHANNEL_ID = 700000000000000001
TIMESTAMP = "2026-01-05T09:00:00.000000+00:00"


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A gateway/REST user object."""
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot}


@dataclass
class Recorded:
    """One REST request the fake received."""

    method: str
    path: str  # without the /api/v10 prefix, percent-decoded
    query: dict[str, str]
    json: Any = None
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)
    at: float = field(default_factory=time.monotonic)  # when it arrived (for benchmarks)
    content_type: str = ""
    parts: list[str] = field(default_factory=list)  # multipart part names, in order


class FakeDiscord(SpecChecked):
    """Async context manager: ``async with FakeDiscord() as fake: fake.api_base``."""

    fake_name = "fake Discord"

    def __init__(self, *, guild_perms: int = (1 << 41) - 1) -> None:
        super().__init__()
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {
            CHANNEL_ID: {"id": str(CHANNEL_ID), "type": 0, "name": "arena", "position": 0,
                         "guild_id": str(GUILD_ID), "permission_overwrites": [], "nsfw": False,
                         "parent_id": None, "topic": None, "last_message_id": None,
                         "rate_limit_per_user": 0},
        }
        self.reactions: dict[tuple[int, str], list[int]] = {}  # (message id, emoji) -> user ids
        self.users: dict[int, dict[str, Any]] = {BOT_ID: user_payload(BOT_ID, "codegen", bot=True)}
        self.guild_perms = guild_perms
        self.fail: dict[tuple[str, str], tuple[int, int, str]] = {}  # (method, path regex) -> error
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._seq = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.identified = asyncio.Event()
        self.identify_count = 0
        self.identify: dict[str, Any] = {}  # the last IDENTIFY payload's data
        self.rate_limit_once: dict[tuple[str, str], float] = {}  # (method, path regex) -> retry_after
        self.cdn: dict[str, bytes] = {}  # attachment id -> content, served at its url (attachment())
        self.cdn_requests: list[tuple[str, str | None]] = []  # (attachment id, Authorization header)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()
        self.closed = True

    @property
    def api_base(self) -> str:
        """Value for DISCORD_API_BASE."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    def new_id(self) -> int:
        """A fresh snowflake."""
        return next(self._ids)

    # -- queries for tests -----------------------------------------------------------------

    def calls(self, method: str, prefix: str = "") -> list[Recorded]:
        """Recorded requests with this method whose path starts with ``prefix``."""
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def bodies(self) -> list[dict[str, Any]]:
        """JSON bodies of every message-bearing request (creates, edits, followups, callbacks)."""
        out: list[dict[str, Any]] = []
        for r in self.requests:
            body = r.json
            if not isinstance(body, dict):
                continue
            if r.path.endswith("/callback"):
                body = body.get("data") or {}
            if r.method in ("POST", "PATCH") and ("content" in body or "embeds" in body):
                out.append(body)
        return out

    def channel_messages(self, channel_id: int | str) -> list[dict[str, Any]]:
        """Public messages currently in a channel or thread, oldest first (ephemeral ones excluded)."""
        cid = str(channel_id)
        return sorted((m for m in self.messages.values() if m["channel_id"] == cid and not m["flags"] & 64),
                      key=lambda m: int(m["id"]))

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Push a DISPATCH (op 0) to every connected client."""
        payload = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif data["op"] == 2:
                self.identify_count += 1
                self.identify = data["d"]
                self._sockets.append(ws)
                await self._send_ready(ws, data["d"].get("shard", [0, 1]))
                self.identified.set()
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse, shard: list[int]) -> None:
        ready = {"v": 10, "user": self.users[BOT_ID], "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                 "session_id": "fake-session", "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                 "shard": shard, "application": {"id": str(APP_ID), "flags": 0}}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        guild = {
            "id": str(GUILD_ID), "name": "Fake Guild", "unavailable": False, "owner_id": "1",
            "member_count": 2, "large": False, "features": [], "emojis": [], "stickers": [],
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": str(self.guild_perms),
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}],
            "members": [{"user": self.users[BOT_ID], "roles": [], "joined_at": TIMESTAMP, "deaf": False,
                         "mute": False, "flags": 0}],
            "channels": [c for c in self.channels.values() if c["type"] != 11],
            "threads": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }
        await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild}))

    # -- payload builders for tests ------------------------------------------------------------

    def attachment(self, filename: str, content: bytes, content_type: str | None = "text/plain", *,
                   size: int | None = None, channel_id: int = CHANNEL_ID) -> dict[str, Any]:
        """An attachment of a user's message (checked against the spec), served at its ``url`` like
        Discord's CDN serves it: no token needed."""
        aid = str(self.new_id())
        self.cdn[aid] = content
        url = f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{aid}/{filename}"
        obj: dict[str, Any] = {"id": aid, "filename": filename, "size": len(content) if size is None else size,
                               "url": url, "proxy_url": url}
        if content_type:
            obj["content_type"] = content_type
        problems = discord_api.check_schema("MessageAttachmentResponse", obj)
        if problems:
            self.record_violation("attachment", [str(p) for p in problems])
        return obj

    async def _cdn(self, request: web.Request) -> web.Response:
        aid = request.match_info["attachment"]
        self.cdn_requests.append((aid, request.headers.get("Authorization")))
        if aid not in self.cdn:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=self.cdn[aid], content_type="application/octet-stream")

    def message_payload(self, channel_id: int, author: dict[str, Any], content: str, *,
                        message_id: int | None = None, mentions: list[dict[str, Any]] | None = None,
                        attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A MESSAGE_CREATE-shaped message from ``author`` (stored so REST can find it)."""
        mid = message_id or self.new_id()
        chan = self.channels.get(channel_id, {})
        msg = {"id": str(mid), "channel_id": str(channel_id), "guild_id": str(GUILD_ID), "type": 0,
               "content": content, "author": author, "attachments": attachments or [], "embeds": [],
               "components": [],
               "mentions": mentions or [], "mention_roles": [], "mention_everyone": False,
               "pinned": False, "tts": False, "timestamp": TIMESTAMP, "edited_timestamp": None,
               "flags": 0, "member": {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False}}
        if chan.get("type") == 11:
            msg["position"] = 0
        self.messages[mid] = msg
        return msg

    def interaction_payload(self, user: dict[str, Any], data: dict[str, Any], *, kind: int = 2,
                            channel_id: int = CHANNEL_ID, message: dict[str, Any] | None = None,
                            member_perms: int | None = None) -> dict[str, Any]:
        """An INTERACTION_CREATE payload (kind 2 = application command, 3 = component); the member
        has ``member_perms`` (default: the guild's, every permission)."""
        payload = {
            "id": str(self.new_id()), "application_id": str(APP_ID), "type": kind,
            "token": f"itoken-{self.new_id()}", "version": 1, "data": data,
            "guild_id": str(GUILD_ID), "channel_id": str(channel_id),
            "channel": self.channels.get(channel_id, {"id": str(channel_id), "type": 0}),
            "member": {"user": user, "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                       "permissions": str(self.guild_perms if member_perms is None else member_perms),
                       "flags": 0},
            "app_permissions": str(self.guild_perms), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        return payload

    def reaction_payload(self, user_id: int, message_id: int, emoji: str, *,
                         channel_id: int) -> dict[str, Any]:
        """A MESSAGE_REACTION_ADD/REMOVE payload; also updates the stored reactions."""
        return {"user_id": str(user_id), "channel_id": str(channel_id), "message_id": str(message_id),
                "guild_id": str(GUILD_ID), "emoji": {"id": None, "name": emoji}, "burst": False,
                "type": 0}

    def set_reaction(self, message_id: int, emoji: str, user_id: int, present: bool = True) -> None:
        """Change stored reactions (what a REST read would see), without dispatching."""
        users = self.reactions.setdefault((int(message_id), emoji), [])
        if present and user_id not in users:
            users.append(user_id)
        if not present and user_id in users:
            users.remove(user_id)

    # -- REST ------------------------------------------------------------------------------------

    async def _record(self, request: web.Request, path: str) -> Recorded:
        ctype = request.headers.get("Content-Type", "")
        rec = Recorded(request.method, path, dict(request.query), content_type=ctype)
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:  # type: ignore[union-attr]
                rec.parts.append(part.name or "")  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    rec.json = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    rec.files.append((part.filename or "", bytes(await part.read())))  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            rec.json = json.loads(raw) if raw else None
        self.requests.append(rec)
        return rec

    def _store_message(self, channel_id: str, body: dict[str, Any], files: list[tuple[str, bytes]],
                       message_id: int | None = None, flags: int = 0) -> dict[str, Any]:
        mid = message_id or self.new_id()
        msg = self.message_payload(int(channel_id), self.users[BOT_ID], body.get("content") or "",
                                   message_id=mid)
        msg["author"] = self.users[BOT_ID]
        msg["embeds"] = body.get("embeds") or []
        msg["components"] = body.get("components") or []
        msg["flags"] = body.get("flags", flags) or 0
        msg["attachments"] = [{"id": str(self.new_id()), "filename": name, "size": len(data),
                               "url": f"http://127.0.0.1:{self.port}/att/{name}",
                               "proxy_url": f"http://127.0.0.1:{self.port}/att/{name}"}
                              for name, data in files]
        msg["allowed_mentions"] = body.get("allowed_mentions")
        return msg

    def _edit_message(self, mid: int, body: dict[str, Any], files: list[tuple[str, bytes]]) -> dict[str, Any]:
        msg = self.messages[mid]
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if files or "attachments" in body:
            msg["attachments"] = [{"id": str(self.new_id()), "filename": n, "size": len(d),
                                   "url": f"http://127.0.0.1:{self.port}/att/{n}",
                                   "proxy_url": f"http://127.0.0.1:{self.port}/att/{n}"} for n, d in files]
        msg["edited_timestamp"] = TIMESTAMP
        return msg

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return _json({"message": message, "code": code}, status=status)

    async def _rest(self, request: web.Request) -> web.Response:
        response = await self._route(request)
        # Discord's rate-limit headers (never exhausted here): without them discord.py assumes a
        # bucket of one and serialises every request per channel.
        response.headers.update({"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49",
                                 "X-RateLimit-Reset-After": "1.0", "X-RateLimit-Bucket": "fake"})
        return response

    async def _route(self, request: web.Request) -> web.Response:
        path = "/" + unquote(request.match_info["tail"])
        rec = await self._record(request, path)
        problems = discord_api.check(rec.method, path, rec.query, rec.content_type, rec.json, rec.parts)
        if problems:
            self.record_violation(f"{rec.method} {path}", [str(p) for p in problems])
            if problems[0].code == "UNKNOWN_ROUTE":
                status = 405 if "405" in problems[0].message else 404
                return _json({"message": f"{status}: {'Method Not Allowed' if status == 405 else 'Not Found'}",
                              "code": 0}, status=status)
            return _json(discord_api.error_body(problems), status=400)
        for (method, pattern), retry_after in list(self.rate_limit_once.items()):
            if request.method == method and re.search(pattern, path):
                del self.rate_limit_once[(method, pattern)]
                response = _json({"message": "You are being rate limited.", "retry_after": retry_after,
                                  "global": False}, status=429)
                response.headers.update({"Via": "1.1 google", "Retry-After": str(retry_after),
                                         "X-RateLimit-Scope": "user"})
                return response
        for (method, pattern), (status, code, text) in self.fail.items():
            if request.method == method and re.search(pattern, path):
                return self._error(status, code, text)
        parts = path.strip("/").split("/")
        body = rec.json if isinstance(rec.json, dict) else {}
        m = request.method

        if path == "/gateway/bot":
            return _json({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1,
                          "session_start_limit": {"total": 1000, "remaining": 1000,
                                                  "reset_after": 0, "max_concurrency": 1}})
        if path == "/users/@me":
            return _json(self.users[BOT_ID])
        if path == "/oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "codegen", "description": "", "icon": None,
                          "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                          "owner": user_payload(1, "owner"), "flags": 0, "rpc_origins": []})
        if parts[0] == "applications" and parts[-1] == "commands" and m == "PUT":
            return _json([dict(c, id=str(self.new_id()), application_id=str(APP_ID), version="1",
                               default_member_permissions=None, type=c.get("type", 1))
                          for c in (rec.json or [])])
        if parts[0] == "channels":
            cid = parts[1]
            if len(parts) == 2 and m == "GET":
                chan = self.channels.get(int(cid))
                return _json(chan) if chan else self._error(404, 10003, "Unknown Channel")
            if parts[2:] == ["messages"] and m == "GET":  # channel history, newest first
                limit = int(request.query.get("limit", "50"))
                if not 1 <= limit <= 100:
                    return self._error(400, 50035, "Invalid Form Body")
                newest = list(reversed(self.channel_messages(cid)))[:limit]
                return _json([self._with_reactions(msg) for msg in newest])
            if parts[2:] == ["messages"] and m == "POST":
                if self._archived(cid):
                    return self._error(400, 50083, "Thread is archived")
                return _json(self._store_message(cid, body, rec.files))
            if len(parts) == 4 and parts[2] == "messages":
                mid = int(parts[3])
                if mid not in self.messages:
                    return self._error(404, 10008, "Unknown Message")
                if m == "PATCH":
                    if self._archived(cid):
                        return self._error(400, 50083, "Thread is archived")
                    return _json(self._edit_message(mid, body, rec.files))
                if m == "GET":
                    return _json(self._with_reactions(self.messages[mid]))
            if len(parts) == 5 and parts[2] == "messages" and parts[4] == "threads" and m == "POST":
                return self._create_thread(cid, int(parts[3]), body)
            if len(parts) >= 6 and parts[4] == "reactions":
                mid, emoji = int(parts[3]), parts[5]
                if m == "PUT" and parts[-1] == "@me":
                    self.set_reaction(mid, emoji, BOT_ID)
                    return web.Response(status=204)
                if m == "GET":
                    return _json([self.users.get(u, user_payload(u, f"user{u}"))
                                  for u in self.reactions.get((mid, emoji), [])])
        if parts[0] == "interactions" and parts[-1] == "callback":
            return _json({"interaction": {"id": parts[1], "type": 2,
                                          "response_message_loading": body.get("type") == 5,
                                          "response_message_ephemeral": bool(
                                              (body.get("data") or {}).get("flags", 0) & 64)}})
        if parts[0] == "webhooks":
            channel = str(CHANNEL_ID)
            if m == "POST" and len(parts) == 3:
                return _json(self._store_message(channel, body, rec.files))
            if len(parts) == 5 and parts[3] == "messages":
                if m == "DELETE":
                    return web.Response(status=204)
                return _json(self._store_message(channel, body, rec.files, message_id=self.new_id()))
        return self._error(404, 0, f"fake discord: no route for {m} {path}")

    def _archived(self, cid: str) -> bool:
        chan = self.channels.get(int(cid))
        return bool(chan and chan.get("thread_metadata", {}).get("archived"))

    def _with_reactions(self, msg: dict[str, Any]) -> dict[str, Any]:
        mid = int(msg["id"])
        reactions = [{"emoji": {"id": None, "name": emoji}, "count": len(users), "me": BOT_ID in users,
                      "burst_count": 0, "me_burst": False, "count_details": {"burst": 0, "normal": len(users)},
                      "burst_colors": []}
                     for (m_id, emoji), users in self.reactions.items() if m_id == mid and users]
        return dict(msg, reactions=reactions)

    def add_thread(self, thread_id: int, parent_id: int = CHANNEL_ID, name: str = "a thread", *,
                   archived: bool = False, auto_archive_duration: int = 1440) -> dict[str, Any]:
        """Store a public thread (type 11) as Discord describes one."""
        thread = {"id": str(thread_id), "guild_id": str(GUILD_ID), "parent_id": str(parent_id),
                  "owner_id": str(BOT_ID), "name": name, "type": 11, "last_message_id": None,
                  "message_count": 0, "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                  "thread_metadata": {"archived": archived, "locked": False, "archive_timestamp": TIMESTAMP,
                                      "auto_archive_duration": auto_archive_duration}}
        self.channels[thread_id] = thread
        return thread

    def _create_thread(self, cid: str, mid: int, body: dict[str, Any]) -> web.Response:
        if mid in self.channels:
            return self._error(400, 160004, "A thread has already been created for this message")
        thread = self.add_thread(mid, int(cid), body.get("name", ""),
                                 auto_archive_duration=body.get("auto_archive_duration", 1440))
        return _json(thread, status=201)
