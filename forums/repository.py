"""Forums in the database: transactional import, schedule queries, subscriptions, iCalendar.

The schedule arithmetic is `forums.schedule` (pure functions); this module only loads and
stores. An import is all-or-nothing: a file with any error changes nothing and every error names
the file, the line and the field. An import file may be at most `MAX_IMPORT_BYTES` (5 MB), UTF-8
text without NUL bytes, nested at most `MAX_YAML_DEPTH` levels.

Expanding schedules is CPU work (bounded by `forums.schedule`): the service runs it in a worker
thread, so that a large schedule never holds up the event loop (other users' turns).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from icalendar import Alarm, Calendar, Event, vRecur
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import Clock
from forums import schedule, texts
from forums.schedule import DueReminder, Forum, Occurrence
from forums.tables import DELIVERY_STATUSES, ForumDelivery, ForumRow, ForumSubscription
from storage.db import Database
from storage.models import ConversationReference

log = logging.getLogger(__name__)

# How far ahead an iCalendar file lists the meetings that exdates or holidays remove, when the
# rule never ends (calendar apps fetch the file again when it changes).
ICS_HORIZON = timedelta(days=3 * 366)
PRODID = "-//Samverkansboten//Samverkansforum//SV"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_YAML_DEPTH = 20

# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int | None
    message: str
    forum: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = []
        if self.forum:
            what.append(texts().text("repository.where_forum", forum=self.forum))
        if self.field:
            what.append(texts().text("repository.where_field", field=self.field))
        return f"{where}: {', '.join(what) + ': ' if what else ''}{self.message}"


class ForumImportError(Exception):
    """The file was not imported; `problems` lists every error found."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


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
    tz = schedule.parse_timezone(row.timezone)
    return Forum(
        id=row.id,
        name=row.name,
        kind=row.kind,
        start=datetime.fromisoformat(row.start_local),
        timezone=row.timezone,
        duration_minutes=row.duration_minutes,
        rrule=row.rrule,
        exdates=tuple(schedule.parse_exdate(x, tz) for x in row.exdates),
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


# --- reading the YAML file (with line numbers) -------------------------------------------------


class _TooDeepError(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"nested deeper than {MAX_YAML_DEPTH} levels")
        self.line = line


class _Loader(yaml.SafeLoader):
    """A SafeLoader that refuses nesting deeper than MAX_YAML_DEPTH (instead of recursing
    until Python's recursion limit)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooDeepError(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_forums_yaml(text: str, filename: str) -> tuple[list[Forum], list[ImportProblem]]:
    """Every forum of a file, or every problem found (file, line, forum id, field)."""
    problems: list[ImportProblem] = []

    def problem(line: int | None, message: str, forum: str | None = None, fld: str | None = None):
        problems.append(ImportProblem(filename, line, message, forum, fld))

    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except _TooDeepError as exc:
            problem(exc.line, texts().text("repository.too_deep", max=MAX_YAML_DEPTH))
            return [], problems
        except RecursionError:  # pragma: no cover - the depth limit comes first
            problem(None, texts().text("repository.too_deep", max=MAX_YAML_DEPTH))
            return [], problems
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            detail = getattr(exc, "problem", None) or str(exc)
            problem(line, texts().text("repository.bad_yaml", problem=detail))
            return [], problems
        if root is None:
            problem(None, texts().text("repository.empty"))
            return [], problems
        if not isinstance(root, yaml.MappingNode):
            problem(root.start_mark.line + 1, texts().text("repository.not_mapping"))
            return [], problems
        items_node: yaml.Node | None = None
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if key == "forums":
                items_node = value_node
            else:
                unknown = texts().text("repository.unknown_key", key=key)
                problem(key_node.start_mark.line + 1, unknown)
        if items_node is None:
            problem(1, texts().text("repository.no_forums"))
            return [], problems
        if isinstance(items_node, yaml.ScalarNode) and loader.construct_object(items_node) is None:
            return [], problems  # `forums:` with nothing under it: an empty schedule
        if not isinstance(items_node, yaml.SequenceNode):
            line = items_node.start_mark.line + 1
            problem(line, texts().text("repository.not_list"))
            return [], problems

        forums: list[Forum] = []
        first_line: dict[str, int] = {}
        for item in items_node.value:
            item_line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problem(item_line, texts().text("repository.item_not_mapping"))
                continue
            raw: dict[str, Any] = {}
            lines: dict[str, int] = {}
            broken: set[str] = set()
            for key_node, value_node in item.value:
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    problem(line, texts().text("repository.field_name", key=key))
                    continue
                if key in raw:
                    twice = texts().text("repository.field_twice", line=lines[key])
                    problem(line, twice, fld=key)
                    continue
                lines[key] = line
                try:
                    raw[key] = loader.construct_object(value_node, deep=True)
                except (yaml.YAMLError, ValueError) as exc:  # e.g. a date like 2026-02-30
                    detail = getattr(exc, "problem", None) or exc
                    problem(line, texts().text("repository.bad_value", problem=detail), fld=key)
                    raw[key] = None
                    broken.add(key)
            forum_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            forum, field_problems = schedule.parse_forum(
                {k: v for k, v in raw.items() if k not in broken}
            )
            if broken:
                forum = None
                field_problems = [fp for fp in field_problems if fp.field not in broken]
            for fp in field_problems:
                problem(lines.get(fp.field, item_line), fp.message, forum_id, fp.field)
            if forum_id is not None:
                if forum_id in first_line:
                    problem(
                        lines.get("id", item_line),
                        texts().text(
                            "repository.duplicate_id", forum=forum_id, line=first_line[forum_id]
                        ),
                        forum_id,
                        "id",
                    )
                    continue
                first_line[forum_id] = lines.get("id", item_line)
            if forum is not None:
                forums.append(forum)
        return forums, problems
    except yaml.YAMLError as exc:  # a constructor error (e.g. a bad date like 2026-02-30)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or exc
        problem(line, texts().text("repository.bad_value", problem=detail))
        return [], problems
    except ValueError as exc:  # PyYAML raises ValueError for impossible dates
        problem(None, texts().text("repository.bad_value", problem=exc))
        return [], problems
    finally:
        loader.dispose()


# --- the service -------------------------------------------------------------------------------


class ForumService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # import ------------------------------------------------------------------------------------

    async def import_file(self, path: str | Path, *, replace: bool = False) -> ImportReport:
        p = Path(path)

        def read() -> bytes:
            # One byte more than the limit tells a file that is too large (or endless, like
            # /dev/zero) without reading it all.
            with p.open("rb") as f:
                return f.read(MAX_IMPORT_BYTES + 1)

        def refuse(message: str, line: int | None = None) -> ForumImportError:
            return ForumImportError([ImportProblem(str(path), line, message)])

        try:
            data = await asyncio.to_thread(read)
        except OSError as exc:
            unreadable = texts().text("repository.unreadable", problem=exc.strerror or exc)
            raise refuse(unreadable) from None
        if len(data) > MAX_IMPORT_BYTES:
            mb = MAX_IMPORT_BYTES // (1024 * 1024)
            raise refuse(texts().text("repository.too_big", mb=mb))
        if b"\x00" in data:
            raise refuse(texts().text("repository.binary"))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise refuse(texts().text("repository.not_utf8"), line) from None
        return await self.import_text(text, p.name, replace=replace)

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
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        async with self._db.transaction() as s:
            existing = {
                r.id: r
                for r in (
                    await s.scalars(
                        select(ForumRow).where(ForumRow.id.in_([f.id for f in forums]))
                    )
                ).all()
            } if forums else {}
            for forum in forums:
                values = _row_values(forum)
                row = existing.get(forum.id)
                if row is None:
                    s.add(ForumRow(id=forum.id, updated_at=now, **values))
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
                            select(ForumRow.id).where(ForumRow.id.not_in(keep)).order_by(ForumRow.id)
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
            filename, len(created), len(updated), len(unchanged), len(removed),
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
            rows = (await s.scalars(select(ForumRow).order_by(ForumRow.id))).all()
        return [forum_from_row(r) for r in rows]

    async def forum(self, forum_id: str) -> Forum | None:
        async with self._db.session() as s:
            row = await s.get(ForumRow, forum_id)
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
            if await s.get(ForumRow, forum_id) is None:
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
        async with self._db.session() as s:
            row = await s.get(ForumRow, forum_id)
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


# --- iCalendar ---------------------------------------------------------------------------------


def _ics_text(value: str) -> str:
    """One line without control characters: an iCalendar value cannot hold a line break
    (forums imported before names were checked may have one)."""
    return "".join(
        c for c in schedule.one_line(value) if unicodedata.category(c) not in ("Cc", "Cs")
    )


def forum_calendar(forum: Forum, *, now: datetime, modified: datetime | None = None) -> bytes:
    """A VCALENDAR with one recurring VEVENT (VTIMEZONE, TZID, RRULE, EXDATE, VALARMs)."""
    forum = dataclasses.replace(
        forum,
        name=_ics_text(forum.name),
        kind=_ics_text(forum.kind) if forum.kind else None,
        location=_ics_text(forum.location) if forum.location else None,
        join_url=_ics_text(forum.join_url) if forum.join_url else None,
    )
    tz = forum.tz
    start = schedule.localize(forum.start, tz)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", forum.name)
    cal.add("x-wr-timezone", forum.timezone)

    event = Event()
    event.add("uid", f"{forum.id}@samverkansboten")
    event.add("dtstamp", now.astimezone(UTC))
    if modified is not None:
        event.add("last-modified", modified.astimezone(UTC))
    event.add("summary", forum.name)
    event.add("dtstart", start)
    event.add("dtend", (start.astimezone(UTC) + forum.duration).astimezone(tz))
    if forum.location:
        event.add("location", forum.location)
    if forum.join_url:
        event.add("url", forum.join_url)
        event.add("description", texts().text("repository.join", url=forum.join_url))
    if forum.kind:
        event.add("categories", [forum.kind])

    last = schedule.last_start(forum)
    horizon = max(now, start) + ICS_HORIZON
    if last is not None:
        horizon = min(horizon, schedule.localize(last, tz) + timedelta(days=1))
    if forum.rrule is not None:
        event.add("rrule", vRecur.from_ical(schedule.ics_rule_text(forum.rrule, tz)))
        if not schedule.rule_is_synced(forum):
            event.add("rdate", [start])
    excluded = schedule.excluded_starts(forum, horizon)
    if excluded:
        event.add("exdate", [schedule.localize(x, tz) for x in excluded])

    for offset in forum.offsets():
        n = offset.nominal
        if n.years or n.months:
            continue  # iCalendar durations have no years or months
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", texts().text("repository.alarm", name=forum.name))
        alarm.add("trigger", -(timedelta(days=n.days) + offset.exact))
        event.add_component(alarm)
    cal.add_component(event)

    last_day = (horizon + timedelta(days=366)).date()
    cal.add_missing_timezones(first_date=start.date() - timedelta(days=1), last_date=last_day)
    return cal.to_ical()
