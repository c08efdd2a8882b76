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
LABEL_LIMIT = 80  # Discord's button label limit
_KINDS = "|".join(kind.value for kind in ActionKind)


class ArenaButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=rf"{PREFIX}:(?P<kind>{_KINDS}):(?P<id>[0-9]{{1,19}})"):
    """A ▶ Run, 🔁 Retry or 🔓 Reveal button; its custom id carries the kind and the target id."""

    def __init__(self, kind: ActionKind, target_id: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=(label or kind.value.title())[:LABEL_LIMIT], style=_STYLES[kind],
                                           custom_id=custom_id(kind, target_id)))
        self.kind = kind
        self.target_id = target_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ArenaButton:
        return cls(ActionKind(match["kind"]), int(match["id"]), getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await cast(ActionHandler, interaction.client).on_arena_action(interaction, self.kind, self.target_id)


BUTTONS: tuple[type[ArenaButton], ...] = (ArenaButton,)


def actions_view(actions: list[Action]) -> discord.ui.View | None:
    """A persistent view (no timeout) with one button per action, or None without actions."""
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions[:25]:
        view.add_item(ArenaButton(action.kind, action.target_id, action.label))
    return view
