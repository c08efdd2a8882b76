"""Settings from the environment (and a `.env` file). Secrets never appear in reprs or logs."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from bot.errors import ConfigError

T = TypeVar("T")

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_ROSTER = PACKAGE_DIR / "models.toml"
SECRET_ENV_PREFIXES = ("SLACK_", "DISCORD_", "DASHBOARD_")
SECRET_ENV_SUFFIXES = ("_TOKEN", "_SECRET", "_KEY", "_PASSWORD")


def data_dir() -> Path:
    """Where state lives: `CODEGEN_HOME` (tests point it at a temp dir), else ./data."""
    return Path(os.environ.get("CODEGEN_HOME") or Path.cwd() / "data")


@dataclass
class Settings:
    """Runtime settings. Build with :meth:`from_env`; tests construct it directly."""

    database_url: str = ""
    roster_path: Path = DEFAULT_ROSTER
    edit_interval: float = 1.0
    save_interval: float = 5.0  # seconds between saves of a streaming answer's partial text
    max_task_chars: int = 4000
    interrupted_after_s: float = 900.0
    max_answer_attempts: int = 3  # a crash-looping answer is marked interrupted after this many starts
    shutdown_grace_s: float = 25.0  # SIGTERM/SIGINT: how long answers in flight may finish
    slack_edits_per_minute: int = 50  # SLACK_EDITS_PER_MINUTE: chat.update budget per workspace (Tier 3)
    leaderboard_tz: str = "UTC"
    blind_reveal_after_h: float = 24.0
    admins: frozenset[str] = frozenset()  # platform user ids from CODEGEN_ADMINS (bot/permissions.py)
    dashboard_url: str | None = None  # DASHBOARD_URL: the dashboard's public address (links, the weekly post)
    dashboard_port: int = 8077  # DASHBOARD_PORT: where `codegen-bot web` listens
    dashboard_link_hours: float = 24.0  # DASHBOARD_LINK_HOURS: how long a `/codegen dashboard` link works
    budget_daily_usd: float | None = None  # CODEGEN_BUDGET_DAILY_USD: each channel's default daily cap
    budget_monthly_usd: float | None = None  # CODEGEN_BUDGET_MONTHLY_USD: … and monthly cap
    user_tasks_per_hour: int = 20  # CODEGEN_USER_TASKS_PER_HOUR: tasks one user may ask an hour (0: no limit)
    workspace_concurrent_tasks: int = 10  # CODEGEN_WORKSPACE_CONCURRENT_TASKS: tasks running at once (0: no limit)
    retention_days: int = 90  # CODEGEN_RETENTION_DAYS: tasks' contents older than this are deleted (0: kept)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env_file: str | None = ".env") -> Settings:
        """Read settings from the process environment (after loading `.env` if present)."""
        if env_file and Path(env_file).is_file():
            from dotenv import load_dotenv

            load_dotenv(env_file, override=False)
        home = data_dir()
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'codegen.db'}"
        return cls(
            database_url=normalise_database_url(url),
            roster_path=Path(os.environ.get("CODEGEN_MODELS") or DEFAULT_ROSTER),
            edit_interval=env_setting("CODEGEN_EDIT_INTERVAL", 1.0, number(minimum=0)),
            shutdown_grace_s=env_setting("CODEGEN_SHUTDOWN_GRACE", 25.0, number(minimum=0)),
            slack_edits_per_minute=env_setting("SLACK_EDITS_PER_MINUTE", 50, integer(minimum=6)),
            max_task_chars=env_setting("CODEGEN_MAX_TASK_CHARS", 4000, integer(minimum=1)),
            leaderboard_tz=env_setting("LEADERBOARD_TZ", "UTC", timezone_name),
            blind_reveal_after_h=env_setting("CODEGEN_BLIND_REVEAL_HOURS", 24.0, number(minimum=0)),
            admins=frozenset(a.strip() for a in env_setting("CODEGEN_ADMINS", "", str).split(",") if a.strip()),
            dashboard_url=env_setting("DASHBOARD_URL", "", str).rstrip("/") or None,
            dashboard_port=env_setting("DASHBOARD_PORT", 8077, integer(minimum=1, maximum=65535)),
            dashboard_link_hours=env_setting("DASHBOARD_LINK_HOURS", 24.0, number(minimum=0.01)),
            budget_daily_usd=env_setting("CODEGEN_BUDGET_DAILY_USD", None, number(minimum=0)),
            budget_monthly_usd=env_setting("CODEGEN_BUDGET_MONTHLY_USD", None, number(minimum=0)),
            user_tasks_per_hour=env_setting("CODEGEN_USER_TASKS_PER_HOUR", 20, integer(minimum=0)),
            workspace_concurrent_tasks=env_setting("CODEGEN_WORKSPACE_CONCURRENT_TASKS", 10, integer(minimum=0)),
            retention_days=env_setting("CODEGEN_RETENTION_DAYS", 90, integer(minimum=0)),
        )

    def secret(self, name: str) -> str | None:
        """A secret by env var name (explicit `secrets` first, then the environment)."""
        return self.secrets.get(name) or os.environ.get(name) or None

    def secret_values(self, env_names: Iterable[str] = ()) -> list[str]:
        """Every configured secret, to redact from answers, errors and logs.

        The values of ``env_names`` (the roster's ``api_key_env``s), of every ``*_API_KEY``
        variable and every ``SLACK_*``, ``DISCORD_*`` or ``DASHBOARD_*`` one named like a token or
        secret (bot and app tokens, the signing secret, ``DASHBOARD_SECRET``, ``DASHBOARD_TOKEN``),
        of ``secrets``, and the password in the database URL.
        """
        names = set(env_names) | set(self.secrets)
        names |= {
            name for name in os.environ
            if name.endswith("_API_KEY")
            or (name.startswith(SECRET_ENV_PREFIXES) and name.endswith(SECRET_ENV_SUFFIXES))
        }
        values = [value for name in sorted(names) if (value := self.secret(name))]
        for url in (self.database_url, os.environ.get("DATABASE_URL", "")):
            password = _password(url)
            if password:
                values += {password, unquote(password)}
        return values


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` spelling Heroku-style hosts give and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def env_setting(name: str, default: T, parse: Callable[[str], T], environ: Mapping[str, str] | None = None) -> T:
    """Environment variable ``name`` (from ``environ``, default the process's) read with ``parse``;
    ``default`` when unset or empty.

    Every setting read from the environment goes through here. ``parse`` raises ValueError with
    the reason, which becomes a :class:`ConfigError` naming the variable and its bad value.
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not usable: {exc}") from None


def number(minimum: float = 0.0, too_low: str = "") -> Callable[[str], float]:
    """A parser of finite numbers of at least ``minimum`` (``too_low``: the message below it)."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("expected a number such as 1.5") from None
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        if value < minimum:
            raise ValueError(too_low or f"must be at least {minimum:g}")
        return value

    return parse


def integer(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    """A parser of whole numbers between ``minimum`` and ``maximum``."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("expected a whole number such as 10") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value

    return parse


def timezone_name(raw: str) -> str:
    """An IANA timezone name that this machine knows (checked, returned as given)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown timezone; use an IANA name such as UTC, Europe/Berlin or America/New_York") from None
    return raw
