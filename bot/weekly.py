"""The weekly leaderboard post: due every week (default Monday 09:00 in LEADERBOARD_TZ), exactly once.

For each subscribed channel the poster claims a row keyed by (platform, channel, ISO week) with an
INSERT that only one process can win, posts (tagged with the week, see :func:`marker`), then stores
the message id. A rerun edits that message instead of posting again; a week whose time passed while
the bot was down is posted on the next tick. A claim whose holder died without recording a message
id is taken over after ``claim_timeout``: the taker first looks for the tagged post among the
channel's recent messages and adopts it if the dead holder had posted, so the week is posted once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.leaderboard import CategoryLeader, Row, build_leaderboard, category_leaders, render_leaderboard
from bot.messages import Message
from bot.surface import Destination, FindsMarkedPosts, MessageRef, Surface, SurfaceError
from bot.value import money
from storage import leaderboard as lb_store
from storage.db import Store

log = logging.getLogger(__name__)
DashboardLink = Callable[[str], "str | None"]  # window ('28d') → a URL to the dashboard, or None


def static_dashboard_link(base_url: str | None) -> DashboardLink:
    """A link builder that gives ``base_url`` as it is (no link when None). The bot's own weekly
    post uses :func:`bot.dashboard_access.weekly_link` instead: a signed link to the window's
    leaderboard, since the dashboard opens only with one."""
    return lambda window: base_url or None


def parse_tz(tz: str | tzinfo) -> tzinfo:
    """A tzinfo from an IANA name ('Europe/Berlin', 'UTC'); ValueError naming the bad value."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (LEADERBOARD_TZ): use an IANA name like Europe/Berlin") from exc


@dataclass(frozen=True)
class PostResult:
    """What one tick did for one channel: 'posted', 'edited', 'adopted' (found already posted by a
    process that died before recording it), 'skipped' or 'failed'."""

    platform: str
    channel: str
    iso_week: str
    action: str
    message_id: str | None = None


class WeeklyPoster:
    """Posts the leaderboard to subscribed channels once a week, exactly once across processes."""

    def __init__(
        self,
        store: Store,
        surfaces: dict[str, Surface],
        tz: str | tzinfo = "UTC",
        weekday: int = 0,
        hour: int = 9,
        *,
        window: str = "28d",
        bootstrap: int = 1000,
        claim_timeout: timedelta = timedelta(minutes=15),
        poll_interval: float = 60.0,
        dashboard_link: DashboardLink | None = None,
    ) -> None:
        if not 0 <= weekday <= 6 or not 0 <= hour <= 23:
            raise ValueError("weekday must be 0 (Monday) to 6 and hour 0 to 23")
        self.store = store
        self.surfaces = surfaces
        self.tz = parse_tz(tz)
        self.weekday = weekday
        self.hour = hour
        self.window = window
        self.bootstrap = bootstrap
        self.claim_timeout = claim_timeout
        self.poll_interval = poll_interval
        self.dashboard_link = dashboard_link or static_dashboard_link(None)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # --- schedule ---------------------------------------------------------------------------------

    def due_slot(self, now: datetime) -> datetime:
        """The latest scheduled time at or before ``now`` (aware, in the poster's time zone)."""
        local = _aware(now).astimezone(self.tz)
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        slot = datetime.combine(day, time(self.hour), tzinfo=self.tz)
        if slot > local:
            slot = datetime.combine(day - timedelta(days=7), time(self.hour), tzinfo=self.tz)
        return slot

    def next_slot(self, now: datetime) -> datetime:
        """The first scheduled time after ``now``."""
        slot = self.due_slot(now)
        return datetime.combine(slot.date() + timedelta(days=7), time(self.hour), tzinfo=self.tz)

    @staticmethod
    def iso_week(slot: datetime) -> str:
        """'2026-W48' for the slot's local date."""
        year, week, _ = slot.date().isocalendar()
        return f"{year}-W{week:02d}"

    # --- posting ----------------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> list[PostResult]:
        """Post this week's leaderboard to every subscribed channel that has not had it yet."""
        return await self._run(_aware(now or datetime.now(UTC)), rerun=False)

    async def rerun(self, now: datetime | None = None) -> list[PostResult]:
        """Refresh this week's post everywhere: edit the posted message (post where none exists)."""
        return await self._run(_aware(now or datetime.now(UTC)), rerun=True)

    async def _run(self, now: datetime, *, rerun: bool) -> list[PostResult]:
        week = self.iso_week(self.due_slot(now))
        channels = await self.store.run(lb_store.subscribed_channels, list(self.surfaces))
        message: Message | None = None
        results = []
        for platform, channel in channels:
            surface = self.surfaces[platform]
            row = await self.store.run(lb_store.get_post, platform, channel, week)
            if row is not None and row.message_id is not None:
                if not rerun:
                    results.append(PostResult(platform, channel, week, "skipped", row.message_id))
                    continue
                message = message or await self._message(now, week)
                results.append(await self._edit(surface, platform, channel, week, row.message_id, message))
                continue
            if row is None:
                won = await self.store.run(lb_store.claim_post, platform, channel, week, self.owner)
            else:  # claimed but never recorded: only take it over if the claimer looks dead
                cutoff = datetime.now(UTC) - self.claim_timeout
                won = await self.store.run(
                    lb_store.take_over_stale_claim, platform, channel, week, self.owner, cutoff
                )
            if not won:
                results.append(PostResult(platform, channel, week, "skipped"))
                continue
            if row is not None:  # the dead claimer may have posted before it could record the id
                adopted = await self._adopt(surface, platform, channel, week)
                if adopted is not None:
                    results.append(adopted)
                    continue
            message = message or await self._message(now, week)
            results.append(await self._post(surface, platform, channel, week, message))
        return results

    async def _message(self, now: datetime, week: str) -> Message:
        board = await asyncio.to_thread(
            build_leaderboard, self.store, window=self.window, now=now, bootstrap=self.bootstrap
        )
        leaders = await asyncio.to_thread(
            category_leaders, self.store, window=self.window, now=now, bootstrap=self.bootstrap
        )
        message = render_leaderboard(board)
        message.title = f"📊 Weekly leaderboard {week} · {board.window if board.since else 'all time'}"
        extra = weekly_lines(leaders, self.dashboard_link(self.window))
        if extra and board.rows:
            message.text = "\n".join([message.text, *extra])
        message.marker = marker(week)
        return message

    async def _adopt(self, surface: Surface, platform: str, channel: str, week: str) -> PostResult | None:
        """Find the week's post in the channel's recent messages and record it (instead of posting again)."""
        if not isinstance(surface, FindsMarkedPosts):
            return None
        try:
            found = await surface.find_recent(Destination(channel), marker(week))
        except SurfaceError as exc:  # cannot look: posting again is worse than waiting a tick
            log.warning("could not look for the weekly post in %s/%s: %s; will retry",
                        platform, channel, exc.user_message)
            await self.store.run(lb_store.release_claim, platform, channel, week, self.owner)
            return PostResult(platform, channel, week, "failed")
        if found is None:
            return None
        await self.store.run(lb_store.record_posted, platform, channel, week, found.message_id)
        log.info("weekly leaderboard %s was already posted to %s/%s; recorded it", week, platform, channel)
        return PostResult(platform, channel, week, "adopted", found.message_id)

    async def _post(self, surface: Surface, platform: str, channel: str, week: str, message: Message) -> PostResult:
        try:
            ref = await surface.post(Destination(channel), message)
        except SurfaceError as exc:
            log.warning("weekly leaderboard to %s/%s failed: %s; will retry", platform, channel, exc.user_message)
            await self.store.run(lb_store.release_claim, platform, channel, week, self.owner)
            return PostResult(platform, channel, week, "failed")
        await self.store.run(lb_store.record_posted, platform, channel, week, ref.message_id)
        log.info("weekly leaderboard %s posted to %s/%s", week, platform, channel)
        return PostResult(platform, channel, week, "posted", ref.message_id)

    async def _edit(
        self, surface: Surface, platform: str, channel: str, week: str, message_id: str, message: Message
    ) -> PostResult:
        try:
            await surface.edit(MessageRef(channel, message_id), message)
        except SurfaceError as exc:
            log.warning("could not edit weekly post %s in %s/%s: %s", message_id, platform, channel, exc.user_message)
            return PostResult(platform, channel, week, "failed", message_id)
        return PostResult(platform, channel, week, "edited", message_id)

    async def run_forever(self) -> None:
        """Tick now (posting a missed week), then at every slot; polls so new subscribers are served."""
        while True:
            try:
                await self.tick()
            except Exception:  # a bad tick must not stop next week's post
                log.exception("weekly leaderboard tick failed")
            now = datetime.now(UTC)
            wait = (self.next_slot(now) - now).total_seconds()
            await asyncio.sleep(max(1.0, min(self.poll_interval, wait)))


def marker(week: str) -> str:
    """The tag a week's post carries (Slack message metadata, Discord embed footer)."""
    return f"weekly-leaderboard:{week}"


def weekly_lines(leaders: list[CategoryLeader], dashboard_url: str | None) -> list[str]:
    """The weekly post's additions: each category's leader, and the dashboard link when configured."""
    lines = []
    for is_language, heading in ((False, "Leaders by kind of work"), (True, "Leaders by language")):
        picked = [c for c in leaders if c.is_language == is_language]
        if picked:
            lines.append(f"**{heading}** (leader, cost per answer; best value):")
            lines += [f"• {c.label}: {_leader(c)}" for c in picked]
    if dashboard_url:
        lines.append(f"📈 Dashboard (filters, charts, every task): {dashboard_url}")
    return lines


def _leader(c: CategoryLeader) -> str:
    def named(row: Row) -> str:
        return f"{_name(row.name)}{'*' if row.provisional else ''} ({money(row.cost_per_answer_usd)})"

    text = named(c.leader)
    if c.best_value is None:
        return text + "; no priced model within its interval"
    if c.best_value.model == c.leader.model:
        return text + "; also the best value"
    return f"{text}; best value {named(c.best_value)}"


def _name(name: str) -> str:
    name = name.replace("`", "'").replace("\n", " ")
    return name if len(name) <= 40 else name[:39] + "…"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
