"""Dashboard access: signed links that expire, the session cookie, the token, the signing key."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.wiring import configure_logging
from bot.config import Settings
from bot.dashboard_access import (
    KEY_FILE,
    LINK_PARAM,
    WEEKLY_LINK_HOURS,
    DashboardAccess,
    Denied,
    signing_key,
    weekly_link,
)
from bot.secrets import REDACTED


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def signed(url: str) -> str:
    return parse_qs(urlsplit(url).query)[LINK_PARAM][0]


def access(clock: Clock, key: str = "k" * 32, token: str | None = None) -> DashboardAccess:
    return DashboardAccess(key, base_url="https://bot.example/dashboard/", link_hours=24, token=token, clock=clock)


def test_a_link_points_at_the_page_and_works_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("itsdangerous.timed.time.time", clock)  # the signer's timestamp follows the clock too
    doors = access(clock)
    url = doors.link("slack:U0ANN", "/tasks/3", window="7d")
    assert url.startswith("https://bot.example/dashboard/tasks/3?window=7d&link=")
    grant = doors.check_link(signed(url))
    assert grant.who == "slack:U0ANN" and grant.until == clock.now + 24 * 3600
    clock.now += 24 * 3600 - 1
    assert doors.check_link(signed(url)).who == "slack:U0ANN"
    clock.now += 1
    with pytest.raises(Denied) as refused:
        doors.check_link(signed(url))
    assert (refused.value.status, refused.value.title) == (403, "This link has expired")
    assert "/codegen dashboard" in refused.value.detail


def test_an_altered_link_or_one_signed_with_another_key_is_refused() -> None:
    clock = Clock()
    value = signed(access(clock).link("slack:U0ANN"))
    for bad in (value[:-2] + ("AA" if not value.endswith("AA") else "BB"), value[:10], "",
                signed(access(clock, key="another key").link("slack:U0ANN"))):
        with pytest.raises(Denied) as refused:
            access(clock).check_link(bad)
        assert (refused.value.status, refused.value.title) == (403, "This link is not valid")


def test_the_session_cookie_ends_with_the_link_and_cannot_be_forged(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("itsdangerous.timed.time.time", clock)
    doors = access(clock)
    grant = doors.check_link(signed(doors.link("discord:42", hours=2)))
    cookie = doors.session(grant)
    assert doors.check_session(cookie) == grant
    with pytest.raises(Denied):
        access(clock, key="another key").check_session(cookie)
    clock.now += 2 * 3600
    with pytest.raises(Denied, match="expired"):
        doors.check_session(cookie)


def test_the_token_opens_it_and_a_changed_token_ends_its_sessions() -> None:
    clock = Clock()
    doors = access(clock, token="t0ken-secret")
    with pytest.raises(Denied, match="Wrong token"):
        doors.check_token("t0ken-secreT")
    with pytest.raises(Denied, match="Wrong token"):
        access(clock).check_token("")  # no token configured: nothing opens it
    cookie = doors.session(doors.check_token("t0ken-secret"))
    assert doors.check_session(cookie).who == "token"
    with pytest.raises(Denied, match="Wrong token"):
        access(clock, token="a new token").check_session(cookie)


def test_the_key_is_the_first_secret_set_else_a_random_one_kept_in_the_data_dir(tmp_path: Path) -> None:
    assert signing_key(Settings(secrets={"DASHBOARD_SECRET": "d", "SLACK_SIGNING_SECRET": "s"}), tmp_path) == "d"
    assert signing_key(Settings(secrets={"SLACK_SIGNING_SECRET": "s", "DISCORD_TOKEN": "t"}), tmp_path) == "s"
    assert signing_key(Settings(secrets={"DISCORD_TOKEN": "t"}), tmp_path) == "t"
    first = signing_key(Settings(), tmp_path)
    assert len(first) >= 32 and (tmp_path / KEY_FILE).read_text() == first
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert signing_key(Settings(), tmp_path) == first  # the next process finds the same key


def test_the_weekly_post_links_only_with_a_public_address_and_for_eight_days() -> None:
    assert weekly_link(Settings(secrets={"DASHBOARD_SECRET": "d"})) is None
    link = weekly_link(Settings(dashboard_url="https://bot.example/dashboard", secrets={"DASHBOARD_SECRET": "d"}))
    assert link is not None
    url = link("7d")
    assert url.startswith("https://bot.example/dashboard/?window=7d&link=")
    assert link.access.check_link(signed(url)).until - link.access.now() == pytest.approx(WEEKLY_LINK_HOURS * 3600, abs=5)


def test_dashboard_secret_and_token_are_redacted_from_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_SECRET", "dash-secret-0123456789")
    monkeypatch.setenv("DASHBOARD_TOKEN", "dash-token-9876543210")
    settings = Settings()
    assert {"dash-secret-0123456789", "dash-token-9876543210"} <= set(settings.secret_values())
    buffer = io.StringIO()
    configure_logging(settings=settings)
    handler = logging.StreamHandler(buffer)
    logging.getLogger().addHandler(handler)
    try:
        logging.getLogger("test").warning("token dash-token-9876543210 secret dash-secret-0123456789")
    finally:
        logging.getLogger().removeHandler(handler)
    assert buffer.getvalue().strip() == f"token {REDACTED} secret {REDACTED}"
