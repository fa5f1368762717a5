"""storage.feedback: 👍/👎 counted per topic (never text), atomically, on SQLite and PostgreSQL;
and the router's use of it: one vote per user and topic, changeable, unknown topics refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs import cards as c
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from storage.db import Database
from storage.feedback import FeedbackStore
from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


async def test_votes_are_counted_per_topic(database: Database) -> None:
    store = FeedbackStore(database)
    assert await store.get("anmalningsplikt") is None
    await store.record("anmalningsplikt", "up", at=T0)
    await store.record("anmalningsplikt", "up", at=T0 + timedelta(minutes=1))
    await store.record("anmalningsplikt", "down", at=T0 + timedelta(minutes=2))
    await store.record("samtycke", "down", at=T0)
    got = await store.get("anmalningsplikt")
    assert got is not None and (got.up, got.down) == (2, 1)
    assert got.updated_at == T0 + timedelta(minutes=2)
    # A changed mind moves one vote.
    await store.record("anmalningsplikt", "down", at=T0 + timedelta(minutes=3), previous="up")
    got = await store.get("anmalningsplikt")
    assert got is not None and (got.up, got.down) == (1, 2)
    await store.record("anmalningsplikt", "down", at=T0, previous="down")  # no change
    got = await store.get("anmalningsplikt")
    assert got is not None and (got.up, got.down) == (1, 2)
    ranked = await store.all()
    assert [f.topic_id for f in ranked] == ["anmalningsplikt", "samtycke"]  # most 👎 first


async def test_concurrent_votes_are_all_counted(database: Database) -> None:
    store = FeedbackStore(database)
    await asyncio.gather(
        *(store.record("bus", "up" if i % 3 else "down", at=T0) for i in range(30))
    )
    got = await store.get("bus")
    assert got is not None and (got.up, got.down) == (20, 10)


async def test_only_counts_are_stored(database: Database) -> None:
    async with database.engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("feedback_counts")}
        )
    assert columns == {"topic_id", "up", "down", "updated_at"}


async def test_bad_vote_is_refused(database: Database) -> None:
    with pytest.raises(ValueError):
        await FeedbackStore(database).record("bus", "meh", at=T0)  # type: ignore[arg-type]


async def test_router_votes_once_per_user_and_refuses_forged_topics(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    store = FeedbackStore(database)
    clock = FixedClock(WEEKDAY_MORNING)
    talk = Talk(router=make_router(kb, index, rules, messages, clock, feedback=store), clock=clock)
    vote = {"action": c.FEEDBACK, "topic": "anmalan-hur", "vote": "up"}
    await talk.send(talk.incoming(value=vote))
    await talk.send(talk.incoming(value=vote))
    assert "redan" in talk.texts()
    await talk.send(talk.incoming(value={**vote, "vote": "down"}))
    got = await store.get("anmalan-hur")
    assert got is not None and (got.up, got.down) == (0, 1)
    assert talk.user["votes"] == {"anmalan-hur": "down"}
    other = Talk(router=talk.router, clock=clock, user_id="user-2")
    await other.send(other.incoming(value=vote))
    got = await store.get("anmalan-hur")
    assert got is not None and (got.up, got.down) == (1, 1)
    await talk.send(talk.incoming(value={**vote, "topic": "ingen-sadan-fraga"}))
    assert "känner jag inte igen" in talk.texts()
    assert await store.get("ingen-sadan-fraga") is None
