"""`samverkan forums import|upcoming|ics` and `samverkan reminders due|status`.

    samverkan forums import forum.yaml
    samverkan forums upcoming --from 2026-09-01 --to 2026-12-31 --json
    samverkan forums ics bus-kno > bus-kno.ics
    samverkan reminders due --from 2026-09-01T00:00+02:00 --to 2026-10-01 --json
    samverkan reminders status [--failed] [--json]

Decisions (documented for administrators and scripts):
- import: all or nothing, idempotent by forum id (forums not in the file are kept; with
  `--replace` they are removed, with their subscriptions and delivery log). On success a
  Swedish summary on stdout, exit 0; with any error every error (file:line, forum, field) on
  stderr, nothing changed, exit 1. A file that cannot be used at all (over 5 MB, binary, not
  UTF-8, YAML nested too deeply) is one such error, also exit 1 – never a traceback. The bounds
  on rules (no FREQ finer than DAILY, COUNT at most 1000, …) are in `knowledge/schedule.py` and
  docs/formats.md.
- --from/--to: ISO 8601. A date means midnight; without an offset the time is Stockholm local
  time. The interval is [from, to). A bad value, or --from after --to, exits 1 with a Swedish
  message on stderr and nothing on stdout.
- upcoming/due --json print the contract's JSON array (times ISO 8601 with the forum's UTC offset);
  without --json readable Swedish lines.
- ics prints the forum's iCalendar file (CRLF lines, UTF-8) to stdout; an unknown id exits 1.
- reminders status: the count per delivery status and every failure (failed = will be retried,
  gave_up = final) with its reason; --failed shows only the failures.
- `--kommun ID`: import writes the forums into that kommun's schedule (default SAMVERKAN_KOMMUN,
  else the example profile); each kommun's users see only their own forums, and an import never
  changes or removes another kommun's forum (an id another kommun uses is refused). upcoming
  shows every kommun's meetings unless --kommun narrows it; due, ics and status are for the
  whole server (the reminder loop sends every kommun's). An unknown kommun exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from cli import texts
from common import swedish
from common.clock import SystemClock
from forums.file_import import ForumImportError
from forums.model import DEFAULT_TIMEZONE, localize
from forums.repository import DeliveryStatus, ForumService, UnknownForumError
from knowledge.kommun import choose_kommun
from knowledge.kommun_model import KommunError
from samverkan.settings import Settings
from storage.db import Database, DatabaseUrlError

T = TypeVar("T")

def _utf8(stream: TextIO) -> TextIO:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8")
    return stream


class _Failed(Exception):
    """A handled failure: the message has been printed."""


class _Misuse(Exception):
    """A wrong --kommun: the message has been printed (exit 2)."""


def _kommuner(option: str | None) -> tuple[str | None, str | None]:
    """(the chosen kommun: --kommun or SAMVERKAN_KOMMUN, the server's default kommun)."""
    settings = Settings()
    where = {"kb_dir": settings.kb_dir, "extra_dir": settings.kommun_dir}
    try:
        return (
            choose_kommun(option, settings.kommun, **where),
            choose_kommun(None, settings.kommun, **where),
        )
    except KommunError as exc:
        print(texts().text("kommuner.broken", problems=exc), file=_utf8(sys.stderr))
        raise _Misuse from None


def _run(
    work: Callable[[ForumService], Awaitable[T]],
    err: TextIO,
    *,
    kommun: str | None = None,
    scoped: bool = False,
) -> T:
    """`work` on every kommun's forums, or with `scoped` on `kommun`'s (--kommun, default
    SAMVERKAN_KOMMUN); forums from before each kommun had its own are the default kommun's."""
    chosen, default = _kommuner(kommun)

    async def main() -> T:
        db = Database(Settings().database_url)
        try:
            await db.migrate()
            service = ForumService(db, SystemClock())
            await service.for_kommun(default).adopt_unscoped()
            return await work(service.for_kommun(chosen) if scoped else service)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except (DatabaseUrlError, OSError, SQLAlchemyError) as exc:
        print(texts().text("forums.db_error", problem=exc), file=err)
        raise _Failed from None


def parse_time(value: str, option: str) -> datetime:
    """ISO 8601 date or date-time; naive values are Stockholm local time. ValueError when bad."""
    text = value.strip()
    if not text:
        raise ValueError(texts().text("forums.bad_time", option=option, value=value))
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "zZ" else text)
    except ValueError:
        raise ValueError(texts().text("forums.bad_time", option=option, value=value)) from None
    try:
        if parsed.tzinfo is None:
            parsed = localize(parsed, ZoneInfo(DEFAULT_TIMEZONE))
        parsed.astimezone(UTC)  # within the calendar also in UTC (not 0001-01-01 in Stockholm)
    except OverflowError:
        raise ValueError(texts().text("forums.bad_time", option=option, value=value)) from None
    return parsed


def _interval(args: argparse.Namespace, err: TextIO) -> tuple[datetime, datetime]:
    try:
        start = parse_time(args.from_, "--from")
        end = parse_time(args.to, "--to")
    except ValueError as exc:
        print(str(exc), file=err)
        raise _Failed from None
    if start > end:
        print(texts().text("forums.bad_order", start=args.from_, end=args.to), file=err)
        raise _Failed
    return start, end


def _json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()


# --- forums import ---------------------------------------------------------------------------


def import_(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)

    async def work(service: ForumService) -> Any:
        try:
            return await service.import_file(
                args.file, replace=bool(getattr(args, "replace", False))
            )
        except ForumImportError as exc:
            return exc

    try:
        result = _run(work, err, kommun=getattr(args, "kommun", None), scoped=True)
    except _Failed:
        return 1
    except _Misuse:
        return 2
    if isinstance(result, ForumImportError):
        print(texts().text("forums.failed", count=len(result.problems), source=args.file), file=err)
        for problem in result.problems:
            print(f"  {problem}", file=err)
        return 1
    print(
        texts().text(
            "forums.imported",
            source=args.file,
            created=len(result.created),
            updated=len(result.updated),
            unchanged=len(result.unchanged),
            total=result.total,
        )
        + (
            texts().text(
                "forums.removed",
                removed=len(result.removed),
                ids=", ".join(result.removed),
                ended=result.ended_subscriptions,
            )
            if result.removed
            else ""
        ),
        file=out,
    )
    return 0


# --- forums upcoming -------------------------------------------------------------------------


def upcoming(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    try:
        start, end = _interval(args, err)

        async def work(service: ForumService) -> Any:
            return await service.upcoming(start, end), {f.id: f for f in await service.forums()}

        option = getattr(args, "kommun", None)
        meetings, forums = _run(work, err, kommun=option, scoped=option is not None)
    except _Failed:
        return 1
    except _Misuse:
        return 2
    if args.json:
        _json(
            [
                {"forum": o.forum, "start": o.start.isoformat(), "end": o.end.isoformat()}
                for o in meetings
            ],
            out,
        )
        return 0
    if not meetings:
        print(texts().text("forums.no_meetings", start=args.from_, end=args.to), file=out)
        return 0
    for o in meetings:
        forum = forums.get(o.forum)
        place = f" – {forum.location}" if forum is not None and forum.location else ""
        print(
            texts().text(
                "forums.meeting",
                when=swedish.span(o.start, o.end, with_year=True),
                name=forum.name if forum is not None else o.forum,
                place=place,
            ),
            file=out,
        )
    return 0


# --- reminders due ---------------------------------------------------------------------------


def due(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    try:
        start, end = _interval(args, err)

        async def work(service: ForumService) -> Any:
            return await service.due(start, end), {f.id: f for f in await service.forums()}

        reminders, forums = _run(work, err)
    except _Failed:
        return 1
    except _Misuse:
        return 2
    if args.json:
        _json(
            [
                {
                    "forum": r.forum,
                    "occurrence": r.occurrence.isoformat(),
                    "send_at": r.send_at.isoformat(),
                    "offset": r.offset,
                }
                for r in reminders
            ],
            out,
        )
        return 0
    if not reminders:
        print(texts().text("forums.no_reminders", start=args.from_, end=args.to), file=out)
        return 0
    for r in reminders:
        forum = forums.get(r.forum)
        print(
            texts().text(
                "forums.reminder",
                when=swedish.date_time(r.send_at, with_year=True),
                offset=r.offset,
                name=forum.name if forum is not None else r.forum,
                meeting=swedish.date_time(r.occurrence),
            ),
            file=out,
        )
    return 0


# --- forums ics ------------------------------------------------------------------------------


def ics(args: argparse.Namespace) -> int:
    err = _utf8(sys.stderr)

    async def work(service: ForumService) -> bytes | UnknownForumError:
        try:
            return await service.forum_ics(args.id)
        except UnknownForumError as exc:
            return exc

    try:
        result = _run(work, err)
    except _Failed:
        return 1
    except _Misuse:
        return 2
    if isinstance(result, UnknownForumError):
        print(str(result), file=err)
        return 1
    sys.stdout.flush()
    sys.stdout.buffer.write(result)
    sys.stdout.buffer.flush()
    return 0


# --- reminders status ------------------------------------------------------------------------


def status_json(status: DeliveryStatus) -> dict[str, Any]:
    return {
        "counts": status.counts,
        "failures": [
            {
                "id": f.id,
                "forum": f.forum_id,
                "occurrence": f.occurrence_start.isoformat(),
                "offset": f.offset,
                "send_at": f.send_at.isoformat(),
                "target": f.target_kind,
                "status": f.status,
                "attempts": f.attempts,
                "last_status": f.last_status,
                "last_error": f.last_error,
                "reason": f.reason,
                "updated_at": f.updated_at.isoformat(),
            }
            for f in status.failures
        ],
    }


def status(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    failed_only = bool(getattr(args, "failed", False))

    async def work(service: ForumService) -> DeliveryStatus:
        return await service.delivery_status(failures_only=failed_only)

    try:
        result = _run(work, err)
    except _Failed:
        return 1
    except _Misuse:
        return 2
    if getattr(args, "json", False):
        _json(status_json(result), out)
        return 0
    print(texts().text("forums.status_head"), file=out)
    for key, count in result.counts.items():
        label = texts().text(f"forums.status.{key}")
        print(texts().text("forums.status_row", label=label, count=count), file=out)
    if not result.failures:
        print(texts().text("forums.no_failures"), file=out)
        return 0
    print(texts().text("forums.failures_head", count=len(result.failures)), file=out)
    for f in result.failures:
        error = texts().text("forums.last_error", error=f.last_error) if f.last_error else ""
        print(
            texts().text(
                "forums.failure",
                status=texts().text(f"forums.status.{f.status}"),
                forum=f.forum_id,
                meeting=swedish.date_time(
                    f.occurrence_start.astimezone(ZoneInfo(DEFAULT_TIMEZONE)), with_year=True
                ),
                offset=f.offset,
                target=texts().text(f"forums.target.{f.target_kind}"),
                attempts=f.attempts,
                error=error,
                reason=f.reason or "",
            ),
            file=out,
        )
    return 0
