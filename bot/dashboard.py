"""What the dashboard's pages show, from storage and the ranking; the web adapter only renders it.

Every function here is synchronous (database and numpy); the web adapter runs them in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot import categories
from bot.categories import CategoryFilter, describe, parse_category
from bot.leaderboard import Leaderboard, Row, build_leaderboard, parse_window, window_rows
from bot.ranking import compare
from bot.render import answer_title, footer
from bot.retention import GONE, contents_gone
from bot.sandbox.extract import Segment, segments
from storage import dashboard as db
from storage.db import Store
from storage.models import Answer, Rating, Run, Task, TestResult
from storage.tasks import task_with_answers
from storage.testresults import results_for_task
from storage.turns import earlier_turns

WINDOWS = (("7d", "last 7 days"), ("28d", "last 28 days"), ("all", "all time"))
DEFAULT_WINDOW = "28d"


@dataclass(frozen=True)
class Filters:
    """The leaderboard's window and category, as the query string gives them (checked)."""

    window: str = DEFAULT_WINDOW
    category: CategoryFilter | None = None

    @classmethod
    def parse(cls, window: str | None, category: str | None) -> Filters:
        """Raises ValueError with a message a person can act on."""
        chosen = (window or DEFAULT_WINDOW).strip().lower()
        parse_window(chosen)
        return cls(chosen, parse_category(category) if category and category.strip() else None)

    @property
    def slug(self) -> str:
        return self.category.slug if self.category else ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What tells two filters apart (for caching): the follow-ups board is not the whole one."""
        chosen = self.category or CategoryFilter()
        return self.window, chosen.kind or "", chosen.language or "", "follow-ups" if chosen.followups else ""

    def query(self) -> dict[str, str]:
        """The query string that selects these filters."""
        return {"window": self.window, **({"category": self.slug} if self.category else {})}


def category_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The category filter's choices: (group, [(slug, label)]) for kinds of work, then languages."""
    return [("Kind of work", [(k.slug, k.label) for k in categories.KINDS]),
            ("Language", [(lang.slug, lang.label) for lang in categories.LANGUAGES])]


def leaderboard(store: Store, filters: Filters, *, bootstrap: int = 1000) -> Leaderboard:
    """The board for the filters (as in chat)."""
    return build_leaderboard(store, window=filters.window, category=filters.category, bootstrap=bootstrap)


# --- the model page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadToHead:
    """Pairwise results over the window: ``rate[i][j]`` is how often model i beat model j (ties
    half), None when they never met; ``weight[i][j]`` the comparisons behind it (each ballot
    weighs 1/(k−1), as in the ranking)."""

    models: list[str]
    names: dict[str, str]
    rate: list[list[float | None]]
    weight: list[list[float]]


def head_to_head(store: Store, filters: Filters, order: list[str], now: datetime | None = None) -> HeadToHead:
    """Win rates between every pair of rated models, in the board's ``order`` (then any others)."""
    moment = now or datetime.now(UTC)
    span = parse_window(filters.window)
    raw, rows = window_rows(store, moment - span if span else None, moment, filters.category)
    comparisons = compare(rows)
    names = {r.contestant_id: r.contestant_name for r in raw}
    models = [m for m in order if m in comparisons.models] + [m for m in comparisons.models if m not in order]
    index = [comparisons.models.index(m) for m in models]
    total = comparisons.total[np.ix_(index, index)] if models else np.zeros((0, 0))
    met = total + total.T
    rate = [[float(total[i, j] / met[i, j]) if met[i, j] > 0 and i != j else None for j in range(len(models))]
            for i in range(len(models))]
    return HeadToHead(models, names, rate, [[float(met[i, j]) for j in range(len(models))] for i in range(len(models))])


@dataclass(frozen=True)
class ModelPage:
    """One model over the filters: its leaderboard row (None when it has no rated comparisons
    there), the board, the head-to-head table and its recent answers."""

    model: str
    name: str
    row: Row | None
    board: Leaderboard
    head_to_head: HeadToHead
    answers: list[db.ModelAnswer]


def model_page(store: Store, model: str, filters: Filters, board: Leaderboard) -> ModelPage | None:
    """The model's page over ``board`` (the filters' leaderboard), or None when the model has
    neither a rating nor an answer in the window."""
    row = next((r for r in board.rows if r.model == model), None)
    since = board.since
    category = filters.category or CategoryFilter()
    answers = db.model_answers(store, model, since, board.now, kind=category.kind, language=category.language)
    if row is None and not answers:
        return None
    h2h = head_to_head(store, filters, [r.model for r in board.rows], board.now)
    name = row.name if row else h2h.names.get(model, model)
    return ModelPage(model, name, row, board, h2h, answers)


# --- the task list and the task page ------------------------------------------------------------


@dataclass(frozen=True)
class TaskList:
    """A page of the task list with what its filters can choose from."""

    rows: list[db.TaskRow]
    total: int
    page: int
    pages: int
    channels: list[tuple[str, str]]


def task_list(store: Store, where: db.TaskFilter, page: int = 1) -> TaskList:
    """The newest tasks matching ``where``, ``db.PAGE_SIZE`` a page (``page`` from 1)."""
    page = max(1, page)
    rows, total = db.list_tasks(store, where, offset=(page - 1) * db.PAGE_SIZE)
    return TaskList(rows, total, page, max(1, -(-total // db.PAGE_SIZE)), db.channels(store))


def parse_channel(value: str | None) -> tuple[str | None, str | None]:
    """The channel filter's 'platform:channel' → (platform, channel); ValueError when malformed."""
    if not value:
        return None, None
    platform, sep, channel = value.partition(":")
    if not sep or not platform or not channel:
        raise ValueError(f"unknown channel {value!r}: pick one from the list")
    return platform, channel


@dataclass(frozen=True)
class RatingSummary:
    """An answer's current ratings: 👍/👎 counts and the stars' mean."""

    up: int = 0
    down: int = 0
    stars: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, ratings: list[Rating]) -> RatingSummary:
        thumbs = [r.value for r in ratings if r.scale == "thumbs"]
        return cls(sum(thumbs), len(thumbs) - sum(thumbs), [r.value for r in ratings if r.scale == "stars"])

    @property
    def stars_mean(self) -> float | None:
        return sum(self.stars) / len(self.stars) if self.stars else None


@dataclass(frozen=True)
class AnswerCard:
    """One answer as the task page shows it."""

    answer: Answer
    title: str
    footer: str
    segments: list[Segment]
    ratings: RatingSummary
    runs: list[Run]
    test: TestResult | None


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what was asked (the task, then each follow-up) and every
    model's answer to it, side by side. ``hidden``: a blind turn not revealed yet (labels, no models)."""

    number: int
    task_id: int
    prompt: str
    hidden: bool
    answers: list[AnswerCard]


@dataclass(frozen=True)
class TaskPage:
    """A task with every turn of its conversation. ``hidden``: some turn withholds the models' names;
    ``gone``: why its texts are missing (contents deleted), or None."""

    task: Task
    category: str
    hidden: bool
    turns: list[Turn]
    gone: str | None = None


def task_page(store: Store, task_id: int) -> TaskPage | None:
    """The conversation a task belongs to (its first turn and every follow-up), or None when there
    is no such task. A follow-up's number opens the same page as its first turn."""
    found = task_with_answers(store, task_id)
    if found is None:
        return None
    root_id = found[0].root_id or task_id
    conversation = earlier_turns(store, root_id) or [found]
    turns = [_turn(store, task, answers) for task, answers in conversation]
    root = conversation[0][0]
    return TaskPage(root, describe(root.kind, root.language), any(t.hidden for t in turns), turns,
                    GONE if contents_gone(root) else None)


def _turn(store: Store, task: Task, answers: list[Answer]) -> Turn:
    hidden = task.blind and not task.revealed
    ratings = db.ratings_for_task(store, task.id or 0)
    runs = db.runs_for_task(store, task.id or 0)
    tests = results_for_task(store, task.id or 0)
    cards = [AnswerCard(a, answer_title(a, hidden), footer(a), segments(a.text or ""),
                        RatingSummary.of(ratings.get(a.id or 0, [])), runs.get(a.id or 0, []), tests.get(a.id or 0))
             for a in answers]
    return Turn(task.turn, task.id or 0, task.text, hidden, cards)
