"""Persistent buttons: ``DynamicItem``s whose custom id carries the answer (or task) id.

Registered once with ``client.add_dynamic_items(*BUTTONS)``, they keep working after a restart:
discord.py matches the custom id template on any component interaction and rebuilds the item.
A press is handed to ``interaction.client.on_arena_action(interaction, kind, target_id)``.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from bot.messages import Action, ActionKind

PREFIX = "codegen"


class ActionHandler(Protocol):
    """What the client offers the buttons."""

    async def on_arena_action(self, interaction: discord.Interaction[Any], kind: ActionKind,
                              target_id: int) -> None: ...


def custom_id(kind: ActionKind, target_id: int) -> str:
    """The custom id of a button: ``codegen:<kind>:<id>``."""
    return f"{PREFIX}:{kind.value}:{target_id}"


_STYLES = {ActionKind.RUN: discord.ButtonStyle.success, ActionKind.RETRY: discord.ButtonStyle.secondary,
           ActionKind.REVEAL: discord.ButtonStyle.primary}


class _ArenaButton:
    """Shared behaviour; each concrete button also derives from ``DynamicItem`` with its template."""

    kind: ActionKind

    def __init__(self, target_id: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(  # type: ignore[call-arg]label=(label or self.kind.value.title())[:80],
                                           style=_STYLES[self.kind],
                                           custom_id=custom_id(self.kind, target_id)))
        self.target_id = target_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> _ArenaButton:
        return cls(int(match["id"]), getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await cast(ActionHandler, interaction.client).on_arena_action(interaction, self.kind, self.target_id)


class RunButton(_ArenaButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"{PREFIX}:run:(?P<id>[0-9]{{1,19}})"):
    """▶ Run an answer's code."""

    kind = ActionKind.RUN


class RetryButton(_ArenaButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"{PREFIX}:retry:(?P<id>[0-9]{{1,19}})"):
    """🔁 Retry a failed answer."""

    kind = ActionKind.RETRY


class RevealButton(_ArenaButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"{PREFIX}:reveal:(?P<id>[0-9]{{1,19}})"):
    """Reveal a blind task's model names."""

    kind = ActionKind.REVEAL


BUTTONS: tuple[type[_ArenaButton], ...] = (RunButton, RetryButton, RevealButton)
_BY_KIND = {b.kind: b for b in BUTTONS}


def actions_view(actions: list[Action]) -> discord.ui.View | None:
    """A persistent view (no timeout) with one button per action, or None without actions."""
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions[:25]:
        view.add_item(_BY_KIND[action.kind](action.target_id, action.label))  # type: ignore[arg-type]
    return view
