"""Errors a person can act on, under one root.

Each message is one line that says what is wrong and what to do, with no secret in it. The CLI
prints it as ``error: <message>`` and exits 2 (``app/cli.py``, the one place that does); chat
adapters show it privately. Anything else that escapes is a bug and keeps its traceback.

    ArenaError
     ├── ConfigError           a setting, flag or file is malformed or missing
     │    ├── RosterError      models.toml (bot.roster): names the file, line and field
     │    ├── ManifestError    slack-manifest options (adapters.slack.manifest)
     │    ├── SlackConfigError Slack tokens (adapters.slack.serve)
     │    └── DiscordConfigError  Discord token or API base (adapters.discord.serve)
     ├── StorageUnavailable    the database cannot be opened, reached or written (storage.errors;
     │                         .kind: busy, full or unreachable)
     ├── ServiceUnreachable    a server the command needs does not answer
     └── SandboxError          the sandbox refused or could not do a run (bot.sandbox.errors)
          ├── NoRunnableCode, UnsupportedLanguage, SandboxBusy
          └── SandboxUnavailable
"""

from __future__ import annotations


class ArenaError(Exception):
    """Root of every error a person can act on; ``str(error)`` is the message to show."""


class ConfigError(ArenaError, ValueError):
    """A setting, flag or file is malformed or missing; the message names it and the bad value."""


class ServiceUnreachable(ArenaError):
    """A server the command needs (Discord's API, a model server, …) does not answer."""
