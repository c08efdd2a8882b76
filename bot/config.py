"""Settings from the environment (and a `.env` file). Secrets never appear in reprs or logs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import load_dotenv

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_ROSTER = PACKAGE_DIR / "models.toml"
SECRET_ENV_PREFIXES = ("SLACK_", "DISCORD_")
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
    leaderboard_tz: str = "UTC"
    blind_reveal_after_h: float = 24.0
    admins: frozenset[str] = frozenset()  # platform user ids from CODEGEN_ADMINS (bot/permissions.py)
    dashboard_url: str | None = None  # DASHBOARD_URL: linked from the weekly post when set
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env_file: str | None = ".env") -> Settings:
        """Read settings from the process environment (after loading `.env` if present)."""
        if env_file and Path(env_file).is_file():
            load_dotenv(env_file, override=False)
        home = data_dir()
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'codegen.db'}"
        return cls(
            database_url=normalise_database_url(url),
            roster_path=Path(os.environ.get("CODEGEN_MODELS") or DEFAULT_ROSTER),
            edit_interval=float(os.environ.get("CODEGEN_EDIT_INTERVAL", "1.0")),
            max_task_chars=int(os.environ.get("CODEGEN_MAX_TASK_CHARS", "4000")),
            leaderboard_tz=os.environ.get("LEADERBOARD_TZ", "UTC"),
            blind_reveal_after_h=float(os.environ.get("CODEGEN_BLIND_REVEAL_HOURS", "24")),
            admins=frozenset(a.strip() for a in os.environ.get("CODEGEN_ADMINS", "").split(",") if a.strip()),
            dashboard_url=os.environ.get("DASHBOARD_URL", "").strip() or None,
        )

    def secret(self, name: str) -> str | None:
        """A secret by env var name (explicit `secrets` first, then the environment)."""
        return self.secrets.get(name) or os.environ.get(name) or None

    def secret_values(self, env_names: Iterable[str] = ()) -> list[str]:
        """Every configured secret, to redact from answers, errors and logs.

        The values of ``env_names`` (the roster's ``api_key_env``s), of every ``*_API_KEY``
        variable and every ``SLACK_*`` or ``DISCORD_*`` one named like a token or secret (bot and
        app tokens, the signing secret), of ``secrets``, and the password in the database URL.
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
