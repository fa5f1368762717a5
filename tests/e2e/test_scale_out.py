"""Several instances on one PostgreSQL database, no sticky sessions.

A guided dialog whose turns alternate between two server processes completes; concurrent turns in
one conversation (on both instances) are serialised by e_tag conflicts and retries, never lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import FixedClock
from dialogs.types import Incoming, Reply, TurnState
from samverkan.turns import TurnProcessor
from storage.db import Database
from storage.state_store import SqlStateStore
from tests.conftest import pg_database
from tests.e2e.helpers import TeamsUser
from tests.e2e.server import ServerProcess
from tests.fakes.connector import FakeConnector

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def pg_url(pg_template: str | None) -> AsyncIterator[str]:
    async with pg_database(pg_template) as url:
        yield url


@pytest.fixture
async def two_servers(
    pg_url: str, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    env = {"SAMVERKAN_DATABASE_URL": pg_url}
    a = ServerProcess(env=env, cwd=tmp_path)
    b = ServerProcess(env=env, cwd=tmp_path)
    await asyncio.gather(a.start(), b.start())  # both migrate and seed at once: must not clash
    yield a, b
    await asyncio.gather(a.stop(), b.stop())


class RoundRobin(TeamsUser):
    """A Teams user whose every turn goes to the next server, like a load balancer would."""

    def __init__(
        self,
        servers: tuple[ServerProcess, ServerProcess],
        connector: FakeConnector,
        conv: str,
        user: str,
    ) -> None:
        super().__init__(servers[0], connector, conv, user)
        self.servers = servers
        self.turns = 0

    async def _send(self, activity):  # type: ignore[no-untyped-def]
        self.server = self.servers[self.turns % 2]
        self.turns += 1
        return await super()._send(activity)


async def test_dialog_alternating_between_instances_completes(
    two_servers: tuple[ServerProcess, ServerProcess], connector: FakeConnector
) -> None:
    user = RoundRobin(two_servers, connector, "a:rr", "user-rr")
    await user.say("meny")
    await user.press("Jag är orolig för ett barn")
    await user.press("Nej")  # acute danger
    await user.press("Omsorgsbrist: mat, kläder, tillsyn")  # what the concern is about
    await user.press("Nej")  # nothing in the home
    await user.press("Nej")  # the child has not told
    await user.press("Jag misstänker det")
    if "Vilken skola" in user.transcript():
        await user.say("Matteusskolan")
    if "bor barnet" in user.transcript():
        await user.say("Södermalm")
    assert user.turns >= 8
    text = user.transcript().lower()
    assert "gör en orosanmälan i dag" in text, user.transcript()
    assert "södermalm" in text


async def test_concurrent_turns_in_one_conversation_on_both_instances(
    two_servers: tuple[ServerProcess, ServerProcess], connector: FakeConnector
) -> None:
    a = TeamsUser(two_servers[0], connector, "a:race", "user-race")
    b = TeamsUser(two_servers[1], connector, "a:race", "user-race")
    await a.say("meny")
    await a.press("Jag är orolig för ett barn")
    # Ten questions at once, half to each instance, in the middle of the dialog.
    results = await asyncio.gather(*((a if i % 2 else b).say("vad är BUS?") for i in range(10)))
    assert all(results), "every turn was answered"
    # The dialog is intact: it continues where it was.
    await a.say("fortsätt")
    assert "akut fara" in a.transcript()


async def test_no_lost_updates_under_e_tag_races(pg_url: str) -> None:
    """Two engines (two instances) increment a counter in one dialog document concurrently."""

    class Counter:
        async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
            return []

        async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
            state.dialog["n"] = int(state.dialog.get("n", 0)) + 1
            await asyncio.sleep(0)  # let the other writers interleave
            return [Reply(text=str(state.dialog["n"]))]

    clock = FixedClock(datetime(2026, 11, 24, 9, tzinfo=UTC))
    dbs = [Database(pg_url), Database(pg_url)]
    try:
        procs = [
            TurnProcessor(SqlStateStore(db, clock), Counter(), clock, max_attempts=50) for db in dbs
        ]
        inc = Incoming(user_id="u", conversation_id="c", text="+1")
        await asyncio.gather(*(procs[i % 2].message(inc) for i in range(40)))
        docs = await SqlStateStore(dbs[0], clock).read(["dialog/msteams/c/u"])
        assert docs["dialog/msteams/c/u"]["n"] == 40
    finally:
        for db in dbs:
            await db.dispose()
