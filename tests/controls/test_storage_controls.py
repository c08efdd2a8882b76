"""storage/controls.py on SQLite and PostgreSQL: audited changes, spend across periods, usage figures."""

from __future__ import annotations

from datetime import timedelta

from storage.controls import change_settings, channel_spend, settings_history, usage
from storage.db import Store
from storage.leaderboard import channel_settings
from tests.controls.fixture import NOW, usage_fixture


def test_each_change_is_recorded_old_to_new_and_a_repeat_records_nothing(store: Store) -> None:
    first = change_settings(store, "slack", "C1", "U1", "ada", {"models": "a,b", "budget_daily_usd": 5.0})
    assert [(c.key, c.old, c.new) for c in first] == [("models", None, "a,b"), ("budget_daily_usd", None, "5")]
    assert change_settings(store, "slack", "C1", "U2", "bob", {"models": "a,b"}) == []
    change_settings(store, "slack", "C1", "U2", "bob", {"models": None, "blind": True})
    history = settings_history(store, "slack", "C1")
    assert [(c.key, c.old, c.new, c.user_name) for c in history] == [  # newest first
        ("blind", "off", "on", "bob"), ("models", "a,b", None, "bob"),
        ("budget_daily_usd", None, "5", "ada"), ("models", None, "a,b", "ada")]
    row = channel_settings(store, "slack", "C1")
    assert row is not None and (row.models, row.blind, row.budget_daily_usd) == (None, True, 5.0)
    assert settings_history(store, "slack", "C2") == [] and settings_history(store, "discord", "C1") == []


def test_spend_counts_recorded_costs_and_unfinished_estimates_per_channel_and_period(store: Store) -> None:
    usage_fixture(store)
    today = NOW.replace(hour=0)
    assert round(channel_spend(store, "slack", "C1", today), 6) == 0.01
    assert round(channel_spend(store, "slack", "C1", today - timedelta(days=7)), 6) == 0.03
    assert round(channel_spend(store, "slack", "C2", today), 6) == 0.005  # still streaming: its estimate
    assert channel_spend(store, "discord", "C1", today - timedelta(days=7)) == 0.0


def test_usage_by_model_and_by_channel(store: Store) -> None:
    usage_fixture(store)
    models, channels = usage(store, NOW - timedelta(days=7))
    assert [(m.key, m.name, m.tasks, m.answers, m.prompt_tokens, m.completion_tokens, m.cost_usd) for m in models] == [
        ("alpha", "ALPHA", 3, 3, 150, 300, 0.035), ("beta", "BETA", 1, 1, 100, 300, 0.0)]
    assert [(c.key, c.name, c.tasks, c.answers, c.cost_usd) for c in channels] == [
        ("slack:C1", "C1", 2, 3, 0.03), ("slack:C2", "C2", 1, 1, 0.005)]
    assert usage(store, NOW - timedelta(days=7), platform="discord") == ([], [])
