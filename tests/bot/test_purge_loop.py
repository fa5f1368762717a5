"""The purge loop (bot.app._purge_loop): each pass deletes the dialogs an error left behind and
the expired state documents; a pass that fails is logged and the loop goes on. The loop's sleep
is injected: here it counts the passes and stops the loop."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.app import _purge_loop
from common.clock import FixedClock
from dialogs.types import Incoming, Reply, TurnState
from samverkan.turns import TurnProcessor, dialog_key
from storage.db import Database
from storage.state_store import SqlStateStore
from storage.suggestions import SuggestionStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
INTERVAL = 300.0


class _Stop(Exception):
    """Raised by the fake sleep to end the loop."""


class _Sleeps:
    """The loop's sleep: records each interval and stops the loop at the `passes`-th."""

    def __init__(self, passes: int, between: Any = None) -> None:
        self.intervals: list[float] = []
        self._passes = passes
        self._between = between  # called after each pass but the last

    async def __call__(self, seconds: float) -> None:
        self.intervals.append(seconds)
        if len(self.intervals) >= self._passes:
            raise _Stop
        if self._between is not None:
            self._between()


class _Switchable:
    """A state store whose database can be switched off: every call then raises."""

    def __init__(self, store: SqlStateStore) -> None:
        self._store = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ConnectionError("database down")
            return await method(*args, **kwargs)

        return call


class _Router:
    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return []

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        state.dialog["said"] = inc.text
        return [Reply(text="ok")]


async def _setup(
    database: Database,
) -> tuple[FixedClock, SqlStateStore, _Switchable, TurnProcessor, Incoming]:
    """A dialog an error could not delete (the database was down), a document that has expired
    and one that has not."""
    clock = FixedClock(T0)
    store = SqlStateStore(database, clock)
    switchable = _Switchable(store)
    turns = TurnProcessor(switchable, _Router(), clock)
    inc = Incoming(user_id="u", conversation_id="c", channel_id="msteams", text="hemligt")
    await turns.message(inc)
    switchable.down = True
    assert await turns.clear_dialog(inc) is False
    switchable.down = False
    await store.write(
        {
            "expired": {"x": 1, "_expires_at": (T0 + timedelta(minutes=5)).isoformat()},
            "live": {"y": 1, "_expires_at": (T0 + timedelta(hours=24)).isoformat()},
        }
    )
    clock.advance(timedelta(minutes=10))
    return clock, store, switchable, turns, inc


def _services(switchable: _Switchable, database: Database, clock: FixedClock) -> Any:
    """What the loop uses of the services: the state store and the knowledge-base suggestions
    (tests/storage/test_suggestions.py tests their purge)."""
    suggestions = SuggestionStore(database, clock, mask=None)
    return SimpleNamespace(store=switchable, suggestions=suggestions)


async def _keys(store: SqlStateStore, *keys: str) -> set[str]:
    """Which of the keys are stored and not expired by the store's clock."""
    return set(await store.read(list(keys)))


async def test_one_pass_deletes_left_dialogs_and_expired_documents(database: Database) -> None:
    clock, store, switchable, turns, inc = await _setup(database)
    key = dialog_key(inc)
    clock.set(T0)
    assert await _keys(store, key, "expired", "live") == {key, "expired", "live"}
    clock.advance(timedelta(minutes=10))
    sleeps = _Sleeps(passes=1)
    with pytest.raises(_Stop):
        await _purge_loop(
            _services(switchable, database, clock), turns, INTERVAL, sleep=sleeps
        )
    assert sleeps.intervals == [INTERVAL]
    clock.set(T0)  # what is left, whatever its expiry
    assert await _keys(store, key, "expired", "live") == {"live"}
    assert await turns.retry_deletions() == 0


async def test_a_failing_pass_is_logged_and_the_next_one_does_the_work(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock, store, switchable, turns, inc = await _setup(database)
    key = dialog_key(inc)
    switchable.down = True

    def database_back() -> None:
        switchable.down = False

    sleeps = _Sleeps(passes=2, between=database_back)
    with caplog.at_level(logging.WARNING, logger="bot.app"), pytest.raises(_Stop):
        await _purge_loop(
            _services(switchable, database, clock), turns, INTERVAL, sleep=sleeps
        )
    assert sleeps.intervals == [INTERVAL, INTERVAL]
    assert "purging expired state failed: ConnectionError" in caplog.text
    clock.set(T0)
    assert await _keys(store, key, "expired", "live") == {"live"}
