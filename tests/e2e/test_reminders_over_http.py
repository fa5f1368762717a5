"""Reminders from the real server to a fake Bot Connector over HTTP: 1,000 subscribers with 429s
injected get exactly one reminder each — with one instance, with two instances on one PostgreSQL
database, and across a restart in the middle."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from common.clock import STOCKHOLM, SystemClock
from forums.repository import ForumService
from storage.conversations import ConversationStore, RefInfo
from storage.db import Database
from tests.conftest import _admin_exec, postgres_admin_url
from tests.e2e.server import ServerProcess
from tests.fakes.connector import FakeConnector

pytestmark = pytest.mark.slow

SUBSCRIBERS = 1000


@pytest.fixture
async def throttled_connector() -> AsyncIterator[FakeConnector]:
    fc = FakeConnector(fail_every=7, fail_status=429, fail_retry_after=0.3)
    await fc.start()
    yield fc
    await fc.stop()


@pytest.fixture
async def pg_url(pg_template: str | None) -> AsyncIterator[str]:
    admin = postgres_admin_url()
    if admin is None or pg_template is None:
        pytest.skip("PostgreSQL not configured")
    name = f"samverkan_rem_{uuid.uuid4().hex[:10]}"
    await _admin_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    await _admin_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(url: str, service_url: str) -> None:
    """1,000 personal chats subscribed to a meeting whose one-hour reminder falls due within a
    minute of the subscriptions (reminders due before a subscription existed are not sent)."""
    db = Database(url)
    clock = SystemClock()

    def forum(start: datetime) -> str:
        return (
            "forums:\n"
            "  - id: bus-e2e\n    name: BUS-grupp e2e\n    kind: bus\n"
            f"    start: {start:%Y-%m-%dT%H:%M}\n    timezone: Europe/Stockholm\n"
            "    duration_minutes: 60\n    location: Rum 3\n    reminders: [PT1H]\n"
        )

    try:
        await db.migrate()
        forums = ForumService(db, clock)
        assert (
            await forums.import_text(forum(datetime.now(STOCKHOLM) + timedelta(days=2)), "f.yaml")
        ).total
        refs = ConversationStore(db, clock)
        for i in range(SUBSCRIBERS):
            conv = f"a:rem-{i}"
            reference = {
                "user": {"id": f"29:u{i}", "aadObjectId": f"u{i}"},
                "bot": {"id": "28:bot", "name": "Samverkansboten"},
                "conversation": {"id": conv, "conversationType": "personal", "tenantId": "t"},
                "channelId": "msteams",
                "locale": "sv-SE",
                "serviceUrl": service_url,
            }
            await refs.remember(
                RefInfo(
                    channel_id="msteams",
                    conversation_id=conv,
                    conversation_type="personal",
                    service_url=service_url,
                    user_id=f"u{i}",
                ),
                reference,
            )
            stored = await refs.get("msteams", conv)
            assert stored is not None
            await forums.subscribe("bus-e2e", stored.id)
        # Now move the meeting so that its reminder falls due in 5–65 seconds.
        soon = datetime.now(STOCKHOLM) + timedelta(minutes=60, seconds=65)
        assert (
            await forums.import_text(forum(soon.replace(second=0, microsecond=0)), "f.yaml")
        ).total
    finally:
        await db.dispose()


async def wait_for_all(fc: FakeConnector, timeout: float = 240.0) -> Counter[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = Counter(s.conversation_id for s in fc.sent)
        if len(counts) >= SUBSCRIBERS:
            await asyncio.sleep(3)  # a few more scheduler ticks: nothing else may arrive
            return Counter(s.conversation_id for s in fc.sent)
        await asyncio.sleep(0.25)
    return Counter(s.conversation_id for s in fc.sent)


def env(url: str) -> dict[str, str]:
    return {
        "SAMVERKAN_DATABASE_URL": url,
        "SAMVERKAN_SCHEDULER_INTERVAL": "1",
        "SAMVERKAN_LOG_LEVEL": "WARNING",
    }


def assert_exactly_once(counts: Counter[str], fc: FakeConnector) -> None:
    assert len(counts) == SUBSCRIBERS, f"{SUBSCRIBERS - len(counts)} subscribers got nothing"
    assert max(counts.values()) == 1, f"duplicates: {[c for c, n in counts.items() if n > 1][:5]}"
    assert fc.requests > SUBSCRIBERS, "429s were injected and retried"
    card = fc.sent[0].activity["attachments"][0]["content"]
    assert "BUS-grupp e2e" in str(card)


async def test_one_instance_sqlite(throttled_connector: FakeConnector, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rem.sqlite3'}"
    await seed(url, throttled_connector.url)
    server = ServerProcess(env=env(url), cwd=tmp_path)
    await server.start()
    try:
        counts = await wait_for_all(throttled_connector)
    finally:
        await server.stop()
    assert_exactly_once(counts, throttled_connector)


@pytest.mark.postgres
async def test_two_instances_on_postgresql(
    throttled_connector: FakeConnector, pg_url: str, tmp_path: Path
) -> None:
    await seed(pg_url, throttled_connector.url)
    servers = [ServerProcess(env=env(pg_url), cwd=tmp_path) for _ in range(2)]
    await asyncio.gather(*(s.start() for s in servers))
    try:
        counts = await wait_for_all(throttled_connector)
    finally:
        await asyncio.gather(*(s.stop() for s in servers))
    assert_exactly_once(counts, throttled_connector)


@pytest.mark.postgres
async def test_restart_in_the_middle_loses_nothing(
    throttled_connector: FakeConnector, pg_url: str, tmp_path: Path
) -> None:
    await seed(pg_url, throttled_connector.url)
    server = ServerProcess(env=env(pg_url), cwd=tmp_path)
    await server.start()
    deadline = time.monotonic() + 120
    while len(throttled_connector.sent) < 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await server.restart()  # SIGTERM in the middle of the fan-out, then a new process
    try:
        counts = await wait_for_all(throttled_connector)
    finally:
        await server.stop()
    assert len(throttled_connector.sent) >= 200
    assert_exactly_once(counts, throttled_connector)
