"""Swedish formatting in one place (common/swedish.py): the words come from common/texts.sv.yaml."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from common import swedish

STHLM = ZoneInfo("Europe/Stockholm")


def test_names_of_days_and_months() -> None:
    assert swedish.weekday_names()[0] == "måndag" and swedish.weekday_names()[6] == "söndag"
    assert swedish.month_names()[0] == "januari" and len(swedish.month_names()) == 12
    assert swedish.date(date(2026, 11, 22)) == "22 november 2026"


def test_times_and_spans() -> None:
    start = datetime(2026, 9, 8, 13, 0, tzinfo=STHLM)
    assert swedish.clock(time(8, 5)) == "08.05"
    assert swedish.date_time(start) == "tisdag 8 september kl. 13.00"
    assert swedish.date_time(start, with_year=True) == "tisdag 8 september 2026 kl. 13.00"
    assert swedish.span(start, start + timedelta(minutes=90)) == (
        "tisdag 8 september kl. 13.00–14.30"
    )


def test_weekdays_office_hours_and_lists() -> None:
    assert swedish.weekdays(range(5)) == "måndag–fredag"
    assert swedish.weekdays([0, 2]) == "måndag och onsdag"
    assert swedish.weekdays([5, 6, 0]) == "måndag, lördag och söndag"
    assert swedish.office_hours(range(5), time(8), time(16, 30)) == "måndag–fredag 08.00–16.30"
    assert swedish.join(["a"]) == "a"
    assert swedish.join(["a", "b", "c"]) == "a, b och c"
    assert swedish.join(["a", "b"], "or") == "a eller b"


def test_weekday_words() -> None:
    spelled = {"måndag": 0, "Mån": 0, "tis": 1, "tor": 3, "tors": 3, "lö": 5, "Söndag": 6}
    for word, number in spelled.items():
        assert swedish.weekday_number(word) == number, word
    for word in ("t", "fredagar", "monday", ""):
        assert swedish.weekday_number(word) is None, word


def test_phone_uri() -> None:
    assert swedish.phone_uri("08-000 101 01") == "tel:0800010101"
    assert swedish.phone_uri("+46 8 508 000 00") == "tel:0850800000"
    assert swedish.phone_uri("+47 22 00 00 00") == "tel:004722000000"
