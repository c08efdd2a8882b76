"""The dashboard over HTTP: who gets in, what each page shows, the filters (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from yarl import URL

from adapters.dashboard.app import build_dashboard
from app.web import WebServer, build_web_app
from bot.dashboard_access import COOKIE
from storage.models import Answer, Task
from storage.tasks import create_task
from tests.dashboard.conftest import TOKEN, Site, fetch, text_of
from tests.dashboard.seed import NEEDLE

SECURITY = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def first_model(html: str) -> str:
    """The first model name in the leaderboard table."""
    return re.findall(r'class="model-link"[^>]*>([^<]+)</a>', html)[0]


async def test_without_a_valid_link_or_token_every_page_is_refused_with_a_clear_page(site: Site) -> None:
    async with site.client() as browser:
        for path in ("/", "/models/alpha", "/tasks", f"/tasks/{site.seeded.needle_task}", "/charts/value.png"):
            status, html, response = await fetch(browser, site.base + path)
            assert status == 401, path
            assert "This dashboard needs a link" in html and "/codegen dashboard" in html
            assert response.headers["www-authenticate"] == 'Bearer realm="codegen-dashboard"'
            assert "Alpha Coder" not in html and "pandas" not in html
        altered = site.link()[:-3] + "xyz"
        status, html, _ = await fetch(browser, altered)
        assert status == 403 and "This link is not valid" in html
        status, html, _ = await fetch(browser, site.base + "/?token=guess")
        assert status == 403 and "Wrong token" in html
        status, html, _ = await fetch(browser, site.base + "/", headers={"Authorization": "Bearer guess"})
        assert status == 403 and "Wrong token" in html
        forged = {COOKIE: "eyJ3IjoidG9rZW4ifQ.forged.sig"}
        status, html, _ = await fetch(browser, site.base + "/", cookies=forged)
        assert status == 403 and "This link is not valid" in html


async def test_a_link_sets_a_session_cookie_and_leaves_the_address_bar(site: Site) -> None:
    async with site.client() as browser:
        status, _, response = await fetch(browser, site.link("/tasks", q="pandas"), allow_redirects=False)
        assert status == 303
        assert response.headers["location"] == "/dashboard/tasks?q=pandas"
        cookie = response.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "lax" and cookie["path"] == "/dashboard"
        assert 24 * 3600 - 60 <= int(cookie["max-age"]) <= 24 * 3600
        for header, value in SECURITY.items():
            assert response.headers[header] == value
        status, html, response = await fetch(browser, site.base + "/tasks?q=pandas")
        assert status == 200 and "12 tasks" in text_of(html)
        for header, value in SECURITY.items():
            assert response.headers[header] == value
        assert "<script" not in html and " style=" not in html  # nothing the CSP would have to block


async def test_an_expired_link_and_an_expired_session_are_refused(site: Site) -> None:
    link = site.link()
    async with site.client() as browser:
        assert (await fetch(browser, link))[0] == 200  # opens, and leaves a cookie
        site.clock.offset = 24 * 3600 + 1
        status, html, _ = await fetch(browser, site.base + "/")
        assert status == 403 and "This link has expired" in html
    async with site.client() as fresh:
        status, html, _ = await fetch(fresh, link)
        assert status == 403 and "This link has expired" in html and "/codegen dashboard" in html


async def test_the_operator_token_opens_it_as_a_bearer_or_once_in_the_address(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as script:
        status, html, response = await fetch(script, site.base + "/?category=data")
        assert status == 200 and COOKIE not in response.cookies and first_model(html) == "Alpha Coder"
    async with site.client() as browser:
        status, _, response = await fetch(browser, f"{site.base}/tasks?token={TOKEN}", allow_redirects=False)
        assert status == 303 and response.headers["location"] == "/dashboard/tasks"
        assert (await fetch(browser, f"{site.base}/tasks?token={TOKEN}"))[0] == 200
        assert (await fetch(browser, site.base + "/models/beta"))[0] == 200


async def test_the_leaderboard_filters_by_window_and_category_and_serves_its_charts(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        status, html, _ = await fetch(b, site.base + "/")
        page = text_of(html)
        assert status == 200 and "72 ballots on 24 tasks" in page
        assert "Gamma Tiny" in page and "no price" in page and "best value" in page
        assert "<td>1/1</td>" in html  # Alpha's one test run, on the algorithms task
        _, data, _ = await fetch(b, site.base + "/?category=data")
        assert first_model(data) == "Alpha Coder" and "<td>1/1</td>" not in data  # not a data task's run
        assert first_model((await fetch(b, site.base + "/?category=web&window=7d"))[1]) == "Beta LM"
        _, html, _ = await fetch(b, site.base + "/?category=sql")
        assert "No rated comparisons of SQL tasks in this window yet" in text_of(html)
        for chart in ("leaderboard", "value"):
            status, _, response = await fetch(b, f"{site.base}/charts/{chart}.png?category=data&window=28d")
            assert status == 200 and response.content_type == "image/png"
        async with b.get(site.base + "/charts/value.png") as response:
            assert (await response.read()).startswith(b"\x89PNG")
        status, html, _ = await fetch(b, site.base + "/?window=fortnight")
        assert status == 400 and "Unknown window 'fortnight'" in text_of(html)
        status, html, _ = await fetch(b, site.base + "/?category=cobol")
        assert status == 400 and "Unknown category 'cobol'" in text_of(html)


async def test_a_model_page_shows_cost_latency_tests_and_head_to_head(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        status, html, _ = await fetch(b, site.base + "/models/alpha")
        assert status == 200
        page = text_of(html)
        assert "Alpha Coder" in page and "$0.0020" in page and "1.8 s" in page and "1/1 (100%" in page
        # Alpha over Gamma: 12 data tasks won, 3 web tasks won, 9 tied, by 3 raters, each pair weighing 1/2
        cell = re.search(r'data-row="alpha" data-col="gamma">([^<]+)<small>([^<]+)</small>', html)
        assert cell is not None and cell.groups() == ("81%", "36.0")
        assert 'class="heat-8" data-row="alpha" data-col="gamma"' in html
        tasks = re.findall(r'href="/dashboard/tasks/(\d+)"', html)
        assert str(site.seeded.needle_task) in tasks and str(site.seeded.blind_task) not in tasks
        _, html, _ = await fetch(b, site.base + "/models/alpha?category=web")
        beta = re.search(r'data-row="beta" data-col="alpha">([^<]+)<', html)  # web: 9 won, 3 tied of 12
        assert beta is not None and beta.group(1) == "88%"
        status, html, _ = await fetch(b, site.base + "/models/nosuch")
        assert status == 404 and "No such model here" in html


async def test_the_task_list_searches_and_filters(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        async def listed(query: str) -> list[int]:
            status, html, _ = await fetch(b, f"{site.base}/tasks?{query}")
            assert status == 200, html
            return [int(n) for n in re.findall(r'class="task-link" href="/dashboard/tasks/(\d+)"', html)]

        assert len(await listed("")) == 26
        assert await listed(f"q={NEEDLE.upper()}") == [site.seeded.needle_task]
        assert await listed("q=100%25") == []  # % and _ match themselves, not anything
        assert sorted(await listed("q=_")) == site.seeded.data_tasks  # sales_3.csv
        assert sorted(await listed("category=web")) == site.seeded.web_tasks
        assert sorted(await listed("channel=discord:4242")) == site.seeded.web_tasks
        assert await listed("q=pandas&channel=discord:4242") == []
        assert len(await listed("category=python&channel=slack:C0DATA")) == 13
        status, html, _ = await fetch(b, f"{site.base}/tasks?channel=nowhere")
        assert status == 400 and "Unknown channel 'nowhere'" in text_of(html)


async def test_a_task_page_shows_every_answer_with_its_footer_ratings_runs_and_tests(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        status, html, _ = await fetch(b, f"{site.base}/tasks/{site.seeded.needle_task}")
        page = text_of(html)
        assert status == 200 and f"Implement a {NEEDLE} insert" in page
        assert html.count('<article class="answer') == 3
        assert "A · Alpha Coder" in page and "B · Beta LM" in page and "C · Gamma Tiny" in page
        assert "⏱ 1.8 s · first token 0.45 s · 40→120 tokens · $0.0020" in page
        assert "Tests: passed (3/3 passed)" in page and "★ 5.0 (1)" in page
        assert "Run 1: exit 0 · 41 ms" in page and "beta-run-output" in page
        assert 'id="turn-1"' in html
        status, html, _ = await fetch(b, f"{site.base}/tasks/{site.seeded.blind_task}")
        page = text_of(html)
        assert status == 200 and "Answer A" in page and "Answer C" in page
        assert "Alpha" not in page and "Gamma" not in page and "/models/" not in html
        status, html, _ = await fetch(b, f"{site.base}/tasks/99999")
        assert status == 404 and "There is no task #99999" in html


async def test_what_people_typed_is_shown_as_text_never_as_markup(site: Site) -> None:
    task, _ = create_task(site.store, Task(platform="slack", channel="C0X", requester_id="U1",
                                           requester_name="<b>mallory</b>", text='<script>alert("x")</script> fix'),
                          [Answer(task_id=0, contestant_id="alpha", contestant_name="<img src=x>", label="A",
                                  text="```html\n<script>alert(2)</script>\n```")])
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        for path in (f"/tasks/{task.id}", "/tasks"):
            _, html, _ = await fetch(b, site.base + path)
            assert "<script" not in html and "<b>mallory" not in html and "<img src=x>" not in html
            assert "&lt;script&gt;alert(" in html



async def test_after_a_link_the_redirect_never_leaves_the_site(site: Site) -> None:
    """Served at / (as `codegen-bot web` does), a path like //evil.example must not become a redirect there."""
    access = site.access
    app = build_web_app(mounts={"": build_dashboard(site.store, access, bootstrap=50)})
    async with WebServer(app, "127.0.0.1", 0) as server, site.client() as browser:
        signed = urlsplit(site.link()).query
        url = URL(f"http://127.0.0.1:{server.port}//evil.example/?{signed}", encoded=True)
        status, _, response = await fetch(browser, url, allow_redirects=False)
        assert status == 303 and response.headers["location"] == "/evil.example/"


async def test_a_conversation_shows_every_turn_as_its_own_section(site: Site) -> None:
    root = site.seeded.needle_task
    follow, _ = create_task(site.store, Task(platform="slack", channel="C0DATA", requester_id="U0BOB",
                                             text="now make delete work too", root_id=root, turn=2),
                            [Answer(task_id=0, contestant_id=m, contestant_name=n, label=label, position=i,
                                    text=f"turn two from {m}", latency_ms=500.0)
                             for i, (m, n, label) in enumerate([("beta", "Beta LM", "A"), ("alpha", "Alpha Coder", "B")])])
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        for task_id in (root, follow.id):  # a follow-up's number opens its conversation
            status, html, _ = await fetch(b, f"{site.base}/tasks/{task_id}")
            page = text_of(html)
            assert status == 200 and f"Task #{root}" in page
            assert 'id="turn-1"' in html and 'id="turn-2"' in html
            assert "Turn 1" in page and f"Turn 2 follow-up #{follow.id}" in page
            second = html[html.index('id="turn-2"'):]
            assert "now make delete work too" in second and second.count('<article class="answer') == 2
            assert "A · Beta LM" in text_of(second) and "turn two from alpha" in second


async def test_the_follow_ups_board_is_its_own_not_the_whole_board_cached(site: Site) -> None:
    async with site.client(Authorization=f"Bearer {TOKEN}") as b:
        _, whole, _ = await fetch(b, site.base + "/")
        assert "72 ballots on 24 tasks" in text_of(whole)
        status, html, _ = await fetch(b, site.base + "/?category=follow-ups")
        assert status == 200 and "72 ballots on 24 tasks" not in text_of(html)  # no follow-up is rated here
