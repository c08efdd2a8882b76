"""Who may open the dashboard: a signed link that expires, the cookie it leaves, or DASHBOARD_TOKEN.

The dashboard is never open by default. ``/codegen dashboard`` (Slack, Discord) replies privately
with a link signed by :class:`DashboardAccess` (itsdangerous, timestamped) that works for
``DASHBOARD_LINK_HOURS`` (default 24); opening it sets a signed session cookie that ends when the
link would have. Operators and scripts may instead set ``DASHBOARD_TOKEN`` and send it as
``Authorization: Bearer …`` or ``?token=…``.

The signing key is ``DASHBOARD_SECRET``, else ``SLACK_SIGNING_SECRET``, else ``DISCORD_TOKEN``,
else a random key kept in the data directory (``dashboard.key``): the process that issues links
and the one serving the dashboard must find the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.config import Settings, data_dir

LINK_PARAM = "link"
TOKEN_PARAM = "token"
COOKIE = "codegen_dashboard"
KEY_FILE = "dashboard.key"
KEY_SOURCES = ("DASHBOARD_SECRET", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")
WEEKLY_LINK_HOURS = 8 * 24.0  # the weekly post's link works until a day after the next post
ASK_FOR_A_LINK = "Type `/codegen dashboard` in Slack or Discord for a new link."


@dataclass(frozen=True)
class Grant:
    """A valid credential: who it was issued to and when it stops working (epoch seconds)."""

    who: str
    until: float


class Denied(Exception):
    """No valid credential. ``status`` is 401 (none given) or 403 (given, but not valid or expired)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status, self.title, self.detail = status, title, detail


@dataclass(frozen=True)
class Refusal:
    """One kind of refusal; calling it makes a fresh :class:`Denied` to raise (a shared exception
    instance would keep every raise's frames, and the values they held, in its traceback)."""

    status: int
    title: str
    detail: str

    def __call__(self) -> Denied:
        return Denied(self.status, self.title, self.detail)


MISSING = Refusal(401, "This dashboard needs a link",
                  f"It is read-only and open only through a signed link or the operator's token. {ASK_FOR_A_LINK}")
BAD_LINK = Refusal(403, "This link is not valid",
                   f"It was altered, cut short, or signed with another key. {ASK_FOR_A_LINK}")
EXPIRED = Refusal(403, "This link has expired", f"Links work for a limited time. {ASK_FOR_A_LINK}")
BAD_TOKEN = Refusal(403, "Wrong token", "The token given is not this dashboard's DASHBOARD_TOKEN.")


class DashboardAccess:
    """Signs links and session cookies, and checks links, cookies and the token."""

    def __init__(self, key: str | bytes, *, base_url: str, link_hours: float = 24.0, token: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._links = URLSafeTimedSerializer(key, salt="codegen-dashboard-link")
        self._sessions = URLSafeTimedSerializer(key, salt="codegen-dashboard-session")
        self.base_url = base_url.rstrip("/")
        self.link_hours = link_hours
        self.token = token or None
        self.now = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardAccess:
        """The key, address, link lifetime and token the settings (and environment) give."""
        return cls(signing_key(settings), base_url=base_url(settings), link_hours=settings.dashboard_link_hours,
                   token=settings.secret("DASHBOARD_TOKEN"))

    # --- issuing -------------------------------------------------------------------------------

    def link(self, who: str, path: str = "/", *, hours: float | None = None, **query: str) -> str:
        """A full URL to ``path`` on the dashboard that works for ``hours`` (default: the setting)."""
        signed = self._links.dumps({"w": who, "h": hours if hours is not None else self.link_hours})
        return f"{self.base_url}{path}?{urlencode({**query, LINK_PARAM: signed})}"

    def session(self, grant: Grant) -> str:
        """The cookie value that carries ``grant`` (signed; it ends when the grant does)."""
        return str(self._sessions.dumps({"w": grant.who, "u": grant.until, "t": self._fingerprint()}))

    # --- checking ------------------------------------------------------------------------------

    def check_link(self, value: str) -> Grant:
        """The grant of a link's ``link`` parameter; :class:`Denied` when altered or expired."""
        try:
            payload, signed_at = self._links.loads(value, return_timestamp=True)
            who, hours = str(payload["w"]), float(payload["h"])
        except (BadSignature, KeyError, TypeError, ValueError):
            raise BAD_LINK() from None
        until = signed_at.timestamp() + hours * 3600
        if self.now() >= until:
            raise EXPIRED()
        return Grant(who, until)

    def check_session(self, value: str) -> Grant:
        """The grant a session cookie carries; :class:`Denied` when altered, expired or from an old token."""
        try:
            payload = self._sessions.loads(value)
            grant = Grant(str(payload["w"]), float(payload["u"]))
            fingerprint = payload["t"]
        except (BadSignature, KeyError, TypeError, ValueError):
            raise BAD_LINK() from None
        if self.now() >= grant.until:
            raise EXPIRED()
        if grant.who == "token" and fingerprint != self._fingerprint():
            raise BAD_TOKEN()  # the token was changed or removed since
        return grant

    def check_token(self, value: str) -> Grant:
        """A grant for the operator's token (a session of ``link_hours``); :class:`Denied` otherwise."""
        if self.token is None or not hmac.compare_digest(value.encode(), self.token.encode()):
            raise BAD_TOKEN()
        return Grant("token", self.now() + self.link_hours * 3600)

    def _fingerprint(self) -> str | None:
        return hashlib.sha256(self.token.encode()).hexdigest()[:16] if self.token else None


def base_url(settings: Settings) -> str:
    """``DASHBOARD_URL`` (its public address), else ``http://localhost:<DASHBOARD_PORT>``."""
    return settings.dashboard_url or f"http://localhost:{settings.dashboard_port}"


def signing_key(settings: Settings, directory: Path | None = None) -> str:
    """The first of ``KEY_SOURCES`` that is set, else the data directory's random key (made once)."""
    for name in KEY_SOURCES:
        value = settings.secret(name)
        if value:
            return value
    path = (directory or data_dir()) / KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key


def weekly_link(settings: Settings) -> WeeklyLink | None:
    """The weekly post's link builder: a signed link to the window's leaderboard (valid
    ``WEEKLY_LINK_HOURS``) when ``DASHBOARD_URL`` says where people reach the dashboard, else None."""
    if not settings.dashboard_url:
        return None
    return WeeklyLink(DashboardAccess.from_settings(settings))


@dataclass(frozen=True)
class WeeklyLink:
    """window ('28d') → a signed URL to that window's leaderboard (a ``bot.weekly.DashboardLink``)."""

    access: DashboardAccess

    def __call__(self, window: str) -> str:
        return self.access.link("weekly", "/", hours=WEEKLY_LINK_HOURS, window=window)
