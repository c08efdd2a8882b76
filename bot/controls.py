"""Channel controls (issue 12): settings, roster, house prompt, budget and usage commands.

Anyone may look (``/codegen settings``, ``models``, ``prompt``, ``budget``, ``usage``) and forget
themselves (``/codegen forget``, :mod:`bot.retention`); only
admins (:func:`bot.permissions.is_channel_admin`) change a setting, and every change is recorded
(who, when, old → new) in :mod:`storage.controls`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import budget, render
from bot.events import ControlRequested, Event, notify_safely
from bot.messages import Field, Message
from bot.permissions import REFUSAL, is_channel_admin
from bot.retention import forget_command
from bot.roster import Contestant, check_availability
from bot.services import Services
from bot.surface import Surface
from storage import controls as db
from storage.leaderboard import channel_settings
from storage.models import ChannelSettings, SettingsChange

CONTROLS = ("settings", "models", "prompt", "budget", "usage", "forget")
MAX_PROMPT_CHARS = 1000
_SHAPES = {  # what follows each control word for it to be a command (else the text is a task)
    "settings": re.compile(r"^$"),
    "models": re.compile(r"^(?:(?:use|set)\b.*|reset|list)?$", re.IGNORECASE | re.DOTALL),
    "prompt": re.compile(r"^(?:set\b.*|clear|show)?$", re.IGNORECASE | re.DOTALL),
    "budget": re.compile(r"^(?:off|show|\$?\d.*)?$", re.IGNORECASE | re.DOTALL),
    "usage": re.compile(r"^(?:\d{1,3}\s*d(?:ays?)?)?$", re.IGNORECASE),
    "forget": re.compile(r"^(?:confirm)?$", re.IGNORECASE),
}
NAMES = {"models": "models", "prompt": "prompt", "budget_daily_usd": "daily budget",
         "budget_monthly_usd": "monthly budget", "blind": "blind mode", "autorun": "smoke runs",
         "subscribed": "weekly leaderboard"}
UNSET = {"models": "all", "prompt": "none", "budget_daily_usd": "default", "budget_monthly_usd": "default"}


def parse_control(text: str) -> tuple[str, str] | None:
    """``"models use a,b"`` → ("models", "use a,b"); None when the text is not a control command
    (e.g. "prompt engineering helper in Python" is a task)."""
    word, _, rest = text.strip().partition(" ")
    control, rest = word.lower(), rest.strip()
    shape = _SHAPES.get(control)
    return (control, rest) if shape is not None and shape.match(rest) else None


def system_prompt(contestant: Contestant, channel_prompt: str | None) -> str:
    """The contestant's system prompt, with the channel's instruction (``/codegen prompt set``) after it."""
    if not channel_prompt:
        return contestant.system_prompt
    return f"{contestant.system_prompt}\n\nThis team's instructions (follow them in every answer): {channel_prompt}"


def channel_roster(row: ChannelSettings | None) -> list[str] | None:
    """The channel's chosen contestant ids, or None (the whole roster)."""
    return [m for m in row.models.split(",") if m] if row and row.models else None


def shown(key: str, value: str | None) -> str:
    """A recorded value as people read it."""
    if value is None:
        return UNSET.get(key, "none")
    if key.startswith("budget_"):
        return budget.money(float(value))
    if key == "prompt":
        return f"“{value if len(value) <= 60 else value[:59] + '…'}”"
    if key == "models":
        return value.replace(",", ", ")
    return value


def change_line(change: SettingsChange) -> str:
    """'2026-12-02 10:03 UTC · alice · models: all → alpha, beta'."""
    when = change.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{when} · {change.user_name or change.user_id} · {NAMES.get(change.key, change.key)}: "
            f"{shown(change.key, change.old)} → {shown(change.key, change.new)}")


class Controls:
    """Handles :class:`~bot.events.ControlRequested` and the admin rule of every settings change."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def change(self, event: Event, surface: Surface, channel: str, values: dict[str, Any],
                     what: str) -> list[SettingsChange] | None:
        """Change channel settings when the user is an admin (recording each change); otherwise
        tell them privately why not and return None."""
        services = self.services
        if not await is_channel_admin(services.settings, event.platform, event.user, surface):
            await notify_safely(event, render.error(REFUSAL.format(what=what)))
            return None
        return await services.store.run(db.change_settings, event.platform, channel, event.user.id,
                                        event.user.name, values)

    async def handle(self, event: ControlRequested, surface: Surface) -> None:
        """Show or change one control (see the module docstring)."""
        handler = {"settings": self._settings, "models": self._models, "prompt": self._prompt,
                   "budget": self._budget, "usage": self._usage, "forget": self._forget}.get(event.control)
        if handler is None:
            await notify_safely(event, render.usage())
            return
        await handler(event, surface)

    async def _row(self, event: ControlRequested) -> ChannelSettings | None:
        return await self.services.store.run(channel_settings, event.platform, event.channel)

    # ------------------------------------------------------------------------ settings

    async def _settings(self, event: ControlRequested, surface: Surface) -> None:
        row = await self._row(event)
        history = await self.services.store.run(db.settings_history, event.platform, event.channel)
        ids = channel_roster(row)
        caps = budget.caps(self.services.settings, row)
        fields = [
            Field("Models", ", ".join(ids) + " (chosen here)" if ids else "the whole roster"),
            Field("Prompt", shown("prompt", row.prompt) if row and row.prompt else "none"),
            Field("Budget", " · ".join(
                f"{budget.money(cap)}/{period} ({source})" if cap is not None else f"no {budget.ADJECTIVE[period]} cap"
                for period, (cap, source) in caps.items())),
            Field("Blind mode", "on" if row and row.blind else "off"),
            Field("Smoke runs", "on" if row and row.autorun else "off"),
            Field("Weekly leaderboard", "on" if row and row.subscribed else "off"),
        ]
        changes = "\n".join(f"• {change_line(c)}" for c in history) or "none yet"
        await notify_safely(event, Message(title="⚙️ This channel's settings", fields=fields,
                                           text=f"*Recent changes*\n{changes}"))

    # ------------------------------------------------------------------------ models

    async def _models(self, event: ControlRequested, surface: Surface) -> None:
        verb, _, rest = event.args.partition(" ")
        verb = verb.lower()
        if verb in ("", "list"):
            await self._list_models(event)
            return
        roster = self.services.roster
        if verb == "reset":
            value = None
        else:
            wanted = [w for w in re.split(r"[\s,]+", rest) if w]
            if not wanted:
                await notify_safely(event, render.error(
                    f"Name the models: `/codegen models use a,b,c`. Known: {', '.join(roster.ids)}."))
                return
            unknown = [w for w in wanted if roster.get(w) is None]
            if unknown:
                await notify_safely(event, render.error(
                    f"Unknown model id(s): {', '.join(unknown)}. Known: {', '.join(roster.ids)}. Nothing was changed."))
                return
            value = ",".join(dict.fromkeys(wanted))
        changed = await self.change(event, surface, event.channel, {"models": value}, "models")
        if changed is None:
            return
        now = "the whole roster" if value is None else value.replace(",", ", ")
        await notify_safely(event, render.info(f"✅ New tasks in this channel ask {now}."
                                               if changed else f"This channel already asks {now}."))

    async def _list_models(self, event: ControlRequested) -> None:
        row = await self._row(event)
        ids = channel_roster(row)
        lines = []
        for item in check_availability(self.services.roster, self.services.settings):
            c = item.contestant
            price = (f"{budget.money(c.price_in or 0)}/{budget.money(c.price_out or 0)} per M tokens"
                     if c.price_in is not None or c.price_out is not None else "no price (costs nothing here)")
            if ids is not None and c.id not in ids:
                state = "➖ not in this channel's roster"
            elif item.available:
                state = "✅ available"
            else:
                state = f"⛔ unavailable: {item.reason}"
            lines.append(f"• **{c.name}** (`{c.id}`): {state} · {price}")
        gone = [m for m in ids or [] if self.services.roster.get(m) is None]
        lines += [f"• `{m}`: ⛔ no longer in the roster file" for m in gone]
        scope = "the models chosen for this channel" if ids else "the whole roster (no channel choice)"
        await notify_safely(event, Message(title="🤖 Models in this channel", text=(
            f"New tasks here ask {scope}.\n" + "\n".join(lines)
            + "\nAdmins: `/codegen models use a,b,c` or `/codegen models reset`.")))

    # ------------------------------------------------------------------------ prompt

    async def _prompt(self, event: ControlRequested, surface: Surface) -> None:
        verb, _, text = event.args.partition(" ")
        verb, text = verb.lower(), text.strip()
        if verb in ("", "show"):
            row = await self._row(event)
            await notify_safely(event, render.info(
                f"This channel's instruction to every model:\n> {row.prompt}" if row and row.prompt else
                "This channel adds no instruction to the models' prompts. Admins: `/codegen prompt set <text>`."))
            return
        if verb == "set" and not text:
            await notify_safely(event, render.error("Usage: `/codegen prompt set <instruction>`, e.g. "
                                                    "`/codegen prompt set we use Python 3.12, FastAPI and pytest`."))
            return
        if len(text) > MAX_PROMPT_CHARS:
            await notify_safely(event, render.error(
                f"That instruction is {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}. Nothing was changed."))
            return
        value = text if verb == "set" else None
        if await self.change(event, surface, event.channel, {"prompt": value}, "prompt") is None:
            return
        await notify_safely(event, render.info(
            f"✅ Every model in this channel now also gets: “{value}”" if value else
            "✅ This channel's instruction is cleared: models get their own prompts only."))

    # ------------------------------------------------------------------------ budget

    async def _budget(self, event: ControlRequested, surface: Surface) -> None:
        if event.args.lower() in ("", "show"):
            await notify_safely(event, await self.budget_message(event.platform, event.channel))
            return
        try:
            caps = budget.parse_caps(event.args)
        except ValueError as exc:
            await notify_safely(event, render.error(str(exc)))
            return
        values = {f"budget_{'daily' if p == 'day' else 'monthly'}_usd": cap for p, cap in caps.items()}
        if await self.change(event, surface, event.channel, values, "budget") is None:
            return
        await notify_safely(event, await self.budget_message(event.platform, event.channel, "✅ Budget updated."))

    async def budget_message(self, platform: str, channel: str, lead: str = "") -> Message:
        """Each cap of the channel with its spend and when it resets."""
        services = self.services
        row = await services.store.run(channel_settings, platform, channel)
        periods = await services.store.run(budget.status, services.settings, platform, channel, row)
        lines = [f"• {'Daily' if p.name == 'day' else 'Monthly'}: {p.describe()}" for p in periods]
        return Message(title="💰 This channel's budget", text="\n".join(
            ([lead] if lead else []) + lines + ["Models with no price cost nothing and are never left out."]))

    async def fit(self, platform: str, channel: str, row: ChannelSettings | None,
                  contestants: list[Contestant], text_chars: int) -> tuple[budget.Fit, dict[str, float]]:
        """Which contestants this task may ask under the channel's caps, and each one's estimate
        (``text_chars``: the size of what follows the system prompt)."""
        prompt = row.prompt if row else None
        estimates = {c.id: budget.estimate(c, len(system_prompt(c, prompt)) + text_chars) for c in contestants}
        services = self.services
        if not any(estimates.values()) or all(cap is None for cap, _ in budget.caps(services.settings, row).values()):
            return budget.Fit(list(contestants), []), estimates
        periods = await services.store.run(budget.status, services.settings, platform, channel, row,
                                           only_capped=True)
        return budget.fit(contestants, estimates, periods), estimates

    async def _forget(self, event: ControlRequested, surface: Surface) -> None:
        await forget_command(self.services, event)

    # ------------------------------------------------------------------------ usage

    async def _usage(self, event: ControlRequested, surface: Surface) -> None:
        days = int(re.sub(r"\D", "", event.args) or 7)
        if not 1 <= days <= 366:
            await notify_safely(event, render.error("Usage: `/codegen usage [7d|30d]` (1 to 366 days)."))
            return
        since = datetime.now(UTC) - timedelta(days=days)
        models, channels = await self.services.store.run(db.usage, since, platform=event.platform)
        text = usage_table(models, channels, days)
        budget_now = await self.budget_message(event.platform, event.channel)
        await notify_safely(event, Message(title=f"📊 Usage, last {days} days", text=text + "\n\n*Budget here*\n"
                                           + (budget_now.text or "")))


def usage_table(models: Sequence[db.UsageRow], channels: Sequence[db.UsageRow], days: int, fence: str = "```") -> str:
    """Usage by model and by channel as two aligned tables (in code blocks unless ``fence`` is empty)."""
    if not models:
        return f"No tasks in the last {days} days."

    def table(title: str, rows: Sequence[db.UsageRow]) -> str:
        width = max(12, *(len(r.name) for r in rows))
        head = f"{title:<{width}} {'tasks':>6} {'answers':>8} {'tokens in→out':>16} {'cost':>10}"
        body = [f"{r.name:<{width}} {r.tasks:>6} {r.answers:>8} {f'{r.prompt_tokens:,}→{r.completion_tokens:,}':>16}"
                f" {budget.money(r.cost_usd):>10}" for r in rows]
        return "\n".join([fence, head, *body, fence] if fence else [head, *body, ""])

    total = sum(r.cost_usd for r in models)
    return f"{table('model', models)}\n{table('channel', channels)}\nTotal: {budget.money(total)}"
