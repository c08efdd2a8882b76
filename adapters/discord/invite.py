"""The OAuth2 invite URL, with exactly the permissions the bot uses."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

import discord

#: What the bot does in a channel, each permission with its reason.
PERMISSIONS: dict[str, str] = {
    "view_channel": "see the channels it is asked in",
    "send_messages": "post the task's parent message",
    "send_messages_in_threads": "post one answer per model in the task's thread",
    "create_public_threads": "open a thread per task",
    "read_message_history": "find answers' reactions when reconciling ratings after a restart, and a "
                            "weekly post that a crashed process made",
    "add_reactions": "add reactions to answers (rating prompts)",
    "attach_files": "attach long answers, run output and the leaderboard chart",
    "embed_links": "show each answer's footer (latency, tokens, cost) as an embed",
    "use_application_commands": "offer /codegen",
}
SCOPES = ("bot", "applications.commands")


def permissions() -> discord.Permissions:
    """The permission set the invite asks for."""
    return discord.Permissions(**{name: True for name in PERMISSIONS})


def application_id_from_token(token: str) -> int | None:
    """A bot token's first segment is the base64 of the bot's (= application's) id."""
    head = token.strip().split(".", 1)[0]
    try:
        raw = base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(raw) if raw.isdigit() else None


def invite_url(application_id: int) -> str:
    """The URL a server admin opens to add the bot."""
    query = urlencode({"client_id": str(application_id), "scope": " ".join(SCOPES),
                       "permissions": str(permissions().value)})
    return f"https://discord.com/oauth2/authorize?{query}"
