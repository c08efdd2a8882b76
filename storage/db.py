"""The engine and sessions: SQLite (WAL) by default, PostgreSQL for teams with several replicas."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session, SQLModel, create_engine

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.errors import StorageUnavailable, classify

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=SQLModel)
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long a user-facing first write (the dedupe claim, the new task) waits for another process's
# SQLite write lock before the user is told the database is busy.
SQLITE_CLAIM_TIMEOUT_MS = 2_000
# Any constant shared by every replica: they take this PostgreSQL advisory lock to migrate one at a time.
MIGRATION_LOCK_KEY = 0x636F_6465_6765_6E  # "codegen"


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
            raise StorageUnavailable("unreachable", f"DATABASE_URL is not a usable database URL ({error})") from None
        event.listen(self.engine, "before_cursor_execute", _scrub_parameters, retval=True)
        event.listen(self.engine, "handle_error", _raise_unavailable)
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

    @contextmanager
    def fail_fast(self, connection: Connection) -> Iterator[Connection]:
        """On SQLite, wait at most ``SQLITE_CLAIM_TIMEOUT_MS`` for another writer's lock inside the
        block (a user is waiting for an answer); elsewhere, nothing changes."""
        if not self.is_sqlite:
            yield connection
            return
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_CLAIM_TIMEOUT_MS}")
        try:
            yield connection
        finally:
            if not connection.invalidated:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def upgrade(self) -> None:
        """Apply every pending migration (idempotent; safe to call on every start).

        On PostgreSQL the migration holds an advisory lock for its transaction, so replicas that
        start together migrate one after the other (the later ones find nothing left to do). On
        SQLite foreign keys are off while migrating: a batch migration rebuilds a table by copying
        it, which would trip the references to it. The first connection is made here: a database
        that cannot be reached raises :class:`StorageUnavailable` saying which one and why.
        """
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    connection.commit()
                try:
                    with connection.begin():
                        if connection.dialect.name == "postgresql":
                            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                        config = alembic_config(self.url)
                        config.attributes["connection"] = connection
                        command.upgrade(config, "head")
                finally:
                    if self.is_sqlite and not connection.invalidated:
                        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                        connection.commit()
        except StorageUnavailable as error:  # refused, unknown host, locked, unreadable file, …
            cause = str(error.__cause__ or error).strip().splitlines()[0].rstrip(".")
            raise StorageUnavailable(error.kind, f"cannot open the database {self.public_url}: {cause}") from None
        except exc.OperationalError as error:
            raise StorageUnavailable("unreachable", f"cannot open the database {self.public_url}: {_reason(error)}") from None

    @property
    def upsert(self) -> Any:
        """This dialect's ``insert``, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    @property
    def public_url(self) -> str:
        """The URL with its password hidden (for messages and logs)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection and the worker threads."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def from_row(model: type[M], row: Mapping[Any, Any]) -> M:
    """A table model instance holding a full row (a Core result's mapping), as ``model(**row)``
    makes it but without its per-field work (some 20 times cheaper: rows are read per answer)."""
    if not _mappers_configured:
        _configure_mappers()
    instance: M = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(row)
    object.__setattr__(instance, "__pydantic_fields_set__", set(row))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def new_row(model: type[M], **values: Any) -> M:
    """A new (not yet inserted) table model instance, as ``model(**values)`` makes it with its
    defaults filled in, but without pydantic's per-field validation (tasks build one per answer)."""
    static, factories, required = _defaults(model)
    if missing := required - values.keys():
        raise TypeError(f"{model.__name__} needs {', '.join(sorted(missing))}")
    return from_row(model, {**static, **{n: make() for n, make in factories.items()}, **values})


@functools.cache
def _defaults(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]], frozenset[str]]:
    """A model's static defaults, its default factories (timestamps) and its required fields."""
    fields = model.model_fields
    static = {n: f.default for n, f in fields.items() if not f.is_required() and f.default_factory is None}
    factories = {n: f.default_factory for n, f in fields.items() if f.default_factory is not None}
    required = frozenset(n for n, f in fields.items() if f.is_required())
    return static, factories, required  # type: ignore[return-value]


_mappers_configured = False


def _configure_mappers() -> None:
    """What the ORM does before its first instance: the attributes' loaders are set up."""
    global _mappers_configured
    configure_mappers()
    _mappers_configured = True


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
                "unreachable", f"cannot create the folder {folder} for the SQLite database {path}: "
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
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


NUL = "\x00"
NUL_REPLACEMENT = "\ufffd"


def scrub_text(value: str) -> str:
    """Text as the database can hold it: PostgreSQL's text type cannot contain NUL, so every
    NUL becomes U+FFFD (on both backends, so both store the same thing)."""
    return value.replace(NUL, NUL_REPLACEMENT) if NUL in value else value


def _scrub(value: Any) -> Any:
    return scrub_text(value) if isinstance(value, str) else value


def _scrub_parameters(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
    """The one place text is made storable: every bound string of every statement, any table."""
    if executemany and not isinstance(parameters, dict):  # insertmanyvalues passes one flat dict
        return statement, [_scrub_one(p) for p in parameters]
    return statement, _scrub_one(parameters)


def _scrub_one(parameters: Any) -> Any:
    if isinstance(parameters, dict):
        if any(isinstance(v, str) and NUL in v for v in parameters.values()):
            return {k: _scrub(v) for k, v in parameters.items()}
        return parameters
    if isinstance(parameters, (list, tuple)) and any(isinstance(v, str) and NUL in v for v in parameters):
        return type(parameters)(_scrub(v) for v in parameters)
    return parameters


def _raise_unavailable(context: ExceptionContext) -> None:
    """Turn "locked", "full" and "unreachable" database errors into :class:`StorageUnavailable`."""
    if context.is_pre_ping:  # the pool is probing a pooled connection: let it reconnect
        return
    kind = classify(context.original_exception)
    if kind is not None:
        raise StorageUnavailable(kind, f"the database is {kind}: {str(context.original_exception).splitlines()[0][:200]}") \
            from context.original_exception
