"""Export tasks, answers and ratings for analysis: CSV (one row per rating) or JSONL (one task per line).

CSV is a tidy long table: one row per (answer, rating), answers nobody rated on a row of their own
with empty rating columns. JSONL nests each task's answers and their ratings.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, TextIO

from storage.db import Store
from storage.ratings import ANSWER_COLUMNS, RATING_COLUMNS, TASK_COLUMNS, TEST_COLUMNS, export_records

FORMATS = ("csv", "jsonl")
CSV_COLUMNS = (
    [f"task_{c}" for c in TASK_COLUMNS]
    + [f"answer_{c}" for c in ANSWER_COLUMNS]
    + [f"answer_tests_{c}" for c in TEST_COLUMNS]
    + [f"rating_{c}" for c in RATING_COLUMNS]
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return value


def _since(since: date | datetime | None) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    return datetime(since.year, since.month, since.day, tzinfo=UTC)


def _flat_rows(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for task in records:
        task_part = {f"task_{c}": _plain(task[c]) for c in TASK_COLUMNS}
        for answer in task["answers"]:
            answer_part = {f"answer_{c}": _plain(answer[c]) for c in ANSWER_COLUMNS}
            answer_part |= {f"answer_tests_{c}": answer[f"tests_{c}"] for c in TEST_COLUMNS}
            for rating in answer["ratings"] or [None]:
                rating_part = {f"rating_{c}": (_plain(rating[c]) if rating else None) for c in RATING_COLUMNS}
                yield task_part | answer_part | rating_part


def export(store: Store, fmt: str, since: date | datetime | None, out: TextIO) -> int:
    """Write tasks created on or after ``since`` (UTC) to ``out``; returns the records written.

    Records are CSV rows (one per rating) or JSONL lines (one per task).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use csv or jsonl")
    records = export_records(store, _since(since))
    count = 0
    if fmt == "jsonl":
        for task in records:
            out.write(json.dumps(task, default=_plain, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _flat_rows(records):
        writer.writerow(row)
        count += 1
    return count
