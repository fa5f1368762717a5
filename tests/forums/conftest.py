"""Shared helpers for the forum tests: fake clock and sleeper, a fake transport, references."""

from __future__ import annotations

import asyncio
import heapq
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from common.clock import FixedClock
from outbound.sender import SendError
from storage.db import Database
from storage.models import ConversationReference

DATA = Path(__file__).resolve().parent.parent / "data"
EVAL_FILE = DATA / "forums-example.yaml"

MACHINE_ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Europe/Stockholm", "Pacific/Chatham")


@pytest.fixture(params=MACHINE_ZONES)
def machine_tz(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the process's local time zone set to each of several zones."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


class FakeSleeper:
    """Sleeping advances the fake clock; nothing really waits."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


class VirtualSleeper:
    """Virtual time for many concurrent tasks: sleeps overlap instead of adding up.

    A sleep registers its wake-up time; a waker lets runnable tasks reach their own sleeps
    (yields only, no real time), then moves the clock to the earliest wake-up and wakes it.
    Tasks busy with database I/O meanwhile register later, so they can only be delayed.
    """

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self._heap: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._waker: asyncio.Task[None] | None = None

    async def __call__(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        target = self.clock.now() + timedelta(seconds=max(0.0, seconds))
        heapq.heappush(self._heap, (target, self._seq, fut))
        self._seq += 1
        if self._waker is None or self._waker.done():
            self._waker = asyncio.create_task(self._wake())
        await fut

    async def _wake(self) -> None:
        while self._heap:
            for _ in range(50):
                await asyncio.sleep(0)
            target, _, fut = heapq.heappop(self._heap)
            if target > self.clock.now():
                self.clock.set(target)
            if not fut.done():
                fut.set_result(None)


@dataclass
class Call:
    at: datetime
    conversation: str
    status: int  # 200 for success
    retry_after: float | None = None


Plan = Callable[[str, int], SendError | BaseException | None]


@dataclass
class FakeTransport:
    """Records every call on the fake clock; `plan(conversation, n)` may fail the n-th call."""

    clock: FixedClock
    plan: Plan | None = None
    calls: list[Call] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)
    cards: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    per_conversation: Counter[str] = field(default_factory=Counter)

    async def send(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> None:
        conv = reference["conversation"]["id"]
        self.per_conversation[conv] += 1
        n = self.per_conversation[conv]
        failure = self.plan(conv, n) if self.plan is not None else None
        status = failure.status if isinstance(failure, SendError) else (0 if failure else 200)
        retry = failure.retry_after if isinstance(failure, SendError) else None
        self.calls.append(Call(self.clock.now(), conv, status, retry))
        await asyncio.sleep(0)  # a real request yields to the loop
        if failure is not None:
            raise failure
        self.delivered[conv] += 1
        self.cards.append((conv, card, summary))


def conversation_reference(conv_id: str, kind: str = "personal") -> dict[str, Any]:
    return {
        "activityId": None,
        "bot": {"id": "28:bot", "name": "Samverkansboten"},
        "channelId": "msteams",
        "conversation": {"id": conv_id, "conversationType": kind, "tenantId": "t1"},
        "serviceUrl": "https://smba.example.invalid/emea/",
        "user": {"id": f"29:{conv_id}", "aadObjectId": f"aad-{conv_id}"},
    }


async def add_references(
    db: Database, count: int, *, kind: str = "personal", prefix: str = "c"
) -> list[int]:
    """Insert `count` conversation references; returns their ids in order."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "channel_id": "msteams",
            "conversation_id": f"{prefix}{i}",
            "conversation_type": kind,
            "user_id": f"aad-{prefix}{i}" if kind == "personal" else None,
            "tenant_id": "t1",
            "team_id": "team-1" if kind == "channel" else None,
            "display_name": None,
            "service_url": "https://smba.example.invalid/emea/",
            "reference": conversation_reference(f"{prefix}{i}", kind),
            "updated_at": now,
        }
        for i in range(count)
    ]
    ids: list[int] = []
    async with db.transaction() as s:
        for i in range(0, len(rows), 400):
            res = await s.execute(
                insert(ConversationReference)
                .values(rows[i : i + 400])
                .returning(ConversationReference.id, ConversationReference.conversation_id)
            )
            ids.extend(r[0] for r in sorted(res.all(), key=lambda r: int(r[1][len(prefix) :])))
    return ids
