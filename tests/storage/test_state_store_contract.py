"""Contract of the bot state storage (botbuilder `Storage` semantics), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.storage import SqlAlchemyStorage
from common.clock import FixedClock
from storage.db import Database
from storage.models import StateDocument
from storage.state_store import SqlStateStore, StateConflictError

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def storage(database: Database, clock: FixedClock) -> SqlAlchemyStorage:
    return SqlAlchemyStorage(SqlStateStore(database, clock))


async def test_read_missing_keys_returns_nothing(storage: SqlAlchemyStorage) -> None:
    assert await storage.read(["nope"]) == {}


async def test_write_then_read_roundtrips_plain_json(storage: SqlAlchemyStorage) -> None:
    doc = {"text": "åäö ÅÄÖ", "n": 3, "nested": {"list": [1, "två", None, True]}}
    await storage.write({"k1": doc})
    got = (await storage.read(["k1"]))["k1"]
    assert {k: v for k, v in got.items() if k != "e_tag"} == doc
    assert isinstance(got["e_tag"], str) and got["e_tag"]


async def test_stored_as_plain_json_not_pickled_classes(
    storage: SqlAlchemyStorage, database: Database
) -> None:
    class Item:
        def __init__(self) -> None:
            self.count = 1
            self.e_tag = "*"

    await storage.write({"obj": Item()})
    async with database.session() as s:
        data = (
            await s.execute(select(StateDocument.data).where(StateDocument.key == "obj"))
        ).scalar_one()
    assert data == {"count": 1}
    assert "py/object" not in str(data)


async def test_non_json_values_are_refused(storage: SqlAlchemyStorage) -> None:
    with pytest.raises(TypeError):
        await storage.write({"bad": {"when": datetime.now(UTC)}})
    assert await storage.read(["bad"]) == {}


async def test_etag_changes_on_every_write(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    e1 = (await storage.read(["k"]))["k"]["e_tag"]
    await storage.write({"k": {"v": 2, "e_tag": e1}})
    e2 = (await storage.read(["k"]))["k"]["e_tag"]
    assert e1 != e2


async def test_stale_etag_is_a_conflict_and_changes_nothing(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    stale = (await storage.read(["k"]))["k"]
    await storage.write({"k": {"v": 2, "e_tag": stale["e_tag"]}})
    with pytest.raises(StateConflictError):
        await storage.write({"k": {"v": 3, "e_tag": stale["e_tag"]}})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_conflict_in_batch_writes_nothing(storage: SqlAlchemyStorage) -> None:
    await storage.write({"a": {"v": 1}, "b": {"v": 1}})
    docs = await storage.read(["a", "b"])
    await storage.write({"b": {"v": 2, "e_tag": docs["b"]["e_tag"]}})
    with pytest.raises(StateConflictError):
        await storage.write(
            {"a": {"v": 9, "e_tag": docs["a"]["e_tag"]}, "b": {"v": 9, "e_tag": docs["b"]["e_tag"]}}
        )
    again = await storage.read(["a", "b"])
    assert again["a"]["v"] == 1 and again["b"]["v"] == 2


async def test_star_etag_and_no_etag_overwrite(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 2, "e_tag": "*"}})
    await storage.write({"k": {"v": 3}})
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_write_with_etag_to_deleted_document_is_conflict(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    etag = (await storage.read(["k"]))["k"]["e_tag"]
    await storage.delete(["k"])
    with pytest.raises(StateConflictError):
        await storage.write({"k": {"v": 2, "e_tag": etag}})


async def test_delete_and_delete_missing(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    await storage.delete(["k", "never-existed"])
    assert await storage.read(["k"]) == {}


async def test_conditional_delete_refuses_changed_document(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 1}})
    etag = (await storage.read(["k"]))["k"]["e_tag"]
    await storage.write({"k": {"v": 2}})
    with pytest.raises(StateConflictError):
        await storage.delete(["k"], e_tags={"k": etag})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_concurrent_writers_exactly_one_wins(storage: SqlAlchemyStorage) -> None:
    await storage.write({"k": {"v": 0}})
    etag = (await storage.read(["k"]))["k"]["e_tag"]

    async def attempt(i: int) -> bool:
        try:
            await storage.write({"k": {"v": i, "e_tag": etag}})
            return True
        except StateConflictError:
            return False

    results = await asyncio.gather(*(attempt(i) for i in range(1, 9)))
    assert sum(results) == 1


async def test_expired_documents_read_as_absent_and_are_purged(
    database: Database, clock: FixedClock
) -> None:
    store = SqlStateStore(database, clock)
    await store.write(
        {"d": {"x": 1, "_expires_at": (T0 + timedelta(hours=24)).isoformat()}, "u": {"y": 1}}
    )
    assert "d" in await store.read(["d"])
    clock.advance(timedelta(hours=24, seconds=1))
    assert await store.read(["d", "u"]) == {"u": (await store.read(["u"]))["u"]}
    assert await store.purge_expired() == 1
    async with database.session() as s:
        keys = set((await s.execute(select(StateDocument.key))).scalars())
    assert keys == {"u"}


async def test_insert_new_only_once(database: Database, clock: FixedClock) -> None:
    store = SqlStateStore(database, clock)
    results = await asyncio.gather(
        *(store.insert_new("conv/x", {"welcomed": True}) for _ in range(5)), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, str)) == 1
    assert all(isinstance(r, str | StateConflictError) for r in results)


async def test_new_etag_creates_only_once(storage: SqlAlchemyStorage) -> None:
    results = await asyncio.gather(
        *(storage.write({"fresh": {"v": i, "e_tag": "new"}}) for i in range(6)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    with pytest.raises(StateConflictError):
        await storage.write({"fresh": {"v": 99, "e_tag": "new"}})
