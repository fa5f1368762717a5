"""Swedish formatting in one place: weekday and month names, dates and times of day, office
hours ("måndag–fredag 08.00–16.30"), lists joined with "och"/"eller", and phone numbers as
`tel:` links. The words live in common/texts.sv.yaml (section `swedish`); no locale is consulted.

Times are shown as they are given: convert to local time (common.clock.local) first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date as Date
from datetime import datetime
from datetime import time as Time
from typing import Literal

from common.catalogue import COMMON_TEXTS, Catalogue, load_once


@functools.cache
def _texts() -> Catalogue:
    return load_once(COMMON_TEXTS)


def weekday_names() -> tuple[str, ...]:
    """'måndag' … 'söndag' (Monday first, as `date.weekday()`)."""
    return _texts().phrases("swedish.weekdays")


def month_names() -> tuple[str, ...]:
    """'januari' … 'december'."""
    return _texts().phrases("swedish.months")


def weekday(d: Date) -> str:
    return weekday_names()[d.weekday()]


def month(d: Date) -> str:
    return month_names()[d.month - 1]


def weekday_number(word: str) -> int | None:
    """'måndag', 'mån', 'Tors', 'lö' → 0 … 6 (Monday is 0); None for any other word. The short
    forms are those of `swedish.weekday_abbreviations`, each the start of one weekday's name."""
    folded = word.strip().casefold()
    names = weekday_names()
    if folded in names:
        return names.index(folded)
    if folded in _texts().phrases("swedish.weekday_abbreviations"):
        starts = [i for i, name in enumerate(names) if name.startswith(folded)]
        if len(starts) == 1:
            return starts[0]
    return None


def clock(t: Time | datetime) -> str:
    """08.00."""
    return f"{t.hour:02d}.{t.minute:02d}"


def date(d: Date) -> str:
    """'22 november 2026'."""
    return _texts().text("swedish.date", day=d.day, month=month(d), year=d.year)


def date_time(dt: datetime, *, with_year: bool = False) -> str:
    """'tisdag 8 september kl. 13.00' (with_year: 'tisdag 8 september 2026 kl. 13.00')."""
    if with_year:
        return _texts().text(
            "swedish.date_time_year",
            weekday=weekday(dt),
            day=dt.day,
            month=month(dt),
            year=dt.year,
            time=clock(dt),
        )
    return _texts().text(
        "swedish.date_time", weekday=weekday(dt), day=dt.day, month=month(dt), time=clock(dt)
    )


def span(start: datetime, end: datetime, *, with_year: bool = False) -> str:
    """'tisdag 8 september kl. 13.00–14.30'; a meeting past midnight shows the end date too."""
    head = date_time(start, with_year=with_year)
    local_end = end.astimezone(start.tzinfo) if start.tzinfo else end
    if local_end.date() == start.date():
        return f"{head}–{clock(local_end)}"
    return f"{head} – {date_time(local_end, with_year=with_year)}"


def conjunction(which: Literal["and", "or"]) -> str:
    """'och' or 'eller'."""
    return _texts().text("swedish.and" if which == "and" else "swedish.or")


def join(items: Sequence[str], which: Literal["and", "or"] = "and") -> str:
    """'a', 'a och b', 'a, b och c' ('eller' with which="or")."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction(which)} {items[-1]}"


def weekdays(numbers: Iterable[int]) -> str:
    """[0, …, 4] → 'måndag–fredag'; [0, 2] → 'måndag och onsdag' (three days or more in a row
    are a range)."""
    names = weekday_names()
    runs: list[list[int]] = []
    for i in sorted(set(numbers)):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(names[i] for i in run)
    return join(parts, "and")


def office_hours(numbers: Iterable[int], opens: Time, closes: Time) -> str:
    """'måndag–fredag 08.00–16.30'."""
    return f"{weekdays(numbers)} {clock(opens)}–{clock(closes)}"


def phone_uri(phone: str) -> str:
    """'08-000 101 01' → 'tel:0800010101'; '+46 8 …' → 'tel:08…'; other '+NN' → 'tel:00NN…'.

    Digits only, so every phone client dials it. The number itself is shown as written.
    """
    text = phone.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        digits = "0" + digits[2:] if digits.startswith("46") else "00" + digits
    return f"tel:{digits}"
