"""The dashboard: server-rendered, read-only pages (Starlette + Jinja2, autoescaped, no script).

Routes, below whatever prefix it is mounted at (``/dashboard`` on the Slack HTTP server, ``/``
for ``codegen-bot web``):

    GET /                      the leaderboard (?window=7d|28d|all|<n>d|<n>w, ?category=data|python|…)
    GET /charts/leaderboard.png, /charts/value.png   its charts, same query
    GET /models/{model}        a model: score, cost, latency, tests, head-to-head win rates, answers
    GET /tasks                 the task list (?q= text, ?category=, ?channel=platform:channel, ?page=)
    GET /tasks/{id}            a task: every turn's answers side by side, ratings, runs, footers
    GET /static/style.css      the stylesheet

Every page goes through :class:`~adapters.dashboard.guard.Guard` (a signed link, its cookie, or
the token). What a page shows is built by :mod:`bot.dashboard`; this module parses the query,
runs that in a thread (database and numpy) and renders the template.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from adapters.dashboard.guard import Guard
from bot import dashboard as view
from bot.categories import describe
from bot.dashboard_access import DashboardAccess, Denied
from bot.leaderboard import Leaderboard, length_lines, needs, position_lines, render_chart
from bot.value import money, render_value_chart, value_summary
from storage.dashboard import TaskFilter
from storage.db import Store

HERE = Path(__file__).resolve().parent
BOARD_TTL_S = 60.0  # a board (and its charts) is rebuilt at most once a minute per filter
T = TypeVar("T")


class BadRequest(Exception):
    """A query the dashboard cannot use (its message says why)."""


class Dashboard:
    """The pages over one store; :meth:`asgi` is the app to serve or mount."""

    def __init__(self, store: Store, access: DashboardAccess, *, bootstrap: int = 1000) -> None:
        self.store, self.access, self.bootstrap = store, access, bootstrap
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True))
        self.templates.filters.update(money=money, seconds=_seconds, when=_when, percent=_percent, heat=_heat)
        self.templates.globals.update(needs=needs, describe=describe, windows=view.WINDOWS, categories=view.category_options())
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    def asgi(self) -> ASGIApp:
        routes = [
            Route("/", self.leaderboard),
            Route("/charts/leaderboard.png", self.leaderboard_chart),
            Route("/charts/value.png", self.value_chart),
            Route("/models/{model}", self.model),
            Route("/tasks", self.tasks),
            Route("/tasks/{task_id:int}", self.task),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ]
        app = Starlette(routes=routes, exception_handlers={BadRequest: self._bad_request, 404: self._not_found})
        return Guard(app, self.access, self._refuse)

    # --- pages ---------------------------------------------------------------------------------

    async def leaderboard(self, request: Request) -> Response:
        filters = _filters(request)
        board = await self._board(filters)
        return self._page(request, "leaderboard.html", filters=filters, board=board,
                          value_lines=value_summary(board),
                          bias_lines=position_lines(board) + length_lines(board))

    async def leaderboard_chart(self, request: Request) -> Response:
        return await self._chart(request, "leaderboard", render_chart)

    async def value_chart(self, request: Request) -> Response:
        return await self._chart(request, "value", render_value_chart)

    async def model(self, request: Request) -> Response:
        filters = _filters(request)
        model = request.path_params["model"]
        board = await self._board(filters)
        page = await asyncio.to_thread(view.model_page, self.store, model, filters, board)
        if page is None:
            return self._error(request, 404, "No such model here",
                               f"“{model}” has no answers or ratings in this window and category.")
        return self._page(request, "model.html", filters=filters, page=page)

    async def tasks(self, request: Request) -> Response:
        query = request.query_params
        try:
            category = view.Filters.parse(None, query.get("category"))
            platform, channel = view.parse_channel(query.get("channel"))
            page = int(query.get("page") or 1)
        except ValueError as exc:
            raise BadRequest(_sentence(exc)) from None
        chosen = category.category
        where = TaskFilter(search=(query.get("q") or "").strip() or None, kind=chosen.kind if chosen else None,
                           language=chosen.language if chosen else None, platform=platform, channel=channel)
        listing = await asyncio.to_thread(view.task_list, self.store, where, page)
        return self._page(request, "tasks.html", listing=listing, where=where, category=category.slug,
                          channel=query.get("channel") or "")

    async def task(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        page = await asyncio.to_thread(view.task_page, self.store, task_id)
        if page is None:
            return self._error(request, 404, "No such task", f"There is no task #{task_id}.")
        return self._page(request, "task.html", page=page)

    # --- helpers -------------------------------------------------------------------------------

    async def _board(self, filters: view.Filters) -> Leaderboard:
        return await self._cached(("board", *filters.key),
                                  lambda: view.leaderboard(self.store, filters, bootstrap=self.bootstrap))

    async def _chart(self, request: Request, name: str, draw: Callable[[Leaderboard], bytes]) -> Response:
        filters = _filters(request)
        board = await self._board(filters)
        png = await self._cached((name, *filters.key), lambda: draw(board))
        return Response(png, media_type="image/png")

    async def _cached(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        """``build()`` in a thread, reused for :data:`BOARD_TTL_S` seconds."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        value = await asyncio.to_thread(build)
        now = time.monotonic()
        for stale in [k for k, (until, _) in self._cache.items() if until <= now]:
            del self._cache[stale]  # only the last minute's filters stay in memory
        self._cache[key] = (now + BOARD_TTL_S, value)
        return value

    def _page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        state = request.scope.get("state") or {}
        html = self.templates.get_template(template).render(
            base=request.scope.get("root_path", ""), grant=state.get("grant"), path=request.url.path, **context)
        return HTMLResponse(html, status_code=status)

    def _error(self, request: Request, status: int, title: str, detail: str) -> HTMLResponse:
        return self._page(request, "message.html", status, status_code=status, title=title, detail=detail)

    def _refuse(self, request: Request, denied: Denied) -> Response:
        return self._error(request, denied.status, denied.title, denied.detail)

    async def _bad_request(self, request: Request, exc: Exception) -> Response:
        return self._error(request, 400, "That filter is not usable", str(exc))

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return self._error(request, 404, "No such page", "Use the links at the top of the page.")


def build_dashboard(store: Store, access: DashboardAccess, *, bootstrap: int = 1000) -> ASGIApp:
    """The dashboard's ASGI app over ``store``, guarded by ``access``."""
    return Dashboard(store, access, bootstrap=bootstrap).asgi()


def _filters(request: Request) -> view.Filters:
    try:
        return view.Filters.parse(request.query_params.get("window"), request.query_params.get("category"))
    except ValueError as exc:
        raise BadRequest(_sentence(exc)) from None


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _seconds(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _when(moment: datetime | float | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _heat(share: float | None) -> str:
    """The heatmap cell's class: heat-0 (always lost) … heat-10 (always won), none when never met."""
    return "none" if share is None else f"heat-{round(share * 10)}"
