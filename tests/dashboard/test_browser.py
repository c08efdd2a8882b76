"""The dashboard in a real browser: Debian's headless Chromium (/usr/bin/chromium, which `make test`
installs when missing) driven by Playwright, against a real `codegen-bot web` process over a
seeded SQLite file. A person opens the link `/codegen dashboard` gave, drills down from the
leaderboard to a model and to a task, uses the filters; without a valid link nothing opens."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from bot.dashboard_access import DashboardAccess
from storage.db import Store
from tests.dashboard.seed import NEEDLE, Seeded, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BIN = Path(sys.executable).with_name("codegen-bot")
KEY = "browser-test-signing-key-0123456789"


@dataclass
class Server:
    url: str
    seeded: Seeded
    access: DashboardAccess

    def link(self, path: str = "/") -> str:
        return self.access.link("slack:U0ANN", path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`codegen-bot web` on a free port over a seeded SQLite database; stopped afterwards."""
    home = tmp_path_factory.mktemp("dashboard-browser")
    url = f"sqlite:///{home / 'codegen.db'}"
    store = Store(url)
    store.upgrade()
    seeded = seed(store)
    store.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CODEGEN_HOME": str(home), "DATABASE_URL": url, "DASHBOARD_SECRET": KEY,
           "DASHBOARD_URL": base, "DASHBOARD_LINK_HOURS": "2"}
    log = (home / "web.log").open("wb")
    process = subprocess.Popen([str(BIN), "web", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"codegen-bot web did not start: {(home / 'web.log').read_text()}") from None
                time.sleep(0.1)
        yield Server(base, seeded, DashboardAccess(KEY, base_url=base, link_hours=2))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the distribution (never a downloaded one)."""
    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's own sandbox refuses to run as root
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookie) per test, failing on any console error (a CSP refusal, a 404)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        refusal = "status of 401" in message.text or "status of 403" in message.text  # the refusal pages
        if message.type == "error" and not refusal:
            problems.append(message.text)

    tab.on("console", on_console)
    yield tab
    context.close()
    assert problems == []


def _images_loaded(page: Page) -> list[int]:
    return page.eval_on_selector_all(".charts img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_drill_down_from_the_leaderboard_to_a_model_and_to_a_task(server: Server, page: Page) -> None:
    response = page.goto(server.link())
    assert response is not None and response.status == 200
    assert "link=" not in page.url  # the link became a cookie and left the address bar
    expect(page.locator("h1")).to_contain_text("Leaderboard")
    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#value-lines")).to_contain_text("Best value")
    assert all(width > 300 for width in _images_loaded(page)), "both charts load (PNG, allowed by the CSP)"

    page.get_by_role("link", name="Alpha Coder").first.click()
    expect(page.locator("#model-name")).to_contain_text("Alpha Coder")
    expect(page.locator("#stat-cost")).to_contain_text("$0.0020")
    expect(page.locator("#stat-latency")).to_have_text("1.8 s")
    expect(page.locator("#stat-tests")).to_contain_text("1/1")
    heat = page.locator('#head-to-head td[data-row="alpha"][data-col="gamma"]')
    expect(heat).to_contain_text("81%")
    expect(heat).to_have_class("heat-8")
    assert heat.evaluate("td => getComputedStyle(td).backgroundColor") != "rgba(0, 0, 0, 0)"  # the stylesheet applied

    page.locator("#model-answers").get_by_role("link", name=f"#{server.seeded.needle_task}").click()
    expect(page.locator("#task-title")).to_contain_text(f"Task #{server.seeded.needle_task}")
    expect(page.locator(".prompt")).to_contain_text(NEEDLE)
    answers = page.locator("#turn-1 article.answer")
    expect(answers).to_have_count(3)
    boxes = [answers.nth(i).bounding_box() for i in range(3)]
    assert all(b is not None for b in boxes)
    assert len({round(b["y"]) for b in boxes if b}) == 1, "side by side: one row"
    assert [b["x"] for b in boxes if b] == sorted(b["x"] for b in boxes if b)
    expect(answers.nth(0)).to_contain_text("A · Alpha Coder")
    expect(answers.nth(0).locator(".footer")).to_have_text("⏱ 1.8 s · first token 0.45 s · 40→120 tokens · $0.0020")
    expect(answers.nth(0)).to_contain_text("Tests: passed (3/3 passed)")
    run = answers.nth(1).locator("details.run")
    expect(run.locator("summary")).to_contain_text("exit 0")
    expect(run.locator("pre.out")).not_to_be_visible()
    run.locator("summary").click()  # <details>: no script needed to open the run's output
    expect(run.locator("pre.out")).to_have_text("beta-run-output")

    page.locator("#nav-leaderboard").click()
    expect(rows).to_have_count(3)  # the session cookie still holds on the next page


def test_the_filters_narrow_the_leaderboard_and_the_task_list(server: Server, page: Page) -> None:
    page.goto(server.link())
    page.select_option("#category", "web")
    page.click("#apply")
    assert "category=web" in page.url
    expect(page.locator("h1")).to_contain_text("Web/backend")
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("Beta LM")
    page.select_option("#category", "data")
    page.select_option("#window", "7d")
    page.click("#apply")
    assert "window=7d" in page.url and "category=data" in page.url
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("Alpha Coder")
    assert page.locator("#window").input_value() == "7d"

    page.locator("#nav-tasks").click()
    expect(page.locator("#task-count")).to_have_text("26 tasks")
    page.fill("#q", NEEDLE)
    page.click("#search")
    expect(page.locator("#tasks tbody tr")).to_have_count(1)
    expect(page.locator("#tasks")).to_contain_text(NEEDLE)
    page.fill("#q", "")
    page.select_option("#channel", "discord:4242")
    page.click("#search")
    expect(page.locator("#task-count")).to_have_text("12 tasks")
    page.select_option("#category", "data")
    page.click("#search")
    expect(page.locator("#no-tasks")).to_be_visible()
    page.select_option("#channel", "")
    page.click("#search")
    expect(page.locator("#task-count")).to_have_text("12 tasks")
    page.locator("#tasks .task-link").first.click()
    expect(page.locator(".prompt")).to_contain_text("pandas")


def test_without_a_valid_link_the_browser_gets_a_refusal_page(server: Server, page: Page,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    response = page.goto(server.url + f"/tasks/{server.seeded.needle_task}")
    assert response is not None and response.status == 401
    expect(page.locator("#message-title")).to_have_text("This dashboard needs a link")
    expect(page.locator("#message-detail")).to_contain_text("/codegen dashboard")
    expect(page.locator("body")).not_to_contain_text(NEEDLE)
    expect(page.locator("#nav-tasks")).to_have_count(0)

    tampered = server.link().replace("link=", "link=x")
    response = page.goto(tampered)
    assert response is not None and response.status == 403
    expect(page.locator("#message-title")).to_have_text("This link is not valid")

    given = time.time() - 3 * 3600  # a link `/codegen dashboard` gave three hours ago (it works for two)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: given)
    old = server.link()
    monkeypatch.undo()
    response = page.goto(old)
    assert response is not None and response.status == 403
    expect(page.locator("#message-title")).to_have_text("This link has expired")
    response = page.goto(server.url + "/")
    assert response is not None and response.status == 401  # and it left no cookie behind
