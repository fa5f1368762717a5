"""The reminder scheduler on SQLite and PostgreSQL: exactly once, nothing lost, stale skipped.

Time is a FixedClock moved by the test and by the FakeSleeper; nothing really sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from common.clock import FixedClock
from forums.reminders import ReminderScheduler
from forums.repository import ForumService
from forums.tables import ForumDelivery, ForumSubscription
from outbound.sender import RetryPolicy, Sender, SendError
from storage.db import Database
from storage.models import ConversationReference

from .conftest import FakeSleeper, FakeTransport, VirtualSleeper, add_references
from .test_sender import max_in_window

FORUM = """\
forums:
  - id: bus
    name: BUS individforum
    start: 2026-09-08T13:00
    duration_minutes: 90
    rrule: FREQ=MONTHLY;BYDAY=2TU
    location: Stadsdelsförvaltningen, rum 3
    join_url: https://teams.microsoft.com/l/meetup-join/example
    reminders: [P1D, PT1H]
"""
T_SUB = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # subscriptions are made before any reminder
P1D = datetime(2026, 9, 7, 11, 0, tzinfo=UTC)  # 13.00 CEST the day before
PT1H = datetime(2026, 9, 8, 10, 0, tzinfo=UTC)  # 12.00 CEST
MEETING = datetime(2026, 9, 8, 11, 0, tzinfo=UTC)  # 13.00 CEST


async def setup(db: Database, n: int, *, kind: str = "personal") -> tuple[FixedClock, list[int]]:
    clock = FixedClock(T_SUB)
    forums = ForumService(db, clock)
    await forums.import_text(FORUM, "forum.yaml")
    refs = await add_references(db, n, kind=kind)
    rows = [
        {
            "forum_id": "bus",
            "conversation_ref_id": r,
            "target_kind": kind,
            "created_at": T_SUB,
            "active_since": T_SUB,
        }
        for r in refs
    ]
    async with db.transaction() as s:
        for i in range(0, len(rows), 500):
            await s.execute(insert(ForumSubscription).values(rows[i : i + 500]))
    return clock, refs


def make_scheduler(
    db: Database, clock: FixedClock, transport: FakeTransport, **kw: Any
) -> ReminderScheduler:
    sleeper = kw.pop("sleeper", None) or FakeSleeper(clock)
    policy = kw.pop("policy", None)
    sender = Sender(transport, clock, sleeper, rng=random.Random(11), policy=policy)
    return ReminderScheduler(
        db,
        ForumService(db, clock),
        transport,
        clock,
        sleeper,
        sender=sender,
        public_url="https://bot.example.se",
        **kw,
    )


async def statuses(db: Database) -> Counter[str]:
    async with db.session() as s:
        rows = (
            await s.execute(
                select(ForumDelivery.status, func.count()).group_by(ForumDelivery.status)
            )
        ).all()
    return Counter({status: n for status, n in rows})


async def deliveries(db: Database) -> list[ForumDelivery]:
    async with db.session() as s:
        return list((await s.scalars(select(ForumDelivery).order_by(ForumDelivery.id))).all())


def other_database(db: Database) -> Database:
    """A second engine on the same database: another 'server' with its own connections."""
    return Database(db.url)


# --- the basics --------------------------------------------------------------------------------


async def test_each_reminder_is_sent_once_with_the_card(database: Database) -> None:
    clock, _refs = await setup(database, 3)
    transport = FakeTransport(clock)
    scheduler = make_scheduler(database, clock, transport)
    clock.set(P1D - timedelta(seconds=1))
    assert (await scheduler.tick()).claimed == 0
    clock.set(P1D)
    report = await scheduler.tick()
    assert (report.claimed, report.sent) == (3, 3)
    assert (await scheduler.tick()).claimed == 0  # nothing twice
    clock.set(PT1H + timedelta(seconds=30))
    assert (await scheduler.tick()).sent == 3
    assert sorted(transport.delivered.values()) == [2, 2, 2]
    _conv, card, summary = transport.cards[0]
    assert summary == "Påminnelse: BUS individforum, tisdag 8 september kl. 13.00–14.30"
    urls = [a.get("url") for a in card["actions"]]
    assert "https://bot.example.se/forums/bus.ics" in urls
    assert card["actions"][-1]["data"] == {
        "action": "forum.unsubscribe",
        "forum": "bus",
        "scope": "me",
    }
    rows = await deliveries(database)
    assert {(r.reminder_offset, r.status) for r in rows} == {("P1D", "sent"), ("PT1H", "sent")}
    assert all(r.attempts == 1 and r.sent_at is not None and r.claimed_by is None for r in rows)
    assert {r.occurrence_start for r in rows} == {MEETING}


async def test_channel_subscription_gets_channel_scope(database: Database) -> None:
    clock, _ = await setup(database, 1, kind="channel")
    transport = FakeTransport(clock)
    clock.set(P1D)
    await make_scheduler(database, clock, transport).tick()
    (_, card, _) = transport.cards[0]
    assert card["actions"][-1]["data"]["scope"] == "channel"
    assert any("inte i kanalen" in b.get("text", "") for b in card["body"])


async def test_new_subscription_is_not_owed_earlier_reminders(database: Database) -> None:
    clock, _ = await setup(database, 0)
    forums = ForumService(database, clock)
    (ref,) = await add_references(database, 1, prefix="late")
    clock.set(P1D + timedelta(hours=2))
    await forums.subscribe("bus", ref)
    transport = FakeTransport(clock)
    scheduler = make_scheduler(database, clock, transport)
    assert (await scheduler.tick()).claimed == 0
    assert await statuses(database) == Counter()
    clock.set(PT1H)
    assert (await scheduler.tick()).sent == 1


# --- downtime ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_tick", "sent", "skipped"),
    [
        # back while the meeting is still hours away: the day-before reminder is still useful
        (datetime(2026, 9, 8, 8, 0, tzinfo=UTC), {"P1D"}, {}),
        # back after the hour-before time: only that one; the older one is stale
        (PT1H + timedelta(minutes=20), {"PT1H"}, {"P1D": "En senare påminnelse (PT1H)"}),
        # back after the meeting started: nothing to send, both recorded as stale
        (
            MEETING + timedelta(minutes=5),
            set(),
            {"P1D": "Mötet hade redan börjat", "PT1H": "Mötet hade redan börjat"},
        ),
    ],
)
async def test_after_downtime_send_what_is_useful_and_record_the_rest(
    database: Database, first_tick: datetime, sent: set[str], skipped: dict[str, str]
) -> None:
    clock, _ = await setup(database, 2)
    transport = FakeTransport(clock)
    clock.set(first_tick)
    await make_scheduler(database, clock, transport).tick()
    rows = await deliveries(database)
    assert {r.reminder_offset for r in rows if r.status == "sent"} == sent
    got = {r.reminder_offset: r.reason or "" for r in rows if r.status == "skipped_stale"}
    assert set(got) == set(skipped)
    for offset, reason in skipped.items():
        assert got[offset].startswith(reason)
    assert sum(transport.delivered.values()) == 2 * len(sent)


async def test_meetings_long_past_are_not_revisited(database: Database) -> None:
    clock, _ = await setup(database, 1)
    clock.set(MEETING + timedelta(days=3))
    await make_scheduler(
        database, clock, FakeTransport(clock), stale_lookback=timedelta(days=2)
    ).tick()
    assert await statuses(database) == Counter()


# --- exactly once across instances -------------------------------------------------------------


async def test_two_schedulers_on_one_database_send_each_reminder_once(database: Database) -> None:
    n = 300
    clock, _ = await setup(database, n)
    second = other_database(database)
    try:
        t1, t2 = FakeTransport(clock), FakeTransport(clock)
        flaky = lambda conv, k: SendError(502) if k == 1 and int(conv[1:]) % 9 == 0 else None  # noqa: E731
        t1.plan = t2.plan = flaky
        s1 = make_scheduler(database, clock, t1, batch_size=40, concurrency=8)
        s2 = make_scheduler(second, clock, t2, batch_size=40, concurrency=8)
        for at in (P1D, PT1H):
            clock.set(at)
            r1, r2 = await asyncio.gather(s1.tick(), s2.tick())
            assert r1.claimed + r2.claimed + r1.reclaimed + r2.reclaimed == n
        delivered = t1.delivered + t2.delivered
        assert len(delivered) == n and set(delivered.values()) == {2}
        assert await statuses(database) == Counter({"sent": 2 * n})
    finally:
        await second.dispose()


async def test_restart_in_the_middle_loses_nothing(database: Database) -> None:
    n = 120
    clock, _ = await setup(database, n)
    clock.set(P1D)
    first = FakeTransport(clock)
    scheduler = make_scheduler(database, clock, first, concurrency=5)
    tick = asyncio.create_task(scheduler.tick())

    def stop_after_30(conv: str, k: int) -> None:
        if sum(first.per_conversation.values()) == 30:
            tick.cancel()  # SIGTERM: the server stops in the middle of a batch
        return None

    first.plan = stop_after_30
    with pytest.raises(asyncio.CancelledError):
        await tick
    assert 30 <= len(first.delivered) < n
    left = await statuses(database)
    assert left["sent"] == len(first.delivered) and left["claimed"] == n - left["sent"]

    second_db = other_database(database)
    try:
        second = FakeTransport(clock)
        report = await make_scheduler(second_db, clock, second).tick()
        assert report.reclaimed == n - len(first.delivered)
        together = first.delivered + second.delivered
        assert len(together) == n and set(together.values()) == {1}
        assert await statuses(database) == Counter({"sent": n})
    finally:
        await second_db.dispose()


async def _abandon(db: Database, *, in_flight: bool) -> None:
    """Make every delivery look claimed by a server that crashed (lease run out)."""
    past = P1D - timedelta(hours=1)
    async with db.transaction() as s:
        await s.execute(
            update(ForumDelivery).values(
                status="claimed",
                claimed_by="dead-server",
                lease_until=past,
                sent_at=None,
                attempts=1 if in_flight else 0,
                attempt_started_at=past if in_flight else None,
            )
        )


async def test_crashed_claims_are_taken_over(database: Database) -> None:
    clock, _ = await setup(database, 4)
    clock.set(P1D)
    await make_scheduler(database, clock, FakeTransport(clock)).tick()
    await _abandon(database, in_flight=False)  # claimed, never attempted
    transport = FakeTransport(clock)
    report = await make_scheduler(database, clock, transport).tick()
    assert report.reclaimed == 4 and sum(transport.delivered.values()) == 4
    assert await statuses(database) == Counter({"sent": 4})


async def test_a_crash_during_the_request_is_not_resent_by_default(database: Database) -> None:
    clock, _ = await setup(database, 2)
    clock.set(P1D)
    await make_scheduler(database, clock, FakeTransport(clock)).tick()
    await _abandon(database, in_flight=True)
    transport = FakeTransport(clock)
    await make_scheduler(database, clock, transport).tick()
    assert transport.calls == []
    rows = await deliveries(database)
    assert {r.status for r in rows} == {"gave_up"}
    assert all("okänt om det kom fram" in (r.reason or "") for r in rows)

    await _abandon(database, in_flight=True)
    resend = FakeTransport(clock)
    await make_scheduler(database, clock, resend, resend_interrupted=True).tick()
    assert sum(resend.delivered.values()) == 2
    assert {(r.status, r.reason) for r in await deliveries(database)} == {
        ("sent", "Skickades igen efter ett avbrott under sändning (kan ha kommit fram två gånger).")
    }


async def test_a_lost_claim_is_neither_sent_nor_recorded(database: Database) -> None:
    clock, _ = await setup(database, 1)
    clock.set(P1D)
    transport = FakeTransport(clock)
    scheduler = make_scheduler(database, clock, transport)

    # Another instance takes the row over between the claim and the attempt.
    async def steal(seconds: float) -> None:
        async with database.transaction() as s:
            await s.execute(update(ForumDelivery).values(claimed_by="other"))

    transport.plan = lambda conv, k: SendError(502) if k == 1 else None
    scheduler._sleeper = steal  # type: ignore[method-assign]
    scheduler._sender = Sender(transport, clock, steal, rng=random.Random(1))
    report = await scheduler.tick()
    assert report.lost_claims == 1 and len(transport.calls) == 1
    (row,) = await deliveries(database)
    assert (row.status, row.claimed_by) == ("claimed", "other")


@pytest.mark.postgres
async def test_two_server_processes_on_postgresql(database: Database, tmp_path: Any) -> None:
    if not database.is_postgres:
        pytest.skip("PostgreSQL only: SQLite runs one instance")
    n = 200
    _clock, _ = await setup(database, n)
    out = tmp_path / "sent.log"
    script = f"""
import faulthandler; faulthandler.dump_traceback_later(60, exit=True)
import asyncio, os, sys, time
from datetime import datetime, timedelta
from common.clock import FixedClock
from storage.db import Database
from forums.reminders import ReminderScheduler
from forums.repository import ForumService

class FileTransport:
    async def send(self, reference, card, summary):
        await asyncio.sleep(0.001)
        with open({str(out)!r}, "a") as fh:
            fh.write(reference["conversation"]["id"] + "\\n")

async def main():
    db = Database({database.url!r})
    clock = FixedClock(datetime.fromisoformat(sys.argv[1]))
    async def sleep(s):
        clock.advance(timedelta(seconds=s))
        await asyncio.sleep(0)
    scheduler = ReminderScheduler(db, ForumService(db, clock), FileTransport(), clock, sleep,
                                  render=lambda f, o, off, scope: ({{}}, "s"), batch_size=20)
    while not os.path.exists({str(tmp_path / "go")!r}):
        time.sleep(0.01)
    report = await scheduler.tick()
    print(report.claimed + report.reclaimed)
    await db.dispose()

asyncio.run(main())
"""
    import sys

    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            P1D.isoformat(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    await asyncio.sleep(1.5)  # both processes are up and waiting
    (tmp_path / "go").write_text("go")
    results = [await asyncio.wait_for(p.communicate(), timeout=120) for p in procs]
    for p, (_stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0, stderr.decode()
    claimed = [int(stdout.decode().strip()) for stdout, _ in results]
    assert sum(claimed) == n
    sent = Counter(out.read_text().split())
    assert len(sent) == n and set(sent.values()) == {1}
    assert await statuses(database) == Counter({"sent": n})


# --- many subscribers and throttling -----------------------------------------------------------


async def test_many_subscribers_with_throttling(database: Database) -> None:
    # 400 in this loop (over six seconds of sending at the global limit, on virtual time); the
    # 1,000-subscriber fan-out runs over HTTP in tests/e2e/test_reminders_over_http.py.
    n = 400
    clock, _ = await setup(database, n)

    def plan(conv: str, k: int) -> SendError | None:
        i = int(conv[1:])
        if i % 97 == 0 and k == 1:
            return SendError(429, retry_after=120.0)  # longer than we wait inline
        if i % 7 == 0 and k == 1:
            return SendError(429, retry_after=2.0)
        if i % 11 == 0 and k <= 2:
            return SendError(503 if k == 1 else 412)
        if i % 13 == 0 and k == 1:
            return ConnectionResetError("connection reset by peer")
        return None

    transport = FakeTransport(clock, plan)
    scheduler = make_scheduler(
        database, clock, transport, concurrency=32, sleeper=VirtualSleeper(clock)
    )
    clock.set(P1D)
    started = time.perf_counter()
    first = await scheduler.tick()
    elapsed = time.perf_counter() - started
    later = n // 97 + 1
    assert (first.claimed, first.failed) == (n, later)
    clock.advance(timedelta(seconds=125))
    second = await scheduler.tick()
    assert (second.reclaimed, second.sent) == (later, later)

    assert len(transport.delivered) == n and set(transport.delivered.values()) == {1}
    assert await statuses(database) == Counter({"sent": n})
    times = [c.at for c in transport.calls]
    # The global limit holds in every one-second window. (Whether it is what paces the sends
    # depends on database speed under virtual time: on PostgreSQL the busiest second has been
    # exactly 50; on SQLite the serialised writes are slower. test_sender proves the limiter
    # binds exactly.)
    busiest = max_in_window(times, 1.0)
    assert busiest <= 50
    by_conv: dict[str, list[Any]] = {}
    for c in transport.calls:
        by_conv.setdefault(c.conversation, []).append(c)
    for calls in by_conv.values():
        assert max_in_window([c.at for c in calls], 1.0) <= 7
        for before, after in itertools.pairwise(calls):
            if before.retry_after is not None:
                assert after.at - before.at >= timedelta(seconds=before.retry_after)

    def calls_needed(i: int) -> int:
        conv, k = f"c{i}", 1
        while plan(conv, k) is not None:
            k += 1
        return k

    assert len(transport.calls) == sum(calls_needed(i) for i in range(n))
    print(
        f"\n1000 subscribers: first tick {elapsed:.2f} s wall, {len(transport.calls)} calls, "
        f"busiest second {busiest} sends, span {(times[-1] - times[0]).total_seconds():.1f} s"
    )


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404])
async def test_blocked_bot_ends_subscriptions_and_removes_the_reference(
    database: Database, status: int
) -> None:
    clock, refs = await setup(database, 3)
    forums = ForumService(database, clock)
    await forums.import_text(FORUM.replace("id: bus", "id: other"), "other.yaml")
    await forums.subscribe("other", refs[0])
    transport = FakeTransport(clock, lambda conv, k: SendError(status) if conv == "c0" else None)
    clock.set(P1D)
    report = await make_scheduler(database, clock, transport).tick()
    assert report.ended_subscriptions == 2  # both forums of that conversation
    assert sum(1 for c in transport.calls if c.conversation == "c0") >= 1
    assert len([c for c in transport.calls if c.conversation == "c0"]) <= 2  # never retried
    async with database.session() as s:
        assert await s.get(ConversationReference, refs[0]) is None
        assert await s.get(ConversationReference, refs[1]) is not None
        subs = (await s.scalars(select(ForumSubscription).order_by(ForumSubscription.id))).all()
    ended = [x for x in subs if x.ended_at is not None]
    assert len(ended) == 2 and all(x.conversation_ref_id is None for x in ended)
    assert all(f"HTTP {status}" in (x.end_reason or "") for x in ended)
    failed = [r for r in await deliveries(database) if r.status == "gave_up"]
    assert failed and all(f"HTTP {status}" in (r.reason or "") for r in failed)
    # Next reminders go only to the conversations that still exist.
    clock.set(PT1H)
    again = FakeTransport(clock)
    await make_scheduler(database, clock, again).tick()
    assert set(again.delivered) == {"c1", "c2"}
    status_report = await forums.delivery_status()
    assert status_report.counts["gave_up"] == len(failed)
    assert {f.forum_id for f in status_report.failures} <= {"bus", "other"}


async def test_gives_up_after_n_attempts_and_reports_it(database: Database) -> None:
    clock, _ = await setup(database, 1)
    transport = FakeTransport(clock, lambda conv, k: SendError(502))
    clock.set(P1D)
    scheduler = make_scheduler(database, clock, transport, policy=RetryPolicy(max_attempts=4))
    report = await scheduler.tick()
    assert report.gave_up == 1 and len(transport.calls) == 4
    (row,) = await deliveries(database)
    assert (row.status, row.attempts, row.last_status) == ("gave_up", 4, 502)
    assert row.reason == "Gav upp efter 4 försök (HTTP 502)."
    status = await ForumService(database, clock).delivery_status(failures_only=True)
    assert status.counts == {"failed": 0, "gave_up": 1}
    assert status.failures[0].reason == row.reason and status.failures[0].target_kind == "personal"
    assert (await scheduler.tick()).claimed == 0  # final


async def test_long_outage_is_retried_by_a_later_tick_and_stays_counted(database: Database) -> None:
    clock, _ = await setup(database, 1)
    transport = FakeTransport(
        clock, lambda conv, k: SendError(503, retry_after=300.0) if k <= 2 else None
    )
    scheduler = make_scheduler(database, clock, transport, policy=RetryPolicy(max_attempts=5))
    clock.set(P1D)
    assert (await scheduler.tick()).failed == 1
    (row,) = await deliveries(database)
    assert row.status == "failed" and row.next_attempt_at == P1D + timedelta(seconds=300)
    clock.advance(timedelta(seconds=299))
    assert (await scheduler.tick()).reclaimed == 0  # not before Retry-After
    clock.advance(timedelta(seconds=1))
    assert (await scheduler.tick()).failed == 1
    clock.advance(timedelta(seconds=300))
    assert (await scheduler.tick()).sent == 1
    (row,) = await deliveries(database)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_retry_that_comes_too_late_is_skipped(database: Database) -> None:
    clock, _ = await setup(database, 1)
    transport = FakeTransport(clock, lambda conv, k: SendError(429, retry_after=3600.0))
    scheduler = make_scheduler(database, clock, transport)
    clock.set(PT1H)  # P1D is stale already (recorded), PT1H is sent and fails
    await scheduler.tick()
    clock.set(MEETING + timedelta(minutes=1))
    await scheduler.tick()
    rows = {r.reminder_offset: r for r in await deliveries(database)}
    assert rows["PT1H"].status == "skipped_stale"
    assert (rows["PT1H"].reason or "").startswith("Mötet hade redan börjat")


async def test_cancelled_meeting_is_not_retried(database: Database) -> None:
    clock, _ = await setup(database, 1)
    transport = FakeTransport(
        clock, lambda conv, k: SendError(503, retry_after=600.0) if k == 1 else None
    )
    scheduler = make_scheduler(database, clock, transport)
    clock.set(P1D)
    await scheduler.tick()
    await ForumService(database, clock).import_text(
        FORUM.replace("reminders:", "exdates: [2026-09-08]\n    reminders:"), "forum.yaml"
    )
    clock.advance(timedelta(seconds=600))
    await scheduler.tick()
    (row,) = await deliveries(database)
    assert (
        row.status == "skipped_stale"
        and row.reason == "Mötet eller påminnelsen finns inte längre i schemat."
    )
    assert len(transport.calls) == 1


async def test_unsubscribe_between_attempts_stops_the_retry(database: Database) -> None:
    clock, refs = await setup(database, 1)
    forums = ForumService(database, clock)
    transport = FakeTransport(clock, lambda conv, k: SendError(502))

    async def sleeper(seconds: float) -> None:
        await forums.unsubscribe("bus", refs[0])
        clock.advance(timedelta(seconds=seconds))

    scheduler = make_scheduler(database, clock, transport, sleeper=sleeper)
    clock.set(P1D)
    report = await scheduler.tick()
    assert report.skipped_stale == 1 and len(transport.calls) == 1
    (row,) = await deliveries(database)
    assert (row.status, row.reason) == ("skipped_stale", "Prenumerationen har avslutats.")


async def test_run_loops_with_the_injected_sleeper(database: Database) -> None:
    clock, _ = await setup(database, 2)
    clock.set(P1D - timedelta(seconds=45))
    transport = FakeTransport(clock)
    stop = asyncio.Event()
    ticks: list[datetime] = []

    async def sleeper(seconds: float) -> None:
        if seconds == 30.0:
            ticks.append(clock.now())
            if len(ticks) == 4:
                stop.set()
        clock.advance(timedelta(seconds=seconds))

    scheduler = make_scheduler(database, clock, transport, sleeper=sleeper)
    await asyncio.wait_for(scheduler.run(interval=30.0, stop=stop), timeout=30)
    assert len(ticks) == 4
    assert sum(transport.delivered.values()) == 2  # sent by the second tick (15 s after P1D)
    assert all(c.at == P1D + timedelta(seconds=15) for c in transport.calls)
