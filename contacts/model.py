"""The contact registry as data: districts (their intake, office hours and after-hours
service), contact persons and schools, and the immutable in-memory snapshot the routing reads.

Office hours know Swedish public holidays and midsommarafton, julafton and nyårsafton as closed
days (common.holidays).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from common import swedish
from common.holidays import closed_day
from contacts import texts
from contacts.matching import Match, NameIndex, match_name

LOCAL_TZ = ZoneInfo("Europe/Stockholm")

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Accepted spellings of a weekday in registry files besides the codes and the Swedish names
# (common.swedish.weekday_number): English names.
_ENGLISH_DAYS: dict[str, str] = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}

_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_day(text: str) -> str | None:
    """'mon', 'måndag', 'mån', 'Monday' → 'mon'; None when it is not a weekday."""
    word = text.strip().casefold()
    if word in WEEKDAYS:
        return word
    if word in _ENGLISH_DAYS:
        return _ENGLISH_DAYS[word]
    number = swedish.weekday_number(word)
    return None if number is None else WEEKDAYS[number]


def parse_clock(text: str) -> time | None:
    """'08:00', '8:00' or '08.00' → time(8, 0); None when it is not a time of day."""
    m = _TIME_RE.match(text.strip())
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def format_days(days: Iterable[str]) -> str:
    """['mon', …, 'fri'] → 'måndag–fredag'; ['mon', 'wed'] → 'måndag och onsdag'."""
    return swedish.weekdays(WEEKDAYS.index(d) for d in days)


@dataclass(frozen=True)
class OfficeHours:
    days: tuple[str, ...]  # 'mon' … 'sun', in week order
    open: time
    close: time

    def describe(self) -> str:
        """'måndag–fredag 08.00–16.30'."""
        return swedish.office_hours((WEEKDAYS.index(d) for d in self.days), self.open, self.close)


@dataclass(frozen=True)
class AfterHours:
    id: str
    name: str
    phone: str
    email: str | None = None
    url: str | None = None
    example: bool = False


@dataclass(frozen=True)
class Intake:
    name: str
    phone: str
    email: str | None = None
    url: str | None = None  # the kommun's e-tjänst for reports, where there is one


@dataclass(frozen=True)
class District:
    id: str
    name: str
    intake: Intake
    office_hours: OfficeHours
    after_hours: str | None = None
    aliases: tuple[str, ...] = ()
    example: bool = False


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str | None = None
    district: str | None = None
    phone: str | None = None
    email: str | None = None
    teams_upn: str | None = None
    example: bool = False


@dataclass(frozen=True)
class School:
    id: str
    name: str
    district: str
    contact_person: str | None = None
    aliases: tuple[str, ...] = ()
    example: bool = False


class SwedishCalendar:
    """Days on which a Swedish public office is closed although it is a weekday (see
    common.holidays.closed_day); a class so that tests can give a calendar of their own."""

    def holiday(self, day: date) -> str | None:
        return closed_day(day)


class RegistrySnapshot:
    """The whole registry in memory, with name indexes built once. Treat it as immutable."""

    def __init__(
        self,
        *,
        after_hours: Iterable[AfterHours] = (),
        districts: Iterable[District] = (),
        people: Iterable[Person] = (),
        schools: Iterable[School] = (),
        revision: int = 0,
        calendar: SwedishCalendar | None = None,
    ) -> None:
        self.after_hours: dict[str, AfterHours] = {a.id: a for a in after_hours}
        self.districts: dict[str, District] = {d.id: d for d in districts}
        self.people: dict[str, Person] = {p.id: p for p in people}
        self.schools: dict[str, School] = {s.id: s for s in schools}
        self.revision = revision
        self.calendar = calendar or SwedishCalendar()
        self._school_index = NameIndex((s.id, s.name, s.aliases) for s in self.schools.values())
        self._district_index = NameIndex((d.id, d.name, d.aliases) for d in self.districts.values())

    @property
    def is_empty(self) -> bool:
        return not (self.districts or self.schools or self.people or self.after_hours)

    @property
    def is_example(self) -> bool:
        """True when every district is example data (the bundled default registry)."""
        return bool(self.districts) and all(d.example for d in self.districts.values())

    def match_school(self, text: str) -> Match:
        return match_name(text, self._school_index)

    def match_district(self, text: str) -> Match:
        return match_name(text, self._district_index)

    # ---- office hours ---------------------------------------------------------------------

    def closed_reason(self, hours: OfficeHours, at: datetime) -> str | None:
        """None when open at `at`; otherwise why it is closed, in Swedish."""
        local = at.astimezone(LOCAL_TZ)
        holiday = self.calendar.holiday(local.date())
        if holiday:
            return texts().text("routing.reason_holiday", holiday=_lower_first(holiday))
        weekday = WEEKDAYS[local.weekday()]
        t = local.time().replace(tzinfo=None)
        if weekday in hours.days and hours.open <= t < hours.close:
            return None
        return texts().text("routing.reason_hours", hours=hours.describe())

    def is_open(self, hours: OfficeHours, at: datetime) -> bool:
        return self.closed_reason(hours, at) is None

    def next_opening(self, hours: OfficeHours, at: datetime) -> datetime | None:
        """The next moment at or after `at` when the office opens (aware, Stockholm time)."""
        local = at.astimezone(LOCAL_TZ)
        for offset in range(0, 31):
            day = local.date() + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in hours.days or self.calendar.holiday(day):
                continue
            opening = datetime.combine(day, hours.open, tzinfo=LOCAL_TZ)
            if opening >= local:
                return opening
        return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
