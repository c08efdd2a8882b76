"""The files of a Slack message (``files`` on an ``app_mention``), fetched with the bot token.

The token goes only to Slack's own file host (``https://files.slack.com``) and to the origin
(scheme, host and port) of ``SLACK_API_URL`` when one is set (a proxy, GovSlack, the tests' fake):
a file whose address, or a redirect, points anywhere else is not fetched, and the task's header
says so. Which files are worth fetching is the core's rule (:func:`bot.attachments.to_read`);
a failure is reported on the file (``AttachedFile.error``), never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.attachments import MAX_FILE_BYTES, to_read
from bot.events import AttachedFile

log = logging.getLogger(__name__)
SLACK_FILE_HOST = "https://files.slack.com"
MAX_REDIRECTS = 3
Origin = tuple[str, str, int]


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def trusted_origins(api_url: str | None) -> frozenset[Origin]:
    """Where the bot token may go: Slack's file host, and SLACK_API_URL's origin when it is set."""
    found = {origin(SLACK_FILE_HOST), origin(api_url) if api_url else None}
    return frozenset(o for o in found if o is not None)


class SlackFiles:
    """Fetches a message's files for the core, sending the token only to trusted origins."""

    def __init__(self, client: AsyncWebClient, token: str, api_url: str | None, timeout: float = 20.0) -> None:
        self.client = client
        self.token = token
        self.trusted = trusted_origins(api_url)
        self.timeout = timeout

    def may_receive_token(self, url: str) -> bool:
        """True only for an address on Slack's file host or SLACK_API_URL's origin."""
        return origin(url) in self.trusted

    async def fetch(self, files: Sequence[dict[str, Any]]) -> tuple[AttachedFile, ...]:
        """Every file of a message as the core takes it: read, or why not (see the module docstring)."""
        objects = [await self._complete(f) if isinstance(f, dict) else ({}, None) for f in files]
        picked = to_read([(_name(o), _size(o), o.get("mimetype")) for o, _ in objects])
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return tuple(await asyncio.gather(*(
                self._one(session, obj, error) if read else _unfetched(obj)
                for (obj, error), read in zip(objects, picked, strict=True))))

    async def _complete(self, obj: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """A partial file object (Slack Connect: ``file_access: check_file_info``) made whole by
        files.info; the error when that fails."""
        if obj.get("url_private") or obj.get("url_private_download") or not obj.get("id"):
            return obj, None
        try:
            response = await self.client.files_info(file=obj["id"])
        except SlackApiError as exc:
            return obj, f"files.info said {exc.response.get('error', 'error')}"
        return dict(response.get("file") or obj), None

    async def _one(self, session: aiohttp.ClientSession, obj: dict[str, Any], error: str | None) -> AttachedFile:
        listed = _listed(obj)
        try:
            if error:
                raise FetchError(error)
            content = await self._download(session, obj)
        except FetchError as exc:
            return AttachedFile(listed.name, size=listed.size, mimetype=listed.mimetype, error=str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("fetching Slack file %s failed: %r", obj.get("id"), exc)
            error = "timed out" if isinstance(exc, TimeoutError) else "could not connect to Slack's file host"
            return AttachedFile(listed.name, size=listed.size, mimetype=listed.mimetype, error=error)
        size = len(content) if len(content) > MAX_FILE_BYTES else listed.size
        return AttachedFile(listed.name, content, size=size, mimetype=listed.mimetype)

    async def _download(self, session: aiohttp.ClientSession, obj: dict[str, Any]) -> bytes:
        if obj.get("mode") in ("tombstone", "hidden_by_limit") or obj.get("is_tombstoned"):
            raise FetchError("Slack no longer shows it (deleted, or past the workspace's file history)")
        url = obj.get("url_private_download") or obj.get("url_private") or ""
        for _ in range(MAX_REDIRECTS + 1):
            if not self.may_receive_token(url):
                where = urlsplit(url).hostname or "an unknown address"
                raise FetchError(f"it is on {where}, not Slack's file host (the bot's token goes only there)")
            headers = {"Authorization": f"Bearer {self.token}"}
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    continue
                if resp.status != 200:
                    raise FetchError(f"Slack's file host answered HTTP {resp.status}")
                if resp.content_type == "text/html" and "html" not in (obj.get("mimetype") or ""):
                    raise FetchError("Slack sent its sign-in page instead (does the app have the files:read scope?)")
                return await _read_capped(resp)
        raise FetchError("too many redirects")


class FetchError(Exception):
    """Why one file could not be fetched (shown to people in the task's header)."""


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    """The body, stopping one byte past the core's per-file limit (so an oversized file is named as such)."""
    data = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            break
    return bytes(data)


async def _unfetched(obj: dict[str, Any]) -> AttachedFile:
    return _listed(obj)


def _listed(obj: dict[str, Any]) -> AttachedFile:
    """A file as the message lists it (not fetched)."""
    return AttachedFile(_name(obj), size=_size(obj), mimetype=obj.get("mimetype"))


def _name(obj: dict[str, Any]) -> str:
    return str(obj.get("name") or obj.get("title") or obj.get("id") or "file")


def _size(obj: dict[str, Any]) -> int | None:
    size = obj.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None
