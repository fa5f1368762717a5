"""Issue 13 A: kill -9 while sending reminders loses nothing.

1,000 subscribers, the real server sending to a fake Bot Connector (every ninth conversation is
answered 429 once); the server is killed with SIGKILL in the middle of the fan-out and started
again. Every reminder is delivered exactly once, except at most the requests really in flight at
the kill (recorded as "okänt om det kom fram", never sent twice), and the rest arrive within 60
seconds of the restart. The server runs on a test clock; the restarted one starts two minutes
later on its clock, after the lease of what was in flight has run out (tests/e2e/reminders.py).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.db import Database
from tests.e2e.reminders import DUE, delivery_statuses, seed, server_env, wait_until_settled
from tests.e2e.server import ServerProcess
from tests.fakes.connector import FakeConnector

pytestmark = pytest.mark.slow

SUBSCRIBERS = 1000


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fc = FakeConnector(fail_once_every=9, fail_status=429, fail_retry_after=0.2)
    await fc.start()
    yield fc
    await fc.stop()


async def test_kill_9_in_the_middle_of_the_fan_out(
    connector: FakeConnector, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kill.sqlite3'}"
    await seed(
        url, connector.url, forum_id="bus-kill", name="BUS-grupp kill", subscribers=SUBSCRIBERS
    )
    server = ServerProcess(env=server_env(url), cwd=tmp_path)
    await server.start()
    deadline = time.monotonic() + 60
    while len(connector.sent) < 400 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert server.proc is not None
    server.proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(server.proc.wait, 10)
    server.proc = None
    at_kill = len(connector.sent)
    assert 0 < at_kill < SUBSCRIBERS, "the kill must fall in the middle of the fan-out"

    # Started again; on its clock the in-flight leases (30 s) have run out.
    server.env = server_env(url, clock_start=DUE + timedelta(minutes=2))
    await server.start()
    restarted = time.monotonic()
    db = Database(url)
    try:
        await wait_until_settled(db, SUBSCRIBERS, timeout=90)
        took = time.monotonic() - restarted
        await server.stop()  # graceful: what is in flight finishes; nothing can arrive later
        uncertain, statuses = await delivery_statuses(db)
    finally:
        await db.dispose()
        await server.stop()

    counts = Counter(s.conversation_id for s in connector.sent)
    assert max(counts.values()) == 1, "a reminder was sent twice"
    missing = SUBSCRIBERS - len(counts)
    # Only requests really in flight at the kill are uncertain; the server has 64 at most.
    assert uncertain <= 64, statuses
    assert missing <= uncertain, (missing, uncertain, statuses)
    assert took <= 60, f"the rest arrived {took:.0f} s after the restart"
    assert statuses.get("claimed", 0) == 0 and statuses.get("failed", 0) == 0, statuses
