"""The leaderboard's tests column and "People vs tests", on a fixture with known values."""

from __future__ import annotations

import csv
import io
import json
import struct
from datetime import timedelta

import pytest

from adapters.memory import MemorySurface
from bot.export import export
from bot.leaderboard import build_leaderboard, render_chart, render_leaderboard
from bot.ranking.agreement import competition_ranks, kendall_tau_b, ordinal
from bot.weekly import WeeklyPoster
from storage import leaderboard as lb_store
from storage import testresults
from storage.db import Store
from storage.models import utcnow
from storage.ratings import upsert_rating

MODELS = ["a", "b", "c", "d"]
# Answers passing all tests, of 10 tasks with tests: the test ranking is b, d, c, a.
PASSES = {"a": 2, "b": 10, "c": 6, "d": 8}


def _result(store: Store, answer_id: int, status: str) -> None:
    testresults.record_once(store, answer_id, {"kind": "tests", "status": status, "passed": 1, "total": 2})


def seed_fixture(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    """People prefer a > b > c > d on the 10 tasks with tests; on 20 tasks without, the reverse."""
    yesterday = utcnow() - timedelta(days=1)
    for i in range(10):
        _, answers = seed.task(MODELS, created=yesterday)
        for answer, stars in zip(answers, [5, 4, 3, 2], strict=True):
            upsert_rating(store, answer.id, f"r{i % 3}", "stars", stars, "x")
            _result(store, answer.id, "passed" if i < PASSES[answer.contestant_id] else "failed")
    for i in range(20):
        _, answers = seed.task(MODELS, created=yesterday)
        for answer, stars in zip(answers, [1, 2, 4, 5], strict=True):
            upsert_rating(store, answer.id, f"r{i % 3}", "stars", stars, "x")
    # a run that says nothing about the model (the task's tests do not parse) is not counted
    _, answers = seed.task(MODELS, created=yesterday)
    _result(store, answers[0].id, "tests_broken")


def test_kendall_tau_b_known_values() -> None:
    assert kendall_tau_b([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert kendall_tau_b([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert kendall_tau_b([1, 2, 2, 3], [1, 2, 3, 3]) == pytest.approx(0.8)  # ties: 4 / sqrt(5 * 5)
    assert kendall_tau_b([1, 1, 1], [1, 2, 3]) is None
    assert competition_ranks([0.5, 0.9, 0.5, 0.1]) == [2, 1, 2, 4]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd"]


def test_tests_column_counts_answers_passing_all_tests(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_fixture(store, seed)
    board = build_leaderboard(store, bootstrap=50)
    rows = {r.model: r for r in board.rows}
    assert {m: (rows[m].tests_passed, rows[m].tests_total) for m in MODELS} == {
        "a": (2, 10), "b": (10, 10), "c": (6, 10), "d": (8, 10)}
    assert rows["d"].tests_lb == pytest.approx(0.490, abs=0.001)  # DESIGN.md's worked check: 8/10
    assert rows["b"].tests_lb == pytest.approx(0.722, abs=0.001)

    data = json.loads(json.dumps(board.to_dict()))
    by_model = {r["model"]: r for r in data["rows"]}
    assert (by_model["c"]["tests_passed"], by_model["c"]["tests_total"]) == (6, 10)
    assert by_model["c"]["tests_lb"] == pytest.approx(0.313, abs=0.001)
    table = render_leaderboard(board).text
    assert "Tests (LB)" in table and "8/10 (0.49)" in table and "10/10 (0.72)" in table


def test_people_vs_tests_over_the_tasks_with_tests(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_fixture(store, seed)
    board = build_leaderboard(store, bootstrap=50)
    assert board.rows[0].model == "d", "overall, the 20 tasks without tests rank d first"

    pvt = board.people_vs_tests
    assert pvt is not None and (pvt.tasks, pvt.models) == (10, 4)
    # people a > b > c > d, tests b > d > c > a: 2 concordant pairs, 4 discordant, of 6
    assert pvt.tau == pytest.approx(-1 / 3)
    assert [(d.model, d.people_place, d.tests_place) for d in pvt.disagreements] == [("a", 1, 4), ("d", 4, 2)]
    text = render_leaderboard(board).text
    assert "People vs tests* (10 tasks with tests): Kendall tau -0.33 over 4 models" in text
    assert "A rated 1st by people, 4th on tests; D rated 4th by people, 2nd on tests" in text
    assert json.loads(json.dumps(board.to_dict()))["people_vs_tests"]["tau"] == pytest.approx(-1 / 3)


def test_people_vs_tests_needs_three_models_and_is_absent_without_tests(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(["a", "b"])
    for answer, stars in zip(answers, [5, 3], strict=True):
        upsert_rating(store, answer.id, "r1", "stars", stars, "x")
    assert build_leaderboard(store, bootstrap=20).people_vs_tests is None
    for answer in answers:
        _result(store, answer.id, "passed")
    board = build_leaderboard(store, bootstrap=20)
    assert board.people_vs_tests is not None and board.people_vs_tests.tau is None
    assert "too few models rated and tested on the same tasks yet (2 of the 3 needed" in render_leaderboard(board).text


def _png_width(png: bytes) -> int:
    return int(struct.unpack(">I", png[16:20])[0])


def test_the_chart_gains_a_tests_panel(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    _, answers = seed.task(MODELS)
    for answer, stars in zip(answers, [5, 4, 3, 2], strict=True):
        upsert_rating(store, answer.id, "r1", "stars", stars, "x")
    without = _png_width(render_chart(build_leaderboard(store, bootstrap=20)))
    seed_fixture(store, seed)
    with_tests = _png_width(render_chart(build_leaderboard(store, bootstrap=20)))
    assert with_tests > without


def test_export_carries_each_answers_test_result(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_fixture(store, seed)
    out = io.StringIO()
    export(store, "csv", None, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    statuses = [r["answer_tests_status"] for r in rows]
    assert statuses.count("passed") == sum(PASSES.values())  # one rating per tested answer
    assert "tests_broken" in statuses and "" in statuses
    out = io.StringIO()
    export(store, "jsonl", None, out)
    first = json.loads(out.getvalue().splitlines()[0])
    assert {a["tests_kind"] for a in first["answers"]} == {"tests"}


async def test_the_weekly_post_has_the_people_vs_tests_section(store: Store, seed) -> None:  # type: ignore[no-untyped-def]
    seed_fixture(store, seed)
    lb_store.set_subscription(store, "memory", "C9", True)
    surface = MemorySurface()
    [result] = await WeeklyPoster(store, {"memory": surface}, bootstrap=20).tick()
    assert result.action == "posted"
    assert "People vs tests" in surface.posts()[0].message.text
