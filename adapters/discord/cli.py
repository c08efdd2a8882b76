"""`codegen-bot discord-invite` and `codegen-bot discord-sync` (discord is imported lazily)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from bot.errors import ConfigError


def add_discord_commands(sub: Any) -> None:
    """Register the Discord subcommands on the CLI's subparsers."""
    invite = sub.add_parser("discord-invite", help="print the OAuth2 URL that adds the bot to a server")
    invite.add_argument("--client-id", type=int, help="application id (default: from DISCORD_APPLICATION_ID "
                        "or DISCORD_TOKEN)")
    invite.add_argument("--json", action="store_true", help="print url and permissions as JSON")
    invite.set_defaults(func=invite_command)

    sync = sub.add_parser("discord-sync", help="register the /codegen command with Discord")
    sync.add_argument("--guild", type=int, help="sync to one server only (instant; global takes up to an hour)")
    sync.set_defaults(func=sync_command)


def _application_id(args: argparse.Namespace) -> int | None:
    from adapters.discord.invite import application_id_from_token
    from bot.config import env_setting, integer

    if args.client_id:
        return int(args.client_id)
    from_env = env_setting("DISCORD_APPLICATION_ID", None, integer(minimum=1))
    if from_env is not None:
        return from_env
    token = os.environ.get("DISCORD_TOKEN", "")
    return application_id_from_token(token) if token else None


def invite_command(args: argparse.Namespace) -> int:
    """Print the invite URL with exactly the permissions the bot uses."""
    from adapters.discord.invite import PERMISSIONS, invite_url, permissions

    app_id = _application_id(args)
    if app_id is None:
        raise ConfigError("no application id: pass --client-id, or set DISCORD_APPLICATION_ID (digits) or "
                          "DISCORD_TOKEN (the id is read from the token's first part)")
    url = invite_url(app_id)
    if args.json:
        print(json.dumps({"url": url, "permissions": permissions().value, "permission_names": list(PERMISSIONS)}))
    else:
        print(url)
        print("It asks for: " + ", ".join(name.replace("_", " ") for name in PERMISSIONS) + ".", file=sys.stderr)
    return 0


def sync_command(args: argparse.Namespace) -> int:
    """Sync the application commands (a deliberate step, not done on every start)."""
    import asyncio

    import discord

    from adapters.discord.serve import sync_commands

    try:
        names = asyncio.run(sync_commands(args.guild))
    except discord.HTTPException as exc:
        print(f"error: Discord refused the sync (HTTP {exc.status}, code {exc.code})", file=sys.stderr)
        return 1
    where = f"server {args.guild}" if args.guild else "all servers (global; may take up to an hour to appear)"
    print(f"synced {', '.join('/' + n for n in names)} to {where}")
    return 0
