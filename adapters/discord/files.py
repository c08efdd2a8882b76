"""The attachments of a Discord message, fetched for the core from Discord's CDN.

discord.py downloads them (``Attachment.read``) with no Authorization header: the CDN needs no
token, so the bot token never leaves for a file. Which files are worth fetching is the core's
rule (:func:`bot.attachments.to_read`); a failure is reported on the file, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord

from bot.attachments import to_read
from bot.events import AttachedFile

log = logging.getLogger(__name__)


async def attached_files(attachments: Sequence[discord.Attachment]) -> tuple[AttachedFile, ...]:
    """Every attachment as the core takes it: read, or why not."""
    picked = to_read([(a.filename, a.size, a.content_type) for a in attachments])
    out = []
    for attachment, read in zip(attachments, picked, strict=True):
        listed = AttachedFile(attachment.filename, size=attachment.size, mimetype=attachment.content_type)
        out.append(await _read(attachment, listed) if read else listed)
    return tuple(out)


async def _read(attachment: discord.Attachment, listed: AttachedFile) -> AttachedFile:
    try:
        content = await attachment.read()
    except discord.NotFound:
        error = "Discord no longer has it (deleted?)"
    except discord.HTTPException as exc:
        error = f"Discord's file host answered HTTP {exc.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("fetching Discord attachment %s failed: %r", attachment.id, exc)
        error = "could not connect to Discord's file host"
    else:
        return AttachedFile(listed.name, content, size=max(len(content), listed.size or 0), mimetype=listed.mimetype)
    return AttachedFile(listed.name, size=listed.size, mimetype=listed.mimetype, error=error)
