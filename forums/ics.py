"""A forum as an iCalendar file: one recurring VEVENT with its time zone, rule, excluded dates
and alarms, for calendar apps to subscribe to (`ForumService.forum_ics`)."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vRecur

from forums import model, recurrence, schedule, texts
from forums.model import Forum

# How far ahead an iCalendar file lists the meetings that exdates or holidays remove, when the
# rule never ends (calendar apps fetch the file again when it changes).
ICS_HORIZON = timedelta(days=3 * 366)
PRODID = "-//Samverkansboten//Samverkansforum//SV"

def _ics_text(value: str) -> str:
    """One line without control characters: an iCalendar value cannot hold a line break
    (forums imported before names were checked may have one)."""
    return "".join(
        c for c in model.one_line(value) if unicodedata.category(c) not in ("Cc", "Cs")
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
    start = model.localize(forum.start, tz)
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
        horizon = min(horizon, model.localize(last, tz) + timedelta(days=1))
    if forum.rrule is not None:
        event.add("rrule", vRecur.from_ical(recurrence.ics_rule_text(forum.rrule, tz)))
        if not schedule.rule_is_synced(forum):
            event.add("rdate", [start])
    excluded = schedule.excluded_starts(forum, horizon)
    if excluded:
        event.add("exdate", [model.localize(x, tz) for x in excluded])

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
