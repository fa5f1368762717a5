"""Shared fixtures: a migrated database on SQLite and, when available, on PostgreSQL.

`database` is parametrised over both backends, so every test that uses it runs twice. PostgreSQL
comes from SAMVERKAN_TEST_POSTGRES_URL (scripts/test.sh starts a private server and sets it);
when it is unset the PostgreSQL runs are skipped, unless SAMVERKAN_REQUIRE_POSTGRES=1 (CI), which
turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from knowledge.loader import KnowledgeBase
from knowledge.search import SearchIndex
from storage.db import Database

PG_ENV = "SAMVERKAN_TEST_POSTGRES_URL"

# The built search index is cached in the checkout (its name is a hash of what it was built
# from, so every test process and the CLI subprocesses share it), never in the user's home.
os.environ.setdefault(
    "SAMVERKAN_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".tmp" / "cache")
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """A parallel run (pytest-xdist, before its test processes start): the models the tests
    load from the cache are built first, in parallel, once (tests/warm_caches.py)."""
    config = session.config
    workers = getattr(config.option, "numprocesses", None)
    if hasattr(config, "workerinput") or not workers or config.option.collectonly:
        return
    from tests.warm_caches import warm

    warm(workers if isinstance(workers, int) else os.cpu_count() or 1)


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist hands each process one test at a time as it finishes one (keeping two
    queued) instead of a quarter of its share at once, unless --maxschedchunk says otherwise:
    with the long tests first (below), no process is left with several of them while the other
    has finished (a run handed out in chunks of 199 tests left one process 190 s alone)."""
    if getattr(config.option, "maxschedchunk", "") is None:
        config.option.maxschedchunk = 1


# Handed out first, longest first, so that the long tests are spread over the processes and the
# run ends with short ones: these (each 10-30 s), then the other slow-marked tests, then these
# long ones of the fast suite; otherwise the order of the files.
LONGEST = (
    "tests/knowledge/test_add_topic.py",
    "tests/browser/",
    "tests/kommun/test_walkthrough.py",
    "tests/e2e/test_reminders",
)
LONG = (
    "tests/dialogs/test_concern_paths.py::test_every_path",
    "tests/forums/test_scheduler.py",
    "tests/knowledge/test_situation_cache.py",
    "tests/knowledge/test_search.py::test_scoring",
    "tests/knowledge/test_search.py::test_the_topic_model",
    "tests/dialogs/test_router.py::test_services",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.nodeid.startswith(LONGEST):
            return 0
        if item.get_closest_marker("slow") is not None:
            return 1
        return 2 if item.nodeid.startswith(LONG) else 3

    items.sort(key=rank)


def cached_index(kb: KnowledgeBase) -> SearchIndex:
    """The search index of `kb`, built once and then loaded from the tests' cache directory
    (as the server does): a test process starts in a fraction of the 2.5 s a build takes."""
    return SearchIndex.load_or_build(kb, Path(os.environ["SAMVERKAN_CACHE_DIR"]))


def postgres_admin_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("SAMVERKAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is not set but SAMVERKAN_REQUIRE_POSTGRES=1")
        return None
    return url


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server of `admin_url`."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def _connect(admin_url: str, database: str | None = None) -> AsyncIterator[Any]:
    """A plain asyncpg connection to `database` (default: the admin URL's own)."""
    import asyncpg  # type: ignore[import-untyped]

    u = make_url(admin_url)
    conn = await asyncpg.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        password=u.password,
        database=database or u.database,
    )
    try:
        yield conn
    finally:
        await conn.close()


async def _admin_exec(admin_url: str, sql: str) -> None:
    async with _connect(admin_url) as conn:
        await conn.execute(sql)


async def create_from_template(admin_url: str, name: str, template: str) -> None:
    """CREATE DATABASE `name` as a copy of `template`. PostgreSQL 15+ copies the files
    (STRATEGY FILE_COPY: ~0.13 s for the migrated template, against ~0.32 s for the default
    WAL_LOG, which writes every block to the WAL); older servers know only the copy."""
    import asyncpg

    sql = f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
    try:
        await _admin_exec(admin_url, f"{sql} STRATEGY FILE_COPY")
    except asyncpg.PostgresSyntaxError:
        await _admin_exec(admin_url, sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database to copy per test (CREATE DATABASE … TEMPLATE)."""
    admin = postgres_admin_url()
    if admin is None:
        yield None
        return
    name = f"samverkan_tmpl_{uuid.uuid4().hex[:10]}"

    async def setup() -> None:
        await _admin_exec(admin, f'CREATE DATABASE "{name}"')
        db = Database(database_url(admin, name))
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(setup())
    _PG_EMPTYING[name] = asyncio.run(_emptying(admin, name))
    yield name
    left = _PG_FREE.pop(name, [])  # the emptied databases kept for tests that did not come
    ahead = _PG_AHEAD.pop(name, None)  # the copy made for a test that did not come
    if ahead is not None:
        left.append(ahead.result())
    for db_name in [*left, name]:
        asyncio.run(_admin_exec(admin, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


# The next PostgreSQL test database of this process, copied from the template in a thread while
# the current test runs (a copy takes ~0.13 s; the tests need ~200 of them).
_PG_AHEAD: dict[str, concurrent.futures.Future[str]] = {}
_PG_COPIER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pg-copy")


def _copy_of(admin: str, template: str) -> str:
    name = f"samverkan_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_from_template(admin, name, template))
    return name


# A finished test's database, emptied, is kept for the next test of this process instead of
# being dropped: emptying it (TRUNCATE of the app's tables; after the migrations only
# alembic_version has rows) costs the PostgreSQL server ~0.01 CPU-s, a copy of the template
# 0.05-0.2 CPU-s, more while other tests write. Measured 2026-12-07 on the 113 PostgreSQL tests
# outside tests/e2e and the scheduler (-n 2): the server's CPU 33 -> 12 s, the run 34 -> 21 s;
# the whole suite 38 -> 19 CPU-s of the server. A database whose schema a test changed is
# dropped, not kept.
_PG_FREE: dict[str, list[str]] = {}
# Per template: its schema and migration as _SHAPE_SQL sums them up, and the TRUNCATE that
# empties a database of that shape.
_PG_EMPTYING: dict[str, tuple[str, str]] = {}
_SHAPE_SQL = """
SELECT md5(coalesce(string_agg(x, ';' ORDER BY x), '')) FROM (
  SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':'
         || coalesce(column_default, '') AS x
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT indexname || ':' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT conrelid::regclass || '.' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'revision:' || version_num FROM alembic_version
) AS shape
"""


async def _emptying(admin_url: str, template: str) -> tuple[str, str]:
    async with _connect(admin_url, template) as conn:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version' ORDER BY tablename"
        )
        quoted = ", ".join(f'"{r[0]}"' for r in tables)
        return str(await conn.fetchval(_SHAPE_SQL)), f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"


async def _give_back(admin_url: str, name: str, template: str) -> None:
    """Empty a finished test's database and keep it for the next test; drop it if its schema is
    no longer the template's or it cannot be emptied at once."""
    import asyncpg

    shape, truncate = _PG_EMPTYING[template]
    kept = False
    async with _connect(admin_url, name) as conn:
        try:
            await conn.execute("SET lock_timeout = '2s'")
            # What a test left connected (a session lock, a temporary table) goes with its
            # session.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if await conn.fetchval(_SHAPE_SQL) == shape:
                await conn.execute(truncate)
                kept = True
        except asyncpg.PostgresError:
            kept = False
    if kept:
        _PG_FREE.setdefault(template, []).append(name)
    else:
        await _admin_exec(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def pg_database(template: str | None) -> AsyncIterator[str]:
    """The URL of an empty database with the template's schema, given back when done (the test
    is skipped without PostgreSQL)."""
    admin = postgres_admin_url()
    if admin is None or template is None:
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    name = await _fresh_pg_database(admin, template)
    try:
        yield database_url(admin, name)
    finally:
        await _give_back(admin, name, template)


async def _fresh_pg_database(admin: str, template: str) -> str:
    """An empty database with the template's schema: one a finished test gave back, else the
    copy made ahead if there is one (then the next copy is started)."""
    free = _PG_FREE.get(template)
    if free:
        return free.pop()
    ahead = _PG_AHEAD.pop(template, None)
    if ahead is None:
        ahead = _PG_COPIER.submit(_copy_of, admin, template)
    name = await asyncio.wrap_future(ahead)
    _PG_AHEAD[template] = _PG_COPIER.submit(_copy_of, admin, template)
    return name


_SQLITE_TEMPLATE: list[Path] = []  # this process's migrated SQLite file, made on first use


async def migrated_sqlite(path: Path) -> Database:
    """A migrated SQLite database at `path`: a copy of a file this test process migrated once
    (copying takes a millisecond, running the migrations ~70 ms per test)."""
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="samverkan-sqlite-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "template.sqlite3"
        db = Database(f"sqlite+aiosqlite:///{template}")
        try:
            await db.migrate()
        finally:
            await db.dispose()
        _SQLITE_TEMPLATE.append(template)
    shutil.copyfile(_SQLITE_TEMPLATE[0], path)
    return Database(f"sqlite+aiosqlite:///{path}")


async def make_database(
    backend: str, tmp_path: Path, pg_template: str | None
) -> tuple[Database, str | None]:
    if backend == "sqlite":
        return await migrated_sqlite(tmp_path / "test.sqlite3"), None
    admin = postgres_admin_url()
    if admin is None or pg_template is None:
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    name = await _fresh_pg_database(admin, pg_template)
    db = Database(database_url(admin, name))
    return db, name


@pytest.fixture(params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None
) -> AsyncIterator[Database]:
    """A fresh, migrated database; the test runs once per backend."""
    db, pg_name = await make_database(request.param, tmp_path, pg_template)
    try:
        yield db
    finally:
        await db.dispose()
        if pg_name is not None:
            admin = postgres_admin_url()
            assert admin is not None and pg_template is not None
            await _give_back(admin, pg_name, pg_template)


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated SQLite database, for tests that are not about the backend."""
    db = await migrated_sqlite(tmp_path / "test.sqlite3")
    try:
        yield db
    finally:
        await db.dispose()
