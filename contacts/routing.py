"""Who to contact: the routing rules over a registry snapshot, as one table-driven algorithm.

Everything here is pure: `route()` takes a `RegistrySnapshot` (contacts.model, built by
`contacts.registry.RegistryService` from the database) and the time as an input, and returns a
`RouteResult`. The CLI (`samverkan route`) and the bot call the same function.

Routing rules (shared/spec/contracts.md, legal facts 6.x and 8.x), one row of `_POLICIES` each:

- report  → the intake of the child's home district (where the child lives, normally where it is
  folkbokförd; SoL 29 kap. 1–4 §§). Outside that district's office hours the primary contact is
  its after-hours service (socialjour). Swedish public holidays and midsommarafton, julafton and
  nyårsafton count as closed.
- report with an unknown home district → said plainly; the school district's intake is where to ask.
- consult → the school's contact person, else the intake of the district where the school lies.
- general → the intake of the district where the school lies.

Names are matched forgivingly (contacts.matching); an ambiguous name is never guessed: the result
lists the candidates to choose between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from common import swedish
from common.catalogue import placeholders_of
from contacts import texts
from contacts.matching import Match
from contacts.model import (
    LOCAL_TZ,
    AfterHours,
    District,
    OfficeHours,
    Person,
    RegistrySnapshot,
    School,
)

Purpose = Literal["report", "consult", "general"]
PURPOSES: tuple[str, ...] = ("report", "consult", "general")
ContactKind = Literal["intake", "after_hours", "contact_person"]
RouteStatus = Literal["ok", "ambiguous", "not_found", "missing", "empty"]


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


def format_moment(when: datetime | None) -> str:
    """'tisdag 25 november kl. 08.00' (Stockholm time)."""
    if when is None:
        return texts().text("routing.next_open_unknown")
    return swedish.date_time(when.astimezone(LOCAL_TZ))


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

    variant, district = _variant(purpose, home, school_obj, school_district, person)
    if district is None:
        key = "routing.missing_report" if purpose == "report" else "routing.missing_school"
        return _problem(purpose, at, "missing", RouteProblem("input", texts().text(key)))
    policy = _POLICIES[purpose, variant]
    return _apply(
        policy,
        registry,
        purpose=purpose,
        at=at,
        district=district,
        school=school_obj,
        home=home if policy.keeps_home else None,
        person=person,
    )


# ---- the rules as a table ---------------------------------------------------------------------

# Who a policy names: the district's intake; its after-hours service, only while the intake is
# closed; whichever of the two is on duty now; the school's contact person.
Role = Literal["intake", "after_hours_if_closed", "on_duty", "person"]


@dataclass(frozen=True)
class _Policy:
    primary: Role
    also: tuple[Role, ...]  # in this order; a contact that is missing or already named is left out
    notes: tuple[str, ...]  # texts first in the notes
    closed: tuple[str, str]  # the closed note with an after-hours service, and without one
    last_note: str | None = None  # a text after the closed note
    keeps_home: bool = False  # the result names the home district


_CLOSED = ("routing.closed_after_hours", "routing.closed_no_after_hours")

_POLICIES: dict[tuple[str, str], _Policy] = {
    # The report goes to the district where the child lives; socialjouren while it is closed.
    ("report", "home_is_school_district"): _Policy(
        "on_duty",
        ("intake", "person"),
        ("routing.report_same_district",),
        _CLOSED,
        "routing.acute",
        keeps_home=True,
    ),
    ("report", "home"): _Policy(
        "on_duty",
        ("intake", "person"),
        ("routing.report_rule", "routing.report_rule_source"),
        _CLOSED,
        "routing.acute",
        keeps_home=True,
    ),
    # Home district unknown: the school district's intake is where to ask, said plainly.
    ("report", "unknown_home"): _Policy(
        "intake",
        ("after_hours_if_closed", "person"),
        ("routing.unknown_home",),
        _CLOSED,
        "routing.acute",
    ),
    ("consult", "person"): _Policy(
        "person",
        ("intake", "after_hours_if_closed"),
        ("routing.consult_person",),
        ("routing.closed_consult", "routing.closed_consult"),
    ),
    ("consult", "school"): _Policy(
        "intake", ("after_hours_if_closed",), ("routing.consult_intake",), _CLOSED
    ),
    ("consult", "no_school"): _Policy(
        "intake", ("after_hours_if_closed",), ("routing.consult_no_school",), _CLOSED
    ),
    ("general", "school"): _Policy(
        "intake", ("person",), ("routing.general",), ("routing.closed_plain",) * 2
    ),
    ("general", "no_school"): _Policy(
        "intake", ("person",), ("routing.general_no_school",), ("routing.closed_plain",) * 2
    ),
}


def _variant(
    purpose: str,
    home: District | None,
    school: School | None,
    school_district: District | None,
    person: Person | None,
) -> tuple[str, District | None]:
    """Which row of `_POLICIES` applies, and the district whose intake it is about."""
    if purpose == "report":
        if home is None:
            return "unknown_home", school_district
        same = school_district is not None and school_district.id == home.id
        return ("home_is_school_district" if same else "home"), home
    district = school_district or home
    if purpose == "consult" and person is not None:
        return "person", district
    return ("school" if school is not None else "no_school"), district


def _apply(
    policy: _Policy,
    registry: RegistrySnapshot,
    *,
    purpose: str,
    at: datetime,
    district: District,
    school: School | None,
    home: District | None,
    person: Person | None,
) -> RouteResult:
    reason = registry.closed_reason(district.office_hours, at)
    after = registry.after_hours.get(district.after_hours) if district.after_hours else None
    values = {
        "intake": district.intake.name,
        "district": district.name,
        "school": school.name if school is not None else "",
        "reason": reason or "",
        "after_hours": after.name if after else "",
    }

    def contact(role: Role) -> Contact | None:
        if role == "intake":
            return _intake_contact(district)
        if role == "person":
            return _person_contact(person) if person is not None else None
        if role == "after_hours_if_closed":
            return _after_hours_contact(after) if reason is not None and after else None
        if reason is not None and after is not None:  # on duty: socialjouren while closed
            return _after_hours_contact(after)
        return _intake_contact(district)

    primary = contact(policy.primary)
    assert primary is not None  # every policy's primary is an intake, on duty, or a known person
    notes = [_fill(key, values) for key in policy.notes]
    next_open: datetime | None = None
    if reason is not None:
        next_open = registry.next_opening(district.office_hours, at)
        values |= {"next_open": format_moment(next_open), "hours": district.office_hours.describe()}
        notes.append(_fill(policy.closed[0] if after else policy.closed[1], values))
    if policy.last_note:
        notes.append(_fill(policy.last_note, values))
    also: list[Contact] = []
    seen = {(primary.kind, primary.id)}
    for role in policy.also:
        c = contact(role)
        if c is not None and (c.kind, c.id) not in seen:  # each contact once, in order
            seen.add((c.kind, c.id))
            also.append(c)
    example = primary.example or any(c.example for c in also)
    if example:
        notes.append(texts().text("routing.example"))
    return RouteResult(
        purpose=purpose,
        at=at,
        district=district.id,
        district_name=district.name,
        primary=primary,
        also=tuple(also),
        notes=tuple(notes),
        school=school,
        home_district=home,
        open_now=reason is None,
        next_open=next_open,
        office_hours=district.office_hours,
        example=example,
    )


def _fill(key: str, values: dict[str, str]) -> str:
    """The text `key` with the values it uses (each routing text uses some of them)."""
    wanted = placeholders_of(texts().template(key))
    return texts().text(key, **{k: v for k, v in values.items() if k in wanted})


__all__ = [
    "PURPOSES",
    "Contact",
    "RouteProblem",
    "RouteResult",
    "format_moment",
    "route",
]
