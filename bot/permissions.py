"""Who may change what. One place for the rule, so issue 12's channel admins extend it here."""

from __future__ import annotations

from bot.config import Settings
from storage.models import Task


def is_admin(settings: Settings, platform: str, user_id: str) -> bool:
    """Whether the user is an admin: for now, listed in ``CODEGEN_ADMINS`` (platform user ids)."""
    return bool(user_id) and user_id in settings.admins


def may_change_task(settings: Settings, platform: str, user_id: str, task: Task) -> bool:
    """Whether the user may correct a task's category: the asker, or an admin."""
    asker = task.platform == platform and task.requester_id == user_id
    return bool(user_id) and (asker or is_admin(settings, platform, user_id))
