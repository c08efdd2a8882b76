"""`codegen-bot discord-invite` and `codegen-bot discord-sync` (discord is imported lazily)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


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

    if args.client_id:
        return int(args.client_id)
    env = os.environ.get("DISCORD_APPLICATION_ID", "").strip()
    if env:
        return int(env) if env.isdigit() else None
    token = os.environ.get("DISCORD_TOKEN", "")
    return application_id_from_token(token) if token else None


def invite_command(args: argparse.Namespace) -> int:
    """Print the invite URL with exactly the permissions the bot uses."""
    from adapters.discord.invite import PERMISSIONS, invite_url, permissions

    app_id = _application_id(args)
    if app_id is None:
        print("error: no application id: pass --client-id, or set DISCORD_APPLICATION_ID (digits) or "
              "DISCORD_TOKEN (the id is read from the token's first part)", file=sys.stderr)
        return 2
    url = invite_url(app_id)
    if args.json:
        print(json.dumps({"url": url, "permissions": permissions().value, "permission_names": list(PERMISSIONS)}))
    else:
        print(url)
        for name, why in PERMISSIONS.items():
            print(f"  {name}: {why}", file=sys.stderr)
    return 0


def sync_command(args: argparse.Namespace) -> int:
    """Sync the application commands (a deliberate step, not done on every start)."""
    import asyncio

    import discord

    from adapters.discord.serve import DiscordConfigError, sync_commands

    try:
        names = asyncio.run(sync_commands(args.guild))
    except DiscordConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("error: Discord refused DISCORD_TOKEN (improper token)", file=sys.stderr)
        return 2
    except discord.HTTPException as exc:
        print(f"error: Discord refused the sync (HTTP {exc.status}, code {exc.code})", file=sys.stderr)
        return 1
    where = f"server {args.guild}" if args.guild else "all servers (global; may take up to an hour to appear)"
    print(f"synced {', '.join('/' + n for n in names)} to {where}")
    return 0
