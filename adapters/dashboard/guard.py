"""The dashboard's door: every request needs a signed link, the session cookie it left, or the
operator's token (bot/dashboard_access.py); every response carries a strict CSP and no-store.

A valid ``?link=`` (or ``?token=``) sets the session cookie and redirects to the same page
without it, so the credential leaves the address bar and the browser history. ``Authorization:
Bearer <DASHBOARD_TOKEN>`` (scripts) is checked on each request and sets no cookie. Refusals are a
small HTML page: 401 without any credential, 403 with one that is not valid or has expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.datastructures import URL, MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.dashboard_access import COOKIE, LINK_PARAM, MISSING, TOKEN_PARAM, DashboardAccess, Denied, Grant

log = logging.getLogger(__name__)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
OPEN_PREFIXES = ("/static/",)  # the stylesheet: the refusal page uses it too; it holds nothing private

Refusal = Callable[[Request, Denied], Response]


class Guard:
    """ASGI middleware in front of the dashboard's routes (see the module docstring).

    ``refuse`` renders a :class:`Denied` as a page. The grant a request carries is put in
    ``scope["state"]["grant"]`` for the pages to show (who, until when).
    """

    def __init__(self, app: ASGIApp, access: DashboardAccess, refuse: Refusal) -> None:
        self.app, self.access, self.refuse = app, access, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        request = Request(scope)
        route = scope["path"][len(scope.get("root_path", "")):] or "/"
        if route.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            grant, from_query = self._grant(request)
        except Denied as denied:
            log.info("dashboard: refused %s (%s)", route, denied.title)
            response = self.refuse(request, denied)
            if denied.status == 401:
                response.headers["www-authenticate"] = 'Bearer realm="codegen-dashboard"'
            await response(scope, receive, send)
            return
        if from_query:  # set the cookie, then show the page without the credential in its address
            target = URL(scope=scope).remove_query_params([LINK_PARAM, TOKEN_PARAM])
            here = "/" + target.path.lstrip("/")  # never "//host": that would leave for another site
            redirect = RedirectResponse(here + (f"?{target.query}" if target.query else ""), status_code=303)
            redirect.set_cookie(COOKIE, self.access.session(grant), max_age=max(1, int(grant.until - self.access.now())),
                                path=scope.get("root_path") or "/", httponly=True, samesite="lax",
                                secure=request.url.scheme == "https")
            await redirect(scope, receive, send)
            return
        scope.setdefault("state", {})["grant"] = grant
        await self.app(scope, receive, send)

    def _grant(self, request: Request) -> tuple[Grant, bool]:
        """The request's credential, checked: (grant, whether it came in the query string)."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and bearer:
            return self.access.check_token(bearer.strip()), False
        if LINK_PARAM in request.query_params:
            return self.access.check_link(request.query_params[LINK_PARAM]), True
        if TOKEN_PARAM in request.query_params:
            return self.access.check_token(request.query_params[TOKEN_PARAM]), True
        cookie = request.cookies.get(COOKIE)
        if cookie:
            return self.access.check_session(cookie), False
        raise MISSING()


def _with_headers(send: Send) -> Send:
    """``send`` that adds :data:`HEADERS` to the response's start."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in HEADERS.items():
                headers.setdefault(name, value)
        await send(message)

    return sending
