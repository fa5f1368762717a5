"""A forum definition from an administrator's file: every field checked, every problem named in
Swedish (the bounds are in forums.model)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from forums import texts
from forums.model import (
    DEFAULT_TIMEZONE,
    FIELDS,
    FIRST_YEAR,
    FORUM_ID,
    LAST_YEAR,
    MAX_EXDATES,
    MAX_LENGTH,
    MAX_REMINDERS,
    REQUIRED,
    FieldProblem,
    Forum,
    ScheduleError,
    one_line,
    parse_offset,
    parse_timezone,
    too_early,
    within_lead_limit,
)
from forums.recurrence import check_rule


def parse_local_datetime(value: Any, tz: ZoneInfo, what: str = "start") -> datetime:
    """A naive local wall-clock time from YAML (string or datetime); an offset is converted."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        raise ScheduleError(texts().text("schedule.no_clock", what=what))
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ScheduleError(texts().text("schedule.bad_moment", value=value)) from None
        if "T" not in value and " " not in value.strip():
            raise ScheduleError(texts().text("schedule.no_clock", what=what))
    else:
        raise ScheduleError(texts().text("schedule.not_moment", what=what))
    if dt.tzinfo is not None:
        dt = dt.astimezone(tz).replace(tzinfo=None)
    if dt.microsecond:
        raise ScheduleError(texts().text("schedule.fractional_seconds", what=what))
    return dt


def parse_exdate(value: Any, tz: ZoneInfo) -> date | datetime:
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if len(s) == 10:
                return date.fromisoformat(s)
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise ScheduleError(texts().text("schedule.bad_exdate", value=value)) from None
        return dt.astimezone(tz).replace(tzinfo=None) if dt.tzinfo else dt
    raise ScheduleError(texts().text("schedule.not_exdate"))


def parse_forum(raw: Mapping[str, Any]) -> tuple[Forum | None, list[FieldProblem]]:
    """A forum from one YAML mapping; every problem is listed (field and Swedish message)."""
    problems: list[FieldProblem] = []

    def bad(field_name: str, message: str) -> None:
        problems.append(FieldProblem(field_name, message))

    for key in raw:
        if key not in FIELDS:
            bad(str(key), texts().text("schedule.unknown_field", key=key, known=", ".join(FIELDS)))
    for key in REQUIRED:
        if raw.get(key) in (None, ""):
            bad(key, texts().text("schedule.missing"))

    forum_id = raw.get("id")
    id_ok = isinstance(forum_id, str) and FORUM_ID.match(forum_id)
    if forum_id not in (None, "") and not id_ok:
        bad("id", texts().text("schedule.bad_id"))

    text_fields: dict[str, str | None] = {}
    for key in ("name", "kind", "location", "join_url"):
        value = raw.get(key)
        if value is None:
            text_fields[key] = None
            continue
        if not isinstance(value, str) or not value.strip():
            bad(key, texts().text("schedule.not_text"))
            continue
        value = one_line(value)
        forbidden = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
        if forbidden is not None:
            bad(key, texts().text("schedule.control_char", code=ord(forbidden)))
            continue
        if len(value) > MAX_LENGTH[key]:
            bad(key, texts().text("schedule.too_long", max=MAX_LENGTH[key]))
            continue
        text_fields[key] = value
    url = text_fields.get("join_url")
    if url is not None and not re.match(r"^https://[^\s/]+\S*$", url):
        bad("join_url", texts().text("schedule.bad_url"))

    tz: ZoneInfo | None = None
    tz_name = raw.get("timezone", DEFAULT_TIMEZONE)
    try:
        tz = parse_timezone(tz_name)
    except ScheduleError as exc:
        bad("timezone", str(exc))

    start: datetime | None = None
    if raw.get("start") not in (None, "") and tz is not None:
        try:
            start = parse_local_datetime(raw["start"], tz)
        except ScheduleError as exc:
            bad("start", str(exc))
        if start is not None and not FIRST_YEAR <= start.year <= LAST_YEAR:
            bad("start", texts().text("schedule.start_years", first=FIRST_YEAR, last=LAST_YEAR))
            start = None

    duration = raw.get("duration_minutes")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 24 * 60
    ):
        bad("duration_minutes", texts().text("schedule.bad_duration"))

    rule_text = raw.get("rrule")
    if rule_text is not None:
        if not isinstance(rule_text, str) or not rule_text.strip():
            bad("rrule", texts().text("schedule.not_rule"))
            rule_text = None
        elif len(rule_text) > MAX_LENGTH["rrule"]:
            bad("rrule", texts().text("schedule.too_long", max=MAX_LENGTH["rrule"]))
            rule_text = None
        elif start is not None and tz is not None:
            try:
                check_rule(rule_text, start, tz)
            except ScheduleError as exc:
                bad("rrule", str(exc))
            rule_text = rule_text.strip()
            if rule_text.upper().startswith("RRULE:"):
                rule_text = rule_text[len("RRULE:") :]

    exdates: list[date | datetime] = []
    raw_ex = raw.get("exdates")
    if raw_ex is not None:
        if not isinstance(raw_ex, list):
            bad("exdates", texts().text("schedule.exdates_not_list"))
        elif len(raw_ex) > MAX_EXDATES:
            bad("exdates", texts().text("schedule.too_many_exdates", max=MAX_EXDATES))
        elif tz is not None:
            for item in raw_ex:
                try:
                    exdates.append(parse_exdate(item, tz))
                except ScheduleError as exc:
                    bad("exdates", str(exc))

    skip = raw.get("skip_public_holidays", False)
    if not isinstance(skip, bool):
        bad("skip_public_holidays", texts().text("schedule.not_bool"))

    reminders: list[str] = []
    raw_rem = raw.get("reminders")
    if raw_rem is not None:
        if not isinstance(raw_rem, list):
            bad("reminders", texts().text("schedule.reminders_not_list"))
        else:
            if len(raw_rem) > MAX_REMINDERS:
                bad("reminders", texts().text("schedule.too_many_reminders", max=MAX_REMINDERS))
            for item in raw_rem:
                try:
                    off = parse_offset(item)
                except ScheduleError as exc:
                    bad("reminders", str(exc))
                    continue
                if off.text in reminders:
                    bad("reminders", texts().text("schedule.reminder_twice", offset=off.text))
                    continue
                if not within_lead_limit(off):
                    bad("reminders", too_early(off.text))
                    continue
                reminders.append(off.text)

    if problems:
        return None, problems
    assert isinstance(forum_id, str) and start is not None and isinstance(duration, int)
    assert text_fields["name"] is not None
    return (
        Forum(
            id=forum_id,
            name=text_fields["name"],
            kind=text_fields["kind"],
            start=start,
            timezone=str(tz_name).strip(),
            duration_minutes=duration,
            rrule=rule_text,
            exdates=tuple(exdates),
            skip_public_holidays=bool(skip),
            location=text_fields["location"],
            join_url=text_fields["join_url"],
            reminders=tuple(reminders),
        ),
        [],
    )
