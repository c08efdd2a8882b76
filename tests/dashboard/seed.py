"""A team's month of tasks for the dashboard tests: two kinds of work with different leaders,
priced and unpriced models, ratings by three people, a run, a test result and a blind task."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.categories import classify
from storage.db import Store
from storage.leaderboard import set_blind
from storage.models import Answer, AnswerStatus, Run, Task, TaskStatus
from storage.ratings import upsert_rating
from storage.tasks import create_task, record_run
from storage.testresults import record_once

MODELS = {"alpha": ("Alpha Coder", 0.002, 1800.0), "beta": ("Beta LM", 0.0005, 700.0), "gamma": ("Gamma Tiny", None, 300.0)}
RATERS = ("U0ANN", "U0BOB", "U0CAT")
DATA_CHANNEL = ("slack", "C0DATA")
WEB_CHANNEL = ("discord", "4242")
BLIND_CHANNEL = ("slack", "C0BLIND")
NEEDLE = "red-black tree"


@dataclass
class Seeded:
    """The ids the tests look for."""

    data_tasks: list[int] = field(default_factory=list)
    web_tasks: list[int] = field(default_factory=list)
    needle_task: int = 0
    blind_task: int = 0
    answers: dict[tuple[int, str], int] = field(default_factory=dict)  # (task, model) → answer id


def _task(store: Store, seeded: Seeded, text: str, where: tuple[str, str]) -> int:
    category = classify(text)
    task = Task(platform=where[0], channel=where[1], requester_id="U0ANN", requester_name="ann", text=text,
                status=TaskStatus.DONE, kind=category.kind, language=category.language)
    answers = [
        Answer(task_id=0, contestant_id=model, contestant_name=name, position=i, label="ABC"[i],
               status=AnswerStatus.DONE, language="python",
               text=f"Here is a solution.\n\n```python\nprint({i})\n```\n\nIt prints one line.",
               code=f"print({i})", message_channel=where[1], message_id=f"{model}-{text[:20]}",
               latency_ms=latency, ttft_ms=latency / 4, prompt_tokens=40, completion_tokens=120, cost_usd=cost)
        for i, (model, (name, cost, latency)) in enumerate(MODELS.items())
    ]
    stored_task, stored = create_task(store, task, answers)
    for answer in stored:
        seeded.answers[(stored_task.id or 0, answer.contestant_id)] = answer.id or 0
    return stored_task.id or 0


def _rate(store: Store, seeded: Seeded, task_id: int, liked: dict[str, int]) -> None:
    for rater in RATERS:
        for model, value in liked.items():
            upsert_rating(store, seeded.answers[(task_id, model)], rater, "thumbs", value, "+1" if value else "-1")


def seed(store: Store) -> Seeded:
    """Alpha leads data work, Beta leads web work; Gamma has no price."""
    seeded = Seeded()
    for i in range(12):
        task_id = _task(store, seeded, f"Load sales_{i}.csv with pandas and plot the monthly revenue per region",
                        DATA_CHANNEL)
        seeded.data_tasks.append(task_id)
        _rate(store, seeded, task_id, {"alpha": 1, "beta": int(i % 3 == 0), "gamma": 0})
    for i in range(12):
        task_id = _task(store, seeded, f"Write a FastAPI endpoint GET /items/{i} that returns the item as JSON",
                        WEB_CHANNEL)
        seeded.web_tasks.append(task_id)
        _rate(store, seeded, task_id, {"alpha": int(i % 4 == 0), "beta": 1, "gamma": 0})
    seeded.needle_task = _task(store, seeded, f"Implement a {NEEDLE} insert in Python with rotations", DATA_CHANNEL)
    record_run(store, Run(answer_id=seeded.answers[(seeded.needle_task, "beta")], requester_id="U0ANN",
                          language="python", exit_code=0, stdout="beta-run-output\n", duration_ms=41.0))
    record_once(store, seeded.answers[(seeded.needle_task, "alpha")],
                {"kind": "tests", "status": "passed", "passed": 3, "total": 3})
    upsert_rating(store, seeded.answers[(seeded.needle_task, "alpha")], "U0ANN", "stars", 5, "five")
    set_blind(store, *BLIND_CHANNEL, True)
    seeded.blind_task = _task(store, seeded, "Write a shell script that rotates log files", BLIND_CHANNEL)
    return seeded
