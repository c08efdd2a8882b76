"""SQL for the channel controls (issue 12): audited settings changes, spend and usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import col

from storage.db import Store
from storage.models import UNFINISHED_ANSWER, Answer, ChannelSettings, SettingsChange, Task, utcnow

# Settings whose change marks ``updated_at`` (testresults reads it as "smoke runs on since").
_TOUCHING = frozenset({"subscribed", "blind", "autorun"})


def as_text(value: object) -> str | None:
    """A setting's value as the audit stores it: on/off, a number, the text, or None (unset)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def change_settings(store: Store, platform: str, channel: str, user_id: str, user_name: str,
                    values: dict[str, Any]) -> list[SettingsChange]:
    """Set channel settings (columns of :class:`ChannelSettings`) and record each one that changed,
    in one transaction (the row is locked on PostgreSQL, so concurrent changes audit correctly).
    Returns the recorded changes (empty when nothing changed)."""
    insert = store.upsert
    with store.session() as session:
        session.execute(insert(ChannelSettings).values(platform=platform, channel=channel, updated_at=utcnow())
                        .on_conflict_do_nothing(index_elements=["platform", "channel"]))
        row = session.scalars(select(ChannelSettings).where(
            col(ChannelSettings.platform) == platform, col(ChannelSettings.channel) == channel,
        ).with_for_update()).one()
        changes = []
        now = utcnow()
        for key, new in values.items():
            old = getattr(row, key)
            if as_text(old) == as_text(new):
                continue
            setattr(row, key, new)
            if key in _TOUCHING:
                row.updated_at = now
            changes.append(SettingsChange(platform=platform, channel=channel, user_id=user_id, user_name=user_name,
                                          key=key, old=as_text(old), new=as_text(new), created_at=now))
        session.add_all(changes)
        session.flush()
        for change in changes:
            session.refresh(change)
        session.expunge_all()
        return changes


def settings_history(store: Store, platform: str, channel: str, limit: int = 10) -> list[SettingsChange]:
    """The channel's latest settings changes, newest first."""
    with store.session() as session:
        return list(session.scalars(select(SettingsChange).where(
            col(SettingsChange.platform) == platform, col(SettingsChange.channel) == channel,
        ).order_by(col(SettingsChange.created_at).desc(), col(SettingsChange.id).desc()).limit(limit)))


def _cost() -> ColumnElement[float]:
    """An answer's cost: what was recorded (provider-reported or priced by the client), else while it
    is still being written its estimate (so concurrent tasks see each other), else nothing."""
    return case(
        (col(Answer.cost_usd).is_not(None), col(Answer.cost_usd)),
        (col(Answer.status).in_(UNFINISHED_ANSWER), func.coalesce(col(Answer.cost_estimate_usd), 0.0)),
        else_=0.0,
    )


def channel_spend(store: Store, platform: str, channel: str, since: datetime) -> float:
    """USD spent by the channel's tasks asked since ``since`` (every replica's, from storage)."""
    query = select(func.coalesce(func.sum(_cost()), 0.0)).select_from(Answer).join(
        Task, col(Task.id) == col(Answer.task_id)).where(
        col(Task.platform) == platform, col(Task.channel) == channel, col(Task.created_at) >= since)
    with store.session() as session:
        return float(session.execute(query).scalar() or 0.0)


@dataclass(frozen=True)
class UsageRow:
    """Usage of one model or one channel over a window."""

    key: str  # the model id, or "platform:channel"
    name: str  # the model's name, or the channel id
    tasks: int
    answers: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def usage(store: Store, since: datetime, *, platform: str | None = None) -> tuple[list[UsageRow], list[UsageRow]]:
    """(by model, by channel) usage of tasks asked since ``since``, costliest first; only
    ``platform``'s tasks when given."""
    figures = (
        func.count(func.distinct(col(Task.id))), func.count(col(Answer.id)),
        func.coalesce(func.sum(col(Answer.prompt_tokens)), 0), func.coalesce(func.sum(col(Answer.completion_tokens)), 0),
        func.coalesce(func.sum(_cost()), 0.0),
    )
    where = [col(Task.created_at) >= since] + ([col(Task.platform) == platform] if platform else [])

    def grouped(key: Any, label: Any) -> list[Any]:
        query = (select(key, label, *figures).select_from(Answer).join(Task, col(Task.id) == col(Answer.task_id))
                 .where(*where).group_by(key).order_by(figures[-1].desc(), key))
        with store.session() as session:
            return list(session.execute(query))

    models = [UsageRow(str(r[0]), str(r[1] or r[0]), *_figures(r[2:]))
              for r in grouped(col(Answer.contestant_id), func.max(col(Answer.contestant_name)))]
    channel_key = col(Task.platform) + ":" + col(Task.channel)
    channels = [UsageRow(str(r[0]), str(r[1]), *_figures(r[2:])) for r in grouped(channel_key, func.max(col(Task.channel)))]
    return models, channels


def _figures(row: Any) -> tuple[int, int, int, int, float]:
    tasks, answers, prompt, completion, cost = row
    return int(tasks), int(answers), int(prompt), int(completion), round(float(cost), 6)
