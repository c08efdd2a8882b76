"""The leaderboard: standings from the window's ratings, as a platform-neutral message and a chart.

``build_leaderboard`` is synchronous (it reads the database and runs numpy); async callers use
``await asyncio.to_thread(build_leaderboard, store, ...)``.
"""

from __future__ import annotations

import io
import math
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot import categories
from bot.categories import CategoryFilter, parse_category
from bot.messages import Attachment, Message, Tone
from bot.ranking import (
    Comparisons,
    RatingRows,
    Standing,
    compare,
    fit_bt,
    rank,
    rank_ub,
    wilson_interval,
    wilson_lower_bound,
)
from bot.ranking.agreement import competition_ranks, kendall_tau_b, ordinal
from bot.ranking.length import LengthBias, length_bias
from bot.ranking.stats import bayesian_average
from bot.testing.outcome import NOT_COUNTED, Status
from bot.value import best_value, pareto_frontier, render_value_chart, render_value_table, value_summary
from storage import leaderboard as lb_store
from storage import ratings as rating_store
from storage import testresults as test_store
from storage.db import Store

MIN_BALLOTS = 10
MIN_RATERS = 2
MIN_AGREEMENT_MODELS = 3  # a rank correlation over fewer models says nothing
SHOWN_DISAGREEMENTS = 3
STAR_PRIOR_VOTES = 5.0
TABLE_WIDTH = 80  # the text table fits an 80-column terminal
STARS_HELP = (f"Stars: the 1–5 average shrunk towards all models' mean as if each model had "
              f"{STAR_PRIOR_VOTES:g} more average votes, so a few 5s do not top the table.")
THUMBS_HELP = ("Thumbs LB: the lower end of the 95% Wilson interval of the 👍 share, a cautious share "
               "that few votes cannot inflate.")
_WINDOW = re.compile(r"^(\d{1,4})([dw])$")


def parse_window(window: str) -> timedelta | None:
    """'28d', '7d', '4w' → a timedelta; 'all' → None. Raises ValueError with a usable message."""
    text = window.strip().lower()
    if text == "all":
        return None
    match = _WINDOW.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"unknown window {window!r}: use a number of days or weeks like 28d, 7d, 4w, or 'all'")
    n = int(match.group(1))
    return timedelta(days=n) if match.group(2) == "d" else timedelta(weeks=n)


def split_leaderboard_words(words: list[str]) -> tuple[str, str | None]:
    """The words after `leaderboard` in a text command (`data 7d`, `7d`, `python`) → (window, category).

    A word shaped like a window (7d, 4w, all) is the window (default 28d); the rest, joined, is
    the category as typed (None when there is none), checked later by the core.
    """
    windows: list[str] = []
    others: list[str] = []
    for word in words:
        (windows if _is_window(word) else others).append(word)
    return (windows[0] if windows else "28d"), " ".join(others + windows[1:]) or None


def _is_window(word: str) -> bool:
    try:
        parse_window(word)
    except ValueError:
        return False
    return True


@dataclass
class Row:
    """One model's line on the leaderboard. ``rank`` is None while the model is provisional:
    with too few ballots or raters its interval means nothing, so it is not ranked."""

    rank: int | None
    model: str
    name: str
    score: float
    plus: float
    minus: float
    ballots: int
    raters: int
    provisional: bool
    thumbs_up: int = 0
    thumbs_total: int = 0
    thumbs_lb: float | None = None
    stars_avg: float | None = None
    stars_count: int = 0
    runs_ok: int = 0
    runs: int = 0
    median_latency_ms: float | None = None
    median_cost_usd: float | None = None
    move: int | None = None  # places gained since last week (negative: lost); None when new
    previous_place: int | None = None
    tests_passed: int = 0  # answers that passed all their task's tests
    tests_total: int = 0  # answers run against tests (runs that say nothing about the model left out)
    tests_lb: float | None = None  # Wilson lower bound of tests_passed / tests_total
    lower: float = 0.0  # the 95% interval's ends (score - minus, score + plus)
    upper: float = 0.0
    answers: int = 0  # finished answers in the window
    priced_answers: int = 0  # of which had a cost
    cost_per_answer_usd: float | None = None  # mean over priced answers; None: unpriced
    priced: bool = False
    median_ttft_ms: float | None = None
    on_frontier: bool = False  # on the score/cost Pareto frontier (bot/value.py)
    controlled_score: float | None = None  # with answer length as a covariate, when length bias is material
    controlled_place: int | None = None
    place_change: int | None = None  # places gained with length controlled (negative: lost)


@dataclass
class PositionBias:
    """How the answer shown first fared in comparisons against the others."""

    comparisons: int
    first_win_rate: float
    low: float
    high: float


@dataclass
class Disagreement:
    """A model placed differently by people and by tests."""

    model: str
    name: str
    people_place: int
    tests_place: int


@dataclass
class PeopleVsTests:
    """How the preference ranking and the test ranking agree, over the tasks that have tests."""

    tasks: int  # tasks with tests whose ratings count
    models: int  # models both rated and tested on them
    tau: float | None  # Kendall tau-b; None with fewer than MIN_AGREEMENT_MODELS models
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass
class Leaderboard:
    """Everything the report shows."""

    window: str
    since: datetime | None
    now: datetime
    rows: list[Row] = field(default_factory=list)
    ballots: int = 0
    tasks: int = 0
    bootstrap: int = 0
    week_tasks: int = 0
    week_ratings: int = 0
    position_bias: PositionBias | None = None
    people_vs_tests: PeopleVsTests | None = None
    category: str | None = None  # a kind of work or language slug (bot/categories.py); None: all tasks
    category_label: str | None = None
    frontier: list[str] = field(default_factory=list)  # model ids on the Pareto frontier, cheapest first
    best_value: str | None = None  # model id of the best-value pick (bot/value.py)
    length_bias: LengthBias | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``codegen-bot leaderboard --json``)."""
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["now"] = self.now.isoformat()
        return data


def window_rows(
    store: Store, since: datetime | None, until: datetime, category: CategoryFilter | None = None
) -> tuple[list[rating_store.RankingRow], RatingRows]:
    """The ratings of tasks created in [since, until) (of one category), as rows and as the
    column arrays :func:`bot.ranking.compare` takes."""
    rows = rating_store.ranking_rows(store, since, until, **_category_args(category))
    return rows, RatingRows(
        task=[r.task_id for r in rows],
        rater=[r.rater_id for r in rows],
        scale=[r.scale for r in rows],
        model=[r.contestant_id for r in rows],
        value=[r.value for r in rows],
        first=[r.first for r in rows],
        length=[r.length for r in rows],
    )


def _category_args(category: CategoryFilter | None) -> dict[str, Any]:
    return {"kind": category.kind, "language": category.language, "followups": category.followups} if category else {}


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def build_leaderboard(
    store: Store,
    *,
    window: str = "28d",
    now: datetime | None = None,
    bootstrap: int = 1000,
    category: str | CategoryFilter | None = None,
) -> Leaderboard:
    """Rank the models on ratings of tasks created within ``window`` before ``now``.

    ``category`` ('data', 'python', … see bot/categories.py) keeps only tasks of that kind of
    work or language; the provisional rule is the same within it. Beside each model's score and
    interval (``lower``/``upper``) the board carries cost per answer (``priced`` False: no price),
    median latency and time to first token, the Pareto frontier, the best-value pick, the
    position- and length-bias figures and, when length bias is material, length-controlled
    scores with each model's place change. Raises ValueError for a bad window or category.
    """
    span = parse_window(window)
    chosen = parse_category(category) if isinstance(category, str) else category
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # naive means UTC, as stored
    since = now - span if span else None
    by_category = _category_args(chosen)
    raw, rows = window_rows(store, since, now, chosen)
    comparisons = compare(rows)
    standings = rank(comparisons, bootstrap=bootstrap)
    names = {r.contestant_id: r.contestant_name for r in raw}

    thumbs: dict[str, list[int]] = {}
    stars: dict[str, list[int]] = {}
    for r in raw:
        (thumbs if r.scale == "thumbs" else stars).setdefault(r.contestant_id, []).append(r.value)
    all_stars = [v for vs in stars.values() for v in vs]
    star_mean = float(np.mean(all_stars)) if all_stars else 3.0
    latency: dict[str, list[float]] = {}
    cost: dict[str, list[float]] = {}
    ttft: dict[str, list[float]] = {}
    done: dict[str, int] = {}
    for a in lb_store.answer_stats(store, since, now, **by_category):
        if a.status != "done":
            continue
        done[a.contestant_id] = done.get(a.contestant_id, 0) + 1
        if a.latency_ms is not None:
            latency.setdefault(a.contestant_id, []).append(a.latency_ms)
        if a.cost_usd is not None:
            cost.setdefault(a.contestant_id, []).append(a.cost_usd)
        if a.ttft_ms is not None:
            ttft.setdefault(a.contestant_id, []).append(a.ttft_ms)
    runs = lb_store.run_stats(store, since, now, **by_category)
    tested = [r for r in test_store.result_rows(store, since, now, **by_category) if r.status not in NOT_COUNTED]
    passes: dict[str, list[bool]] = {}
    for t in tested:
        passes.setdefault(t.contestant_id, []).append(t.status == Status.PASSED)
    previous = _previous_places(store, since, now, chosen)

    board = Leaderboard(window=window, since=since, now=now, bootstrap=bootstrap,
                        category=chosen.slug if chosen else None, category_label=chosen.label if chosen else None)
    for place, (s, rank_ub_) in enumerate(_ranked(standings), start=1):
        up = thumbs.get(s.model, [])
        st = stars.get(s.model, [])
        ok, total = runs.get(s.model, (0, 0))
        prev = previous.get(s.model)
        board.rows.append(
            Row(
                rank=rank_ub_, model=s.model, name=names.get(s.model, s.model), score=s.score,
                plus=s.upper - s.score, minus=s.score - s.lower, ballots=s.ballots, raters=s.raters,
                provisional=rank_ub_ is None,
                thumbs_up=sum(up), thumbs_total=len(up), thumbs_lb=wilson_lower_bound(sum(up), len(up)),
                stars_avg=bayesian_average(st, star_mean, STAR_PRIOR_VOTES), stars_count=len(st),
                runs_ok=ok, runs=total,
                median_latency_ms=_median(latency.get(s.model, [])),
                median_cost_usd=_median(cost.get(s.model, [])),
                move=None if prev is None else prev - place, previous_place=prev,
                tests_passed=sum(passes.get(s.model, [])), tests_total=len(passes.get(s.model, [])),
                tests_lb=wilson_lower_bound(sum(passes.get(s.model, [])), len(passes.get(s.model, []))),
                lower=s.lower, upper=s.upper, answers=done.get(s.model, 0),
                priced_answers=len(cost.get(s.model, [])),
                # fsum: the same figure whatever order the database returns the answers in
                cost_per_answer_usd=math.fsum(cost[s.model]) / len(cost[s.model]) if cost.get(s.model) else None,
                priced=bool(cost.get(s.model)), median_ttft_ms=_median(ttft.get(s.model, [])),
            )
        )
    board.tasks = len(comparisons.tasks)
    board.ballots = comparisons.n_ballots
    week_start = now - timedelta(days=7)
    board.week_tasks = lb_store.count_tasks(store, week_start, now, **by_category)
    board.week_ratings = rating_store.count_ratings(store, week_start, now, **by_category)
    if comparisons.first_pairs:
        rate = comparisons.first_score / comparisons.first_weight
        low, high = wilson_interval(rate * comparisons.first_pairs, comparisons.first_pairs) or (0.0, 1.0)
        board.position_bias = PositionBias(comparisons.first_pairs, rate, low, high)
    board.people_vs_tests = people_vs_tests(raw, tested, names)
    board.frontier = pareto_frontier(board.rows)
    for row in board.rows:
        row.on_frontier = row.model in board.frontier
    board.best_value = best_value(board.rows)
    _length_check(board, comparisons)
    return board


def people_vs_tests(
    ratings: list[rating_store.RankingRow], tested: list[test_store.ResultRow], names: dict[str, str]
) -> PeopleVsTests | None:
    """Preference ranking (Bradley–Terry on ratings) against test ranking (share of answers passing
    all tests) over the tasks that have test results; None when no task has any."""
    tasks = {t.task_id for t in tested}
    if not tasks:
        return None
    names = dict(names)
    kept = [r for r in ratings if r.task_id in tasks]
    comparisons = compare(RatingRows(
        task=[r.task_id for r in kept], rater=[r.rater_id for r in kept], scale=[r.scale for r in kept],
        model=[r.contestant_id for r in kept], value=[r.value for r in kept],
    ))
    present = np.flatnonzero(comparisons.ballots > 0)
    scores = fit_bt(comparisons.total[present][:, present]) if len(present) else np.zeros(0)
    preference = {comparisons.models[i]: float(scores[k]) for k, i in enumerate(present)}
    passes: dict[str, list[bool]] = {}
    for t in tested:
        passes.setdefault(t.contestant_id, []).append(t.status == Status.PASSED)
        names.setdefault(t.contestant_id, t.contestant_name)
    models = sorted(m for m in preference if m in passes)
    result = PeopleVsTests(tasks=len(comparisons.tasks), models=len(models), tau=None)
    if len(models) < MIN_AGREEMENT_MODELS:
        return result
    people = [preference[m] for m in models]
    share = [sum(passes[m]) / len(passes[m]) for m in models]
    result.tau = kendall_tau_b(people, share)
    apart = [
        Disagreement(m, names.get(m, m), p, t)
        for m, p, t in zip(models, competition_ranks(people), competition_ranks(share), strict=True)
        if abs(p - t) >= 2
    ]
    apart.sort(key=lambda d: (-abs(d.people_place - d.tests_place), d.people_place))
    result.disagreements = apart[:SHOWN_DISAGREEMENTS]
    return result


def _length_check(board: Leaderboard, comparisons: Comparisons) -> None:
    """The length-bias figure and, when it is material, the length-controlled scores and places."""
    pairs = comparisons.pairs
    if pairs is None or not board.rows:
        return
    board.length_bias, scores = length_bias(pairs, len(comparisons.models))
    if board.length_bias is None or scores is None or not board.length_bias.material:
        return
    index = {name: i for i, name in enumerate(comparisons.models)}
    for row in board.rows:
        row.controlled_score = float(scores[index[row.model]])
    order = sorted(board.rows, key=lambda r: (-(r.controlled_score or 0.0), r.model))
    for place, row in enumerate(order, start=1):
        row.controlled_place = place
        row.place_change = (board.rows.index(row) + 1) - place


@dataclass(frozen=True)
class CategoryLeader:
    """The top model of one category's board (same ranking and provisional rule as the whole)."""

    category: str  # a kind of work or language slug
    label: str
    is_language: bool
    leader: Row
    models: int
    ballots: int
    best_value: Row | None = None  # the category's best-value pick (may be the leader)


def category_leaders(
    store: Store, *, window: str = "28d", now: datetime | None = None, bootstrap: int = 1000
) -> list[CategoryLeader]:
    """Each rated category's leader: kinds of work first, then languages, in the tables' order."""
    span = parse_window(window)
    moment = now or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    kinds, languages = lb_store.rated_categories(store, moment - span if span else None, moment)
    wanted = [CategoryFilter(kind=k.slug) for k in categories.KINDS if k.slug in kinds]
    wanted += [CategoryFilter(language=lang.slug) for lang in categories.LANGUAGES if lang.slug in languages]
    leaders = []
    for category in wanted:
        board = build_leaderboard(store, window=window, now=moment, bootstrap=bootstrap, category=category)
        if board.rows:
            pick = next((r for r in board.rows if r.model == board.best_value), None)
            leaders.append(CategoryLeader(category.slug, category.label, category.language is not None,
                                          board.rows[0], len(board.rows), board.ballots, pick))
    return leaders


def is_provisional(standing: Standing) -> bool:
    """Under the minimum ballots or raters: too little data to rank."""
    return standing.ballots < MIN_BALLOTS or standing.raters < MIN_RATERS


def _ranked(standings: list[Standing]) -> list[tuple[Standing, int | None]]:
    """Standings in table order with their Rank (UB) among the models that have enough data;
    provisional models follow, unranked (None), best score first."""
    ranked = [s for s in standings if not is_provisional(s)]
    ranks = rank_ub([s.lower for s in ranked], [s.upper for s in ranked])
    order = sorted(zip(ranked, ranks, strict=True), key=lambda pair: (pair[1], -pair[0].score, pair[0].model))
    waiting = sorted((s for s in standings if is_provisional(s)), key=lambda s: (-s.score, s.model))
    return [*order, *((s, None) for s in waiting)]


def needs(row: Row) -> str:
    """What a provisional model lacks, shortly ('needs 9 more', '1 rater only')."""
    if row.ballots < MIN_BALLOTS:
        return f"needs {MIN_BALLOTS - row.ballots} more"
    return f"{row.raters} rater{'s' * (row.raters != 1)} only"


def _previous_places(
    store: Store, since: datetime | None, now: datetime, category: CategoryFilter | None = None
) -> dict[str, int]:
    """Each model's place (1 = best by score) a week ago, over the same window length."""
    before = now - timedelta(days=7)
    _, rows = window_rows(store, since - timedelta(days=7) if since else None, before, category)
    comparisons = compare(rows)
    present = np.flatnonzero(comparisons.ballots > 0)
    if len(present) == 0:
        return {}
    total = comparisons.total[present][:, present]
    scores = fit_bt(total)
    order = sorted(range(len(present)), key=lambda k: (-scores[k], comparisons.models[present[k]]))
    return {comparisons.models[present[k]]: place for place, k in enumerate(order, start=1)}


# --- rendering -------------------------------------------------------------------------------------


def _clean(name: str, width: int) -> str:
    name = name.replace("`", "'").replace("\n", " ")
    return name if len(name) <= width else name[: width - 1] + "…"


def _latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _cost(usd: float | None) -> str:
    if usd is None:
        return "—"
    if usd == 0:
        return "free"
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}"


def _tests(row: Row) -> str:
    """'3/5 (.23)': answers passing all tests, of those run, with the Wilson lower bound."""
    if not row.tests_total:
        return "—"
    return f"{row.tests_passed}/{row.tests_total} ({row.tests_lb or 0:.2f})"


def render_people_vs_tests(pvt: PeopleVsTests) -> str:
    """The "People vs tests" section of the report."""
    head = f"*People vs tests* ({pvt.tasks} task{'s' * (pvt.tasks != 1)} with tests): "
    if pvt.tau is None:
        return head + (f"too few models rated and tested on the same tasks yet ({pvt.models} of the "
                       f"{MIN_AGREEMENT_MODELS} needed for a rank correlation).")
    agree = ("the same order" if pvt.tau >= 0.999 else "the reverse order" if pvt.tau <= -0.999
             else "mostly agree" if pvt.tau >= 0.5 else "mostly disagree" if pvt.tau <= -0.5
             else "weakly related")
    text = head + f"Kendall tau {pvt.tau:+.2f} over {pvt.models} models ({agree}; +1 same order, −1 reversed)."
    if pvt.disagreements:
        text += " Most apart: " + "; ".join(
            f"{_clean(d.name, 40)} rated {ordinal(d.people_place)} by people, {ordinal(d.tests_place)} on tests"
            for d in pvt.disagreements) + "."
    else:
        text += " No model is more than one place apart."
    return text


def _window_label(lb: Leaderboard) -> str:
    label = "all time" if lb.since is None else f"last {lb.window}"
    return f"{lb.category_label} · {label}" if lb.category_label else label


def render_table(lb: Leaderboard) -> str:
    """The standings as a fixed-width text table (no code fence) at most 80 columns wide.

    A provisional model shows what it still needs instead of a score interval, and no rank. Cost
    and latency are in the value-for-money table beside it."""
    columns = (f"{'Score (95% CI)':<14} {'Ballots':>7} {'Thumbs LB':>9} {'Stars':>5} {'Runs':>5} "
               f"{'Tests (LB)':>12}")
    room = TABLE_WIDTH - len(columns) - 5  # "#" (2), the gaps, the "*"
    width = max([5] + [min(len(_clean(r.name, 40)), room) + 1 for r in lb.rows])
    lines = [f"{'#':>2} {'Model':<{width}} {columns}"]
    lines.append("-" * len(lines[0]))
    for r in lb.rows:
        name = _clean(r.name, width - 1) + ("*" if r.provisional else "")
        score = needs(r) if r.rank is None else f"{r.score:.0f} +{r.plus:.0f}/-{r.minus:.0f}"
        thumbs = "—" if r.thumbs_lb is None else f"{r.thumbs_lb:.2f}"
        stars = "—" if r.stars_avg is None else f"{r.stars_avg:.2f}"
        runs = "—" if not r.runs else f"{r.runs_ok}/{r.runs}"
        place = "–" if r.rank is None else str(r.rank)
        lines.append(
            f"{place:>2} {name:<{width}} {score:<14} {r.ballots:>7} {thumbs:>9} {stars:>5} {runs:>5} "
            f"{_tests(r):>12}"
        )
    return "\n".join(lines)


def legend(lb: Leaderboard) -> str:
    """What the table's less obvious columns and marks mean."""
    parts = [
        f"Scores: Bradley–Terry (Elo scale) from {lb.ballots} ballots on {lb.tasks} tasks, with 95% bootstrap "
        f"intervals (B={lb.bootstrap}); # counts only the models clearly ahead.",
        THUMBS_HELP,
        STARS_HELP,
    ]
    if any(r.provisional for r in lb.rows):
        parts.append(f"* provisional: under {MIN_BALLOTS} ballots or {MIN_RATERS} raters, so not ranked yet "
                     "(the score column says what it needs).")
    return "\n".join(parts)


def _movers(lb: Leaderboard) -> str | None:
    if all(r.previous_place is None for r in lb.rows):
        return None  # no standings a week ago: nothing to compare with
    parts = []
    for r in lb.rows:
        place = lb.rows.index(r) + 1
        if r.previous_place is None:
            parts.append(f"🆕 {_clean(r.name, 40)}")
        elif r.move:
            arrow = "▲" if r.move > 0 else "▼"
            parts.append(f"{arrow} {_clean(r.name, 40)} {r.previous_place}→{place}")
    return ("Movers since last week: " + ", ".join(parts)) if parts else None


def render_leaderboard(lb: Leaderboard) -> Message:
    """The report: table in a code block, movers, the week's activity, position bias, and the chart."""
    title = f"Codegen Arena leaderboard · {_window_label(lb)}"
    week = f"This week: {lb.week_tasks} task{'s' * (lb.week_tasks != 1)}, {lb.week_ratings} rating{'s' * (lb.week_ratings != 1)}."
    if not lb.rows:
        where = f"{lb.category_label} tasks of the " if lb.category_label else "the "
        where += "all-time record" if lb.since is None else f"last {lb.window}"
        text = (
            f"No rated comparisons in {where} yet. React to two or more answers of a "
            "task with 👍/👎 or 1️⃣–5️⃣ to rate them.\n" + week
        )
        return Message(text=text, title=title, tone=Tone.INFO)
    parts = ["```\n" + render_table(lb) + "\n```"]
    movers = _movers(lb)
    if movers:
        parts.append(movers)
    parts.append(week)
    parts += position_lines(lb)
    if lb.people_vs_tests:
        parts.append(render_people_vs_tests(lb.people_vs_tests))
    parts += lead_view_lines(lb)
    footer = legend(lb)
    if any(r.tests_total for r in lb.rows):
        footer += " Tests: answers that passed all their task's tests, of those run (95% Wilson lower bound)."
    chart = Attachment("leaderboard.png", render_chart(lb), title=title)
    value = Attachment("value.png", render_value_chart(lb), title=f"Score vs cost per answer · {_window_label(lb)}")
    return Message(text="\n".join(parts), title=title, footer=footer, attachments=[chart, value], tone=Tone.INFO)


def position_lines(lb: Leaderboard) -> list[str]:
    """The position-bias figure (how the answer shown first fared), when there are comparisons."""
    pb = lb.position_bias
    if pb is None:
        return []
    return [f"Position bias: the first-shown answer won {pb.first_win_rate:.0%} of {pb.comparisons} "
            f"comparisons (95% CI {pb.low:.0%}–{pb.high:.0%}; 50% means no bias)."]


def lead_view_lines(lb: Leaderboard) -> list[str]:
    """Value for money (a second table, the best-value line) and the length-bias check, as chat lines."""
    if not lb.rows:
        return []
    lines = ["Value for money:\n```\n" + render_value_table(lb) + "\n```", *value_summary(lb)]
    lines += length_lines(lb)
    return lines


def length_lines(lb: Leaderboard) -> list[str]:
    """The length-bias figure and, when material, the length-controlled ranking with place changes."""
    bias = lb.length_bias
    if bias is None:
        return []
    text = (f"Length bias: the clearly longer answer (≥10% longer) won {bias.longer_win_rate:.0%} of "
            f"{bias.comparisons} comparisons (95% CI {bias.low:.0%}–{bias.high:.0%}; 50% means none).")
    if bias.odds_twice is None:
        return [text + " Too few comparisons to tell what length is worth at equal models."]
    text += (f" At equal models a twice-as-long answer's odds of winning are ×{bias.odds_twice:.2f} "
             f"(95% CI ×{bias.odds_twice_low:.2f}–×{bias.odds_twice_high:.2f}).")
    if not bias.material:
        return [text + " Not material: scores are not adjusted."]
    if not any(r.place_change for r in lb.rows):
        return [text, "With answer length as a covariate (style control), no model changes place."]
    ranked = sorted(lb.rows, key=lambda r: r.controlled_place or 0)
    places = " · ".join(f"{r.controlled_place}. {_clean(r.name, 28)}{_change(r.place_change)}" for r in ranked)
    return [text, f"With answer length as a covariate (style control), the ranking is: {places}."]


def _change(change: int | None) -> str:
    if not change:
        return ""
    return f" ▲{change}" if change > 0 else f" ▼{-change}"


def render_chart(lb: Leaderboard) -> bytes:
    """A PNG: each model's score with its 95% interval as whiskers, best on top; beside it, when
    answers were run against tests, the share passing all of them with its 95% Wilson interval."""
    from matplotlib.figure import Figure  # Figure without pyplot: no global state, Agg canvas

    rows = lb.rows
    tested = any(r.tests_total for r in rows)
    fig = Figure(figsize=(9.5 if tested else 7, 1.2 + 0.45 * max(1, len(rows))), dpi=110)
    if tested:
        ax, tests_ax = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 1.4]})
    else:
        ax, tests_ax = fig.add_subplot(), None
    if rows:
        y = np.arange(len(rows))[::-1]
        scores = np.array([r.score for r in rows])
        err = np.array([[r.minus for r in rows], [r.plus for r in rows]])
        colours = ["#9e9e9e" if r.provisional else "#1f6feb" for r in rows]
        for k in range(len(rows)):
            if rows[k].provisional:
                continue  # too little data: an interval would look falsely certain
            ax.errorbar(scores[k], y[k], xerr=err[:, k : k + 1], fmt="none", ecolor=colours[k],
                        elinewidth=2, capsize=4)
        ax.scatter(scores, y, c=colours, zorder=3)
        ax.set_yticks(y, [f"{r.rank}. {_clean(r.name, 30)}" if r.rank is not None
                          else f"{_clean(r.name, 30)} * ({needs(r)})" for r in rows])
        ax.axvline(1000, color="#cccccc", linestyle="--", linewidth=1, zorder=0)
        if tests_ax is not None:
            _tests_panel(tests_ax, rows, y)
    else:
        ax.text(0.5, 0.5, "no rated comparisons yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("score (Elo scale) with 95% bootstrap interval; * provisional: no interval yet")
    ax.set_title(f"Codegen Arena · {_window_label(lb)}")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _tests_panel(ax: Any, rows: list[Row], y: np.ndarray) -> None:
    """Share of answers passing all tests, per model, with its Wilson interval and count."""
    for k, r in enumerate(rows):
        interval = wilson_interval(r.tests_passed, r.tests_total)
        if interval is None:
            ax.text(0.02, y[k], "no tests run", va="center", fontsize=8, color="#9e9e9e")
            continue
        share = r.tests_passed / r.tests_total
        ax.errorbar(share, y[k], xerr=[[max(0.0, share - interval[0])], [max(0.0, interval[1] - share)]], fmt="o",
                    color="#2da44e", elinewidth=2, capsize=4)
        ax.text(1.07, y[k], f"{r.tests_passed}/{r.tests_total}", va="center", fontsize=8)
    ax.set_xlim(-0.02, 1.3)
    ax.set_xticks([0, 0.5, 1], ["0%", "50%", "100%"])
    ax.set_xlabel("passed all tests (95% Wilson)")
    ax.set_title("tests")
    ax.grid(axis="x", alpha=0.3)
