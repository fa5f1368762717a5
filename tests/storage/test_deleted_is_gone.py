"""Issue 13 I: deleted text does not stay on disk. On SQLite the deleted document is neither in
the database file nor in its write-ahead log; on PostgreSQL the state table is vacuumed on the
purge schedule, so deleted rows do not linger as dead tuples."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from common.clock import FixedClock
from storage.db import Database
from storage.state_store import ETAG_KEY, EXPIRES_KEY, NEW_ETAG, SqlStateStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SECRET = "Hemlis-Q9Z-hon-blir-slagen"


def _on_disk(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(path) + suffix)
        if f.exists():
            data += f.read_bytes()
    return data


async def test_sqlite_keeps_no_trace_of_a_deleted_dialog(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    try:
        store = SqlStateStore(db, FixedClock(T0))
        etag = await store.insert_new("dialog/x", {"vars": {"observed": SECRET}})
        # A few turns: each update leaves the earlier version in the write-ahead log.
        for n in range(3):
            new = await store.write(
                {"dialog/x": {"vars": {"observed": f"{SECRET} {n}"}, ETAG_KEY: etag}}
            )
            etag = new["dialog/x"]
        assert SECRET.encode() in _on_disk(path)  # the check below can fail
        await store.delete(["dialog/x"], e_tags={"dialog/x": etag})
        assert SECRET.encode() not in _on_disk(path)
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1
    finally:
        await db.dispose()


async def test_sqlite_purge_of_expired_dialogs_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    clock = FixedClock(T0)
    try:
        store = SqlStateStore(db, clock)
        expires = (T0 + timedelta(hours=24)).isoformat()
        await store.write(
            {"dialog/y": {"vars": {"when": SECRET}, ETAG_KEY: NEW_ETAG, EXPIRES_KEY: expires}}
        )
        clock.advance(timedelta(hours=25))
        assert await store.purge_expired() == 1
        assert SECRET.encode() not in _on_disk(path)
    finally:
        await db.dispose()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_postgresql_state_table_is_vacuumed_on_purge(database: Database) -> None:
    clock = FixedClock(T0)
    store = SqlStateStore(database, clock)
    expires = (T0 + timedelta(hours=1)).isoformat()
    for i in range(20):
        await store.write(
            {f"dialog/{i}": {"v": SECRET, ETAG_KEY: NEW_ETAG, EXPIRES_KEY: expires}}
        )
    clock.advance(timedelta(hours=2))
    assert await store.purge_expired() == 20
    vacuumed = None
    for _ in range(50):  # statistics reach the view shortly after the VACUUM
        async with database.engine.connect() as conn:
            vacuumed = (
                await conn.execute(
                    text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'bot_state'")
                )
            ).scalar()
        if vacuumed is not None:
            break
        await asyncio.sleep(0.1)
    assert vacuumed is not None
