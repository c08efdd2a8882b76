"""The leaderboard: standings from the window's ratings, as a platform-neutral message and a chart.

``build_leaderboard`` is synchronous (it reads the database and runs numpy); async callers use
``await asyncio.to_thread(build_leaderboard, store, ...)``.
"""

from __future__ import annotations

import io
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot.messages import Attachment, Message, Tone
from bot.ranking import RatingRows, Standing, compare, fit_bt, rank, rank_ub, wilson_interval, wilson_lower_bound
from bot.ranking.stats import bayesian_average
from storage import leaderboard as lb_store
from storage import ratings as rating_store
from storage.db import Store

MIN_BALLOTS = 10
MIN_RATERS = 2
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


@dataclass
class PositionBias:
    """How the answer shown first fared in comparisons against the others."""

    comparisons: int
    first_win_rate: float
    low: float
    high: float


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``codegen-bot leaderboard --json``)."""
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["now"] = self.now.isoformat()
        return data


def _rows_for(store: Store, since: datetime | None, until: datetime) -> tuple[list[rating_store.RankingRow], RatingRows]:
    rows = rating_store.ranking_rows(store, since, until)
    return rows, RatingRows(
        task=[r.task_id for r in rows],
        rater=[r.rater_id for r in rows],
        scale=[r.scale for r in rows],
        model=[r.contestant_id for r in rows],
        value=[r.value for r in rows],
        first=[r.first for r in rows],
    )


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def build_leaderboard(
    store: Store, *, window: str = "28d", now: datetime | None = None, bootstrap: int = 1000
) -> Leaderboard:
    """Rank the models on ratings of tasks created within ``window`` before ``now``."""
    span = parse_window(window)
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # naive means UTC, as stored
    since = now - span if span else None
    raw, rows = _rows_for(store, since, now)
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
    for a in lb_store.answer_stats(store, since, now):
        if a.status == "done" and a.latency_ms is not None:
            latency.setdefault(a.contestant_id, []).append(a.latency_ms)
        if a.status == "done" and a.cost_usd is not None:
            cost.setdefault(a.contestant_id, []).append(a.cost_usd)
    runs = lb_store.run_stats(store, since, now)
    previous = _previous_places(store, since, now)

    board = Leaderboard(window=window, since=since, now=now, bootstrap=bootstrap)
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
            )
        )
    board.tasks = len(comparisons.tasks)
    board.ballots = comparisons.n_ballots
    week_start = now - timedelta(days=7)
    board.week_tasks = lb_store.count_tasks(store, week_start, now)
    board.week_ratings = rating_store.count_ratings(store, week_start, now)
    if comparisons.first_pairs:
        rate = comparisons.first_score / comparisons.first_weight
        low, high = wilson_interval(rate * comparisons.first_pairs, comparisons.first_pairs) or (0.0, 1.0)
        board.position_bias = PositionBias(comparisons.first_pairs, rate, low, high)
    return board


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


def _previous_places(store: Store, since: datetime | None, now: datetime) -> dict[str, int]:
    """Each model's place (1 = best by score) a week ago, over the same window length."""
    before = now - timedelta(days=7)
    _, rows = _rows_for(store, since - timedelta(days=7) if since else None, before)
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


def _window_label(lb: Leaderboard) -> str:
    return "all time" if lb.since is None else f"last {lb.window}"


def render_table(lb: Leaderboard) -> str:
    """The standings as a fixed-width text table (no code fence) at most 80 columns wide.

    A provisional model shows what it still needs instead of a score interval, and no rank."""
    columns = (f"{'Score (95% CI)':<14} {'Ballots':>7} {'Thumbs LB':>9} {'Stars':>5} {'Runs':>5} "
               f"{'Latency':>7} {'Cost':>7}")
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
            f"{_latency(r.median_latency_ms):>7} {_cost(r.median_cost_usd):>7}"
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
        text = (
            f"No rated comparisons in the {_window_label(lb)} yet. React to two or more answers of a "
            "task with 👍/👎 or 1️⃣–5️⃣ to rate them.\n" + week
        )
        return Message(text=text, title=title, tone=Tone.INFO)
    parts = ["```\n" + render_table(lb) + "\n```"]
    movers = _movers(lb)
    if movers:
        parts.append(movers)
    parts.append(week)
    if lb.position_bias:
        pb = lb.position_bias
        parts.append(
            f"Position bias: the first-shown answer won {pb.first_win_rate:.0%} of {pb.comparisons} "
            f"comparisons (95% CI {pb.low:.0%}–{pb.high:.0%}; 50% means no bias)."
        )
    footer = legend(lb)
    chart = Attachment("leaderboard.png", render_chart(lb), title=title)
    return Message(text="\n".join(parts), title=title, footer=footer, attachments=[chart], tone=Tone.INFO)


def render_chart(lb: Leaderboard) -> bytes:
    """A PNG: each model's score with its 95% interval as whiskers, best on top."""
    from matplotlib.figure import Figure  # Figure without pyplot: no global state, Agg canvas

    rows = lb.rows
    fig = Figure(figsize=(7, 1.2 + 0.45 * max(1, len(rows))), dpi=110)
    ax = fig.add_subplot()
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
