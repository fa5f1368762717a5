"""storage.suggestions on SQLite and PostgreSQL: every text is masked before it is stored,
equal questions are grouped, and nothing older than 90 days is listed or kept (the purge loop
deletes it; time is a FixedClock). The migration matches the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from bot.app import _purge_loop
from common.clock import FixedClock
from samverkan.schema import metadata
from samverkan.turns import TurnProcessor
from storage.db import Database
from storage.state_store import SqlStateStore
from storage.suggestions import RETENTION, KbSuggestion, SuggestionStore
from tests.fakes.router import EchoRouter

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _mask(text: str) -> str:
    """A stand-in masker (dialogs.masking has its own tests): hides one word."""
    return text.replace("Kalle", "[namn]")


async def _raw_texts(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.scalars(select(KbSuggestion.text).order_by(KbSuggestion.id))).all())


async def test_texts_are_masked_before_they_are_stored_and_grouped(database: Database) -> None:
    clock = FixedClock(T0)
    store = SuggestionStore(database, clock, mask=_mask)
    assert await store.add("Får Kalle byta klass?", source="decline") == "Får [namn] byta klass?"
    clock.advance(timedelta(hours=1))
    await store.add("får kalle byta klass", source="feedback", topic_id="samtycke")
    clock.advance(timedelta(hours=1))
    await store.add("Vad är BUS?", source="decline")
    # The database never saw the name, as typed or folded.
    assert await _raw_texts(database) == [
        "Får [namn] byta klass?",
        "får kalle byta klass",  # lower case is the masker's business, not the store's
        "Vad är BUS?",
    ]
    async with database.session() as s:
        keys = (await s.scalars(select(KbSuggestion.group_key))).all()
    assert "far namn byta klass" in keys
    groups = await store.groups()
    assert [(g.text, g.count) for g in groups] == [  # equally often: the newest first
        ("Vad är BUS?", 1),
        ("får kalle byta klass", 1),
        ("Får [namn] byta klass?", 1),
    ]
    assert groups[1].sources == ("feedback",) and groups[1].topics == ("samtycke",)
    clock.advance(timedelta(minutes=1))
    await store.add("Vad är BUS", source="decline")
    groups = await store.groups()
    assert (groups[0].text, groups[0].count) == ("Vad är BUS", 2)  # most often first
    assert groups[0].latest == T0 + timedelta(hours=2, minutes=1)
    assert groups[0].sources == ("decline",)


async def test_a_double_press_is_counted_once(database: Database) -> None:
    clock = FixedClock(T0)
    store = SuggestionStore(database, clock, mask=_mask)
    await store.add("Får Kalle byta klass?", source="decline")
    clock.advance(timedelta(seconds=2))
    await store.add("Får Kalle byta klass?", source="decline")
    assert await store.count() == 1
    clock.advance(timedelta(seconds=10))
    await store.add("Får Kalle byta klass?", source="decline")
    assert [(g.text, g.count) for g in await store.groups()] == [("Får [namn] byta klass?", 2)]


async def test_only_masked_text_and_no_user_is_stored(database: Database) -> None:
    async with database.engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("kb_suggestions")}
        )
    assert columns == {"id", "text", "group_key", "source", "topic_id", "created_at"}


async def test_a_store_without_a_masker_cannot_add(database: Database) -> None:
    store = SuggestionStore(database, FixedClock(T0), mask=None)
    with pytest.raises(RuntimeError):
        await store.add("Får Kalle byta klass?", source="decline")
    with pytest.raises(ValueError):
        await SuggestionStore(database, FixedClock(T0), mask=_mask).add(
            "x",
            source="nope",  # type: ignore[arg-type]
        )
    assert await store.count() == 0


async def test_suggestions_expire_after_ninety_days(database: Database) -> None:
    clock = FixedClock(T0)
    store = SuggestionStore(database, clock, mask=_mask)
    await store.add("Gammal fråga?", source="decline")
    clock.advance(timedelta(days=30))
    await store.add("Nyare fråga?", source="decline")
    clock.advance(RETENTION - timedelta(days=30) - timedelta(seconds=1))  # 89 d 23:59:59
    assert [g.text for g in await store.groups()] == ["Nyare fråga?", "Gammal fråga?"]
    assert await store.purge_expired() == 0
    clock.advance(timedelta(seconds=1))  # exactly 90 days: gone from the listing ...
    assert [g.text for g in await store.groups()] == ["Nyare fråga?"]
    assert await store.purge_expired() == 1  # ... and from the database
    assert await _raw_texts(database) == ["Nyare fråga?"]
    clock.advance(timedelta(days=30))
    assert await store.purge_expired() == 1
    assert await store.count() == 0


class _Stop(Exception):
    pass


async def test_the_purge_loop_deletes_old_suggestions(database: Database) -> None:
    clock = FixedClock(T0)
    suggestions = SuggestionStore(database, clock, mask=_mask)
    await suggestions.add("Gammal fråga?", source="decline")
    clock.advance(timedelta(days=60))
    await suggestions.add("Ny fråga?", source="decline")
    clock.advance(timedelta(days=31))
    state = SqlStateStore(database, clock)
    turns = TurnProcessor(state, EchoRouter(), clock)

    async def stop(_seconds: float) -> None:
        raise _Stop

    services: Any = SimpleNamespace(store=state, suggestions=suggestions)
    with pytest.raises(_Stop):
        await _purge_loop(services, turns, 300.0, sleep=stop)
    assert await _raw_texts(database) == ["Ny fråga?"]


async def test_migration_matches_the_model(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
    assert [d for d in diff if "kb_suggestions" in repr(d)] == []


async def test_a_failing_state_purge_does_not_keep_old_suggestions(database: Database) -> None:
    clock = FixedClock(T0)
    suggestions = SuggestionStore(database, clock, mask=_mask)
    await suggestions.add("Gammal fråga?", source="decline")
    clock.advance(RETENTION)

    class DownStore:
        async def purge_expired(self) -> int:
            raise ConnectionError("state table unavailable")

    turns = TurnProcessor(SqlStateStore(database, clock), EchoRouter(), clock)

    async def stop(_seconds: float) -> None:
        raise _Stop

    services: Any = SimpleNamespace(store=DownStore(), suggestions=suggestions)
    with pytest.raises(_Stop):
        await _purge_loop(services, turns, 300.0, sleep=stop)
    assert await suggestions.count() == 0


async def test_sqlite_keeps_no_trace_of_a_purged_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    clock = FixedClock(T0)
    try:
        store = SuggestionStore(db, clock, mask=_mask)
        secret = "Hur-Q8W-gör-jag-med-klassresan?"
        await store.add(secret, source="decline")
        assert secret.encode() in _on_disk(path)  # the check below can fail
        clock.advance(RETENTION)
        assert await store.purge_expired() == 1
        assert secret.encode() not in _on_disk(path)
    finally:
        await db.dispose()


def _on_disk(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(path) + suffix)
        if f.exists():
            data += f.read_bytes()
    return data
