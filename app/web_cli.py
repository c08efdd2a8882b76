"""`codegen-bot web`: the dashboard alone, on DASHBOARD_PORT (default 8077), with /healthz and /metrics."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


def add_cli(sub: Any) -> None:
    """Register the `web` subcommand on ``sub`` (argparse subparsers)."""
    web = sub.add_parser("web", help="serve the read-only dashboard (open it with `/codegen dashboard` or DASHBOARD_TOKEN)")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    web.add_argument("--port", type=int, default=None, help="port (default DASHBOARD_PORT, else 8077)")
    web.set_defaults(func=web_command)


def web_command(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted."""
    from app.wiring import configure_logging, run_async
    from bot.config import Settings

    settings = Settings.from_env()
    configure_logging(args.verbose or args.debug, settings)
    return run_async(serve_dashboard(settings, args.host, args.port or settings.dashboard_port))


async def serve_dashboard(settings: Settings, host: str, port: int) -> int:
    """The dashboard at ``/`` beside /healthz and /metrics, until cancelled or SIGTERM/SIGINT."""
    import asyncio

    from adapters.dashboard.app import build_dashboard
    from app.serve import stop_on_signals
    from app.web import build_web_app, header_timeout_from_env, running
    from bot.dashboard_access import DashboardAccess, base_url
    from storage.db import Store

    store = Store(settings.database_url)
    store.upgrade()
    stop = asyncio.Event()
    try:
        app = build_web_app(mounts={"": build_dashboard(store, DashboardAccess.from_settings(settings))})
        async with running(app, host, port, header_timeout=header_timeout_from_env()) as server:
            print(f"dashboard on http://{host}:{server.port}/ (links point at {base_url(settings)}); "
                  "open it with a `/codegen dashboard` link or DASHBOARD_TOKEN", flush=True)
            with stop_on_signals(stop):
                await stop.wait()
    finally:
        store.dispose()
    return 0
