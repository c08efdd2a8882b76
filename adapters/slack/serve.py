"""Run the Slack adapter: Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP.

HTTP mode serves ``POST /slack/events`` (commands, events and interactivity, each verified
with the signing secret by Bolt) and ``GET /healthz`` with aiohttp, so several stateless
replicas can run behind a load balancer. ``SLACK_API_URL`` overrides the Web API base.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from adapters.slack.app import SlackAdapter, create_app, pooled_session, web_client
from adapters.slack.surface import SlackSurface
from bot.arena import Arena
from bot.config import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackConfigError(ValueError):
    """A required Slack setting is missing; the message says which and where to find it."""


def build_web_app(adapter: SlackAdapter) -> web.Application:
    """The aiohttp application for HTTP mode."""

    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await adapter.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get(HEALTH_PATH, health)
    return web_app


def adapter_from_env(arena: Arena, settings: Settings, env: dict[str, str] | None = None) -> SlackAdapter:
    """Build the adapter from ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_APP_TOKEN``,
    ``SLACK_API_URL``. Raises :class:`SlackConfigError` when HTTP mode lacks its signing secret."""
    env = dict(os.environ) if env is None else env
    token = env.get("SLACK_BOT_TOKEN", "")
    if not token.startswith("xox"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-).")
    socket_mode = bool(env.get("SLACK_APP_TOKEN"))
    secret = env.get("SLACK_SIGNING_SECRET") or None
    if not socket_mode and not secret:
        raise SlackConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → App Credentials in the app's "
            "settings), or set SLACK_APP_TOKEN (xapp-…) to use Socket Mode instead."
        )
    return create_app(arena, token=token, signing_secret=secret, api_url=env.get("SLACK_API_URL") or None)


class SlackRunning:
    """A started Slack adapter: HTTP server or Socket Mode connection."""

    def __init__(self, adapter: SlackAdapter, runner: web.AppRunner | None = None, socket: Any = None) -> None:
        self.adapter = adapter
        self.runner = runner
        self.socket = socket

    async def stop_accepting(self) -> None:
        """Stop taking events (close the listening socket / the Socket Mode connection)."""
        if self.runner is not None:
            for site in list(self.runner.sites):
                await site.stop()
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None

    async def close(self) -> None:
        """Release the server and the Web API session (after the work in flight is done)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        await self.adapter.close()


async def start_slack(arena: Arena, settings: Settings, env: dict[str, str] | None = None) -> SlackRunning:
    """Start taking Slack events: Socket Mode when SLACK_APP_TOKEN is set, else HTTP."""
    env = dict(os.environ) if env is None else env
    adapter = adapter_from_env(arena, settings, env)
    app_token = env.get("SLACK_APP_TOKEN")
    if app_token:
        return SlackRunning(adapter, socket=await _connect_socket_mode(adapter, app_token))
    host, port = env.get("HOST", "0.0.0.0"), int(env.get("PORT", "3000"))
    runner = web.AppRunner(build_web_app(adapter), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.warning("Slack: HTTP mode on http://%s:%d%s", host, port, EVENTS_PATH)
    return SlackRunning(adapter, runner=runner)


def web_api_surface(env: dict[str, str] | None = None) -> SlackSurface:
    """A Slack surface for a worker: the Web API with the bot token, no event connection."""
    env = dict(os.environ) if env is None else env
    token = env.get("SLACK_BOT_TOKEN", "")
    if not token.startswith("xox"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-).")
    api_url = env.get("SLACK_API_URL") or None
    return SlackSurface(web_client(token, api_url, pooled_session()))


async def _connect_socket_mode(adapter: SlackAdapter, app_token: str) -> Any:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                               "(Basic Information → App-Level Tokens, scope connections:write).")
    handler = AsyncSocketModeHandler(adapter.app, app_token)
    await handler.connect_async()
    log.warning("Slack: Socket Mode connected")
    return handler
