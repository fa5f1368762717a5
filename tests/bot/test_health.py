"""Issue 13 M: /healthz sees storage faults, and a missing database is a loud error at start.

- A database that answers but takes no write (a read-only SQLite file) is not healthy: 503.
- The SQLite file deleted while the bot serves: 503 (the open connection would go on writing
  into a file nobody will ever read).
- Started again with the file gone (but its marker there): `serve` refuses with a Swedish message
  instead of silently starting from an empty database with the example registry.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import RUNTIME
from storage.db import Database, DatabaseMissingError, check_database_present
from tests.bot.conftest import BotHarness


async def test_healthz_is_ok_when_writes_work(harness: BotHarness) -> None:
    r = await harness.client.get("/healthz")
    assert r.status == 200 and (await r.json())["database"]["ok"] is True


async def test_healthz_503_when_the_database_is_read_only(
    harness: BotHarness, tmp_path: Path
) -> None:
    db_file = tmp_path / "bot.sqlite3"
    if os.geteuid() == 0:
        # root ignores file modes: make the database read-only the way SQLite understands it.
        db = harness.app[RUNTIME].services.db
        assert db.path == db_file.resolve()

        def read_only(conn: object) -> None:
            conn.exec_driver_sql("PRAGMA query_only = ON")  # type: ignore[attr-defined]

        # The hot path's own connection (one thread, one connection) becomes read-only.
        await db.run_transaction(read_only)
    else:
        db_file.chmod(stat.S_IRUSR)
    r = await harness.client.get("/healthz")
    assert r.status == 503
    assert (await r.json())["database"]["ok"] is False


async def test_healthz_503_when_the_database_file_is_deleted(
    harness: BotHarness, tmp_path: Path
) -> None:
    assert (await harness.client.get("/healthz")).status == 200
    (tmp_path / "bot.sqlite3").unlink()
    r = await harness.client.get("/healthz")
    assert r.status == 503


async def test_a_used_database_that_went_missing_is_a_loud_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    db = Database(url)
    await db.migrate()  # first start: creates the file and its marker
    await db.dispose()
    check_database_present(url)  # fine while the file is there
    (tmp_path / "bot.sqlite3").unlink()
    with pytest.raises(DatabaseMissingError) as info:
        check_database_present(url)
    assert "saknas" in str(info.value) and "säkerhetskopia" in str(info.value)
    db = Database(url)
    try:
        with pytest.raises(DatabaseMissingError):
            await db.migrate()
    finally:
        await db.dispose()
    assert not (tmp_path / "bot.sqlite3").exists()  # nothing was created silently

    env = {**os.environ, "SAMVERKAN_DATABASE_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--port", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "Boten startar inte" in proc.stderr and "saknas" in proc.stderr


async def test_a_new_database_starts_without_complaint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    check_database_present(url)
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    assert (tmp_path / "new.sqlite3.created").exists()
