"""Issue 13 A and E: reminders under faults.

- A: only a request that is really in flight is marked so (after the rate limiter granted its
  slot), so a crash leaves no reminder "uncertain" that was never sent; unsent claims expire
  within a short lease and are taken over.
- E: a recipient that never answers holds a send slot for at most the request timeout and never
  while backing off; its reminder is recorded as unanswered (it may have arrived) and is not sent
  again blindly; healthy recipients are not held up beyond the rate limit.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from common.clock import FixedClock
from forums.reminders import ReminderScheduler
from forums.repository import ForumService
from forums.tables import ForumDelivery
from outbound.sender import RateLimit, RetryPolicy, Sender
from storage.db import Database

from .conftest import Call, FakeTransport, VirtualSleeper, conversation_reference
from .test_scheduler import P1D, setup

REF = conversation_reference("c1")


class Freezable(VirtualSleeper):
    """Virtual time until `freeze()`: from then on no sleep ever returns (a killed process)."""

    frozen = False

    def freeze(self) -> None:
        self.frozen = True

    async def __call__(self, seconds: float) -> None:
        if self.frozen:
            await asyncio.Event().wait()
        await super().__call__(seconds)
        if self.frozen:
            await asyncio.Event().wait()


class Blocking(FakeTransport):
    """Every request hangs until released (a connector that never answers, or is frozen)."""

    def __init__(self, clock: FixedClock, hang: set[str] | None = None) -> None:
        super().__init__(clock)
        self.hang = hang  # None: every conversation hangs
        self.release = asyncio.Event()

    async def send(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> None:
        conv = reference["conversation"]["id"]
        if self.hang is None or conv in self.hang:
            self.calls.append(Call(self.clock.now(), conv, 0))
            await self.release.wait()
        await super().send(reference, card, summary)


async def test_an_unanswered_request_is_not_sent_again() -> None:
    clock = FixedClock(P1D)
    transport = Blocking(clock)
    sender = Sender(
        transport, clock, VirtualSleeper(clock), rng=random.Random(1),
        policy=RetryPolicy(request_timeout=0.05),
    )
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts) == ("unknown", 1)
    assert "inget svar" in (out.error or "")
    assert len(transport.calls) == 1  # one request, no blind retry


async def test_slow_recipients_do_not_hold_up_the_others(database: Database) -> None:
    """20 conversations that never answer and 80 healthy ones, 16 requests in flight at most:
    the healthy ones all get their reminder, the unanswered are recorded, none twice."""
    clock, _refs = await setup(database, 100)
    hang = {f"c{i}" for i in range(20)}
    transport = Blocking(clock, hang=hang)
    sleeper = VirtualSleeper(clock)
    sender = Sender(
        transport, clock, sleeper, rng=random.Random(3),
        policy=RetryPolicy(request_timeout=0.2),
        global_limits=(RateLimit(50, 1.0),),
    )
    scheduler = ReminderScheduler(
        database, ForumService(database, clock), transport, clock, sleeper, sender=sender,
        public_url="https://bot.example.se", concurrency=16,
    )
    clock.set(P1D + timedelta(seconds=1))
    report = await scheduler.tick()
    assert report.sent == 80
    assert sum(transport.delivered.values()) == 80 and max(transport.delivered.values()) == 1
    async with database.session() as s:
        rows = dict(
            (await s.execute(
                select(ForumDelivery.status, func.count()).group_by(ForumDelivery.status)
            )).all()
        )
        reasons = (await s.scalars(
            select(ForumDelivery.reason).where(ForumDelivery.status == "gave_up")
        )).all()
    assert rows == {"sent": 80, "gave_up": 20}
    assert all("okänt om det kom fram" in (r or "") for r in reasons)
    # Nothing is sent again later.
    clock.advance(timedelta(minutes=5))
    again = await scheduler.tick()
    assert (again.claimed, again.reclaimed, again.sent) == (0, 0, 0)


async def test_only_requests_in_flight_are_marked_and_the_rest_are_taken_over(
    database: Database,
) -> None:
    """A tick is stopped hard (its task cancelled while requests hang, the process as good as
    dead: nothing is released). The rows marked as attempted are exactly the requests that were
    in flight; everything else is taken over by a new instance after the short lease."""
    clock, _refs = await setup(database, 30)
    transport = Blocking(clock)  # every request hangs: a frozen connector
    sleeper = Freezable(clock)
    # One request per second: most claims are still waiting for a slot.
    sender = Sender(
        transport, clock, sleeper, rng=random.Random(5),
        global_limits=(RateLimit(1, 1.0),), drain_timeout=0.01,
    )
    dying = ReminderScheduler(
        database, ForumService(database, clock), transport, clock, sleeper, sender=sender,
        public_url="https://bot.example.se", concurrency=8, instance_id="dying",
    )
    clock.set(P1D + timedelta(seconds=1))
    tick = asyncio.create_task(dying.tick())
    for _ in range(500):  # wait (in real time) until the first requests hang in flight
        await asyncio.sleep(0.01)
        if len(transport.calls) >= 3:
            break
    # kill -9: from now on the dying instance does nothing at all (no cleanup either).
    sleeper.freeze()
    for _ in range(20):
        await asyncio.sleep(0.01)
    in_flight = len(transport.calls)
    assert in_flight >= 1
    async with database.session() as s:
        marked = await s.scalar(
            select(func.count()).where(ForumDelivery.attempt_started_at.is_not(None))
        )
        claimed = await s.scalar(select(func.count()).where(ForumDelivery.status == "claimed"))
    assert marked == in_flight, (marked, in_flight)
    assert claimed == 30

    # A new instance after the lease (30 s): everything not in flight is sent, the in-flight
    # ones are recorded as interrupted (not sent twice).
    healthy = FakeTransport(clock)
    survivor = ReminderScheduler(
        database, ForumService(database, clock), healthy, clock, VirtualSleeper(clock),
        sender=Sender(healthy, clock, VirtualSleeper(clock), rng=random.Random(6)),
        public_url="https://bot.example.se", instance_id="survivor",
    )
    clock.advance(timedelta(seconds=31))
    report = await survivor.tick()
    assert (report.reclaimed, report.sent, report.gave_up) == (30, 30 - in_flight, in_flight)
    assert sum(healthy.delivered.values()) == 30 - in_flight
    tick.cancel()  # tidy up the test's event loop only
    await asyncio.gather(tick, return_exceptions=True)
