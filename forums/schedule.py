"""Forum schedules as pure functions: definitions, occurrences and reminders (Swedish dates:
common.swedish).

Nothing here does I/O or asks for "now": every function gets the instants it works with.

Conventions (RFC 5545 where it has one):

- A forum's `start` is the local wall-clock time of its first meeting in its time zone. The
  recurrence rule is expanded in local naive time and each occurrence is then localised, so a
  meeting at 13.00 stays at 13.00 across daylight-saving changes.
- A local time that does not exist (spring forward, 02.00–03.00 in Stockholm) is interpreted with
  the UTC offset before the gap, i.e. moved forward by the gap (02.30 → 03.30 CEST); a local time
  that occurs twice (autumn) means its first occurrence (RFC 5545 §3.3.5).
- `start` is always a meeting (also when it does not match the rule), unless excluded.
- `exdates` are dates (no meeting that local day) or local datetimes (no meeting at that time).
- `skip_public_holidays` removes meetings on Swedish public holidays (allmänna helgdagar, lag
  (1989:253)); Sundays are not holidays as such, and midsommarafton, julafton and nyårsafton are
  not public holidays either.
- A reminder offset is an ISO 8601 duration before the start. Its calendar part (years, months,
  weeks, days) is nominal and moves the wall clock (P1D = the same local time the day before, also
  across a daylight-saving change); its time part (hours, minutes, seconds) is exact (PT1H = 3,600
  seconds before). This is how RFC 5545 defines durations.

Bounds (so that no forum can make the bot slow; docs/formats.md tells administrators):

- Import (`parse_forum`) refuses rules finer than daily (FREQ=SECONDLY, MINUTELY, HOURLY, and
  BYHOUR/BYMINUTE/BYSECOND: the time of day comes from `start`), COUNT over `MAX_COUNT`,
  INTERVAL over `MAX_INTERVAL`, parts that are not RFC 5545 (e.g. BYEASTER), rules that give no
  meeting in the first `FIRST_MEETING_YEARS` years (31 February), a `start` outside the years
  `FIRST_YEAR`–`LAST_YEAR`, more than `MAX_EXDATES` exdates and reminders more than a year
  before the meeting. Texts are one line (line breaks and tabs become spaces) and may not hold
  control characters.
- Expansion (also of forums stored before these limits existed) generates at most
  `MAX_GENERATED` instances of a rule per forum and query, counted from the first meeting, and
  returns at most `MAX_OCCURRENCES` meetings per forum and query; a rule that gives no meeting at
  all is never searched to the end of the calendar (only `start` is a meeting then).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from common.holidays import public_holidays
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
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(7000, 1, 1, tzinfo=UTC)


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
        raise ScheduleError(_too_early(norm)) from None
    if negative or not positive:
        raise ScheduleError(texts().text("schedule.offset_not_positive", text=text))
    return ReminderOffset(text=norm, nominal=nominal, exact=exact_raw)


def _too_early(text: str) -> str:
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


@dataclass(frozen=True)
class _RuleParts:
    parts: tuple[tuple[str, str], ...]

    def render(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.parts)


def _split_rule(text: str) -> list[tuple[str, str]]:
    s = text.strip()
    if s.upper().startswith("RRULE:"):
        s = s[len("RRULE:") :]
    if not s or "\n" in s or "\r" in s or ":" in s:
        raise ScheduleError(texts().text("schedule.rule_one_line"))
    parts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in s.split(";"):
        if not item:
            continue
        name, eq, value = item.partition("=")
        name = name.strip().upper()
        if not eq or not name or not value.strip():
            raise ScheduleError(texts().text("schedule.rule_part", item=item))
        if name in seen:
            raise ScheduleError(texts().text("schedule.rule_part_twice", name=name))
        seen.add(name)
        parts.append((name, value.strip().upper()))
    if "FREQ" not in seen:
        raise ScheduleError(texts().text("schedule.rule_no_freq"))
    if "COUNT" in seen and "UNTIL" in seen:
        raise ScheduleError(texts().text("schedule.rule_count_until"))
    for name, value in parts:
        if name in ("INTERVAL", "COUNT") and (not value.isdigit() or int(value) < 1):
            raise ScheduleError(texts().text("schedule.rule_positive", name=name))
    return parts


def _until_local(value: str, tz: ZoneInfo) -> datetime:
    """UNTIL as naive local time: UTC (…Z) converted, a date means the whole local day."""
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59)
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            utc = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return utc.astimezone(tz).replace(tzinfo=None)
        if re.fullmatch(r"\d{8}T\d{6}", value):
            return datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError:
        pass
    raise ScheduleError(texts().text("schedule.rule_bad_until", value=value))


def _local_rule_text(text: str, tz: ZoneInfo) -> tuple[str, datetime | None]:
    """The rule with UNTIL in naive local time (for dateutil), and that local UNTIL."""
    parts = _split_rule(text)
    until: datetime | None = None
    out: list[tuple[str, str]] = []
    for name, value in parts:
        if name == "UNTIL":
            until = _until_local(value, tz)
            value = until.strftime("%Y%m%dT%H%M%S")
        out.append((name, value))
    return _RuleParts(tuple(out)).render(), until


def ics_rule_text(text: str, tz: ZoneInfo) -> str:
    """The rule for an iCalendar file whose DTSTART has a TZID: UNTIL must then be in UTC."""
    parts = _split_rule(text)
    out: list[tuple[str, str]] = []
    for name, value in parts:
        if name == "UNTIL":
            local_until = _until_local(value, tz)
            value = localize(local_until, tz).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        out.append((name, value))
    return _RuleParts(tuple(out)).render()


def parse_rule(text: str, start: datetime, tz: ZoneInfo) -> rrule:
    """A dateutil rule over naive local time, starting at `start`."""
    local_text, _ = _local_rule_text(text, tz)
    try:
        rule = rrulestr(local_text, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        unparsable = texts().text("schedule.rule_unparsable", text=text, problem=exc)
        raise ScheduleError(unparsable) from None
    if not isinstance(rule, rrule):  # pragma: no cover - rrulestr gives a set only with forceset
        raise ScheduleError(texts().text("schedule.rule_not_single", text=text))
    return rule


def check_rule(text: str, start: datetime, tz: ZoneInfo) -> None:
    """Import's checks of a rule beyond its syntax: the bounds that keep expansion cheap."""
    parts = dict(_split_rule(text))
    for name in parts:
        if name in TIME_OF_DAY_PARTS:
            raise ScheduleError(texts().text("schedule.rule_time_of_day", name=name))
        if name not in RULE_PARTS:
            parts_known = ", ".join(RULE_PARTS)
            raise ScheduleError(
                texts().text("schedule.rule_unsupported", name=name, known=parts_known)
            )
    freq = parts["FREQ"]
    if freq in SUB_DAILY_FREQS:
        raise ScheduleError(texts().text("schedule.rule_sub_daily", freq=freq))
    if freq not in FREQS:
        raise ScheduleError(texts().text("schedule.rule_unknown_freq", freq=freq))
    if int(parts.get("COUNT", "1")) > MAX_COUNT:
        raise ScheduleError(texts().text("schedule.rule_count", max=MAX_COUNT))
    if int(parts.get("INTERVAL", "1")) > MAX_INTERVAL:
        raise ScheduleError(texts().text("schedule.rule_interval", max=MAX_INTERVAL))
    parse_rule(text, start, tz)
    if first_rule_start(text, start) is None:
        raise ScheduleError(texts().text("schedule.rule_no_meeting", years=FIRST_MEETING_YEARS))


@lru_cache(maxsize=1024)
def first_rule_start(text: str, start: datetime) -> datetime | None:
    """The rule's first instance (COUNT and UNTIL left out) if it lies within
    FIRST_MEETING_YEARS of `start`, else None – found in bounded time.

    dateutil searches a rule that matches nothing (BYMONTH=2;BYMONTHDAY=31) up to the year 9999,
    which takes seconds. The Gregorian calendar repeats itself every 400 years (146,097 days, a
    whole number of weeks), so the rule is asked from the same start moved by whole 400-year
    cycles to just before 9999: the search then ends after at most ~400 years.
    """
    parts = [(k, v) for k, v in _split_rule(text) if k not in ("COUNT", "UNTIL")]
    cycles = max(0, (MAXYEAR - FIRST_MEETING_YEARS - start.year) // 400)
    shift = 400 * cycles
    shifted = start.replace(year=start.year + shift)
    try:
        rule = rrulestr(_RuleParts(tuple(parts)).render(), dtstart=shifted)
        first = rule.after(shifted, inc=True) if isinstance(rule, rrule) else None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    if first is None or first > shifted + relativedelta(years=FIRST_MEETING_YEARS):
        return None
    return first.replace(year=first.year - shift)


def _rule_gives_meetings(forum: Forum) -> bool:
    """False for a rule that gives no meeting (only forums stored before import checked it)."""
    if forum.rrule is None:
        return False
    try:
        return first_rule_start(forum.rrule, forum.start) is not None
    except ScheduleError:
        return False


# --- validating a whole definition -------------------------------------------------------------


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
                    bad("reminders", _too_early(off.text))
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


def one_line(text: str) -> str:
    """A text on one line: line breaks, tabs and runs of spaces become one space."""
    return " ".join(text.split())


# --- time zones, holidays ----------------------------------------------------------------------


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in tz → aware datetime (RFC 5545: gap → offset before it; fold → first)."""
    if naive.tzinfo is not None:
        raise ValueError("localize needs a naive datetime")
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _utc(dt: datetime) -> datetime:
    """For sorting and keys: aware values in one zone compare by wall clock (ignoring fold)."""
    return dt.astimezone(UTC)


def _aware(dt: datetime, what: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return dt


def _clamped(dt: datetime) -> datetime:
    return min(max(dt, _EARLIEST), _LATEST)


# --- occurrences and reminders -----------------------------------------------------------------


def _rule_instances(forum: Forum, lo: datetime, hi: datetime) -> list[datetime]:
    """The rule's naive local starts in [lo, hi], bounded: at most MAX_GENERATED instances are
    generated (from the first one, also those before `lo`) and MAX_OCCURRENCES returned."""
    assert forum.rrule is not None
    if not _rule_gives_meetings(forum):
        return []
    out: list[datetime] = []
    for n, local in enumerate(parse_rule(forum.rrule, forum.start, forum.tz)):
        if local > hi or n >= MAX_GENERATED:
            break
        if local >= lo:
            out.append(local)
            if len(out) >= MAX_OCCURRENCES:
                break
    return out


def _local_candidates(forum: Forum, lo: datetime, hi: datetime) -> list[datetime]:
    """Naive local starts in [lo, hi] (inclusive, naive) before exclusions."""
    first = [forum.start] if lo <= forum.start <= hi else []
    if forum.rrule is None:
        return first
    found = _rule_instances(forum, lo, hi)
    if first and forum.start not in found:
        found = sorted([*found, forum.start])[:MAX_OCCURRENCES]
    return found


@dataclass(frozen=True)
class _Exclusions:
    days: frozenset[date]
    times: frozenset[datetime]

    @classmethod
    def of(cls, forum: Forum, holiday_days: set[date]) -> _Exclusions:
        times = frozenset(x for x in forum.exdates if isinstance(x, datetime))
        days = frozenset(x for x in forum.exdates if not isinstance(x, datetime))
        if forum.skip_public_holidays:
            days |= holiday_days
        return cls(days, times)

    def __contains__(self, local: object) -> bool:
        assert isinstance(local, datetime)
        return local in self.times or local.date() in self.days


def occurrences(forum: Forum, start: datetime, end: datetime) -> list[Occurrence]:
    """Meetings of one forum that start in [start, end) (aware instants), by start."""
    start = _clamped(_aware(start, "start"))
    end = _clamped(_aware(end, "end"))
    if end <= start:
        return []
    tz = forum.tz
    margin = timedelta(days=1)  # the naive window only has to contain the instant window
    lo = start.astimezone(tz).replace(tzinfo=None) - margin
    hi = end.astimezone(tz).replace(tzinfo=None) + margin
    candidates = _local_candidates(forum, lo, hi)
    holiday_days = (
        public_holidays(range(candidates[0].year, candidates[-1].year + 1))
        if forum.skip_public_holidays and candidates
        else set()
    )
    excluded = _Exclusions.of(forum, holiday_days)
    out: list[Occurrence] = []
    for local in candidates:
        if local in excluded:
            continue
        begin = localize(local, tz)
        if start <= begin < end:
            finish = (begin.astimezone(UTC) + forum.duration).astimezone(tz)
            out.append(
                Occurrence(
                    forum=forum.id, start=begin, end=finish, local_start=local, definition=forum
                )
            )
    out.sort(key=lambda o: _utc(o.start))
    return out


def upcoming(forums: Sequence[Forum], start: datetime, end: datetime) -> list[Occurrence]:
    """Meetings of all forums that start in [start, end), ordered by start (then forum id)."""
    out = [o for f in forums for o in occurrences(f, start, end)]
    out.sort(key=lambda o: (_utc(o.start), o.forum))
    return out


def max_lead(forum: Forum) -> timedelta:
    """An upper bound of how long before a meeting its earliest reminder is sent."""
    return max((o.max_lead() for o in forum.offsets()), default=timedelta(0))


def reminders_for(forum: Forum, occurrence: Occurrence) -> list[DueReminder]:
    """Every reminder of one meeting, earliest first."""
    tz = forum.tz
    out = [
        DueReminder(
            forum=forum.id,
            occurrence=occurrence.start,
            send_at=o.send_at(occurrence.local_start, tz),
            offset=o.text,
        )
        for o in forum.offsets()
    ]
    out.sort(key=lambda r: (_utc(r.send_at), _utc(r.occurrence) - _utc(r.send_at)))
    return out


def reminders_due(forum: Forum, start: datetime, end: datetime) -> list[DueReminder]:
    """Reminders of one forum whose send time lies in [start, end)."""
    start = _clamped(_aware(start, "start"))
    end = _clamped(_aware(end, "end"))
    if end <= start or not forum.reminders:
        return []
    # A reminder is sent before its meeting, so its meeting starts in [start, end + lead].
    meetings = occurrences(forum, start, end + max_lead(forum) + timedelta(seconds=1))
    out = [r for occ in meetings for r in reminders_for(forum, occ) if start <= r.send_at < end]
    out.sort(key=lambda r: (_utc(r.send_at), r.forum, _utc(r.occurrence)))
    return out


def all_reminders_due(forums: Sequence[Forum], start: datetime, end: datetime) -> list[DueReminder]:
    out = [r for f in forums for r in reminders_due(f, start, end)]
    out.sort(key=lambda r: (_utc(r.send_at), r.forum, _utc(r.occurrence), r.offset))
    return out


def find_occurrence(forum: Forum, at: datetime) -> Occurrence | None:
    """The meeting of `forum` that starts exactly at `at`, if the schedule still has it."""
    found = occurrences(forum, at, at + timedelta(seconds=1))
    return next((o for o in found if o.start == at), None)


def rule_is_synced(forum: Forum) -> bool:
    """Whether `start` is itself produced by the rule (else it is an extra first meeting)."""
    if forum.rrule is None:
        return True
    if not _rule_gives_meetings(forum):
        return False
    rule = parse_rule(forum.rrule, forum.start, forum.tz)
    return rule.after(forum.start, inc=True) == forum.start


def excluded_starts(forum: Forum, until: datetime) -> list[datetime]:
    """Local starts the rule produces up to `until` (aware) that exdates or holidays remove.

    Used to write EXDATE lines of an iCalendar file (dates become the meeting's local time).
    """
    tz = forum.tz
    hi = until.astimezone(tz).replace(tzinfo=None)
    candidates = _local_candidates(forum, forum.start, hi)
    holiday_days = (
        public_holidays(range(candidates[0].year, candidates[-1].year + 1))
        if forum.skip_public_holidays and candidates
        else set()
    )
    excluded = _Exclusions.of(forum, holiday_days)
    return [c for c in candidates if c in excluded]


def last_start(forum: Forum) -> datetime | None:
    """The last naive local start of a finite schedule; None when the rule never ends (or
    goes on for more than MAX_GENERATED instances, which counts as never ending)."""
    if forum.rrule is None or not _rule_gives_meetings(forum):
        return forum.start
    names = {name for name, _ in _split_rule(forum.rrule)}
    if not names & {"COUNT", "UNTIL"}:
        return None
    last = forum.start
    for n, local in enumerate(parse_rule(forum.rrule, forum.start, forum.tz)):
        if n >= MAX_GENERATED:
            return None
        last = local
    return max(last, forum.start)
