"""Issue 13 D: a database that hangs gives an error within seconds, never no answer at all.

A PostgreSQL server that accepts connections but never answers (as one frozen with SIGSTOP) is
played by a socket that never replies; a backend frozen in the middle of a session is a real
PostgreSQL backend stopped with SIGSTOP (only that one connection: the shared test server goes
on)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from common.clock import SystemClock
from storage.db import Database
from storage.state_store import SqlStateStore


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says anything."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted: list[socket.socket] = []
    srv.settimeout(0.05)
    stop = False

    def accept() -> None:
        while not stop:
            try:
                conn, _ = srv.accept()
                accepted.append(conn)
            except OSError:
                continue

    loop_thread = threading.Thread(target=accept, daemon=True)
    loop_thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop = True
        loop_thread.join(1)
        for c in accepted:
            c.close()
        srv.close()


async def test_a_server_that_never_answers_fails_fast(silent_server: int) -> None:
    db = Database(f"postgresql://u:p@127.0.0.1:{silent_server}/x", timeout=1.0)
    store = SqlStateStore(db, SystemClock())
    try:
        start = time.monotonic()
        assert await db.ping() is False
        assert time.monotonic() - start < 3
        start = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 - any error, as long as it comes quickly
            await store.read(["dialog/x"])
        assert time.monotonic() - start < 4
    finally:
        await db.dispose()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_backend_frozen_mid_session_does_not_hang_a_turn(database: Database) -> None:
    db = Database(database.url, timeout=1.0)
    store = SqlStateStore(db, SystemClock())
    try:
        await store.read(["warm-up"])  # one pooled connection

        def backend_pid(conn: object) -> int:
            return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())  # type: ignore[attr-defined]

        pid = await db.run_transaction(backend_pid)
        os.kill(pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            # An error is fine (the bot turns it into the apology); no answer is not.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(store.read(["dialog/x"]), 20)
            assert time.monotonic() - start < 5
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        await db.dispose()
