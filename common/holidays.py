"""The Swedish holiday calendar, one for the whole product (the `holidays` library).

- `public_holidays(years)`: allmänna helgdagar (lag 1989:253) – what a forum with
  `skip_public_holidays` skips. Sundays are not added as such, and midsommarafton, julafton and
  nyårsafton are not public holidays.
- `closed_day(day)`: the name of the holiday when a Swedish public office is closed on a weekday:
  the public holidays and the de facto ones (midsommarafton, julafton, nyårsafton, which
  semesterlagen 7 § treats like holidays). Used for office hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache

import holidays as _lib

COUNTRY = "SE"


def public_holidays(years: Iterable[int]) -> set[date]:
    """Swedish public holidays (allmänna helgdagar) of the given years; Sundays not as such."""
    table = _lib.country_holidays(
        COUNTRY, years=sorted(set(years)), categories=(_lib.PUBLIC,), include_sundays=False
    )
    return set(table.keys())


def closed_day(day: date) -> str | None:
    """The Swedish name of the holiday on which a public office is closed, or None."""
    name = _closed_days(day.year).get(day)
    return str(name) if name else None


@cache
def _closed_days(year: int) -> dict[date, str]:
    # A pure function of the year (the library's tables are fixed for a given version).
    table = _lib.country_holidays(
        COUNTRY,
        years=year,
        categories=(_lib.PUBLIC, _lib.DE_FACTO),
        include_sundays=False,
        language="sv",
    )
    return {d: str(n) for d, n in table.items()}
