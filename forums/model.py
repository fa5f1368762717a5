"""Forums as values: the definition (`Forum`), its meetings (`Occurrence`) and reminders,
the bounds on what a definition may say, and wall-clock time in a forum's zone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate
from dateutil.relativedelta import relativedelta

from forums import texts

DEFAULT_TIMEZONE = "Europe/Stockholm"

FIELDS = (
    "id",
    "name",
    "kind",
    "start",
    "timezone",
    "duration_minutes",
    "rrule",
    "exdates",
    "skip_public_holidays",
    "location",
    "join_url",
    "reminders",
)
REQUIRED = ("id", "name", "start", "duration_minutes")
FORUM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_LENGTH = {"name": 200, "kind": 64, "location": 300, "join_url": 1000, "rrule": 500}
MAX_REMINDERS = 10

# Recurrence rules: what import accepts (RFC 5545 names) and the bounds of every expansion.
FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
SUB_DAILY_FREQS = ("SECONDLY", "MINUTELY", "HOURLY")
RULE_PARTS = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYSETPOS",
    "WKST",
)
TIME_OF_DAY_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
MAX_COUNT = 1000
MAX_INTERVAL = 1000
MAX_EXDATES = 1000
FIRST_YEAR, LAST_YEAR = 2000, 2100
FIRST_MEETING_YEARS = 10
MAX_REMINDER_LEAD = relativedelta(years=1)
MAX_GENERATED = 100_000  # rule instances generated per forum and query (from the first meeting)
MAX_OCCURRENCES = 5_000  # meetings returned per forum and query
# Query windows are clamped to these instants: no meeting lies outside them, and margins and
# reminder leads added to them stay far from the ends of Python's calendar (years 1 and 9999).


class ScheduleError(ValueError):
    """A value that cannot be used in a schedule; the message is Swedish and names the problem."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


@dataclass(frozen=True)
class ReminderOffset:
    """An ISO 8601 duration before a meeting, split into a nominal and an exact part."""

    text: str
    nominal: relativedelta
    exact: timedelta

    def send_at(self, local_start: datetime, tz: ZoneInfo) -> datetime:
        """When to remind about a meeting that starts at `local_start` (naive wall-clock in tz)."""
        wall = local_start - self.nominal
        # Exact time is subtracted in UTC: aware arithmetic within one zone is wall-clock time.
        return (localize(wall, tz).astimezone(UTC) - self.exact).astimezone(tz)

    def max_lead(self) -> timedelta:
        """An upper bound of (start − send time) over any calendar position."""
        n = self.nominal
        days = abs(n.years) * 366 + abs(n.months) * 31 + abs(n.days) + 1  # +1: DST hour, slack
        return timedelta(days=days) + self.exact


@dataclass(frozen=True)
class Forum:
    """A validated forum definition (see shared/spec/contracts.md, "Forums and reminders")."""

    id: str
    name: str
    start: datetime  # naive local wall-clock time of the first meeting
    duration_minutes: int
    timezone: str = DEFAULT_TIMEZONE
    kind: str | None = None
    rrule: str | None = None  # RFC 5545 RRULE value, e.g. FREQ=MONTHLY;BYDAY=2TU
    exdates: tuple[date | datetime, ...] = ()
    skip_public_holidays: bool = False
    location: str | None = None
    join_url: str | None = None
    reminders: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return parse_timezone(self.timezone)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def offsets(self) -> list[ReminderOffset]:
        return [parse_offset(r) for r in self.reminders]


@dataclass(frozen=True)
class Occurrence:
    forum: str
    start: datetime  # aware, in the forum's time zone
    end: datetime  # aware, in the forum's time zone
    local_start: datetime = field(compare=False)  # the naive wall-clock time the rule produced
    # The forum it belongs to (name, place, link) for cards; not part of the identity.
    definition: Forum | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DueReminder:
    forum: str
    occurrence: datetime  # aware start of the meeting, forum's time zone
    send_at: datetime  # aware, forum's time zone
    offset: str  # as written, e.g. "P1D"


# --- parsing single values ---------------------------------------------------------------------


def parse_timezone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise ScheduleError(texts().text("schedule.no_timezone"))
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(texts().text("schedule.unknown_timezone", name=name)) from None



def one_line(text: str) -> str:
    """A text on one line: line breaks, tabs and runs of spaces become one space."""
    return " ".join(text.split())



# --- time zones, holidays ----------------------------------------------------------------------


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in tz → aware datetime (RFC 5545: gap → offset before it; fold → first)."""
    if naive.tzinfo is not None:
        raise ValueError("localize needs a naive datetime")
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def parse_offset(text: str) -> ReminderOffset:
    """'P1D', 'PT1H', 'P7D', 'P1DT2H' … (ISO 8601 durations, positive)."""
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError(texts().text("schedule.no_offset"))
    norm = text.strip().upper()
    bad = ScheduleError(texts().text("schedule.bad_offset", text=text))
    if not norm.startswith("P"):
        raise bad
    try:
        isodate.parse_duration(norm)
        date_part, _, time_part = norm.partition("T")
        nominal = (
            _to_relativedelta(isodate.parse_duration(date_part))
            if date_part != "P"
            else (relativedelta())
        )
        exact_raw = isodate.parse_duration("PT" + time_part) if time_part else timedelta(0)
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise bad from None
    if not isinstance(exact_raw, timedelta):
        raise bad
    probe = datetime(2001, 6, 15, 12, 0)
    negative = nominal != abs(nominal) or exact_raw < timedelta(0)
    try:
        positive = probe - nominal - exact_raw < probe
    except (OverflowError, ValueError):  # e.g. P9999Y: before year 1
        raise ScheduleError(too_early(norm)) from None
    if negative or not positive:
        raise ScheduleError(texts().text("schedule.offset_not_positive", text=text))
    return ReminderOffset(text=norm, nominal=nominal, exact=exact_raw)


def too_early(text: str) -> str:
    return texts().text("schedule.offset_too_early", text=text)


def within_lead_limit(offset: ReminderOffset) -> bool:
    """Whether a reminder is at most MAX_REMINDER_LEAD before its meeting (P1Y, P12M, P365D
    and PT8760H are; P1YT1H and P13M are not)."""
    probe = datetime(2001, 6, 15, 12, 0)  # the year before holds no 29 February
    return probe - offset.nominal - offset.exact >= probe - MAX_REMINDER_LEAD


def _to_relativedelta(value: Any) -> relativedelta:
    if isinstance(value, timedelta):
        if value.seconds or value.microseconds:
            raise ValueError("fractional days")
        return relativedelta(days=value.days)
    years, months = value.years, value.months
    if years != int(years) or months != int(months):
        raise ValueError("fractional years or months")
    td = value.tdelta
    if td.seconds or td.microseconds:
        raise ValueError("fractional days")
    return relativedelta(years=int(years), months=int(months), days=td.days)
