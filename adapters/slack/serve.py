"""Run the Slack adapter: Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP.

HTTP mode serves ``POST /slack/events`` (commands, events and interactivity, each verified
with the signing secret by Bolt) and ``GET /healthz`` with aiohttp, so several stateless
replicas can run behind a load balancer. ``SLACK_API_URL`` overrides the Web API base.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from adapters.slack.app import SlackAdapter, create_app
from bot.arena import Arena
from bot.config import Settings, env_setting, integer
from bot.errors import ConfigError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackConfigError(ConfigError):
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
    token, secret = check_env(env)
    return create_app(arena, token=token, signing_secret=secret, api_url=env.get("SLACK_API_URL") or None,
                      edit_interval=settings.edit_interval)


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


async def serve_slack(arena: Arena, settings: Settings, env: dict[str, str] | None = None) -> None:
    """Run until cancelled, in Socket Mode or HTTP mode depending on the environment."""
    from bot.background import platform_jobs

    env = dict(os.environ) if env is None else env
    adapter = adapter_from_env(arena, settings, env)
    try:
        async with platform_jobs(arena, settings, adapter.surface):
            app_token = env.get("SLACK_APP_TOKEN")
            if app_token:
                await _serve_socket_mode(adapter, app_token)
            else:
                await _serve_http(adapter, env.get("HOST") or "0.0.0.0", _port(env))
    finally:
        try:  # let answers in flight finish (briefly) before cutting them off
            await adapter.drain(timeout=10)
        except TimeoutError:
            log.warning("Slack: shutting down with comparisons still running; they will be marked interrupted")
        await adapter.close()


async def _serve_socket_mode(adapter: SlackAdapter, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(adapter.app, app_token)
    try:
        await handler.connect_async()
        log.warning("Slack: Socket Mode connected")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()


async def _serve_http(adapter: SlackAdapter, host: str, port: int) -> None:
    runner = web.AppRunner(build_web_app(adapter), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.warning("Slack: HTTP mode on http://%s:%d%s", host, port, EVENTS_PATH)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
