"""Run the Slack adapter: Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP.

HTTP mode serves ``POST /slack/events`` (commands, events and interactivity) as a Starlette
route (:func:`slack_routes`) inside the web process's one ASGI app (``app/web.py``), so several
stateless replicas can run behind a load balancer. Every request's signature and timestamp are
checked before its body is parsed: unsigned, badly signed or stale requests get 401 and one short
log line at INFO. ``SLACK_API_URL`` overrides the Web API base.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.slack.app import SlackAdapter, create_app, pooled_session, web_client
from adapters.slack.surface import SlackSurface, slack_edit_rate
from bot.arena import Arena
from bot.config import Settings, env_setting, integer
from bot.errors import ConfigError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is not Slack


class SlackConfigError(ConfigError):
    """A required Slack setting is missing; the message says which and where to find it."""


def slack_routes(adapter: SlackAdapter) -> list[Route]:
    """The Starlette route(s) of Slack HTTP mode, for the web process's ASGI app."""
    if not adapter.signing_secret:
        raise SlackConfigError("Slack HTTP mode needs the signing secret (SLACK_SIGNING_SECRET).")
    verifier = SignatureVerifier(adapter.signing_secret)

    async def events(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse("request body too large\n", status_code=413)
        if not _signed_by_slack(verifier, request, body):
            client = request.client.host if request.client else "?"
            log.info("Slack: rejected a request from %s without a valid, current signature", client)
            return PlainTextResponse("invalid or missing Slack signature\n", status_code=401)
        try:
            bolt_response = await adapter.app.async_dispatch(to_async_bolt_request(request, body))
        except Exception as exc:  # signed but unreadable: one line, never a traceback per request
            log.warning("Slack: could not handle a signed request: %s", type(exc).__name__)
            return PlainTextResponse("malformed request\n", status_code=400)
        return to_starlette_response(bolt_response)

    return [Route(EVENTS_PATH, events, methods=["POST"])]


async def _read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The request body, or None when it exceeds ``limit`` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)


def _signed_by_slack(verifier: SignatureVerifier, request: Request, body: bytes) -> bool:
    """Slack's v0 signature over the raw body, with a timestamp no more than 5 minutes off."""
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature.startswith("v0="):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # Slack signs UTF-8 text; these bytes cannot be its request
    return verifier.is_valid(text, timestamp, signature)


def adapter_from_env(arena: Arena, settings: Settings, env: dict[str, str] | None = None) -> SlackAdapter:
    """Build the adapter from ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_APP_TOKEN``,
    ``SLACK_API_URL``. Raises :class:`SlackConfigError` when HTTP mode lacks its signing secret."""
    env = dict(os.environ) if env is None else env
    token, secret = check_env(env)
    return create_app(arena, token=token, signing_secret=secret, api_url=env.get("SLACK_API_URL") or None)


def check_env(env: dict[str, str]) -> tuple[str, str | None]:
    """The bot token and signing secret, checked before anything starts.

    Raises :class:`SlackConfigError` naming the setting that is wrong and where to find it.
    """
    token = env.get("SLACK_BOT_TOKEN", "")
    if not token.startswith("xox"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-).")
    socket_mode = bool(env.get("SLACK_APP_TOKEN"))
    secret = env.get("SLACK_SIGNING_SECRET") or None
    if not socket_mode and not secret:
        raise SlackConfigError(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: HTTP mode needs the signing secret "
            "(Basic Information → App Credentials in the app's settings), or set SLACK_APP_TOKEN (xapp-…) "
            "to use Socket Mode instead."
        )
    if not socket_mode:
        _port(env)
    if socket_mode and not env.get("SLACK_APP_TOKEN", "").startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                               "(Basic Information → App-Level Tokens, scope connections:write).")
    return token, secret


def _port(env: dict[str, str]) -> int:
    return env_setting("PORT", 3000, integer(minimum=1, maximum=65535), env)


def web_api_surface(env: dict[str, str] | None = None, edits_per_minute: int = 50) -> SlackSurface:
    """A Slack surface for a worker: the Web API with the bot token, no event connection, editing
    within ``edits_per_minute`` (SLACK_EDITS_PER_MINUTE, shared with every process)."""
    env = dict(os.environ) if env is None else env
    token = env.get("SLACK_BOT_TOKEN", "")
    if not token.startswith("xox"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-).")
    return SlackSurface(web_client(token, env.get("SLACK_API_URL") or None, pooled_session()),
                        edit_rate=slack_edit_rate(edits_per_minute))


async def connect_socket_mode(adapter: SlackAdapter, app_token: str) -> Any:
    """Connect ``adapter`` to Slack over Socket Mode; returns the handler (``close_async()`` stops it)."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                               "(Basic Information → App-Level Tokens, scope connections:write).")
    handler = AsyncSocketModeHandler(adapter.app, app_token)
    await handler.connect_async()
    log.warning("Slack: Socket Mode connected")
    return handler
