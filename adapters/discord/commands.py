"""The ``/codegen`` application command group: ask, leaderboard, tag, subscribe, unsubscribe, blind,
autorun, dashboard, and the channel controls settings, models, prompt, budget, usage (issue 12).

Discord does not allow options on a command that also has subcommands, so the task is
``/codegen ask task:<text>``. Commands are synced by ``codegen-bot discord-sync``, never on start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot import categories
from bot.choosing import split_ids
from bot.events import (
    AutorunChanged,
    BlindModeChanged,
    ControlRequested,
    DashboardRequested,
    LeaderboardRequested,
    SubscriptionChanged,
    TagRequested,
)

if TYPE_CHECKING:
    from adapters.discord.client import ArenaClient

MODES = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
WINDOWS = [app_commands.Choice(name="last 7 days", value="7d"),
           app_commands.Choice(name="last 28 days", value="28d"),
           app_commands.Choice(name="all time", value="all")]
KINDS = [app_commands.Choice(name=k.label, value=k.slug) for k in categories.KINDS]
LANGUAGES = [app_commands.Choice(name=lang.label, value=lang.slug) for lang in categories.LANGUAGES]
TURNS = [app_commands.Choice(name="Follow-ups (turns after the first)", value=categories.FOLLOWUPS)]


def _choices(*values: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=v, value=v) for v in values]


async def _control(interaction: discord.Interaction[Any], control: str, *words: str | None) -> None:
    """Hand a channel control to the core with its arguments as the chat command would type them."""
    channel = str(interaction.channel_id)
    args = " ".join(w for w in words if w).strip()
    await _client(interaction).command_simple(
        interaction, lambda base: ControlRequested(channel=channel, control=control, args=args, **base))


def _client(interaction: discord.Interaction[Any]) -> ArenaClient:
    return cast("ArenaClient", interaction.client)


def codegen_group() -> app_commands.Group:
    """Build the command group (fresh per client: a group belongs to one tree)."""
    group = app_commands.Group(name="codegen", description="Compare code-generation models on a task",
                               guild_only=True)

    @group.command(name="ask", description="Ask every model for a solution; answers stream into a thread")
    @app_commands.describe(task="What to build, e.g. 'a FastAPI CRUD app with JWT auth'",
                           test="A test every answer is run against, e.g. 'assert is_even(4) and not is_even(3)'",
                           show_tests="Send the test to the models too (default: hidden from them)",
                           models="Only these models, e.g. 'gpt-4o,llama-3.2-3b' (default: the channel's roster)")
    async def ask(interaction: discord.Interaction[Any], task: str, test: str | None = None,
                  show_tests: bool = False, models: str | None = None) -> None:
        await _client(interaction).command_task(interaction, task, tests=(test,) if test else (),
                                                show_tests=show_tests, models=split_ids(models))

    @group.command(name="leaderboard", description="Show the current standings")
    @app_commands.describe(window="Which ratings to count (default: last 28 days)",
                           category="Only tasks of this kind of work or language, or follow-ups")
    @app_commands.choices(window=WINDOWS, category=KINDS + LANGUAGES + TURNS)
    async def leaderboard(interaction: discord.Interaction[Any],
                          window: app_commands.Choice[str] | None = None,
                          category: app_commands.Choice[str] | None = None) -> None:
        channel = str(interaction.channel_id)
        await _client(interaction).command_simple(interaction, lambda base: LeaderboardRequested(
            channel=channel, window=window.value if window else "28d",
            category=category.value if category else None, **base))

    @group.command(name="tag", description="Correct a task's category (the asker or an admin)")
    @app_commands.describe(task="The task number (#12 in its header)", kind="Its kind of work",
                           language="Its language")
    @app_commands.choices(kind=KINDS, language=LANGUAGES)
    async def tag(interaction: discord.Interaction[Any], task: app_commands.Range[int, 1],
                  kind: app_commands.Choice[str] | None = None,
                  language: app_commands.Choice[str] | None = None) -> None:
        tags = tuple(choice.value for choice in (kind, language) if choice is not None)
        await _client(interaction).command_simple(
            interaction, lambda base: TagRequested(task_id=task, tags=tags, **base))

    @group.command(name="subscribe", description="Post the weekly leaderboard in this channel")
    async def subscribe(interaction: discord.Interaction[Any]) -> None:
        channel = str(interaction.channel_id)
        await _client(interaction).command_simple(
            interaction, lambda base: SubscriptionChanged(channel=channel, subscribed=True, **base))

    @group.command(name="unsubscribe", description="Stop the weekly leaderboard post in this channel")
    async def unsubscribe(interaction: discord.Interaction[Any]) -> None:
        channel = str(interaction.channel_id)
        await _client(interaction).command_simple(
            interaction, lambda base: SubscriptionChanged(channel=channel, subscribed=False, **base))

    @group.command(name="blind", description="Label answers A, B, C… here and reveal the models later")
    @app_commands.describe(mode="on: hide model names on new tasks in this channel; off: show them")
    @app_commands.choices(mode=MODES)
    async def blind(interaction: discord.Interaction[Any], mode: app_commands.Choice[str]) -> None:
        channel = str(interaction.channel_id)
        await _client(interaction).command_simple(
            interaction, lambda base: BlindModeChanged(channel=channel, enabled=mode.value == "on", **base))

    @group.command(name="autorun", description="Run every answer's code once when it finishes (smoke runs)")
    @app_commands.describe(mode="on: run each new answer's code once here; off: only when someone presses Run")
    @app_commands.choices(mode=MODES)
    async def autorun(interaction: discord.Interaction[Any], mode: app_commands.Choice[str]) -> None:
        channel = str(interaction.channel_id)
        await _client(interaction).command_simple(
            interaction, lambda base: AutorunChanged(channel=channel, enabled=mode.value == "on", **base))

    @group.command(name="dashboard", description="A private link to the read-only web dashboard (expires)")
    async def dashboard(interaction: discord.Interaction[Any]) -> None:
        await _client(interaction).command_simple(interaction, lambda base: DashboardRequested(**base))

    _controls(group)
    return group


def _controls(group: app_commands.Group) -> None:
    """settings, models, prompt, budget, usage: anyone looks; members with Manage Server change.
    forget: anyone, about themselves."""

    @group.command(name="settings", description="This channel's settings and their recent changes")
    async def settings(interaction: discord.Interaction[Any]) -> None:
        await _control(interaction, "settings")

    @group.command(name="models", description="The models this channel asks (admins: choose them)")
    @app_commands.describe(action="list (default), use: only these models here, reset: the whole roster",
                           ids="With use: model ids, e.g. 'gpt-4o,llama-3.2-3b'")
    @app_commands.choices(action=_choices("list", "use", "reset"))
    async def models(interaction: discord.Interaction[Any], action: app_commands.Choice[str] | None = None,
                     ids: str | None = None) -> None:
        await _control(interaction, "models", action.value if action else "list", ids)

    @group.command(name="prompt", description="An instruction added to every model's prompt here (admins set it)")
    @app_commands.describe(action="show (default), set, or clear", text="With set: e.g. 'we use Python 3.12 and pytest'")
    @app_commands.choices(action=_choices("show", "set", "clear"))
    async def prompt(interaction: discord.Interaction[Any], action: app_commands.Choice[str] | None = None,
                     text: str | None = None) -> None:
        await _control(interaction, "prompt", action.value if action else "show", text)

    @group.command(name="budget", description="This channel's spend and USD caps (admins set them)")
    @app_commands.describe(daily="Daily cap in USD", monthly="Monthly cap in USD",
                           off="Remove this channel's caps (the workspace default applies)")
    async def budget(interaction: discord.Interaction[Any], daily: app_commands.Range[float, 0] | None = None,
                     monthly: app_commands.Range[float, 0] | None = None, off: bool = False) -> None:
        caps = [f"{daily:f}/day" if daily is not None else None, f"{monthly:f}/month" if monthly is not None else None]
        await _control(interaction, "budget", "off" if off else None, *([] if off else caps))

    @group.command(name="usage", description="Tasks, tokens and cost by model and channel, and the budget left")
    @app_commands.describe(window="How far back (default: last 7 days)")
    @app_commands.choices(window=_choices("7d", "30d"))
    async def usage(interaction: discord.Interaction[Any], window: app_commands.Choice[str] | None = None) -> None:
        await _control(interaction, "usage", window.value if window else None)

    @group.command(name="forget", description="Delete your tasks and ratings here (shows what first)")
    @app_commands.describe(confirm="True: delete them now (without it: see what would be deleted)")
    async def forget(interaction: discord.Interaction[Any], confirm: bool = False) -> None:
        await _control(interaction, "forget", "confirm" if confirm else None)
