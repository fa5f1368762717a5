"""Recurrence rules (RFC 5545 RRULE) in a forum's local time: parsing, checking and the bounded
search for a rule's first meeting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from forums import texts
from forums.model import (
    FIRST_MEETING_YEARS,
    FREQS,
    MAX_COUNT,
    MAX_INTERVAL,
    RULE_PARTS,
    SUB_DAILY_FREQS,
    TIME_OF_DAY_PARTS,
    Forum,
    ScheduleError,
    localize,
)


@dataclass(frozen=True)
class _RuleParts:
    parts: tuple[tuple[str, str], ...]

    def render(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.parts)


def split_rule(text: str) -> list[tuple[str, str]]:
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
    parts = split_rule(text)
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
    parts = split_rule(text)
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
    parts = dict(split_rule(text))
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
    parts = [(k, v) for k, v in split_rule(text) if k not in ("COUNT", "UNTIL")]
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


def rule_gives_meetings(forum: Forum) -> bool:
    """False for a rule that gives no meeting (only forums stored before import checked it)."""
    if forum.rrule is None:
        return False
    try:
        return first_rule_start(forum.rrule, forum.start) is not None
    except ScheduleError:
        return False


# --- validating a whole definition -------------------------------------------------------------
