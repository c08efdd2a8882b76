"""Roster parsing: the default roster, and errors that name the file, line and field."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_ROSTER, Settings
from bot.roster import RosterError, check_availability, load_roster, parse_roster

GOOD = """
[[models]]
id = "a"
base_url = "http://127.0.0.1:9/v1"
model = "up"

[[models]]
id = "b"
base_url = "http://127.0.0.1:9/v1"
model = "up"
temperature = 0.9
system_prompt = "terse"
"""


def test_default_roster_has_the_study_models_and_two_local_contestants():
    roster = load_roster(DEFAULT_ROSTER)
    names = " ".join(c.name for c in roster.contestants)
    for expected in ("GPT-4o", "Llama 3.2 3B", "Mixtral 8x7B", "GPT-3.5 Turbo", "Gemini"):
        assert expected in names
    local = [c for c in roster.contestants if c.is_local]
    assert len(local) == 2 and local[0].model == local[1].model
    assert (local[0].temperature, local[0].system_prompt) != (local[1].temperature, local[1].system_prompt)


def test_same_upstream_model_twice_with_different_settings():
    roster = parse_roster(GOOD)
    a, b = roster.contestants
    assert a.model == b.model and (a.temperature, b.temperature) == (0.2, 0.9)
    assert b.system_prompt == "terse"


def test_missing_keys_make_contestants_unavailable_with_the_reason(monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    rows = check_availability(load_roster(DEFAULT_ROSTER), Settings())
    remote = [r for r in rows if not r.contestant.is_local]
    assert remote and all(not r.available and r.reason == "set OPENROUTER_API_KEY" for r in remote)
    assert all(r.available for r in rows if r.contestant.is_local)
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-test")
    assert all(r.available for r in check_availability(load_roster(DEFAULT_ROSTER), Settings()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("temperature = 0.9", 'temperature = "hot"'), ":11: field 'temperature': expected int or float"),
        (GOOD.replace('model = "up"\n\n', "\n", 1), ":2: field 'model': missing (required)"),
        (GOOD.replace('id = "b"', 'id = "a"'), ":8: field 'id': duplicate contestant id 'a'"),
        (GOOD.replace('system_prompt = "terse"', 'sytem_prompt = "terse"'), ":12: field 'sytem_prompt': unknown field"),
        (GOOD.replace('"http://127.0.0.1:9/v1"', '"ftp://x"', 1), ":4: field 'base_url': must be an http(s) URL"),
        (GOOD.replace("temperature = 0.9", "temperature = 7"), ":11: field 'temperature': must be between 0 and 2"),
        (GOOD + "\n[[models]\n", "invalid TOML"),
        ("", "no [[models]] entries"),
    ],
)
def test_malformed_roster_names_file_line_and_field(tmp_path, text, expected):
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_context_tokens_defaults_to_8192_and_is_checked(tmp_path):
    roster = parse_roster(GOOD + 'context_tokens = 32000\n')
    assert [c.context_tokens for c in roster.contestants] == [8192, 32000]
    assert {c.context_tokens for c in load_roster(DEFAULT_ROSTER).contestants if c.is_local} == {1536}
    path = tmp_path / "models.toml"
    path.write_text(GOOD + "context_tokens = 100\n")
    with pytest.raises(RosterError, match=r"models.toml:\d+: field 'context_tokens': must be between 256"):
        load_roster(path)
