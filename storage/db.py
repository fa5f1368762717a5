"""Database engine, sessions and schema migrations (Alembic, applied at start)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import texts

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision of each branch in migrations/versions. A database already at exactly these
# is not handed to Alembic: importing it and reading the scripts was 0.1-0.15 s of CPU of every
# start. A new revision must be listed here (tests/test_db_smoke.py compares with Alembic's).
SCHEMA_HEADS = frozenset({"0004_kb_suggestions", "0005_registry_kommun", "0006_forums_kommun"})
# Any constant will do; it serialises concurrent migrations of several instances on PostgreSQL.
_PG_MIGRATION_LOCK = 7_344_118_001
# How long a database operation may take before it fails (connecting, waiting for a pooled
# connection, one statement; SQLite's wait for a lock). A database that hangs then gives the
# user the apology and /healthz a 503 within seconds, instead of no answer at all.
DEFAULT_TIMEOUT_SECONDS = 5.0


T = TypeVar("T")


class DatabaseUrlError(ValueError):
    pass


class DatabaseMissingError(RuntimeError):
    """The SQLite file is gone though this bot has used it before: refuse to start over silently
    (with an empty database and the example registry) — the message says what to do."""


def normalize_url(url: str) -> str:
    """Accept the usual spellings; pick the async driver (aiosqlite, asyncpg)."""
    try:
        u = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise DatabaseUrlError(texts().text("db.bad_url", url=url)) from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+asyncpg")
    else:
        raise DatabaseUrlError(texts().text("db.unsupported", backend=backend))
    return u.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite database URL (None for PostgreSQL or an in-memory database)."""
    u = make_url(normalize_url(url))
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    if "memory" in str(u.query.get("mode", "")):
        return None
    return Path(u.database or "").resolve()


def check_database_present(url: str) -> None:
    """Refuse to start over silently: DatabaseMissingError when an SQLite file this bot has used
    (its marker file says so) is gone – deleted, moved, or a volume not mounted. Starting afresh
    would lose the registry, the forums and every subscription without a word."""
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(path)


def _check_sqlite_file(path: Path) -> None:
    marker = path.with_name(path.name + ".created")
    if marker.exists() and not path.exists():
        raise DatabaseMissingError(texts().text("db.missing_file", path=path, marker=marker))


def describe_url(url: str) -> str:
    """The URL without its password, for logs and /healthz."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(DEFAULT_TIMEOUT_SECONDS * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Deleted content is overwritten with zeros, not left in free pages (Debian's build happens
    # to set this at compile time; others do not).
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class Database:
    """One engine and session factory per process, created by the app factory and disposed by it."""

    def __init__(
        self, url: str, *, echo: bool = False, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self.url = normalize_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.timeout = timeout
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                pool_timeout=timeout,
                connect_args={
                    "timeout": timeout,  # connecting (a server that accepts but never answers)
                    "command_timeout": timeout,  # each statement, on the client side
                    # ... and on the server: a statement never runs on for minutes.
                    "server_settings": {"statement_timeout": str(int(timeout * 1000))},
                },
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        # SQLite file: short transactions of the hot path (bot state) run on one thread of their
        # own over the plain sqlite3 driver – one hop per transaction instead of one per
        # statement and fetch through aiosqlite. (An in-memory database is per connection, so
        # it keeps the async engine.)
        self._sync_engine: Engine | None = None
        self._sync_executor: ThreadPoolExecutor | None = None
        u = make_url(self.url)
        # The SQLite file, when the database is one (for the missing-file checks).
        self.path: Path | None = None
        self._inode: int | None = None
        if self.dialect == "sqlite" and u.database not in (None, "", ":memory:") and (
            "memory" not in str(u.query.get("mode", ""))
        ):
            self.path = Path(u.database or "").resolve()
            self._sync_engine = create_engine(u.set(drivername="sqlite"))
            event.listen(self._sync_engine, "connect", _sqlite_pragmas)
            self._sync_executor = ThreadPoolExecutor(1, thread_name_prefix="samverkan-sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as s:
            yield s

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as s, s.begin():
            yield s

    async def run_transaction(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` on a connection inside one transaction (committed when it returns, rolled
        back when it raises) and return its result. For small, hot transactions written
        against the synchronous Connection API; the same code runs on SQLite and PostgreSQL."""
        if self._sync_engine is not None and self._sync_executor is not None:
            engine = self._sync_engine

            def run() -> T:
                with engine.begin() as conn:
                    return fn(conn)

            return await asyncio.get_running_loop().run_in_executor(self._sync_executor, run)
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    @property
    def marker(self) -> Path | None:
        """A file beside the SQLite database saying that it has been created and used."""
        return None if self.path is None else self.path.with_name(self.path.name + ".created")

    def check_present(self) -> None:
        """DatabaseMissingError when the SQLite file is gone but its marker is there."""
        if self.path is not None:
            _check_sqlite_file(self.path)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (all branches). On SQLite, first check that
        the file has not gone missing, and afterwards mark it as created and remember it."""
        self.check_present()
        await self._migrate()
        if self.path is not None and self.marker is not None:
            self.marker.write_text(texts().text("db.marker") + "\n", encoding="utf-8")
            self._inode = self.path.stat().st_ino

    async def _migrate(self) -> None:
        async with self.engine.begin() as conn:
            if self.is_postgres:
                # Waiting for another instance's migration is no hanging statement.
                await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            if await self._revisions(conn) != SCHEMA_HEADS:
                await conn.run_sync(_upgrade)

    async def revisions(self) -> frozenset[str]:
        """The revisions the database is at (none before the first migration)."""
        async with self.engine.connect() as conn:
            return await self._revisions(conn)

    async def _revisions(self, conn: AsyncConnection) -> frozenset[str]:
        if self.is_postgres:
            exists = "SELECT to_regclass('alembic_version') IS NOT NULL"
        else:
            exists = (
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'table' AND name = 'alembic_version'"
            )
        if not await conn.scalar(text(exists)):
            return frozenset()
        rows = await conn.scalars(text("SELECT version_num FROM alembic_version"))
        return frozenset(rows.all())

    async def forget_deleted(self, table: str) -> None:
        """After deleting what users wrote: make sure the old content is not left on disk.

        SQLite (with secure_delete on) still has the old page versions in the write-ahead log
        until a checkpoint: the log is checkpointed and truncated. PostgreSQL keeps deleted rows
        as dead tuples until VACUUM (and its WAL until the next checkpoints recycle it): the
        table is vacuumed. Both are cheap for the small state table; a failure is logged, never
        raised (the delete itself has happened)."""
        try:
            if self._sync_engine is not None and self._sync_executor is not None:
                engine = self._sync_engine

                def checkpoint() -> None:
                    with engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

                await asyncio.get_running_loop().run_in_executor(self._sync_executor, checkpoint)
            elif self.dialect == "sqlite":
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            elif self.is_postgres:
                async with self.engine.connect() as conn:
                    auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.exec_driver_sql(f'VACUUM "{table}"')
        except Exception as exc:
            log.warning("could not scrub deleted rows: %s", type(exc).__name__)

    async def ping(self) -> bool:
        async def select_one() -> None:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")

        try:
            await asyncio.wait_for(select_one(), self.timeout)
            return True
        except Exception as exc:  # TimeoutError included: a hanging database is not healthy
            log.warning("database ping failed: %s", type(exc).__name__)
            return False

    async def healthy(self, probe: Callable[[], Any]) -> bool:
        """The database answers and takes a write (`probe`, an awaitable factory that writes
        and removes something small), within the timeout; on SQLite also the file is still the
        one opened at start (a deleted or replaced file would take writes nobody will read)."""
        if self.path is not None and self._inode is not None:
            try:
                if self.path.stat().st_ino != self._inode:
                    log.warning("database file was replaced while serving")
                    return False
            except FileNotFoundError:
                log.warning("database file was deleted while serving")
                return False
        try:
            await asyncio.wait_for(probe(), self.timeout)
            return True
        except Exception as exc:
            log.warning("database write check failed: %s", type(exc).__name__)
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sync_engine is not None and self._sync_executor is not None:
            engine, executor = self._sync_engine, self._sync_executor
            await asyncio.get_running_loop().run_in_executor(executor, engine.dispose)
            executor.shutdown(wait=True)
            self._sync_engine = self._sync_executor = None


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "heads")
