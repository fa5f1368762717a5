"""The pure schedule functions: occurrences, DST, holidays, exdates, reminders, Swedish dates.

Expected values are written out from the calendar (2nd Tuesday of each month, every fourth
Wednesday, Swedish public holidays, the EU daylight-saving rules), not produced by the code.
Every test that computes dates runs under several machine time zones (fixture `machine_tz`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from common import swedish
from common.holidays import public_holidays
from forums import model, recurrence, schedule
from forums.definition import parse_forum
from forums.model import Forum, ScheduleError, parse_offset

from .conftest import EVAL_FILE

STHLM = ZoneInfo("Europe/Stockholm")


def at(text: str) -> datetime:
    """An aware instant from ISO text with an offset."""
    dt = datetime.fromisoformat(text)
    assert dt.tzinfo is not None
    return dt


def eval_forums() -> dict[str, Forum]:
    raw = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))["forums"]
    out: dict[str, Forum] = {}
    for item in raw:
        forum, problems = parse_forum(item)
        assert problems == [] and forum is not None
        out[forum.id] = forum
    return out


def forum(**kw: Any) -> Forum:
    base: dict[str, Any] = {
        "id": "f",
        "name": "Forum",
        "start": "2026-09-08T13:00",
        "duration_minutes": 60,
    }
    base.update(kw)
    f, problems = parse_forum(base)
    assert problems == [], problems
    assert f is not None
    return f


def starts(f: Forum, a: str, b: str) -> list[str]:
    return [o.start.isoformat() for o in schedule.occurrences(f, at(a), at(b))]


# --- the evaluation file -----------------------------------------------------------------------

BUS_2026_2027 = [
    "2026-09-08T13:00:00+02:00",
    "2026-10-13T13:00:00+02:00",
    "2026-11-10T13:00:00+01:00",
    # 2026-12-08 is an exdate
    "2027-01-12T13:00:00+01:00",
    "2027-02-09T13:00:00+01:00",
    "2027-03-09T13:00:00+01:00",
    "2027-04-13T13:00:00+02:00",
    "2027-05-11T13:00:00+02:00",
    "2027-06-08T13:00:00+02:00",
    "2027-07-13T13:00:00+02:00",
    "2027-08-10T13:00:00+02:00",
]
KONSULTATION_2026_2027 = [
    "2026-09-02T14:00:00+02:00",
    "2026-09-30T14:00:00+02:00",
    "2026-10-28T14:00:00+01:00",
    "2026-11-25T14:00:00+01:00",
    "2026-12-23T14:00:00+01:00",
    "2027-01-20T14:00:00+01:00",
    "2027-02-17T14:00:00+01:00",
    "2027-03-17T14:00:00+01:00",
    "2027-04-14T14:00:00+02:00",
    "2027-05-12T14:00:00+02:00",
    "2027-06-09T14:00:00+02:00",
    "2027-07-07T14:00:00+02:00",
    "2027-08-04T14:00:00+02:00",
]


def test_eval_file_occurrences_for_a_year(machine_tz: str) -> None:
    forums = eval_forums()
    a, b = "2026-09-01T00:00:00+02:00", "2027-09-01T00:00:00+02:00"
    assert starts(forums["bus-kno"], a, b) == BUS_2026_2027
    assert starts(forums["konsultation-engelbrekt"], a, b) == KONSULTATION_2026_2027
    assert starts(forums["motesplats-var"], a, b) == ["2027-03-17T08:30:00+01:00"]
    merged = schedule.upcoming(list(forums.values()), at(a), at(b))
    assert [o.start for o in merged] == sorted(o.start for o in merged)
    assert len(merged) == len(BUS_2026_2027) + len(KONSULTATION_2026_2027) + 1
    # Same wall-clock time and duration on both sides of every DST change.
    for o in schedule.occurrences(forums["bus-kno"], at(a), at(b)):
        assert (o.start.hour, o.start.minute) == (13, 0)
        assert o.end - o.start == timedelta(minutes=90)
        assert o.end.isoformat()[11:16] == "14:30"


def test_eval_file_skips_the_national_day_2029(machine_tz: str) -> None:
    f = eval_forums()["konsultation-engelbrekt"]
    got = starts(f, "2029-05-01T00:00:00+02:00", "2029-08-01T00:00:00+02:00")
    # Every fourth Wednesday: 9 May, (6 June = Sveriges nationaldag), 4 July.
    assert got == ["2029-05-09T14:00:00+02:00", "2029-07-04T14:00:00+02:00"]
    plain = dataclasses.replace(f, skip_public_holidays=False)
    assert "2029-06-06T14:00:00+02:00" in starts(
        plain, "2029-05-01T00:00:00+02:00", "2029-08-01T00:00:00+02:00"
    )


def test_eval_file_reminders(machine_tz: str) -> None:
    forums = eval_forums()
    due = schedule.all_reminders_due(
        list(forums.values()), at("2026-09-01T00:00:00+02:00"), at("2026-09-09T00:00:00+02:00")
    )
    assert [(r.forum, r.occurrence.isoformat(), r.send_at.isoformat(), r.offset) for r in due] == [
        (
            "konsultation-engelbrekt",
            "2026-09-02T14:00:00+02:00",
            "2026-09-01T14:00:00+02:00",
            "P1D",
        ),
        (
            "konsultation-engelbrekt",
            "2026-09-02T14:00:00+02:00",
            "2026-09-02T12:00:00+02:00",
            "PT2H",
        ),
        ("bus-kno", "2026-09-08T13:00:00+02:00", "2026-09-07T13:00:00+02:00", "P1D"),
        ("bus-kno", "2026-09-08T13:00:00+02:00", "2026-09-08T12:00:00+02:00", "PT1H"),
    ]
    # P7D and P1D before the single meeting on 17 March 2027.
    mp = schedule.reminders_due(
        forums["motesplats-var"], at("2027-01-01T00:00:00+01:00"), at("2027-12-31T00:00:00+01:00")
    )
    assert [(r.send_at.isoformat(), r.offset) for r in mp] == [
        ("2027-03-10T08:30:00+01:00", "P7D"),
        ("2027-03-16T08:30:00+01:00", "P1D"),
    ]
    # The exdate removes the December BUS meeting and its reminders.
    dec = schedule.reminders_due(
        forums["bus-kno"], at("2026-12-01T00:00:00+01:00"), at("2027-01-01T00:00:00+01:00")
    )
    assert dec == []


# --- daylight saving -------------------------------------------------------------------------


def test_wall_clock_kept_across_spring_and_autumn_changes(machine_tz: str) -> None:
    f = forum(start="2026-03-27T13:00", rrule="FREQ=DAILY;COUNT=6")
    got = starts(f, "2026-03-01T00:00:00+01:00", "2026-04-30T00:00:00+02:00")
    assert got == [
        "2026-03-27T13:00:00+01:00",
        "2026-03-28T13:00:00+01:00",
        "2026-03-29T13:00:00+02:00",  # clocks went forward at 02.00 that night
        "2026-03-30T13:00:00+02:00",
        "2026-03-31T13:00:00+02:00",
        "2026-04-01T13:00:00+02:00",
    ]
    f = forum(start="2026-10-24T09:00", rrule="FREQ=DAILY;COUNT=3")
    assert starts(f, "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00") == [
        "2026-10-24T09:00:00+02:00",
        "2026-10-25T09:00:00+01:00",
        "2026-10-26T09:00:00+01:00",
    ]


def test_nonexistent_local_time_moves_forward_by_the_gap(machine_tz: str) -> None:
    # 02.30 does not exist on 29 March 2026 in Stockholm: RFC 5545 → the offset before the gap.
    f = forum(start="2026-03-22T02:30", rrule="FREQ=WEEKLY;COUNT=3")
    got = starts(f, "2026-03-01T00:00:00+01:00", "2026-04-30T00:00:00+02:00")
    assert got == [
        "2026-03-22T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-04-05T02:30:00+02:00",
    ]
    occ = schedule.occurrences(f, at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"))
    assert occ[0].start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_ambiguous_local_time_means_the_first_one(machine_tz: str) -> None:
    # 02.30 happens twice on 25 October 2026: first in CEST (+02:00), then in CET.
    f = forum(start="2026-10-18T02:30", rrule="FREQ=WEEKLY;COUNT=3")
    got = starts(f, "2026-10-01T00:00:00+02:00", "2026-11-30T00:00:00+01:00")
    assert got == [
        "2026-10-18T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-11-01T02:30:00+01:00",
    ]


def test_localize_rfc5545_rules(machine_tz: str) -> None:
    assert model.localize(datetime(2026, 3, 29, 2, 30), STHLM).isoformat() == (
        "2026-03-29T03:30:00+02:00"
    )
    assert model.localize(datetime(2026, 10, 25, 2, 30), STHLM).isoformat() == (
        "2026-10-25T02:30:00+02:00"
    )
    with pytest.raises(ValueError):
        model.localize(datetime(2026, 1, 1, tzinfo=UTC), STHLM)


def test_other_forum_time_zone(machine_tz: str) -> None:
    f = forum(start="2026-03-06T09:00", timezone="America/New_York", rrule="FREQ=WEEKLY;COUNT=2")
    # New York switches on 8 March 2026, Stockholm on 29 March.
    assert starts(f, "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00") == [
        "2026-03-06T09:00:00-05:00",
        "2026-03-13T09:00:00-04:00",
    ]


# --- holidays and exdates ----------------------------------------------------------------------


def test_public_holidays_are_skipped_but_not_sundays_or_eves(machine_tz: str) -> None:
    weekly = "FREQ=DAILY"
    f = forum(start="2027-03-24T10:00", rrule=weekly, skip_public_holidays=True)
    got = {
        o.start.date()
        for o in schedule.occurrences(
            f, at("2027-03-24T00:00:00+01:00"), at("2027-04-04T00:00:00+02:00")
        )
    }
    # Långfredagen 26/3, påskdagen 28/3 (a Sunday) and annandag påsk 29/3 are holidays.
    assert date(2027, 3, 26) not in got
    assert date(2027, 3, 28) not in got
    assert date(2027, 3, 29) not in got
    # Påskafton (27/3) is not a public holiday; an ordinary Sunday (4/4 excluded by window, 21/3
    # before) – check 2027-04-11 below.
    assert date(2027, 3, 27) in got
    sundays = forum(
        start="2027-04-04T10:00", rrule="FREQ=WEEKLY;COUNT=3", skip_public_holidays=True
    )
    assert len(starts(sundays, "2027-04-01T00:00:00+02:00", "2027-05-01T00:00:00+02:00")) == 3
    eves = forum(start="2027-06-24T10:00", rrule="FREQ=DAILY;COUNT=3", skip_public_holidays=True)
    # Midsommarafton (25/6) is not a public holiday; midsommardagen (26/6) is.
    assert starts(eves, "2027-06-01T00:00:00+02:00", "2027-07-01T00:00:00+02:00") == [
        "2027-06-24T10:00:00+02:00",
        "2027-06-25T10:00:00+02:00",
    ]
    xmas = forum(start="2026-12-23T10:00", rrule="FREQ=DAILY;COUNT=5", skip_public_holidays=True)
    assert [
        s[:10] for s in starts(xmas, "2026-12-01T00:00:00+01:00", "2027-01-10T00:00:00+01:00")
    ] == [
        "2026-12-23",
        "2026-12-24",
        "2026-12-27",  # juldagen and annandag jul skipped
    ]


def test_holiday_list_is_swedish_law() -> None:
    days = public_holidays([2027])
    assert days == {
        date(2027, 1, 1),
        date(2027, 1, 6),
        date(2027, 3, 26),
        date(2027, 3, 28),
        date(2027, 3, 29),
        date(2027, 5, 1),
        date(2027, 5, 6),
        date(2027, 5, 16),
        date(2027, 6, 6),
        date(2027, 6, 26),
        date(2027, 11, 6),
        date(2027, 12, 25),
        date(2027, 12, 26),
    }


def test_exdates_as_dates_and_local_times(machine_tz: str) -> None:
    f = forum(
        start="2026-09-01T09:00",
        rrule="FREQ=DAILY;COUNT=4",
        exdates=[date(2026, 9, 2), "2026-09-03", "2026-09-04T09:00"],
    )
    assert starts(f, "2026-09-01T00:00:00+02:00", "2026-09-30T00:00:00+02:00") == [
        "2026-09-01T09:00:00+02:00"
    ]
    wrong_time = forum(
        start="2026-09-01T09:00", rrule="FREQ=DAILY;COUNT=2", exdates=["2026-09-02T10:00"]
    )
    assert len(starts(wrong_time, "2026-09-01T00:00:00+02:00", "2026-09-30T00:00:00+02:00")) == 2


def test_start_is_a_meeting_even_when_the_rule_does_not_produce_it(machine_tz: str) -> None:
    f = forum(start="2026-09-07T13:00", rrule="FREQ=MONTHLY;BYDAY=2TU;COUNT=2")  # a Monday
    assert starts(f, "2026-09-01T00:00:00+02:00", "2026-12-01T00:00:00+01:00") == [
        "2026-09-07T13:00:00+02:00",
        "2026-09-08T13:00:00+02:00",
        "2026-10-13T13:00:00+02:00",
    ]
    assert not schedule.rule_is_synced(f)


def test_until_in_utc_local_or_as_a_date(machine_tz: str) -> None:
    win = ("2026-09-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00")
    by_date = forum(start="2026-09-08T13:00", rrule="FREQ=WEEKLY;UNTIL=20260922")
    assert len(starts(by_date, *win)) == 3  # a date includes the whole day
    utc = forum(start="2026-09-08T13:00", rrule="FREQ=WEEKLY;UNTIL=20260922T110000Z")
    assert len(starts(utc, *win)) == 3  # 11.00Z is exactly 13.00 CEST
    utc_before = forum(start="2026-09-08T13:00", rrule="FREQ=WEEKLY;UNTIL=20260922T105959Z")
    assert len(starts(utc_before, *win)) == 2
    assert recurrence.ics_rule_text("FREQ=WEEKLY;UNTIL=20260922", STHLM) == (
        "FREQ=WEEKLY;UNTIL=20260922T215959Z"
    )


def test_single_meeting_and_interval_bounds(machine_tz: str) -> None:
    f = forum(start="2026-09-08T13:00")
    assert starts(f, "2026-09-08T13:00:00+02:00", "2026-09-08T13:00:01+02:00") == [
        "2026-09-08T13:00:00+02:00"
    ]
    assert starts(f, "2026-09-08T11:00:00+00:00", "2026-09-08T11:00:00.000001+00:00") == [
        "2026-09-08T13:00:00+02:00"
    ]
    assert starts(f, "2026-09-01T00:00:00+02:00", "2026-09-08T13:00:00+02:00") == []  # [from, to)
    assert starts(f, "2026-09-08T13:00:00.000001+02:00", "2026-12-01T00:00:00+01:00") == []
    with pytest.raises(ValueError):
        schedule.occurrences(f, datetime(2026, 9, 1), at("2026-12-01T00:00:00+01:00"))


# --- reminders ---------------------------------------------------------------------------------


def test_day_offsets_are_nominal_hours_exact_across_dst(machine_tz: str) -> None:
    # Sunday 29 March 2026 13.00 CEST; the clocks went forward at 02.00 that night.
    f = forum(start="2026-03-29T13:00", reminders=["P1D", "PT24H", "PT1H", "P1W"])
    occ = schedule.occurrences(f, at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"))
    got = {r.offset: r.send_at.isoformat() for r in schedule.reminders_for(f, occ[0])}
    assert got == {
        "P1D": "2026-03-28T13:00:00+01:00",  # the same wall-clock time the day before
        "PT24H": "2026-03-28T12:00:00+01:00",  # exactly 24 hours before
        "PT1H": "2026-03-29T12:00:00+02:00",
        "P1W": "2026-03-22T13:00:00+01:00",
    }
    # Sunday 25 October 2026 09.00 CET; the clocks went back at 03.00 that night.
    f = forum(start="2026-10-25T09:00", reminders=["P1D", "PT24H"])
    occ = schedule.occurrences(f, at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00"))
    got = {r.offset: r.send_at.isoformat() for r in schedule.reminders_for(f, occ[0])}
    assert got == {"P1D": "2026-10-24T09:00:00+02:00", "PT24H": "2026-10-24T10:00:00+02:00"}


def test_day_offset_into_a_gap(machine_tz: str) -> None:
    f = forum(start="2026-03-30T02:30", reminders=["P1D"])
    occ = schedule.occurrences(f, at("2026-03-30T00:00:00+02:00"), at("2026-03-31T00:00:00+02:00"))
    assert schedule.reminders_for(f, occ[0])[0].send_at.isoformat() == "2026-03-29T03:30:00+02:00"


def test_reminders_due_interval_is_half_open(machine_tz: str) -> None:
    f = forum(start="2026-09-08T13:00", reminders=["P1D"])
    send = "2026-09-07T13:00:00+02:00"
    assert len(schedule.reminders_due(f, at(send), at("2026-09-07T13:00:01+02:00"))) == 1
    assert schedule.reminders_due(f, at("2026-09-07T00:00:00+02:00"), at(send)) == []
    # Meetings after the window still count when their reminder falls inside it.
    f = forum(start="2026-12-31T10:00", reminders=["P1M"])
    due = schedule.reminders_due(
        f, at("2026-11-30T00:00:00+01:00"), at("2026-12-01T00:00:00+01:00")
    )
    assert [r.send_at.isoformat() for r in due] == ["2026-11-30T10:00:00+01:00"]


@pytest.mark.parametrize(
    ("text", "nominal_days", "exact"),
    [
        ("P1D", 1, timedelta(0)),
        ("pt1h", 0, timedelta(hours=1)),
        ("P7D", 7, timedelta(0)),
        ("P1W", 7, timedelta(0)),
        ("P1DT2H30M", 1, timedelta(hours=2, minutes=30)),
        ("PT36H", 0, timedelta(hours=36)),
        ("PT90M", 0, timedelta(minutes=90)),
    ],
)
def test_parse_offset(text: str, nominal_days: int, exact: timedelta) -> None:
    off = parse_offset(text)
    assert off.text == text.upper()
    assert off.nominal.days == nominal_days
    assert off.exact == exact


@pytest.mark.parametrize(
    "text", ["1D", "P", "-P1D", "P0D", "PT0S", "P1.5D", "P1DT", "X", "", "P1Y2X"]
)
def test_parse_offset_rejects(text: str) -> None:
    if text == "P1DT":
        assert parse_offset(text).nominal.days == 1  # isodate accepts an empty time part
        return
    with pytest.raises(ScheduleError):
        parse_offset(text)


# --- validation of definitions -----------------------------------------------------------------


def problems(**kw: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "id": "f",
        "name": "Forum",
        "start": "2026-09-08T13:00",
        "duration_minutes": 60,
    }
    base.update(kw)
    f, probs = parse_forum({k: v for k, v in base.items() if v is not ...})
    assert (f is None) == bool(probs)
    return {p.field: p.message for p in probs}


def test_definition_errors_name_the_field() -> None:
    assert "rrule" in problems(rrule="FREQ=MONTLY")
    assert "rrule" in problems(rrule="BYDAY=TU")
    assert "rrule" in problems(rrule="FREQ=WEEKLY;INTERVAL=0")
    assert "rrule" in problems(rrule="DTSTART:20260101T000000\nRRULE:FREQ=WEEKLY")
    assert "rrule" in problems(rrule="FREQ=WEEKLY;COUNT=2;UNTIL=20270101")
    assert "rrule" in problems(rrule="FREQ=WEEKLY;UNTIL=2027-01-01")
    assert "timezone" in problems(timezone="Europe/Stokholm")
    assert "timezone" in problems(timezone="../etc/passwd")
    assert "duration_minutes" in problems(duration_minutes=0)
    assert "duration_minutes" in problems(duration_minutes="90")
    assert "duration_minutes" in problems(duration_minutes=True)
    assert "reminders" in problems(reminders=["P1D", "1 dag"])
    assert "reminders" in problems(reminders=["P1D", "p1d"])
    assert "reminders" in problems(reminders="P1D")
    assert "start" in problems(start="2026-09-08")
    assert "start" in problems(start=date(2026, 9, 8))
    assert "start" in problems(start="8 september")
    assert "exdates" in problems(exdates=["2026-13-01"])
    assert "exdates" in problems(exdates="2026-12-08")
    assert "skip_public_holidays" in problems(skip_public_holidays="ja")
    assert "join_url" in problems(join_url="teams.microsoft.com/l/x")
    assert "id" in problems(id="bus kno")
    assert "name" in problems(name=...)
    assert "färg" in problems(färg="blå")
    assert problems() == {}
    assert problems(start="2026-09-08T13:00:00+02:00") == {}
    assert problems(start=datetime(2026, 9, 8, 13, 0)) == {}


def test_definition_with_offset_in_start_is_read_as_local_wall_clock() -> None:
    f, _ = parse_forum(
        {"id": "f", "name": "F", "start": "2026-09-08T11:00:00Z", "duration_minutes": 60}
    )
    assert f is not None and f.start == datetime(2026, 9, 8, 13, 0)


# --- Swedish dates -----------------------------------------------------------------------------


def test_swedish_date_format(machine_tz: str) -> None:
    dt = datetime(2026, 9, 8, 13, 0, tzinfo=STHLM)
    assert swedish.date_time(dt) == "tisdag 8 september kl. 13.00"
    assert swedish.date_time(dt, with_year=True) == "tisdag 8 september 2026 kl. 13.00"
    assert swedish.date_time(datetime(2027, 3, 17, 8, 30, tzinfo=STHLM)) == (
        "onsdag 17 mars kl. 08.30"
    )
    assert swedish.span(dt, dt + timedelta(minutes=90)) == (
        "tisdag 8 september kl. 13.00–14.30"
    )
    late = datetime(2026, 12, 31, 23, 0, tzinfo=STHLM)
    assert swedish.span(late, late + timedelta(hours=2)) == (
        "torsdag 31 december kl. 23.00 – fredag 1 januari kl. 01.00"
    )
    days = {
        swedish.date_time(datetime(2026, 9, 7 + i, 9, tzinfo=STHLM)).split()[0]
        for i in range(7)
    }
    assert days == {"måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"}
