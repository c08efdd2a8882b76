"""Who may change what. One place for the rule, so issue 12's channel admins extend it here."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.events import User
from bot.surface import KnowsAdmins, Surface
from storage.models import Task

log = logging.getLogger(__name__)
REFUSAL = ("Only admins can change this channel's {what}: people listed in CODEGEN_ADMINS, Slack workspace "
           "admins and owners, and Discord members with Manage Server. Nothing was changed.")


def is_admin(settings: Settings, platform: str, user_id: str) -> bool:
    """Whether the user is an admin: for now, listed in ``CODEGEN_ADMINS`` (platform user ids)."""
    return bool(user_id) and user_id in settings.admins


def may_change_task(settings: Settings, platform: str, user_id: str, task: Task) -> bool:
    """Whether the user may correct a task's category: the asker, or an admin."""
    asker = task.platform == platform and task.requester_id == user_id
    return bool(user_id) and (asker or is_admin(settings, platform, user_id))


async def is_channel_admin(settings: Settings, platform: str, user: User, surface: Surface) -> bool:
    """Whether the user may change channel settings: listed in ``CODEGEN_ADMINS``, flagged as a
    server admin by the adapter (Discord's Manage Server), or a workspace admin or owner by the
    surface's lookup (Slack's users.info). A lookup that fails counts as no."""
    if is_admin(settings, platform, user.id) or (user.admin and bool(user.id)):
        return True
    if user.id and isinstance(surface, KnowsAdmins):
        try:
            return await surface.is_workspace_admin(user.id)
        except Exception as exc:  # the platform could not say: refuse, and say so in the log
            log.warning("could not look up whether %s is an admin: %s", user.id, exc)
    return False
