"""The dashboard served by the real web app and server over a seeded store, and a client for it."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import aiohttp
import pytest

from adapters.dashboard.app import build_dashboard
from app.web import WebServer, build_web_app
from bot.dashboard_access import DashboardAccess
from storage.db import Store
from tests.dashboard.seed import Seeded, seed

KEY = "dashboard-test-key-0123456789abcdef"
TOKEN = "operator-token-0123456789"


class Clock:
    """Real time plus an offset a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Site:
    """A running dashboard: where it is, how to sign links for it, and the seeded ids."""

    base: str
    access: DashboardAccess
    clock: Clock
    seeded: Seeded
    store: Store

    def link(self, path: str = "/", **query: str) -> str:
        """A signed link as `/codegen dashboard` gives (pointing at this server)."""
        return self.access.link("slack:U0ANN", path, **query)

    def client(self, **headers: str) -> aiohttp.ClientSession:
        """A browser-like client: keeps cookies (also for 127.0.0.1), follows redirects."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)


async def fetch(session: aiohttp.ClientSession, url: str, **options: Any) -> tuple[int, str, aiohttp.ClientResponse]:
    async with session.get(url, **options) as response:
        body = await response.read()
        return response.status, body.decode("utf-8", "replace"), response


def text_of(html: str) -> str:
    """The page's visible text, roughly (tags dropped, entities decoded, whitespace collapsed)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
async def site(store: Store) -> AsyncIterator[Site]:
    """The dashboard at /dashboard on the web process's app, over a seeded store (SQLite and PostgreSQL)."""
    seeded = seed(store)
    clock = Clock()
    async with WebServer(build_web_app(mounts={"/dashboard": build_dashboard(store, _access(clock, ""), bootstrap=50)}),
                         "127.0.0.1", 0) as server:
        base = f"http://127.0.0.1:{server.port}/dashboard"
        yield Site(base, _access(clock, base), clock, seeded, store)


def _access(clock: Clock, base: str) -> DashboardAccess:
    return DashboardAccess(KEY, base_url=base, link_hours=24, token=TOKEN, clock=clock)
