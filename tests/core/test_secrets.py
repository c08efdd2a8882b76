"""Configured secrets never reach a chat message, the database, an export or the log."""

from __future__ import annotations

import io
import logging

import pytest

from adapters.memory import MemorySurface
from app.wiring import configure_logging, provider_client
from bot.config import Settings
from bot.events import TaskRequested, User
from bot.export import export
from bot.roster import Contestant, Roster
from bot.secrets import REDACTED, Redactor, redact_logs
from storage import tasks as db
from tests.conftest import contestant

KEY = "sk-or-v1-arena0123456789SECRET"
OTHER = "xoxb-9999-8888-ANOTHERSECRET"


def pieces_of(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def stream(redactor: Redactor, pieces: list[str]) -> list[str]:
    s = redactor.stream()
    return [*(s.feed(p) for p in pieces), s.flush()]


def test_a_secret_split_anywhere_across_pieces_is_caught() -> None:
    redactor = Redactor([KEY, OTHER])
    text = f"key {KEY} and {OTHER}{KEY}, sk-or-v1 is not one; sk"
    expected = f"key {REDACTED} and {REDACTED}{REDACTED}, sk-or-v1 is not one; sk"
    assert redactor.redact(text) == expected
    for first in range(1, len(text)):
        for second in (first + 1, first + 7, first + 19):
            out = stream(redactor, pieces_of(text, sorted({first, min(second, len(text))})))
            assert "".join(out) == expected, (first, second)
            assert not any(KEY[:12] in piece or OTHER[:12] in piece for piece in out)


def test_text_is_held_back_only_while_it_could_be_a_secret() -> None:
    s = Redactor([KEY]).stream()
    assert s.feed("plain words ") == "plain words "  # nothing like the key: passed on at once
    assert s.feed("then sk-or") == "then "  # could be the key's start: held
    assert s.feed("-v2 done") == "sk-or-v2 done"  # it was not
    assert s.feed(KEY[:20]) == ""
    assert s.flush() == REDACTED  # the stream ended inside the key: its start is not shown either
    s = Redactor([KEY]).stream()
    assert s.feed("ends with sk") == "ends with "
    assert s.flush() == "sk"  # too short a start to be worth hiding


def test_short_values_are_placeholders_not_secrets() -> None:
    redactor = Redactor(["ollama", "", None, "a-real-secret-value"])
    assert redactor.redact("ollama says a-real-secret-value") == f"ollama says {REDACTED}"
    assert not Redactor(["ollama"])


def test_errors_also_lose_key_shaped_strings() -> None:
    redactor = Redactor(["hunter2hunter2"])
    out = redactor.error("bad key sk-proj-abcdefghijkl, Bearer xyz123, url ?key=AIzaSecret&x=1, pw hunter2hunter2")
    for secret in ("sk-proj-abcdefghijkl", "xyz123", "AIzaSecret", "hunter2hunter2"):
        assert secret not in out
    assert out.startswith(f"bad key {REDACTED}")


def test_settings_list_every_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-slack-bot-token-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret-abcdef")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-app-level-token-2")
    monkeypatch.setenv("DISCORD_TOKEN", "discord.token.value-3")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api/")  # an address, not a secret
    monkeypatch.setenv("MY_MODEL_CREDENTIAL", "model-key-named-by-the-roster")
    settings = Settings(database_url="postgresql+psycopg://bot:p%40ss-word-99@db.example/arena",
                        secrets={"OPENROUTER_API_KEY": KEY})
    values = settings.secret_values(["MY_MODEL_CREDENTIAL"])
    for secret in ("xoxb-slack-bot-token-1", "signing-secret-abcdef", "xapp-app-level-token-2",
                   "discord.token.value-3", "model-key-named-by-the-roster", KEY, "p@ss-word-99"):
        assert secret in values
    assert "http://127.0.0.1:9999/api/" not in values


def test_every_log_record_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging(settings=Settings(secrets={"LOG_TEST_TOKEN": "log-secret-0123456789"}))
    redact_logs(["added-later-secret-xyz"])
    log = logging.getLogger("tests.anything")
    with caplog.at_level(logging.INFO):
        log.warning("sent %s to %s", "log-secret-0123456789", "someone")
        log.info("and %r", {"token": "added-later-secret-xyz"})
        try:
            raise RuntimeError("request failed with log-secret-0123456789")
        except RuntimeError:
            log.exception("boom")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logging.getLogger().addHandler(handler)  # a handler added after configure_logging
    try:
        log.error("late log-secret-0123456789")
    finally:
        logging.getLogger().removeHandler(handler)
    assert [r.getMessage() for r in caplog.records[:2]] == [
        f"sent {REDACTED} to someone", f"and {{'token': '{REDACTED}'}}"
    ]
    assert "log-secret" not in caplog.text and "added-later" not in caplog.text
    assert "RuntimeError: request failed with [redacted]" in caplog.text
    assert out.getvalue() == f"late {REDACTED}\n"


async def test_key_echoed_by_a_provider_reaches_no_message_row_or_export(
    sqlite_store, fake_openai, make_arena, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: a provider quotes the request's Authorization header in its answer."""
    caplog.set_level(logging.DEBUG)
    fake_openai.script("echo", echo_auth=True, chunk_delay=0.01)
    arena = make_arena(sqlite_store, [contestant(fake_openai, "echo", api_key_env="ECHO_TEST_KEY")],
                       secrets={"ECHO_TEST_KEY": KEY})
    surface = MemorySurface()
    event = TaskRequested(platform="memory", user=User("U1"), channel="C1", text="hi")
    outcome = await arena.ask(event, surface)

    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {KEY}"
    shown = [c.message for c in surface.calls if c.message is not None]
    assert any(f"Bearer {REDACTED}" in m.text for m in shown)
    assert not any(KEY[:10] in f"{m.title} {m.text} {m.footer}" for m in shown)
    stored = db.task_answers(sqlite_store, outcome.task.id)
    assert stored and all(KEY[:10] not in f"{a.text} {a.error}" for a in stored)
    out = io.StringIO()
    export(sqlite_store, "jsonl", None, out)
    assert "Bearer [redacted]" in out.getvalue() and KEY[:10] not in out.getvalue()
    assert all(KEY[:10] not in r.getMessage() for r in caplog.records)


def test_the_wired_client_redacts_the_rosters_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRED_MODEL_KEY", "wired-model-key-0123")
    roster = Roster([Contestant(id="a", name="A", base_url="http://127.0.0.1:1/v1", model="a",
                                api_key_env="WIRED_MODEL_KEY")])
    client = provider_client(Settings(), roster)
    assert client.redactor.redact("x wired-model-key-0123") == f"x {REDACTED}"

