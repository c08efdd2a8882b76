"""The Slack app manifest: paste it into https://api.slack.com/apps → Create New App → From a manifest.

Socket Mode (default) needs no public URL; HTTP mode points the slash command, events and
interactivity at ``<url>/slack/events``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from bot.errors import ConfigError

BOT_SCOPES = [
    "app_mentions:read",  # @Codegen Arena <task>
    "channels:history",  # conversations.history: find a weekly post a crashed process made (bot/weekly.py)
    "channels:read",  # conversations.info
    "chat:write",  # post answers, edit them while they stream
    "commands",  # /codegen
    "files:write",  # full run output, long answers, the leaderboard chart
    "files:read",  # files attached to a task (sent to the models as context)
    "groups:history",  # the same in private channels
    "groups:read",  # conversations.info on private channels
    "reactions:read",  # reactions become ratings
    "reactions:write",
    "users:read",  # users.info: workspace admins and owners may change channel settings
]
BOT_EVENTS = ["app_home_opened", "app_mention", "reaction_added", "reaction_removed"]


class ManifestError(ConfigError):
    """The requested manifest options make no sense (e.g. HTTP mode without a public https URL)."""


def build_manifest(
    *, name: str = "Codegen Arena", socket_mode: bool = True, request_url: str | None = None,
    command: str = "/codegen",
) -> dict[str, Any]:
    """The manifest as a dict. HTTP mode needs ``request_url`` (the public base URL, https)."""
    if not name.strip() or len(name) > 35:
        raise ManifestError("The app name must be 1–35 characters.")
    if not command.startswith("/") or " " in command or len(command) > 32:
        raise ManifestError("The command must look like /codegen (a slash, no spaces, at most 32 characters).")
    events_url: str | None = None
    if socket_mode and request_url:
        raise ManifestError("--url is for HTTP mode: add --http (Socket Mode needs no public URL, so the URL "
                            "would be left out of the manifest).")
    if not socket_mode:
        if not request_url:
            raise ManifestError("HTTP mode needs --url: the public https URL where this bot is reachable.")
        parsed = urlparse(request_url)
        if parsed.scheme != "https" or not parsed.netloc:
            raise ManifestError(f"Slack only calls https URLs; got {request_url!r}.")
        base = request_url.rstrip("/")
        events_url = base if base.endswith("/slack/events") else base + "/slack/events"
    slash: dict[str, Any] = {
        "command": command,
        "description": "Compare code-generation models on a task",
        "usage_hint": "<task> | leaderboard [category] [window] | tag <task> <category> | subscribe | unsubscribe | blind on|off | settings | models [use a,b|reset] | prompt [set <text>|clear] | budget [5/day 50/month|off] | usage [7d|30d] | dashboard | help",
        "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    event_subscriptions: dict[str, Any] = {"bot_events": BOT_EVENTS}
    if events_url:
        slash["url"] = events_url
        interactivity["request_url"] = events_url
        event_subscriptions["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": "Send a coding task to several models at once; rate their answers.",
            "background_color": "#2c2d30",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False,
                         "messages_tab_read_only_enabled": True},
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [slash],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(**options: Any) -> str:
    """The manifest as pretty JSON (Slack's manifest editor accepts JSON or YAML)."""
    return json.dumps(build_manifest(**options), indent=2, ensure_ascii=False)


def add_cli(sub: Any) -> None:
    """Register ``codegen-bot slack-manifest`` on an argparse subparsers object."""
    parser = sub.add_parser("slack-manifest", help="print the Slack app manifest (paste into api.slack.com/apps)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--socket", dest="socket_mode", action="store_true", default=True,
                      help="Socket Mode: no public URL needed (default)")
    mode.add_argument("--http", dest="socket_mode", action="store_false",
                      help="HTTP mode: Slack calls --url/slack/events")
    parser.add_argument("--url", help="public https base URL of the bot (HTTP mode)")
    parser.add_argument("--name", default="Codegen Arena", help="app and bot display name")
    parser.set_defaults(func=_cli)


def _cli(args: Any) -> int:
    """Print the manifest; bad options raise :class:`ManifestError` (the CLI prints it)."""
    print(render_manifest(name=args.name, socket_mode=args.socket_mode, request_url=args.url))
    return 0
