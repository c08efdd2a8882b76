"""The weekly post for team leads: each category's leader, the best value, the movers, the dashboard link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import MemorySurface
from bot.weekly import WeeklyPoster, static_dashboard_link
from storage.db import Store
from storage.leaderboard import set_subscription
from storage.ratings import upsert_rating
from storage.tasks import update_answer, update_task
from tests.ranking.conftest import Seeder
from tests.ranking.test_weekly import SOON

LATER = SOON + timedelta(days=7)  # a Monday at least 8 days away: ratings given now count as last week's
COSTS = {"a": 0.01, "b": 0.0005, "local": None}


def seed_two_weeks(store: Store, seed: Seeder) -> None:
    """Last week: web/backend Python tasks where b wins. This week: more data/SQL tasks where a wins."""
    for created, kind, language, winner, count in ((LATER - timedelta(days=10), "web", "python", "b", 6),
                                                   (LATER - timedelta(days=2), "data", "sql", "a", 14)):
        for i in range(count):
            task, answers = seed.task(list(COSTS), created=created)
            update_task(store, task.id, kind=kind, language=language)
            for answer in answers:
                update_answer(store, answer.id, cost_usd=COSTS[answer.contestant_id])
                value = 5 if answer.contestant_id == winner else 3 if answer.contestant_id == "local" else 1
                upsert_rating(store, answer.id, f"u{i % 3}", "stars", value, "x")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the SQL is covered on both backends elsewhere
async def test_weekly_post_has_category_leaders_best_value_movers_and_no_link_by_default(
        store: Store, seed: Seeder) -> None:
    seed_two_weeks(store, seed)
    set_subscription(store, "slack", "C1", True)
    slack = MemorySurface(platform="slack")
    [result] = await WeeklyPoster(store, {"slack": slack}, "UTC", bootstrap=50).tick(LATER)
    assert result.action == "posted"
    message = slack.posts()[0].message
    assert message is not None
    text = message.text
    assert "Movers since last week: ▲ A 3→1, ▼ B 1→3" in text  # last week: b, local, a
    assert "**Leaders by kind of work** (leader, cost per answer; best value):" in text
    assert "• Web/backend: B* ($0.00050); also the best value" in text  # 6 ballots: provisional
    assert "• Data & ML: A ($0.010); also the best value" in text  # b lost every data task: not within reach
    assert "**Leaders by language**" in text and "• Python: B* ($0.00050)" in text and "• SQL: A ($0.010)" in text
    assert text.index("Web/backend:") < text.index("Data & ML:") < text.index("Python:")  # kinds, then languages
    assert "Best value: B at $0.00050 per answer, the cheapest model whose interval overlaps the leader's (A, $0.010)." in text
    assert "No price (cost unknown, not free): LOCAL." in text
    assert "Dashboard" not in text  # no DASHBOARD_URL: no link
    assert [a.filename for a in message.attachments] == ["leaderboard.png", "value.png"]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_weekly_post_links_the_dashboard_when_configured(store: Store, seed: Seeder) -> None:
    seed_two_weeks(store, seed)
    set_subscription(store, "slack", "C1", True)
    slack = MemorySurface(platform="slack")
    asked: list[str] = []

    def link(window: str) -> str:
        asked.append(window)
        return f"https://dash.example/leaderboard?window={window}"

    await WeeklyPoster(store, {"slack": slack}, "UTC", bootstrap=50, window="28d", dashboard_link=link).tick(LATER)
    text = slack.posts()[0].message.text  # type: ignore[union-attr]
    assert text.splitlines()[-1] == "📈 Dashboard (filters, charts, every task): https://dash.example/leaderboard?window=28d"
    assert asked == ["28d"]
    assert static_dashboard_link("https://dash.example")("7d") == "https://dash.example"
    assert static_dashboard_link(None)("7d") is None
