"""The claims on reminders in the delivery log (forum_deliveries): which instance sends which
reminder, the marks of its attempts and its outcome, each written only while the claim is held.

`ReminderScheduler.tick()` finds due reminders and, before sending, inserts one row per
(subscription, meeting start, offset) with a UNIQUE key (INSERT … ON CONFLICT DO NOTHING): only
the instance whose insert succeeded sends. Failed/retryable rows and claims whose lease expired
are re-claimed with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite: one instance; its
writes are serialised). Every state change is a conditional UPDATE on (id, claimed_by), so an
instance that lost its claim never sends or records. After downtime it sends what is still useful
and records `skipped_stale` with the reason for what is not (the meeting has started, or a later
reminder for the same meeting is already due).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Update, and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import Clock
from forums import schedule, texts
from forums.model import DueReminder, Forum, Occurrence
from forums.repository import forum_from_row
from forums.tables import ForumDelivery, ForumRow, ForumSubscription
from outbound.sender import SendOutcome
from storage.db import Database
from storage.models import ConversationReference

log = logging.getLogger(__name__)
T = TypeVar("T")

# HOT: the per-delivery updates (begin, end and finish an attempt; two or three per reminder)
# are statements built once with bound parameters, run on a plain connection in one hop per
# transaction (`Database.run_transaction`: on SQLite one thread over sqlite3, not a hop through
# aiosqlite per statement; no ORM session). Measured 2026-12-07 (1,000 reminders, SQLite,
# py-spy): building the statement, its cache key and the ORM's bulk-update path were most of
# the 23 % of the server's fan-out CPU these updates took.
_D = ForumDelivery.__table__.c
_MINE = and_(
    _D.id == bindparam("delivery_id"),
    _D.claimed_by == bindparam("instance"),
    _D.status == "claimed",
)
_ACTIVE = exists().where(
    ForumSubscription.id == _D.subscription_id,
    ForumSubscription.ended_at.is_(None),
    ForumSubscription.conversation_ref_id.is_not(None),
)
_BEGIN = (
    update(ForumDelivery)
    .where(_MINE, _ACTIVE)
    .values(
        attempts=_D.attempts + 1,
        attempt_started_at=bindparam("now", type_=_D.updated_at.type),
        lease_until=bindparam("lease_until", type_=_D.lease_until.type),
        updated_at=bindparam("now", type_=_D.updated_at.type),
    )
)
_STILL_MINE = select(_D.id).where(_MINE)
_END = (
    update(ForumDelivery)
    .where(_MINE)
    .values(
        attempt_started_at=None,
        lease_until=bindparam("lease_until", type_=_D.lease_until.type),
        updated_at=bindparam("now", type_=_D.updated_at.type),
    )
)


@functools.cache
def _finish_statement(columns: tuple[str, ...]) -> Update:
    """The outcome's UPDATE for this set of columns (a handful of sets occur)."""
    return (
        update(ForumDelivery)
        .where(_MINE)
        .values({c: bindparam(f"set_{c}", type_=_D[c].type) for c in columns})
    )


@dataclass
class TickReport:
    claimed: int = 0  # new claims made by this tick
    reclaimed: int = 0  # failed or abandoned deliveries taken over
    sent: int = 0
    failed: int = 0  # will be retried
    gave_up: int = 0
    skipped_stale: int = 0
    ended_subscriptions: int = 0
    lost_claims: int = 0  # another instance took over before this one could send


@dataclass
class Job:
    delivery_id: int
    subscription_id: int
    forum: Forum
    occurrence: Occurrence
    offset: str
    ref_id: int
    reference: dict[str, Any]
    target_kind: str
    attempts: int
    note: str | None = None


@dataclass
class _Sub:
    id: int
    forum_id: str
    ref_id: int
    target_kind: str
    active_since: datetime
    reference: dict[str, Any] = field(repr=False)


class DeliveryClaims:
    """One instance's claims (`instance_id`) on the delivery log; see the module's docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        instance_id: str,
        lease: timedelta,
        stale_lookback: timedelta,
        batch_size: int,
        resend_interrupted: bool,
    ) -> None:
        self._db = db
        self._clock = clock
        self.instance_id = instance_id
        self._lease = lease
        self._lookback = stale_lookback
        self._batch = batch_size
        self._resend_interrupted = resend_interrupted
        # SQLite has one writer at a time. Letting many tasks race for it makes them spin in the
        # busy handler while the holder waits for the event loop to commit, so this instance
        # queues its own writes instead. PostgreSQL needs no such thing (row locks).
        self.sqlite_writes = None if db.is_postgres else asyncio.Lock()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction (queued behind this instance's other writes on SQLite)."""
        if self.sqlite_writes is None:
            async with self._db.transaction() as s:
                yield s
            return
        async with self.sqlite_writes, self._db.transaction() as s:
            yield s

    async def _hot(self, fn: Callable[[Connection], T]) -> T:
        """A short write transaction of the per-delivery kind (see HOT), queued like `write`."""
        if self.sqlite_writes is None:
            return await self._db.run_transaction(fn)
        async with self.sqlite_writes:
            return await self._db.run_transaction(fn)

    async def claim(self, now: datetime, report: TickReport) -> list[Job]:
        """New claims on the reminders due now, and the deliveries taken over."""
        jobs = await self._claim_new(now, report)
        jobs += await self._reclaim(now, report)
        return jobs

    # claiming ----------------------------------------------------------------------------------

    async def _load_subscriptions(self) -> tuple[dict[str, Forum], dict[str, list[_Sub]]]:
        async with self._db.session() as s:
            rows = (
                await s.execute(
                    select(ForumSubscription, ConversationReference)
                    .join(
                        ConversationReference,
                        ConversationReference.id == ForumSubscription.conversation_ref_id,
                    )
                    .where(ForumSubscription.ended_at.is_(None))
                    .order_by(ForumSubscription.id)
                )
            ).all()
            forum_ids = {sub.forum_id for sub, _ in rows}
            forum_rows = (
                (await s.scalars(select(ForumRow).where(ForumRow.id.in_(forum_ids)))).all()
                if forum_ids
                else []
            )
        forums = {r.id: forum_from_row(r) for r in forum_rows}
        subs: dict[str, list[_Sub]] = defaultdict(list)
        for sub, ref in rows:
            subs[sub.forum_id].append(
                _Sub(sub.id, sub.forum_id, ref.id, sub.target_kind, sub.active_since, ref.reference)
            )
        return forums, subs

    def _pending(self, forum: Forum, now: datetime) -> list[DueReminder]:
        """Reminders already due whose meeting has not started, or started within the lookback."""
        if not forum.reminders:
            return []
        since = now - self._lookback
        due = schedule.reminders_due(
            forum, since - schedule.max_lead(forum), now + timedelta(microseconds=1)
        )
        return [r for r in due if r.occurrence > since]

    async def _claim_new(self, now: datetime, report: TickReport) -> list[Job]:
        forums, subs_by_forum = await self._load_subscriptions()
        rows: list[dict[str, Any]] = []
        context: dict[tuple[int, datetime, str], tuple[_Sub, Forum, DueReminder]] = {}
        for forum_id, subs in subs_by_forum.items():
            forum = forums.get(forum_id)
            if forum is None:
                continue
            # Expanding a schedule is CPU work (bounded): off the event loop.
            pending = await asyncio.to_thread(self._pending, forum, now)
            if not pending:
                continue
            by_meeting: dict[datetime, list[DueReminder]] = defaultdict(list)
            for r in pending:
                by_meeting[r.occurrence.astimezone(UTC)].append(r)
            done = await self._existing(forum_id, min(by_meeting), max(by_meeting))
            for sub in subs:
                for meeting, reminders in by_meeting.items():
                    owed = [r for r in reminders if r.send_at >= sub.active_since]
                    if not owed:
                        continue
                    latest = owed[-1]
                    for r in owed:
                        key = (sub.id, meeting, r.offset)
                        if key in done:
                            continue
                        if meeting <= now:
                            started = texts().text("reasons.started")
                            rows.append(self._row(key, r, now, "skipped_stale", started))
                        elif r is not latest:
                            reason = texts().text("reasons.newer", offset=latest.offset)
                            rows.append(self._row(key, r, now, "skipped_stale", reason))
                        else:
                            rows.append(self._row(key, r, now, "claimed", None))
                            context[key] = (sub, forum, r)
        if not rows:
            return []
        rows.sort(key=lambda r: (r["subscription_id"], r["occurrence_start"], r["reminder_offset"]))
        meetings: dict[tuple[str, datetime], Occurrence | None] = {}
        jobs: list[Job] = []
        for i in range(0, len(rows), self._batch):
            for d_id, status, sub_id, occ, offset in await self._insert(rows[i : i + self._batch]):
                if status != "claimed":
                    report.skipped_stale += 1
                    continue
                sub, forum, reminder = context[(sub_id, occ, offset)]
                mkey = (forum.id, occ)
                if mkey not in meetings:
                    meetings[mkey] = await asyncio.to_thread(
                        schedule.find_occurrence, forum, reminder.occurrence
                    )
                occurrence = meetings[mkey]
                if occurrence is None:  # pragma: no cover - computed from the same schedule
                    continue
                report.claimed += 1
                jobs.append(
                    Job(
                        d_id,
                        sub.id,
                        forum,
                        occurrence,
                        offset,
                        sub.ref_id,
                        sub.reference,
                        sub.target_kind,
                        attempts=0,
                    )
                )
        return jobs

    def _row(
        self,
        key: tuple[int, datetime, str],
        reminder: DueReminder,
        now: datetime,
        status: str,
        reason: str | None,
    ) -> dict[str, Any]:
        claimed = status == "claimed"
        return {
            "subscription_id": key[0],
            "forum_id": reminder.forum,
            "occurrence_start": key[1],
            "reminder_offset": key[2],
            "send_at": reminder.send_at.astimezone(UTC),
            "status": status,
            "attempts": 0,
            "claimed_by": self.instance_id if claimed else None,
            "lease_until": now + self._lease if claimed else None,
            "reason": reason,
            "created_at": now,
            "updated_at": now,
        }

    async def _existing(
        self, forum_id: str, first: datetime, last: datetime
    ) -> set[tuple[int, datetime, str]]:
        async with self._db.session() as s:
            rows = (
                await s.execute(
                    select(
                        ForumDelivery.subscription_id,
                        ForumDelivery.occurrence_start,
                        ForumDelivery.reminder_offset,
                    ).where(
                        ForumDelivery.forum_id == forum_id,
                        ForumDelivery.occurrence_start >= first,
                        ForumDelivery.occurrence_start <= last,
                    )
                )
            ).all()
        return {(a, b, c) for a, b, c in rows}

    async def _insert(
        self, rows: list[dict[str, Any]]
    ) -> list[tuple[int, str, int, datetime, str]]:
        """INSERT … ON CONFLICT DO NOTHING; returns the rows this instance created."""
        insert = pg_insert if self._db.is_postgres else sqlite_insert
        stmt = (
            insert(ForumDelivery)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=["subscription_id", "occurrence_start", "reminder_offset"]
            )
            .returning(
                ForumDelivery.id,
                ForumDelivery.status,
                ForumDelivery.subscription_id,
                ForumDelivery.occurrence_start,
                ForumDelivery.reminder_offset,
            )
        )
        for attempt in range(3):
            try:
                async with self.write() as s:
                    return [tuple(r) for r in (await s.execute(stmt)).all()]  # type: ignore[misc]
            except DBAPIError:
                # Rows are inserted in one global key order, so instances do not deadlock;
                # a serialisation hiccup is retried (the conflict clause makes it idempotent).
                if attempt == 2:
                    raise
                log.warning("claim insert failed; retrying", exc_info=True)
        return []  # pragma: no cover

    async def _reclaim(self, now: datetime, report: TickReport) -> list[Job]:
        """Take over failed deliveries due for another attempt and claims whose lease expired."""
        due = or_(
            and_(ForumDelivery.status == "failed", ForumDelivery.next_attempt_at <= now),
            and_(ForumDelivery.status == "claimed", ForumDelivery.lease_until <= now),
        )
        async with self.write() as s:
            ids = (
                await s.scalars(
                    select(ForumDelivery.id)
                    .where(due)
                    .order_by(ForumDelivery.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return []
            taken = (
                await s.execute(
                    update(ForumDelivery)
                    .where(ForumDelivery.id.in_(ids), due)
                    .values(
                        status="claimed",
                        claimed_by=self.instance_id,
                        lease_until=now + self._lease,
                        next_attempt_at=None,
                        updated_at=now,
                    )
                    .returning(ForumDelivery.id, ForumDelivery.attempt_started_at)
                )
            ).all()
            interrupted = {d_id for d_id, started in taken if started is not None}
            rows = (
                await s.execute(
                    select(ForumDelivery, ForumSubscription, ConversationReference, ForumRow)
                    .join(ForumSubscription, ForumSubscription.id == ForumDelivery.subscription_id)
                    .join(ForumRow, ForumRow.id == ForumDelivery.forum_id)
                    .outerjoin(
                        ConversationReference,
                        ConversationReference.id == ForumSubscription.conversation_ref_id,
                    )
                    .where(ForumDelivery.id.in_([d for d, _ in taken]))
                    .order_by(ForumDelivery.id)
                )
            ).all()
        report.reclaimed += len(rows)
        forums: dict[str, Forum] = {}
        meetings: dict[tuple[str, datetime], Occurrence | None] = {}
        jobs: list[Job] = []
        for delivery, sub, ref, forum_row in rows:
            reason = None
            note = None
            if delivery.id in interrupted:
                if not self._resend_interrupted:
                    reason = texts().text("reasons.interrupted")
                    await self.finish(delivery.id, "gave_up", report, reason=reason)
                    continue
                note = texts().text("reasons.resent")
            if forum_row.id not in forums:
                forums[forum_row.id] = forum_from_row(forum_row)
            forum = forums[forum_row.id]
            mkey = (forum.id, delivery.occurrence_start)
            if mkey not in meetings:
                meetings[mkey] = await asyncio.to_thread(
                    schedule.find_occurrence, forum, delivery.occurrence_start
                )
            occurrence = meetings[mkey]
            if sub.ended_at is not None or ref is None:
                reason = texts().text("reasons.ended")
            elif occurrence is None or delivery.reminder_offset not in forum.reminders:
                reason = texts().text("reasons.not_scheduled")
            elif occurrence.start <= now:
                reason = texts().text("reasons.started")
            else:
                newer = [
                    r
                    for r in schedule.reminders_for(forum, occurrence)
                    if delivery.send_at < r.send_at <= now and r.send_at >= sub.active_since
                ]
                if newer:
                    reason = texts().text("reasons.newer", offset=newer[-1].offset)
            if reason is not None or occurrence is None or ref is None:
                await self.finish(delivery.id, "skipped_stale", report, reason=reason)
                continue
            jobs.append(
                Job(
                    delivery.id,
                    sub.id,
                    forum,
                    occurrence,
                    delivery.reminder_offset,
                    ref.id,
                    dict(ref.reference),
                    sub.target_kind,
                    delivery.attempts,
                    note,
                )
            )
        return jobs

    # attempts and outcomes -------------------------------------------------------------------

    async def begin_attempt(self, job: Job, report: TickReport) -> bool:
        """Mark the request as in flight and renew the lease; False (and recorded why) when the
        claim was lost or the subscription ended meanwhile."""
        now = self._clock.now()
        mine = {"delivery_id": job.delivery_id, "instance": self.instance_id}
        params = {**mine, "now": now, "lease_until": now + self._lease}

        def run(conn: Connection) -> str:
            if conn.execute(_BEGIN, params).rowcount == 1:
                return "begun"
            return "ended" if conn.execute(_STILL_MINE, mine).first() is not None else "lost"

        result = await self._hot(run)
        if result == "begun":
            return True
        if result == "ended":  # ours, but the subscription ended meanwhile
            ended = texts().text("reasons.ended")
            await self.finish(job.delivery_id, "skipped_stale", report, reason=ended)
        else:
            report.lost_claims += 1
            log.warning("delivery %s was taken over by another instance", job.delivery_id)
        return False

    async def end_attempt(self, delivery_id: int, now: datetime) -> None:
        """The attempt failed with a known outcome: no longer in flight; the lease renewed."""
        params = {
            "delivery_id": delivery_id,
            "instance": self.instance_id,
            "now": now,
            "lease_until": now + self._lease,
        }
        await self._hot(lambda conn: conn.execute(_END, params))

    async def release_all(self, jobs: Sequence[Job]) -> None:
        """Give claims back: any instance may send them at once."""
        if not jobs:
            return
        now = self._clock.now()
        ids = [j.delivery_id for j in jobs]
        async with self.write() as s:
            for i in range(0, len(ids), self._batch):
                await s.execute(
                    update(ForumDelivery)
                    .where(
                        ForumDelivery.id.in_(ids[i : i + self._batch]),
                        ForumDelivery.claimed_by == self.instance_id,
                        ForumDelivery.status == "claimed",
                    )
                    .values(lease_until=now, attempt_started_at=None, updated_at=now)
                )

    async def finish(
        self,
        delivery_id: int,
        status: str,
        report: TickReport,
        *,
        reason: str | None = None,
        outcome: SendOutcome | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        now = self._clock.now()
        values: dict[str, Any] = {
            "status": status,
            "attempt_started_at": None,
            "updated_at": now,
            "next_attempt_at": next_attempt_at,
        }
        if status != "claimed":
            values.update(claimed_by=None, lease_until=None)
        if reason is not None or status != "sent":
            values["reason"] = reason[:500] if reason else None
        if outcome is not None:
            values["last_status"] = outcome.status
            if outcome.error:
                values["last_error"] = outcome.error[:500]
        if status == "sent":
            values["sent_at"] = now
        stmt = _finish_statement(tuple(values))
        params = {f"set_{c}": v for c, v in values.items()}
        params.update(delivery_id=delivery_id, instance=self.instance_id)
        rowcount = await self._hot(lambda conn: conn.execute(stmt, params).rowcount)
        if rowcount != 1:
            report.lost_claims += 1
            log.warning("delivery %s: claim lost before recording %s", delivery_id, status)
            return False
        if status == "sent":
            report.sent += 1
        elif status == "failed":
            report.failed += 1
        elif status == "gave_up":
            report.gave_up += 1
        elif status == "skipped_stale":
            report.skipped_stale += 1
        return True

    async def delete_reference(self, ref_id: int) -> None:
        async with self.write() as s:
            await s.execute(delete(ConversationReference).where(ConversationReference.id == ref_id))
