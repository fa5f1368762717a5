"""Forum schedules as pure functions: the meetings and reminders of validated forums (values in
forums.model, rules in forums.recurrence, definitions checked by forums.definition).

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

- Import (`forums.definition.parse_forum`) refuses rules finer than daily (FREQ=SECONDLY,
  MINUTELY, HOURLY, and
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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from common.holidays import public_holidays
from forums.model import (
    MAX_GENERATED,
    MAX_OCCURRENCES,
    DueReminder,
    Forum,
    Occurrence,
    localize,
)
from forums.recurrence import parse_rule, rule_gives_meetings, split_rule

_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(7000, 1, 1, tzinfo=UTC)


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
    if not rule_gives_meetings(forum):
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
    if not rule_gives_meetings(forum):
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
    if forum.rrule is None or not rule_gives_meetings(forum):
        return forum.start
    names = {name for name, _ in split_rule(forum.rrule)}
    if not names & {"COUNT", "UNTIL"}:
        return None
    last = forum.start
    for n, local in enumerate(parse_rule(forum.rrule, forum.start, forum.tz)):
        if n >= MAX_GENERATED:
            return None
        last = local
    return max(last, forum.start)
