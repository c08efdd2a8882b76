"""Channel budgets (issue 12): daily and monthly USD caps, cost estimates, which models fit.

A cap is the channel's own (``/codegen budget 5/day 50/month``) or the workspace default
(``CODEGEN_BUDGET_DAILY_USD`` / ``CODEGEN_BUDGET_MONTHLY_USD``). Spend is summed from storage
(:func:`storage.controls.channel_spend`), so every replica sees the same figure. A model with no
price costs nothing and is never left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.roster import Availability, Contestant
from storage.controls import channel_spend
from storage.db import Store
from storage.models import ChannelSettings

PERIODS = ("day", "month")
ADJECTIVE = {"day": "daily", "month": "monthly"}
_CAP = re.compile(r"^\$?(\d+(?:\.\d+)?)\s*/\s*(day|daily|d|month|monthly|m|mo)$", re.IGNORECASE)
BUDGET_USAGE = "Usage: `/codegen budget 5/day 50/month` (either or both, in USD), `/codegen budget off`, or " \
               "`/codegen budget` to see the spend."


def money(value: float) -> str:
    """'$5.00', '$0.01', '$0.0123': cents when exact, else four decimals."""
    return f"${value:,.2f}" if abs(value - round(value, 2)) < 1e-9 or value >= 100 else f"${value:,.4f}"


def parse_caps(text: str) -> dict[str, float | None]:
    """``"5/day 50/month"`` → {"day": 5.0, "month": 50.0}; ``"off"`` → both None (the defaults apply).
    Raises ValueError with the usage."""
    words = text.replace(",", " ").split()
    if [w.lower() for w in words] == ["off"]:
        return {"day": None, "month": None}
    caps: dict[str, float | None] = {}
    # "5 / day" typed with spaces: join the pieces back before matching.
    for piece in re.sub(r"\s*/\s*", "/", " ".join(words)).split():
        found = _CAP.match(piece)
        if not found:
            raise ValueError(f"I can't read {piece!r} as a budget. {BUDGET_USAGE}")
        period = "day" if found.group(2).lower().startswith("d") else "month"
        if period in caps:
            raise ValueError(f"The {ADJECTIVE[period]} budget is given twice. {BUDGET_USAGE}")
        caps[period] = float(found.group(1))
    if not caps:
        raise ValueError(BUDGET_USAGE)
    return caps


def estimate(contestant: Contestant, prompt_chars: int) -> float:
    """USD a task may cost with this contestant: prompt tokens ≈ characters / 4 (of its whole
    prompt, ``prompt_chars``), plus its whole ``max_tokens`` of answer, at the roster's prices (0
    when it has none)."""
    if contestant.price_in is None and contestant.price_out is None:
        return 0.0
    prompt_tokens = math.ceil(prompt_chars / 4)
    return (prompt_tokens * (contestant.price_in or 0.0) + contestant.max_tokens * (contestant.price_out or 0.0)) / 1e6


@dataclass(frozen=True)
class Period:
    """One cap of a channel and where it stands."""

    name: str  # "day" or "month"
    cap: float | None
    source: str  # "this channel", "workspace default" or ""
    spent: float
    resets_at: datetime

    @property
    def left(self) -> float | None:
        return None if self.cap is None else max(0.0, self.cap - self.spent)

    def describe(self) -> str:
        """'$0.0040 of $5.00 spent today (this channel); resets at 00:00 UTC, in 3 h 12 min'."""
        when = "today" if self.name == "day" else "this month"
        if self.cap is None:
            return f"no {ADJECTIVE[self.name]} cap · {money(self.spent)} spent {when}"
        return (f"{money(self.spent)} of {money(self.cap)} spent {when} ({self.source}); "
                f"resets {reset_text(self.resets_at)}")


def period_start(name: str, now: datetime) -> datetime:
    """Start of the UTC day or month that holds ``now``."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if name == "day" else day.replace(day=1)


def period_end(name: str, now: datetime) -> datetime:
    """When the current UTC day or month ends (its cap resets)."""
    start = period_start(name, now)
    if name == "day":
        return start + timedelta(days=1)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def reset_text(at: datetime, now: datetime | None = None) -> str:
    """'at 00:00 UTC, in 3 h 12 min' (or 'on 1 Jan 00:00 UTC, in 4 days')."""
    now = now or datetime.now(UTC)
    seconds = max(0, int((at - now).total_seconds()))
    if seconds >= 2 * 86400:
        delay = f"{seconds // 86400} days"
    elif seconds >= 3600:
        delay = f"{seconds // 3600} h {seconds % 3600 // 60} min"
    else:
        delay = f"{max(1, seconds // 60)} min"
    where = "at 00:00 UTC" if seconds < 86400 else f"on {at.day} {at:%b} 00:00 UTC"
    return f"{where}, in {delay}"


def caps(settings: Settings, row: ChannelSettings | None) -> dict[str, tuple[float | None, str]]:
    """Each period's cap and where it comes from (the channel's own, else the workspace default)."""
    own = {"day": row.budget_daily_usd if row else None, "month": row.budget_monthly_usd if row else None}
    default = {"day": settings.budget_daily_usd, "month": settings.budget_monthly_usd}
    return {p: (own[p], "this channel") if own[p] is not None else
            (default[p], "workspace default") if default[p] is not None else (None, "") for p in PERIODS}


def status(store: Store, settings: Settings, platform: str, channel: str, row: ChannelSettings | None,
           now: datetime | None = None, *, only_capped: bool = False) -> list[Period]:
    """Where the channel's caps stand (a blocking call: run it with ``store.run``)."""
    now = now or datetime.now(UTC)
    periods = []
    for name, (cap, source) in caps(settings, row).items():
        if only_capped and cap is None:
            continue
        spent = channel_spend(store, platform, channel, period_start(name, now))
        periods.append(Period(name, cap, source, spent, period_end(name, now)))
    return periods


@dataclass
class Fit:
    """What a task may run under the channel's budget."""

    contestants: list[Contestant]
    left_out: list[Availability]
    refusal: str | None = None  # set when no contestant fits: why, with the spend and the reset


def fit(contestants: list[Contestant], estimates: dict[str, float], periods: list[Period]) -> Fit:
    """Keep the contestants whose estimates fit every capped period, cheapest first (unpriced ones
    always fit); the others are left out with the reason. ``periods`` are the capped ones."""
    capped = [p for p in periods if p.cap is not None]
    if not capped:
        return Fit(list(contestants), [])
    committed = 0.0
    kept: set[str] = set()
    left_out: dict[str, Availability] = {}
    for contestant in sorted(contestants, key=lambda c: estimates.get(c.id, 0.0)):
        cost = estimates.get(contestant.id, 0.0)
        blocking = next((p for p in capped if cost > 0 and p.spent + committed + cost > (p.cap or 0.0) + 1e-12), None)
        if blocking is None:
            committed += cost
            kept.add(contestant.id)
        else:
            reason = f"over this channel's {ADJECTIVE[blocking.name]} budget: {money(blocking.left or 0.0)} of {money(blocking.cap or 0.0)} left"
            left_out[contestant.id] = Availability(contestant, False, reason)
    chosen = [c for c in contestants if c.id in kept]
    skipped = [left_out[c.id] for c in contestants if c.id in left_out]
    if chosen:
        return Fit(chosen, skipped)
    cheapest = min(estimates.get(c.id, 0.0) for c in contestants)
    over = [p for p in capped if p.spent + cheapest > (p.cap or 0.0) + 1e-12]
    lines = "; ".join(f"{p.describe()}, and the cheapest model here would cost about {money(cheapest)}" for p in over)
    return Fit([], skipped, f"This task would pass this channel's budget, so nothing was asked: {lines}.")
