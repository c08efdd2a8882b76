"""Slack: `/codegen dashboard` replies privately with a signed link that opens the dashboard the
web process serves at /dashboard; the weekly post links it too."""

from __future__ import annotations

import html
import re

import aiohttp

from bot.dashboard_access import weekly_link
from bot.weekly import WeeklyPoster
from storage.leaderboard import set_subscription
from tests.dashboard.seed import seed
from tests.slack.conftest import Harness

LINK = re.compile(r"(http://[^\s'\"<>|]+/dashboard/\?link=[\w.-]+)")


def dashboard_base(h: Harness) -> str:
    return h.url.replace("/slack/events", "/dashboard")


async def test_the_dashboard_command_replies_privately_with_a_link_that_opens_it(harness: Harness) -> None:
    h = harness
    h.arena.settings.dashboard_url = dashboard_base(h)
    await h.command("write a stack class in Python")
    await h.settle()
    posts_before = len(h.slack.calls_to("chat.postMessage"))
    status, _ = await h.command("dashboard")
    await h.settle()
    assert status == 200
    reply = h.slack.responses[-1]
    assert reply["response_type"] == "ephemeral"
    found = LINK.search(str(reply))
    assert found is not None, reply
    assert "works for 24 h" in str(reply) and "don't post it" in str(reply)
    assert len(h.slack.calls_to("chat.postMessage")) == posts_before  # nothing in the channel
    link = html.unescape(found.group(1))
    assert link.startswith(dashboard_base(h) + "/?link=")

    async with aiohttp.ClientSession() as stranger, stranger.get(dashboard_base(h) + "/tasks") as response:
        assert response.status == 401 and "This dashboard needs a link" in await response.text()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(link) as response:
            assert response.status == 200 and str(response.url) == dashboard_base(h) + "/"
        async with browser.get(dashboard_base(h) + "/tasks") as response:
            page = await response.text()
            assert response.status == 200 and "write a stack class in Python" in page and "C0GENERAL" in page


async def test_the_weekly_post_links_the_dashboard_with_a_link_that_opens_it(harness: Harness) -> None:
    h = harness
    h.arena.settings.dashboard_url = dashboard_base(h)
    seed(h.arena.store)
    set_subscription(h.arena.store, "slack", "C0GENERAL", True)
    link = weekly_link(h.arena.settings)
    await WeeklyPoster(h.arena.store, {"slack": h.adapter.surface}, bootstrap=50, dashboard_link=link).tick()
    [post] = [c for c in h.slack.calls_to("chat.postMessage") if "Weekly leaderboard" in str(c.body)]
    found = re.search(r"Dashboard \(filters, charts, every task\): ([^\s'\"<>|]+)", str(post.body))
    assert found is not None, post.body
    url = html.unescape(found.group(1))
    assert url.startswith(dashboard_base(h) + "/?window=28d&link=")
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as browser, browser.get(url) as response:
        page = await response.text()
        assert response.status == 200 and "Alpha Coder" in page and "Beta LM" in page
