"""Who to contact: the registry snapshot, forgiving name matching and the routing rules.

Everything here is pure: `route()` takes a `RegistrySnapshot` (built by
`contacts.registry.RegistryService` from the database) and the time as an input, and returns a
`RouteResult`. The CLI (`samverkan route`) and the bot call the same function.

Routing rules (shared/spec/contracts.md, legal facts 6.x and 8.x):

- report  → the intake of the child's home district (where the child lives, normally where it is
  folkbokförd; SoL 29 kap. 1–4 §§). Outside that district's office hours the primary contact is
  its after-hours service (socialjour). Swedish public holidays and midsommarafton, julafton and
  nyårsafton count as closed (the `holidays` library, categories PUBLIC and DE_FACTO).
- report with an unknown home district → said plainly; the school district's intake is where to ask.
- consult → the school's contact person, else the intake of the district where the school lies.
- general → the intake of the district where the school lies.

Names are matched forgivingly (case, å/ä/ö, small typos, aliases, "skola"/"skolan", genitive -s);
an ambiguous name is never guessed: the result lists the candidates to choose between.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from common import swedish
from common.catalogue import placeholders_of
from common.holidays import closed_day
from common.text import fold_words
from contacts import texts

LOCAL_TZ = ZoneInfo("Europe/Stockholm")

Purpose = Literal["report", "consult", "general"]
PURPOSES: tuple[str, ...] = ("report", "consult", "general")
ContactKind = Literal["intake", "after_hours", "contact_person"]
MatchKind = Literal["one", "ambiguous", "none"]
RouteStatus = Literal["ok", "ambiguous", "not_found", "missing", "empty"]

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


# --------------------------------------------------------------------------------------------
# The snapshot: plain, immutable data
# --------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class MatchItem:
    id: str
    name: str
    score: float
    matched: str  # the name or alias that matched best


@dataclass(frozen=True)
class Match:
    """The outcome of matching a typed name.

    kind "one": items[0] is the match. "ambiguous": items are the candidates to choose between,
    best first. "none": items are suggestions ("Menade du …?"), possibly empty.
    """

    kind: MatchKind
    query: str
    items: tuple[MatchItem, ...] = ()

    @property
    def item(self) -> MatchItem | None:
        return self.items[0] if self.kind == "one" else None


class SwedishCalendar:
    """Days on which a Swedish public office is closed although it is a weekday (see
    common.holidays.closed_day); a class so that tests can give a calendar of their own."""

    def holiday(self, day: date) -> str | None:
        return closed_day(day)


@dataclass(frozen=True)
class _Name:
    entity_id: str
    display: str  # the entity's name
    text: str  # the name or alias as written
    key: _Key


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
        self._school_index = _NameIndex((s.id, s.name, s.aliases) for s in self.schools.values())
        self._district_index = _NameIndex(
            (d.id, d.name, d.aliases) for d in self.districts.values()
        )

    @property
    def is_empty(self) -> bool:
        return not (self.districts or self.schools or self.people or self.after_hours)

    @property
    def is_example(self) -> bool:
        """True when every district is example data (the bundled default registry)."""
        return bool(self.districts) and all(d.example for d in self.districts.values())

    def match_school(self, text: str) -> Match:
        return _match(text, self._school_index)

    def match_district(self, text: str) -> Match:
        return _match(text, self._district_index)

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


def format_moment(when: datetime | None) -> str:
    """'tisdag 25 november kl. 08.00' (Stockholm time)."""
    if when is None:
        return texts().text("routing.next_open_unknown")
    return swedish.date_time(when.astimezone(LOCAL_TZ))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------------------------
# Forgiving name matching
# --------------------------------------------------------------------------------------------

# Words that only say what kind of organisation a name is; dropped before comparing.
_STOP_TOKENS = frozenset(
    {
        "stadsdel",
        "stadsdelen",
        "stadsdelsforvaltning",
        "stadsdelsforvaltningen",
        "stadsdelsnamnd",
        "stadsdelsnamnden",
        "stadsdelsomrade",
        "stadsdelsomradet",
        "sdf",
        "kommun",
        "kommunen",
        "socialtjanst",
        "socialtjansten",
        "socialkontor",
        "socialkontoret",
        "forvaltning",
        "forvaltningen",
        "i",
        "pa",
        "the",
    }
)
# School-kind words: kept as a marker token so that "Engelbrektsskolan" and "Engelbrekts
# förskola" stay apart while "Engelbrekt" (no kind given) matches both (and so is ambiguous).
_KIND_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("forskolan", "#forskola"),
    ("forskola", "#forskola"),
    ("skolan", "#skola"),
    ("skola", "#skola"),
)
EXACT, SUBSET, CONTAINED = 100.0, 97.0, 95.0
FUZZY_THRESHOLD = 85.0
FUZZY_MARGIN = 5.0
SUGGEST_THRESHOLD = 60.0


def fold(text: str) -> str:
    """The rapidfuzz processor: lower-case, å/ä/ö → a/a/o (all diacritics), punctuation → space."""
    return fold_words(text)


@dataclass(frozen=True)
class _Key:
    folded: str
    tokens: tuple[str, ...]  # name tokens, genitive -s and kind suffixes removed
    kinds: tuple[str, ...]  # kind markers ("#skola", "#forskola")

    @property
    def compact(self) -> str:
        return "".join(sorted(self.tokens)) + "".join(sorted(self.kinds))


def _key(text: str) -> _Key:
    folded = fold(text)
    tokens: list[str] = []
    kinds: list[str] = []
    for raw in folded.split():
        if raw in _STOP_TOKENS:
            continue
        tok = raw
        for suffix, marker in _KIND_SUFFIXES:
            if tok.endswith(suffix):
                tok = tok[: -len(suffix)]
                kinds.append(marker)
                break
        if len(tok) > 3 and tok.endswith("s"):
            tok = tok[:-1]  # genitive: Engelbrekts → Engelbrekt, Östermalms → Östermalm
        if tok:
            tokens.append(tok)
    if not tokens and not kinds:
        tokens = folded.split()
    return _Key(folded=folded, tokens=tuple(tokens), kinds=tuple(sorted(set(kinds))))


class _NameIndex:
    """Names and aliases of one kind of entity, with look-up structures so that a query
    scores only the few names that can matter (rapidfuzz's C extractors pre-select)."""

    def __init__(self, entities: Iterable[tuple[str, str, tuple[str, ...]]]) -> None:
        self.names: list[_Name] = []
        self.by_id: dict[str, list[int]] = {}
        self.ids: dict[str, int] = {}  # exact id → its entity's name
        self.by_folded: dict[str, list[int]] = {}
        self.postings: dict[str, set[int]] = {}
        for entity_id, name, aliases in entities:
            self.ids[entity_id] = len(self.names)
            for text in (name, *aliases):
                idx = len(self.names)
                entry = _Name(entity_id, name, text, _key(text))
                self.names.append(entry)
                self.by_id.setdefault(entity_id.casefold(), []).append(idx)
                self.by_folded.setdefault(entry.key.folded, []).append(idx)
                for tok in entry.key.tokens:
                    self.postings.setdefault(tok, set()).add(idx)
        self.compacts = [n.key.compact for n in self.names]
        self.vocab = list(self.postings)

    def candidates(self, q: _Key, query: str) -> set[int]:
        """Every name that can score a tier or at least SUGGEST_THRESHOLD (a superset)."""
        found: set[int] = set(self.by_id.get(query.casefold(), ()))
        found.update(self.by_folded.get(q.folded, ()))
        for tok in q.tokens:
            found.update(self.postings.get(tok, ()))
        for _value, _score, idx in process.extract(
            q.compact,
            self.compacts,
            scorer=fuzz.ratio,
            score_cutoff=SUGGEST_THRESHOLD,
            limit=None,
        ):
            found.add(idx)
        for tok in q.tokens:
            if len(tok) < 4:
                continue
            for value, _score, _idx in process.extract(
                tok,
                self.vocab,
                scorer=fuzz.ratio,
                score_cutoff=FUZZY_THRESHOLD / 0.98 - 0.01,
                limit=None,
            ):
                found.update(self.postings[value])
        return found


def _kinds_compatible(q: _Key, n: _Key) -> bool:
    return not q.kinds or not n.kinds or set(q.kinds) == set(n.kinds)


def _score(q: _Key, n: _Key) -> tuple[float, int]:
    """(score, tier): tier 3 exact, 2 the query's words are all in the name, 1 the name's words
    are all in the query, 0 fuzzy."""
    if not q.tokens:
        return 0.0, 0
    kinds_ok = _kinds_compatible(q, n)
    if kinds_ok and (q.folded == n.folded or sorted(q.tokens) == sorted(n.tokens)):
        return EXACT, 3
    if kinds_ok and set(q.tokens) < set(n.tokens) and all(len(t) >= 3 for t in q.tokens):
        return SUBSET, 2
    if (
        kinds_ok
        and n.tokens
        and set(n.tokens) < set(q.tokens)
        and all(len(t) >= 4 for t in n.tokens)
    ):
        return CONTAINED, 1
    score = fuzz.ratio(q.compact, n.compact)
    # Each word of the query close to a word of the name: "Haselby" → "Hässelby-Vällingby".
    if kinds_ok and all(len(t) >= 4 for t in q.tokens) and len(q.tokens) <= len(n.tokens):
        per_token = min(max(fuzz.ratio(t, u) for u in n.tokens) for t in q.tokens)
        score = max(score, per_token * 0.98)
    if not kinds_ok:
        score -= 10.0
    return float(score), 0


def _match(text: str, index: _NameIndex) -> Match:
    query = (text or "").strip()
    if not query or not index.names:
        return Match("none", query)
    exact_id = index.ids.get(query)
    if exact_id is not None:
        # An id (as the dialogs pass after the user picked a candidate) is never ambiguous.
        name = index.names[exact_id]
        return Match("one", query, (MatchItem(name.entity_id, name.display, EXACT, name.display),))
    q = _key(query)
    by_id: dict[str, tuple[float, int, _Name]] = {}
    q_id = query.casefold()
    for i in index.candidates(q, query):
        name = index.names[i]
        if q_id == name.entity_id.casefold():
            score, tier = EXACT, 3
        else:
            score, tier = _score(q, name.key)
        best = by_id.get(name.entity_id)
        if best is None or (tier, score) > (best[1], best[0]):
            by_id[name.entity_id] = (score, tier, name)
    if not by_id:
        return Match("none", query)
    ranked = sorted(by_id.values(), key=lambda x: (-x[1], -x[0], x[2].display))

    def item(entry: tuple[float, int, _Name]) -> MatchItem:
        score, _tier, name = entry
        return MatchItem(name.entity_id, name.display, round(score, 1), name.text)

    top_score, top_tier, _ = ranked[0]
    if top_tier > 0:
        same = [e for e in ranked if e[1] == top_tier]
    else:
        same = [
            e
            for e in ranked
            if e[1] == 0 and e[0] >= FUZZY_THRESHOLD and e[0] >= top_score - FUZZY_MARGIN
        ]
    if not same:
        suggestions = [
            e for e in sorted(ranked, key=lambda x: -x[0])[:3] if e[0] >= SUGGEST_THRESHOLD
        ]
        return Match("none", query, tuple(item(e) for e in suggestions))
    if len(same) == 1:
        return Match("one", query, (item(same[0]),))
    return Match("ambiguous", query, tuple(item(e) for e in same))


def suggest(text: str, choices: Mapping[str, str], limit: int = 3) -> list[str]:
    """Close spellings among `choices` (id → text), e.g. for a misspelt field name."""
    hits = process.extract(
        text, choices, scorer=fuzz.ratio, processor=fold, limit=limit, score_cutoff=70
    )
    return [choices[key] for _value, _score, key in hits]


# --------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    id: str
    name: str
    phone: str | None = None
    email: str | None = None
    title: str | None = None
    url: str | None = None
    teams_upn: str | None = None
    district: str | None = None
    office_hours: OfficeHours | None = None
    example: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
        }
        for key in ("title", "url", "teams_upn", "district"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.office_hours is not None:
            out["office_hours"] = self.office_hours.describe()
        if self.example:
            out["example"] = True
        return out


@dataclass(frozen=True)
class RouteProblem:
    """Why no contact could be given: a name to choose or correct, or input that is missing."""

    field: Literal["school", "home_district", "input", "registry"]
    message: str
    match: Match | None = None

    def to_json(self) -> dict[str, Any]:
        code = (
            {
                "ambiguous": "ambiguous",
                "none": "not_found",
                "one": "ok",
            }[self.match.kind]
            if self.match is not None
            else ("empty" if self.field == "registry" else "missing")
        )
        out: dict[str, Any] = {"code": code, "field": self.field, "message": self.message}
        if self.match is not None:
            out["query"] = self.match.query
            key = "candidates" if self.match.kind == "ambiguous" else "suggestions"
            out[key] = [{"id": i.id, "name": i.name} for i in self.match.items]
        return out


@dataclass(frozen=True)
class RouteResult:
    purpose: str
    at: datetime
    status: RouteStatus = "ok"
    district: str | None = None
    district_name: str | None = None
    primary: Contact | None = None
    also: tuple[Contact, ...] = ()
    notes: tuple[str, ...] = ()
    school: School | None = None
    home_district: District | None = None
    open_now: bool | None = None  # is the relevant intake open at `at`
    next_open: datetime | None = None
    office_hours: OfficeHours | None = None
    example: bool = False
    problem: RouteProblem | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def after_hours_first(self) -> bool:
        """Cards show socialjouren first: it is the primary contact now."""
        return self.primary is not None and self.primary.kind == "after_hours"

    def to_json(self) -> dict[str, Any]:
        """The contract shape of `samverkan route --json`; an `error` object when not ok."""
        if not self.ok:
            assert self.problem is not None
            return {"purpose": self.purpose, "error": self.problem.to_json()}
        assert self.primary is not None
        return {
            "purpose": self.purpose,
            "district": self.district,
            "primary": self.primary.to_json(),
            "also": [c.to_json() for c in self.also],
            "notes": list(self.notes),
        }


def _intake_contact(d: District) -> Contact:
    return Contact(
        kind="intake",
        id=d.id,
        name=d.intake.name,
        phone=d.intake.phone,
        email=d.intake.email,
        url=d.intake.url,
        office_hours=d.office_hours,
        example=d.example,
    )


def _after_hours_contact(a: AfterHours) -> Contact:
    return Contact(
        kind="after_hours",
        id=a.id,
        name=a.name,
        phone=a.phone,
        email=a.email,
        url=a.url,
        example=a.example,
    )


def _person_contact(p: Person) -> Contact:
    return Contact(
        kind="contact_person",
        id=p.id,
        name=p.name,
        phone=p.phone,
        email=p.email,
        title=p.title,
        teams_upn=p.teams_upn,
        district=p.district,
        example=p.example,
    )


def _problem(purpose: str, at: datetime, status: RouteStatus, problem: RouteProblem) -> RouteResult:
    return RouteResult(purpose=purpose, at=at, status=status, problem=problem)


def _name_problem(field_name: Literal["school", "home_district"], m: Match) -> RouteProblem:
    what = "school" if field_name == "school" else "district"
    names = [f"”{i.name}”" for i in m.items]
    if m.kind == "ambiguous":
        candidates = swedish.join(names, "or")
        message = texts().text(f"routing.ambiguous_{what}", query=m.query, candidates=candidates)
    else:
        message = texts().text(f"routing.not_found_{what}", query=m.query)
        if names:
            candidates = swedish.join(names, "or")
            message += " " + texts().text("routing.did_you_mean", candidates=candidates)
    return RouteProblem(field=field_name, message=message, match=m)


def route(
    registry: RegistrySnapshot,
    *,
    purpose: str,
    school: str | None,
    home_district: str | None,
    at: datetime,
) -> RouteResult:
    """Who to contact about `purpose` at time `at` (aware). See the module docstring for rules."""
    if at.tzinfo is None:
        raise ValueError("route() needs a timezone-aware `at`")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if registry.is_empty or not registry.districts:
        empty = RouteProblem("registry", texts().text("routing.empty"))
        return _problem(purpose, at, "empty", empty)

    school_obj: School | None = None
    if school is not None and school.strip():
        m = registry.match_school(school)
        if m.item is None:
            status: RouteStatus = "ambiguous" if m.kind == "ambiguous" else "not_found"
            return _problem(purpose, at, status, _name_problem("school", m))
        school_obj = registry.schools[m.item.id]
    home: District | None = None
    if home_district is not None and home_district.strip():
        m = registry.match_district(home_district)
        if m.item is None:
            status = "ambiguous" if m.kind == "ambiguous" else "not_found"
            return _problem(purpose, at, status, _name_problem("home_district", m))
        home = registry.districts[m.item.id]

    school_district = registry.districts.get(school_obj.district) if school_obj else None
    person = (
        registry.people.get(school_obj.contact_person)
        if school_obj is not None and school_obj.contact_person
        else None
    )

    if purpose == "report":
        if home is None and school_district is None:
            missing = texts().text("routing.missing_report")
            return _problem(purpose, at, "missing", RouteProblem("input", missing))
        return _route_report(registry, at, home, school_obj, school_district, person)
    if purpose == "consult":
        target = school_district or home
        if target is None:
            missing = texts().text("routing.missing_school")
            return _problem(purpose, at, "missing", RouteProblem("input", missing))
        return _route_consult(registry, at, target, school_obj, person)
    target = school_district or home
    if target is None:
        missing = texts().text("routing.missing_school")
        return _problem(purpose, at, "missing", RouteProblem("input", missing))
    return _route_general(registry, at, target, school_obj, person)


def _closed_note(
    registry: RegistrySnapshot, d: District, at: datetime, template: str, reason: str
) -> tuple[str, datetime | None]:
    next_open = registry.next_opening(d.office_hours, at)
    after = registry.after_hours.get(d.after_hours) if d.after_hours else None
    values = {
        "intake": d.intake.name,
        "district": d.name,
        "reason": reason,
        "after_hours": after.name if after else "",
        "next_open": format_moment(next_open),
        "hours": d.office_hours.describe(),
    }
    # Each of the closed_* texts uses some of these values.
    wanted = placeholders_of(texts().template(template))
    note = texts().text(template, **{k: v for k, v in values.items() if k in wanted})
    return note, next_open


def _finish(
    registry: RegistrySnapshot,
    *,
    purpose: str,
    at: datetime,
    district: District,
    primary: Contact,
    also: list[Contact],
    notes: list[str],
    school: School | None,
    home: District | None,
    open_now: bool,
    next_open: datetime | None,
) -> RouteResult:
    contacts = [primary, *also]
    example = any(c.example for c in contacts)
    if example:
        notes.append(texts().text("routing.example"))
    # Each contact once, in order.
    seen: set[tuple[str, str]] = {(primary.kind, primary.id)}
    unique_also: list[Contact] = []
    for c in also:
        if (c.kind, c.id) not in seen:
            seen.add((c.kind, c.id))
            unique_also.append(c)
    return RouteResult(
        purpose=purpose,
        at=at,
        district=district.id,
        district_name=district.name,
        primary=primary,
        also=tuple(unique_also),
        notes=tuple(notes),
        school=school,
        home_district=home,
        open_now=open_now,
        next_open=None if open_now else next_open,
        office_hours=district.office_hours,
        example=example,
    )


def _route_report(
    registry: RegistrySnapshot,
    at: datetime,
    home: District | None,
    school: School | None,
    school_district: District | None,
    person: Person | None,
) -> RouteResult:
    notes: list[str] = []
    also: list[Contact] = []
    if home is None:
        # Unknown home district: say so, and give the school district's intake as where to ask.
        assert school_district is not None
        district = school_district
        primary = _intake_contact(district)
        notes.append(
            texts().text(
                "routing.unknown_home", intake=district.intake.name, district=district.name
            )
        )
        reason = registry.closed_reason(district.office_hours, at)
        next_open = None
        if reason is not None:
            after = registry.after_hours.get(district.after_hours) if district.after_hours else None
            template = "routing.closed_after_hours" if after else "routing.closed_no_after_hours"
            note, next_open = _closed_note(registry, district, at, template, reason)
            notes.append(note)
            if after:
                also.append(_after_hours_contact(after))
        if person is not None:
            also.append(_person_contact(person))
        notes.append(texts().text("routing.acute"))
        return _finish(
            registry,
            purpose="report",
            at=at,
            district=district,
            primary=primary,
            also=also,
            notes=notes,
            school=school,
            home=None,
            open_now=reason is None,
            next_open=next_open,
        )

    district = home
    if school_district is not None and school_district.id == home.id:
        notes.append(texts().text("routing.report_same_district"))
    else:
        notes.append(texts().text("routing.report_rule"))
        notes.append(texts().text("routing.report_rule_source"))
    reason = registry.closed_reason(district.office_hours, at)
    next_open = None
    intake = _intake_contact(district)
    if reason is None:
        primary = intake
    else:
        after = registry.after_hours.get(district.after_hours) if district.after_hours else None
        if after is not None:
            primary = _after_hours_contact(after)
            also.append(intake)
            note, next_open = _closed_note(
                registry, district, at, "routing.closed_after_hours", reason
            )
        else:
            primary = intake
            note, next_open = _closed_note(
                registry, district, at, "routing.closed_no_after_hours", reason
            )
        notes.append(note)
    if person is not None:
        also.append(_person_contact(person))
    notes.append(texts().text("routing.acute"))
    return _finish(
        registry,
        purpose="report",
        at=at,
        district=district,
        primary=primary,
        also=also,
        notes=notes,
        school=school,
        home=home,
        open_now=reason is None,
        next_open=next_open,
    )


def _route_consult(
    registry: RegistrySnapshot,
    at: datetime,
    district: District,
    school: School | None,
    person: Person | None,
) -> RouteResult:
    notes: list[str] = []
    also: list[Contact] = []
    intake = _intake_contact(district)
    reason = registry.closed_reason(district.office_hours, at)
    next_open: datetime | None = None
    after = registry.after_hours.get(district.after_hours) if district.after_hours else None
    if person is not None:
        primary = _person_contact(person)
        also.append(intake)
        notes.append(texts().text("routing.consult_person"))
        if reason is not None:
            note, next_open = _closed_note(registry, district, at, "routing.closed_consult", reason)
            notes.append(note)
    else:
        primary = intake
        if school is not None:
            notes.append(
                texts().text(
                    "routing.consult_intake",
                    school=school.name,
                    intake=district.intake.name,
                    district=district.name,
                )
            )
        else:
            notes.append(
                texts().text(
                    "routing.consult_no_school", intake=district.intake.name, district=district.name
                )
            )
        if reason is not None:
            template = "routing.closed_after_hours" if after else "routing.closed_no_after_hours"
            note, next_open = _closed_note(registry, district, at, template, reason)
            notes.append(note)
    if reason is not None and after is not None:
        also.append(_after_hours_contact(after))
    return _finish(
        registry,
        purpose="consult",
        at=at,
        district=district,
        primary=primary,
        also=also,
        notes=notes,
        school=school,
        home=None,
        open_now=reason is None,
        next_open=next_open,
    )


def _route_general(
    registry: RegistrySnapshot,
    at: datetime,
    district: District,
    school: School | None,
    person: Person | None,
) -> RouteResult:
    notes = [
        texts().text("routing.general")
        if school is not None
        else texts().text("routing.general_no_school", district=district.name)
    ]
    also: list[Contact] = []
    primary = _intake_contact(district)
    reason = registry.closed_reason(district.office_hours, at)
    next_open: datetime | None = None
    if reason is not None:
        note, next_open = _closed_note(registry, district, at, "routing.closed_plain", reason)
        notes.append(note)
    if person is not None:
        also.append(_person_contact(person))
    return _finish(
        registry,
        purpose="general",
        at=at,
        district=district,
        primary=primary,
        also=also,
        notes=notes,
        school=school,
        home=None,
        open_now=reason is None,
        next_open=next_open,
    )


__all__ = [
    "LOCAL_TZ",
    "PURPOSES",
    "WEEKDAYS",
    "AfterHours",
    "Contact",
    "District",
    "Intake",
    "Match",
    "MatchItem",
    "OfficeHours",
    "Person",
    "RegistrySnapshot",
    "RouteProblem",
    "RouteResult",
    "School",
    "SwedishCalendar",
    "fold",
    "format_days",
    "format_moment",
    "parse_clock",
    "parse_day",
    "route",
    "suggest",
]
