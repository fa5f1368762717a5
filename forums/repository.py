"""Forums in the database: transactional import, schedule queries, subscriptions, iCalendar.

The schedule arithmetic is `forums.schedule` (pure functions); this module only loads and
stores. An import is all-or-nothing: a file with any error changes nothing and every error names
the file, the line and the field (reading and checking the file: forums.file_import).

Expanding schedules is CPU work (bounded by `forums.schedule`): the service runs it in a worker
thread, so that a large schedule never holds up the event loop (other users' turns).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import Clock
from forums import definition, model, schedule, texts
from forums.file_import import (
    ForumImportError,
    ImportProblem,
    parse_forums_yaml,
    read_forum_file,
)
from forums.model import DueReminder, Forum, Occurrence
from forums.tables import DELIVERY_STATUSES, ForumDelivery, ForumRow, ForumSubscription
from storage.db import Database
from storage.models import ConversationReference

log = logging.getLogger(__name__)

# --- errors ------------------------------------------------------------------------------------


class UnknownForumError(LookupError):
    def __init__(self, forum_id: str) -> None:
        self.forum_id = forum_id
        super().__init__(texts().text("repository.unknown_forum", forum=forum_id))


class UnknownConversationError(LookupError):
    def __init__(self, ref_id: int) -> None:
        self.ref_id = ref_id
        super().__init__(texts().text("repository.unknown_conversation", ref=ref_id))


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    file: str
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...] = ()  # with replace: forums not in the file
    ended_subscriptions: int = 0  # active subscriptions of the removed forums

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


@dataclass(frozen=True)
class Subscription:
    id: int
    forum_id: str
    conversation_ref_id: int | None
    target_kind: str  # 'personal' | 'channel'
    active: bool
    created_at: datetime
    active_since: datetime
    ended_at: datetime | None
    end_reason: str | None

    @property
    def scope(self) -> str:
        """The card buttons' word for the target: 'me' or 'channel'."""
        return "me" if self.target_kind == "personal" else "channel"


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    forum_id: str
    subscription_id: int
    target_kind: str
    occurrence_start: datetime
    offset: str
    send_at: datetime
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryStatus:
    counts: dict[str, int]
    failures: list[DeliveryRecord]


# --- conversions -------------------------------------------------------------------------------


def forum_from_row(row: ForumRow) -> Forum:
    tz = model.parse_timezone(row.timezone)
    return Forum(
        id=row.id,
        name=row.name,
        kind=row.kind,
        start=datetime.fromisoformat(row.start_local),
        timezone=row.timezone,
        duration_minutes=row.duration_minutes,
        rrule=row.rrule,
        exdates=tuple(definition.parse_exdate(x, tz) for x in row.exdates),
        skip_public_holidays=row.skip_public_holidays,
        location=row.location,
        join_url=row.join_url,
        reminders=tuple(row.reminders),
    )


def _row_values(forum: Forum) -> dict[str, Any]:
    return {
        "name": forum.name,
        "kind": forum.kind,
        "start_local": forum.start.isoformat(timespec="seconds"),
        "timezone": forum.timezone,
        "duration_minutes": forum.duration_minutes,
        "rrule": forum.rrule,
        "exdates": [
            x.isoformat(timespec="seconds") if isinstance(x, datetime) else x.isoformat()
            for x in forum.exdates
        ],
        "skip_public_holidays": forum.skip_public_holidays,
        "location": forum.location,
        "join_url": forum.join_url,
        "reminders": list(forum.reminders),
    }


def _subscription(row: ForumSubscription) -> Subscription:
    return Subscription(
        id=row.id,
        forum_id=row.forum_id,
        conversation_ref_id=row.conversation_ref_id,
        target_kind=row.target_kind,
        active=row.ended_at is None and row.conversation_ref_id is not None,
        created_at=row.created_at,
        active_since=row.active_since,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


def target_kind_of(conversation_type: str) -> str:
    return "personal" if conversation_type == "personal" else "channel"


# --- the service -------------------------------------------------------------------------------


class ForumService:
    """The forums of one kommun (`for_kommun`), or of every kommun (`kommun` None: the reminder
    loop, the signed .ics links, the command line's schedule). An import writes into its
    kommun ("" without kommun profiles) and never changes, removes or takes over another
    kommun's forum: an id another kommun uses is refused."""

    def __init__(self, db: Database, clock: Clock, kommun: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self.kommun = kommun

    def for_kommun(self, kommun: str | None) -> ForumService:
        """The forums of `kommun` ("" or None: those of no kommun) on the same database."""
        return ForumService(self._db, self._clock, kommun or "")

    def _mine(self, query: Any) -> Any:
        return query if self.kommun is None else query.where(ForumRow.kommun == self.kommun)

    async def adopt_unscoped(self) -> int:
        """Give this kommun the forums of no kommun (imported before each kommun had its own:
        the server's default kommun's). The number adopted."""
        if not self.kommun:
            return 0
        async with self._db.transaction() as s:
            result = await s.execute(
                update(ForumRow).where(ForumRow.kommun == "").values(kommun=self.kommun)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # import ------------------------------------------------------------------------------------

    async def import_file(self, path: str | Path, *, replace: bool = False) -> ImportReport:
        text = await read_forum_file(path)
        return await self.import_text(text, Path(path).name, replace=replace)

    async def import_text(
        self, text: str, filename: str = "<text>", *, replace: bool = False
    ) -> ImportReport:
        """Add and update forums by id, in one transaction. With `replace` the file is the
        whole schedule: forums it does not contain are removed with their subscriptions and
        delivery log (no more reminders for them); a file without forums removes nothing."""
        # Parsing checks every rule (bounded, but CPU work): not on the event loop.
        forums, problems = await asyncio.to_thread(parse_forums_yaml, text, filename)
        if problems:
            raise ForumImportError(problems)
        now = self._clock.now()
        kommun = self.kommun or ""
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        async with self._db.transaction() as s:
            existing = (
                {
                    r.id: r
                    for r in (
                        await s.scalars(
                            select(ForumRow).where(ForumRow.id.in_([f.id for f in forums]))
                        )
                    ).all()
                }
                if forums
                else {}
            )
            taken = [
                ImportProblem(
                    filename,
                    None,
                    texts().text(
                        "repository.other_kommun",
                        kommun=row.kommun or texts().text("repository.no_kommun"),
                    ),
                    forum_id,
                )
                for forum_id, row in existing.items()
                if row.kommun != kommun
            ]
            if taken:
                raise ForumImportError(taken)
            for forum in forums:
                values = _row_values(forum)
                row = existing.get(forum.id)
                if row is None:
                    s.add(ForumRow(id=forum.id, kommun=kommun, updated_at=now, **values))
                    created.append(forum.id)
                elif row.definition() != values:
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.updated_at = now
                    updated.append(forum.id)
                else:
                    unchanged.append(forum.id)
            removed: list[str] = []
            ended = 0
            if replace and forums:
                keep = [f.id for f in forums]
                removed = list(
                    (
                        await s.scalars(
                            select(ForumRow.id)
                            .where(ForumRow.id.not_in(keep), ForumRow.kommun == kommun)
                            .order_by(ForumRow.id)
                        )
                    ).all()
                )
            if removed:
                ended = int(
                    await s.scalar(
                        select(func.count())
                        .select_from(ForumSubscription)
                        .where(
                            ForumSubscription.forum_id.in_(removed),
                            ForumSubscription.ended_at.is_(None),
                        )
                    )
                    or 0
                )
                # Children first, so that it holds without relying on ON DELETE CASCADE.
                await s.execute(delete(ForumDelivery).where(ForumDelivery.forum_id.in_(removed)))
                await s.execute(
                    delete(ForumSubscription).where(ForumSubscription.forum_id.in_(removed))
                )
                await s.execute(delete(ForumRow).where(ForumRow.id.in_(removed)))
        log.info(
            "forums imported from %s: %d new, %d changed, %d unchanged, %d removed",
            filename,
            len(created),
            len(updated),
            len(unchanged),
            len(removed),
        )
        return ImportReport(
            filename,
            tuple(created),
            tuple(updated),
            tuple(unchanged),
            tuple(removed),
            ended,
        )

    # reading -----------------------------------------------------------------------------------

    async def forums(self) -> list[Forum]:
        async with self._db.session() as s:
            rows = (await s.scalars(self._mine(select(ForumRow).order_by(ForumRow.id)))).all()
        return [forum_from_row(r) for r in rows]

    async def _row(self, s: Any, forum_id: str) -> ForumRow | None:
        row = await s.get(ForumRow, forum_id)
        return row if row is not None and self.kommun in (None, row.kommun) else None

    async def forum(self, forum_id: str) -> Forum | None:
        async with self._db.session() as s:
            row = await self._row(s, forum_id)
        return forum_from_row(row) if row is not None else None

    async def upcoming(
        self, start: datetime, end: datetime, forum_ids: Sequence[str] | None = None
    ) -> list[Occurrence]:
        forums = await self.forums()
        if forum_ids is not None:
            wanted = set(forum_ids)
            forums = [f for f in forums if f.id in wanted]
        return await asyncio.to_thread(schedule.upcoming, forums, start, end)

    async def due(self, start: datetime, end: datetime) -> list[DueReminder]:
        forums = await self.forums()
        return await asyncio.to_thread(schedule.all_reminders_due, forums, start, end)

    # subscriptions -----------------------------------------------------------------------------

    async def subscribe(self, forum_id: str, conversation_ref_id: int) -> Subscription:
        """Remind this conversation about this forum (idempotent; re-activates an ended one)."""
        for attempt in range(2):
            try:
                return await self._subscribe(forum_id, conversation_ref_id)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _subscribe(self, forum_id: str, ref_id: int) -> Subscription:
        now = self._clock.now()
        async with self._db.transaction() as s:
            if await self._row(s, forum_id) is None:
                raise UnknownForumError(forum_id)
            ref = await s.get(ConversationReference, ref_id)
            if ref is None:
                raise UnknownConversationError(ref_id)
            row = await s.scalar(
                select(ForumSubscription).where(
                    ForumSubscription.forum_id == forum_id,
                    ForumSubscription.conversation_ref_id == ref_id,
                )
            )
            if row is None:
                row = ForumSubscription(
                    forum_id=forum_id,
                    conversation_ref_id=ref_id,
                    target_kind=target_kind_of(ref.conversation_type),
                    created_at=now,
                    active_since=now,
                )
                s.add(row)
                await s.flush()
            elif row.ended_at is not None:
                row.ended_at = None
                row.end_reason = None
                row.active_since = now
            return _subscription(row)

    async def unsubscribe(
        self, forum_id: str, conversation_ref_id: int, reason: str | None = None
    ) -> bool:
        """Stop reminding; True when there was an active subscription."""
        async with self._db.transaction() as s:
            res = await s.execute(
                update(ForumSubscription)
                .where(
                    ForumSubscription.forum_id == forum_id,
                    ForumSubscription.conversation_ref_id == conversation_ref_id,
                    ForumSubscription.ended_at.is_(None),
                )
                .values(
                    ended_at=self._clock.now(),
                    end_reason=reason or texts().text("repository.user_ended"),
                )
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def end_subscriptions_of(self, conversation_ref_id: int, reason: str) -> int:
        """End every active subscription of a conversation (the bot can no longer write there)."""
        async with self._db.transaction() as s:
            res = await s.execute(
                update(ForumSubscription)
                .where(
                    ForumSubscription.conversation_ref_id == conversation_ref_id,
                    ForumSubscription.ended_at.is_(None),
                )
                .values(ended_at=self._clock.now(), end_reason=reason[:300])
            )
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def subscriptions(
        self,
        *,
        forum_id: str | None = None,
        conversation_ref_id: int | None = None,
        active_only: bool = True,
    ) -> list[Subscription]:
        q = select(ForumSubscription).order_by(ForumSubscription.id)
        if forum_id is not None:
            q = q.where(ForumSubscription.forum_id == forum_id)
        if conversation_ref_id is not None:
            q = q.where(ForumSubscription.conversation_ref_id == conversation_ref_id)
        if active_only:
            q = q.where(
                ForumSubscription.ended_at.is_(None),
                ForumSubscription.conversation_ref_id.is_not(None),
            )
        async with self._db.session() as s:
            rows = (await s.scalars(q)).all()
        return [_subscription(r) for r in rows]

    async def subscribed_forums(self, conversation_ref_id: int) -> set[str]:
        """Ids of the forums this conversation is reminded about (for the cards' buttons)."""
        subs = await self.subscriptions(conversation_ref_id=conversation_ref_id)
        return {s.forum_id for s in subs}

    # iCalendar ---------------------------------------------------------------------------------

    async def forum_ics(self, forum_id: str) -> bytes:
        from forums.ics import forum_calendar  # icalendar: imported on the first calendar asked

        async with self._db.session() as s:
            row = await self._row(s, forum_id)
        if row is None:
            raise UnknownForumError(forum_id)
        return await asyncio.to_thread(
            forum_calendar, forum_from_row(row), now=self._clock.now(), modified=row.updated_at
        )

    # delivery log ------------------------------------------------------------------------------

    async def delivery_status(self, *, failures_only: bool = False) -> DeliveryStatus:
        async with self._db.session() as s:
            counted = (
                await s.execute(
                    select(ForumDelivery.status, func.count()).group_by(ForumDelivery.status)
                )
            ).all()
            rows = (
                await s.execute(
                    select(ForumDelivery, ForumSubscription.target_kind)
                    .join(ForumSubscription, ForumSubscription.id == ForumDelivery.subscription_id)
                    .where(ForumDelivery.status.in_(("failed", "gave_up")))
                    .order_by(ForumDelivery.updated_at.desc(), ForumDelivery.id.desc())
                )
            ).all()
        counts = {status: 0 for status in DELIVERY_STATUSES}
        for status, n in counted:
            counts[status] = int(n)
        if failures_only:
            counts = {k: v for k, v in counts.items() if k in ("failed", "gave_up")}
        failures = [
            DeliveryRecord(
                id=d.id,
                forum_id=d.forum_id,
                subscription_id=d.subscription_id,
                target_kind=kind,
                occurrence_start=d.occurrence_start,
                offset=d.reminder_offset,
                send_at=d.send_at,
                status=d.status,
                attempts=d.attempts,
                last_status=d.last_status,
                last_error=d.last_error,
                reason=d.reason,
                updated_at=d.updated_at,
            )
            for d, kind in rows
        ]
        return DeliveryStatus(counts=counts, failures=failures)

