"""The engine and sessions: SQLite (WAL) by default, PostgreSQL for teams with several replicas."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from bot.errors import StorageUnavailable
from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class Store:
    """One database: `session()` for work, `upgrade()` to apply migrations."""

    def __init__(self, url: str) -> None:
        """Raises :class:`StorageUnavailable` when ``url`` is malformed or its folder unusable."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            if self.is_sqlite:
                _ensure_parent_dir(url)
                self.engine: Engine = create_engine(
                    url, connect_args={"check_same_thread": False, "timeout": 30}
                )
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            raise StorageUnavailable(f"DATABASE_URL is not a usable database URL ({error})") from None
        # SQLite takes one writer at a time and its busy handler sleeps up to 100 ms per retry,
        # so concurrent writers from many threads crawl: give it a single worker thread instead.
        self._executor = ThreadPoolExecutor(
            max_workers=1 if self.is_sqlite else 8, thread_name_prefix="store"
        )

    async def run(self, fn: Callable[Concatenate[Store, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a blocking query function ``fn(store, ...)`` off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, self, *args, **kwargs))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def upgrade(self) -> None:
        """Apply every pending migration (idempotent; safe to call on every start).

        The first connection is made here: a database that cannot be reached raises
        :class:`StorageUnavailable` saying which one and why.
        """
        try:
            with self.engine.begin() as connection:
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except exc.OperationalError as error:  # refused, unknown host, locked, unreadable file, …
            raise StorageUnavailable(f"cannot open the database {self.public_url}: {_reason(error)}") from None

    @property
    def public_url(self) -> str:
        """The URL with its password hidden (for messages and logs)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection and the worker threads."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _ensure_parent_dir(url: str) -> None:
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(
                f"cannot create the folder {folder} for the SQLite database {path}: "
                f"{error.strerror or error} (set DATABASE_URL or CODEGEN_HOME)") from None


def _reason(error: exc.DBAPIError) -> str:
    """The driver's first line (e.g. 'connection refused'), without the SQL or the URL's password."""
    text = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return text.rstrip(".") or type(error.orig).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
