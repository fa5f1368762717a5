"""The pure routing function: the eval routes, office hours, holidays, DST, names."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import yaml

from contacts.model import (
    LOCAL_TZ,
    AfterHours,
    District,
    Intake,
    OfficeHours,
    Person,
    RegistrySnapshot,
    School,
    SwedishCalendar,
    format_days,
    parse_clock,
    parse_day,
)
from contacts.routing import format_moment, route

from .conftest import ROUTES

WEEKDAYS5 = ("mon", "tue", "wed", "thu", "fri")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def eval_routes() -> list[dict]:
    return yaml.safe_load(ROUTES.read_text(encoding="utf-8"))["routes"]


@pytest.mark.parametrize("case", eval_routes(), ids=lambda c: f"{c['purpose']}-{c['at']}")
def test_eval_routes(example_snapshot: RegistrySnapshot, case: dict) -> None:
    result = route(
        example_snapshot, purpose=case["purpose"], school=case.get("school"),
        home_district=case.get("home_district"), at=at(case["at"]),
    )
    assert result.ok, result.problem
    out = result.to_json()
    assert out["primary"]["kind"] == case["expect"]["kind"]
    assert out["primary"]["id"] == case["expect"]["primary"]


def test_eval_routes_all_pass(example_snapshot: RegistrySnapshot) -> None:
    cases = eval_routes()
    passed = 0
    for c in cases:
        out = route(example_snapshot, purpose=c["purpose"], school=c.get("school"),
                    home_district=c.get("home_district"), at=at(c["at"])).to_json()
        passed += (out["primary"]["kind"], out["primary"]["id"]) == (
            c["expect"]["kind"], c["expect"]["primary"])
    assert passed == len(cases) == 9


def report(snap: RegistrySnapshot, when: str, home: str = "Östermalm") -> tuple[str, str]:
    r = route(snap, purpose="report", school="Engelbrektsskolan", home_district=home, at=at(when))
    assert r.ok and r.primary is not None
    return r.primary.kind, r.primary.id


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # An ordinary Tuesday: Östermalm is open 08:00–16:30.
        ("2026-11-24T07:59:59+01:00", "after_hours"),
        ("2026-11-24T08:00:00+01:00", "intake"),
        ("2026-11-24T16:29:59+01:00", "intake"),
        ("2026-11-24T16:30:00+01:00", "after_hours"),
        # The same instants given in UTC.
        ("2026-11-24T07:00:00+00:00", "intake"),
        ("2026-11-24T06:59:00+00:00", "after_hours"),
        # Weekend.
        ("2026-11-28T11:00:00+01:00", "after_hours"),  # Saturday
        ("2026-11-29T11:00:00+01:00", "after_hours"),  # Sunday
        # Eves that count as closed (DE_FACTO in the holidays library), on weekdays in 2026.
        ("2026-06-19T10:00:00+02:00", "after_hours"),  # midsommarafton (Friday)
        ("2026-12-24T10:00:00+01:00", "after_hours"),  # julafton (Thursday)
        ("2026-12-31T10:00:00+01:00", "after_hours"),  # nyårsafton (Thursday)
        # Public holidays on weekdays.
        ("2027-01-06T10:00:00+01:00", "after_hours"),  # trettondedag jul
        ("2026-04-03T10:00:00+02:00", "after_hours"),  # långfredagen
        ("2026-04-06T10:00:00+02:00", "after_hours"),  # annandag påsk
        ("2026-05-01T10:00:00+02:00", "after_hours"),  # första maj
        ("2026-05-14T10:00:00+02:00", "after_hours"),  # Kristi himmelsfärdsdag
        ("2026-12-25T10:00:00+01:00", "after_hours"),  # juldagen
        # Ordinary weekdays next to them are open.
        ("2026-06-18T10:00:00+02:00", "intake"),
        ("2026-12-23T10:00:00+01:00", "intake"),
        ("2026-12-28T10:00:00+01:00", "intake"),
        ("2027-01-07T10:00:00+01:00", "intake"),
        # DST: the Monday after summer time starts (29 March 2026) and after it ends (25 Oct).
        ("2026-03-30T08:00:00+02:00", "intake"),
        ("2026-03-30T06:00:00+00:00", "intake"),  # = 08:00 CEST
        ("2026-03-30T05:59:00+00:00", "after_hours"),  # = 07:59 CEST
        ("2026-10-26T07:00:00+00:00", "intake"),  # = 08:00 CET
        ("2026-10-26T06:59:00+00:00", "after_hours"),  # = 07:59 CET
        ("2026-10-23T14:29:00+00:00", "intake"),  # Friday before: 16:29 CEST
        ("2026-10-23T14:30:00+00:00", "after_hours"),  # 16:30 CEST
    ],
)
def test_office_hours_and_holidays(
    example_snapshot: RegistrySnapshot, when: str, expected: str
) -> None:
    kind, ident = report(example_snapshot, when)
    assert kind == expected
    assert ident == ("ostermalm" if expected == "intake" else "socialjour-sthlm")


def test_each_district_uses_its_own_hours(example_snapshot: RegistrySnapshot) -> None:
    # Södermalm opens 08:30, Norrmalm closes 16:00, Östermalm 16:30.
    assert report(example_snapshot, "2026-11-24T08:15:00+01:00", "Södermalm")[0] == "after_hours"
    assert report(example_snapshot, "2026-11-24T08:15:00+01:00", "Östermalm")[0] == "intake"
    assert report(example_snapshot, "2026-11-24T16:15:00+01:00", "Norrmalm")[0] == "after_hours"
    assert report(example_snapshot, "2026-11-24T16:15:00+01:00", "Östermalm")[0] == "intake"


def test_calendar_treats_eves_as_closed_and_leaves_sundays_to_office_days() -> None:
    cal = SwedishCalendar()
    assert cal.holiday(date(2026, 6, 19)) == "Midsommarafton"
    assert cal.holiday(date(2026, 12, 24)) == "Julafton"
    assert cal.holiday(date(2026, 12, 31)) == "Nyårsafton"
    assert cal.holiday(date(2027, 6, 25)) == "Midsommarafton"  # moves every year
    assert cal.holiday(date(2026, 11, 29)) is None  # an ordinary Sunday is not a holiday here
    assert cal.holiday(date(2026, 11, 24)) is None


def _tiny(days: tuple[str, ...] = WEEKDAYS5, opens: str = "08:00", closes: str = "16:30",
          after: bool = True, person: bool = True) -> RegistrySnapshot:
    hours = OfficeHours(days, time.fromisoformat(opens), time.fromisoformat(closes))
    return RegistrySnapshot(
        after_hours=[AfterHours("jour", "Socialjouren", "08-000 100 00")] if after else [],
        districts=[
            District("a", "Alfa", Intake("Mottagningen Alfa", "08-000 200 00"), hours,
                     "jour" if after else None),
            District("b", "Beta", Intake("Mottagningen Beta", "08-000 300 00"), hours,
                     "jour" if after else None),
        ],
        people=[Person("p1", "Per Exempel", "Kontaktsocialsekreterare", "a", "08-000 400 00")]
        if person else [],
        schools=[School("s1", "Alfaskolan", "a", "p1" if person else None)],
    )


def test_dst_nights_with_an_office_open_at_night() -> None:
    snap = _tiny(days=("sun",), opens="01:00", closes="04:00")
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    assert snap.is_open(snap.districts["a"].office_hours, at("2026-03-29T01:30:00+01:00"))
    assert snap.is_open(snap.districts["a"].office_hours, at("2026-03-29T03:30:00+02:00"))
    assert not snap.is_open(snap.districts["a"].office_hours, at("2026-03-29T04:00:00+02:00"))
    # 25 October 2026: 02:30 happens twice (CEST, then CET); both are open.
    assert snap.is_open(snap.districts["a"].office_hours, at("2026-10-25T02:30:00+02:00"))
    assert snap.is_open(snap.districts["a"].office_hours, at("2026-10-25T02:30:00+01:00"))
    assert not snap.is_open(snap.districts["a"].office_hours, at("2026-10-25T04:00:00+01:00"))


def test_next_opening_skips_weekends_and_holidays(example_snapshot: RegistrySnapshot) -> None:
    hours = example_snapshot.districts["ostermalm"].office_hours
    friday_evening = at("2026-11-27T18:00:00+01:00")
    assert example_snapshot.next_opening(hours, friday_evening) == datetime(
        2026, 11, 30, 8, 0, tzinfo=LOCAL_TZ
    )
    christmas_eve = at("2026-12-24T09:00:00+01:00")
    nxt = example_snapshot.next_opening(hours, christmas_eve)
    assert nxt == datetime(2026, 12, 28, 8, 0, tzinfo=LOCAL_TZ)
    assert format_moment(nxt) == "måndag 28 december kl. 08.00"
    early = at("2026-11-24T07:00:00+01:00")
    assert example_snapshot.next_opening(hours, early) == datetime(
        2026, 11, 24, 8, 0, tzinfo=LOCAL_TZ
    )


def test_report_json_shape_and_notes(example_snapshot: RegistrySnapshot) -> None:
    r = route(example_snapshot, purpose="report", school="Engelbrektsskolan",
              home_district="Norrmalm", at=at("2026-11-24T10:00:00+01:00"))
    out = r.to_json()
    assert list(out) == ["purpose", "district", "primary", "also", "notes"]
    assert out["purpose"] == "report" and out["district"] == "norrmalm"
    assert {"kind", "id", "name", "phone", "email"} <= set(out["primary"])
    assert out["primary"]["phone"] == "08-000 102 02"
    # The school's contact person is given as well (for a consultation).
    assert [(c["kind"], c["id"]) for c in out["also"]] == [("contact_person", "p-lina")]
    assert (
        "Anmälan går till stadsdelen där barnet bor (normalt där det är folkbokfört), "
        "inte där skolan ligger." in out["notes"]
    )
    assert any("112" in n for n in out["notes"])
    assert any("SoL 29 kap." in n for n in out["notes"])


def test_after_hours_report_keeps_the_intake_for_the_next_working_day(
    example_snapshot: RegistrySnapshot,
) -> None:
    r = route(example_snapshot, purpose="report", school=None, home_district="Östermalm",
              at=at("2026-12-24T10:00:00+01:00"))
    out = r.to_json()
    assert out["primary"]["id"] == "socialjour-sthlm"
    assert out["also"][0]["kind"] == "intake" and out["also"][0]["id"] == "ostermalm"
    assert any("julafton" in n and "måndag 28 december kl. 08.00" in n for n in out["notes"])
    assert r.open_now is False and r.after_hours_first


def test_report_without_after_hours_service_says_112() -> None:
    snap = _tiny(after=False)
    r = route(snap, purpose="report", school=None, home_district="Beta",
              at=at("2026-11-24T20:00:00+01:00"))
    assert r.ok and r.primary is not None
    assert (r.primary.kind, r.primary.id) == ("intake", "b")
    assert any("ingen socialjour" in n and "112" in n for n in r.notes)


def test_unknown_home_district_is_said_plainly(example_snapshot: RegistrySnapshot) -> None:
    r = route(example_snapshot, purpose="report", school="Eriksdalsskolan", home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    out = r.to_json()
    assert out["district"] == "sodermalm"
    assert (out["primary"]["kind"], out["primary"]["id"]) == ("intake", "sodermalm")
    assert any("hemstadsdel är okänd" in n for n in out["notes"])


def test_report_needs_a_home_district_or_a_school(example_snapshot: RegistrySnapshot) -> None:
    r = route(example_snapshot, purpose="report", school=None, home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    assert r.status == "missing" and not r.ok
    assert r.to_json()["error"]["code"] == "missing"


def test_consult_and_general(example_snapshot: RegistrySnapshot) -> None:
    when = at("2026-11-24T10:00:00+01:00")
    c = route(example_snapshot, purpose="consult", school="Hedvig Eleonora skola",
              home_district=None, at=when).to_json()
    assert (c["primary"]["kind"], c["primary"]["id"]) == ("contact_person", "p-omar")
    assert c["also"][0]["id"] == "ostermalm"
    assert any("barnets namn" in n for n in c["notes"])
    no_person = route(example_snapshot, purpose="consult", school="Eriksdalsskolan",
                      home_district=None, at=when).to_json()
    assert (no_person["primary"]["kind"], no_person["primary"]["id"]) == ("intake", "sodermalm")
    # A general question goes where the school lies, whatever the home district.
    g = route(example_snapshot, purpose="general", school="Matteusskolan",
              home_district="Östermalm", at=when).to_json()
    assert (g["primary"]["kind"], g["primary"]["id"], g["district"]) == (
        "intake", "norrmalm", "norrmalm")
    assert [a["id"] for a in g["also"]] == ["p-karin"]


def test_consult_after_hours_still_names_the_contact_person_and_offers_socialjouren() -> None:
    snap = _tiny()
    r = route(snap, purpose="consult", school="Alfaskolan", home_district=None,
              at=at("2026-11-24T20:00:00+01:00"))
    assert r.primary is not None and r.primary.kind == "contact_person"
    assert [c.kind for c in r.also] == ["intake", "after_hours"]


def test_time_must_be_aware(example_snapshot: RegistrySnapshot) -> None:
    with pytest.raises(ValueError):
        route(example_snapshot, purpose="report", school=None, home_district="Norrmalm",
              at=datetime(2026, 11, 24, 10, 0))


def test_empty_registry() -> None:
    r = route(RegistrySnapshot(), purpose="general", school="X", home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    assert r.status == "empty"


# ---- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Engelbrektsskolan", "engelbrekt"),
        ("engelbrektsskolan", "engelbrekt"),
        ("ENGELBREKTSSKOLAN", "engelbrekt"),
        ("Engelbrekts skola", "engelbrekt"),  # alias
        ("Engelbrektskolan", "engelbrekt"),  # typo
        ("Engelbrektsskolann", "engelbrekt"),  # typo
        ("Gardesskolan", "gardesskolan"),  # no dots
        ("Gärdesskolan", "gardesskolan"),
        ("Gärdets skola", "gardesskolan"),  # genitive and "skola"
        ("Hedvig Eleonoraskolan", "hedvig-eleonora"),
        ("hedvig eleonora", "hedvig-eleonora"),
        ("Matteus skola", "matteus"),
        ("Ostermalmsskolan", "ostermalmsskolan"),
        ("Eriksdalskolan", "eriksdal"),
        ("  Eriksdalsskolan  ", "eriksdal"),
    ],
)
def test_school_names_are_matched_forgivingly(
    example_snapshot: RegistrySnapshot, typed: str, expected: str
) -> None:
    m = example_snapshot.match_school(typed)
    assert m.kind == "one", m
    assert m.item is not None and m.item.id == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Östermalm", "ostermalm"),
        ("ostermalm", "ostermalm"),
        ("Östermalms stadsdelsförvaltning", "ostermalm"),
        ("Östermalms sdf", "ostermalm"),
        ("Söder", "sodermalm"),
        ("Sodermalm", "sodermalm"),
        ("Vasastan", "norrmalm"),
        ("Norrmalms", "norrmalm"),
        ("Kungsholm", "kungsholmen"),
        ("Kungsholmenn", "kungsholmen"),
    ],
)
def test_district_names_are_matched_forgivingly(
    example_snapshot: RegistrySnapshot, typed: str, expected: str
) -> None:
    m = example_snapshot.match_district(typed)
    assert m.kind == "one", m
    assert m.item is not None and m.item.id == expected


def test_unknown_names_are_not_guessed(example_snapshot: RegistrySnapshot) -> None:
    for typed in ("Kalle Ankas skola", "Skolan", "Bromma", "xyz", ""):
        assert example_snapshot.match_school(typed).kind == "none", typed
    for typed in ("Bromma", "Göteborg", "Malm"):
        assert example_snapshot.match_district(typed).kind == "none", typed


def _names_snapshot() -> RegistrySnapshot:
    hours = OfficeHours(WEEKDAYS5, time(8), time(16, 30))
    districts = [
        District("hv", "Hässelby-Vällingby", Intake("Mottagningen HV", "08-000 1"), hours),
        District("bromma", "Bromma", Intake("Mottagningen Bromma", "08-000 2"), hours),
    ]
    schools = [
        School("vallingby", "Vällingbyskolan", "hv"),
        School("engelbrekt", "Engelbrektsskolan", "bromma"),
        School("engelbrekt-fsk", "Engelbrekts förskola", "bromma"),
        School("nya", "Nya skolan", "bromma"),
        School("nyby", "Nybyskolan", "bromma"),
    ]
    return RegistrySnapshot(districts=districts, schools=schools)


def test_examples_from_the_issue() -> None:
    snap = _names_snapshot()
    m = snap.match_school("Vallingbyskolan")
    assert m.kind == "one" and m.item is not None and m.item.id == "vallingby"
    d = snap.match_district("Hässelby")
    assert d.kind == "one" and d.item is not None and d.item.id == "hv"
    d = snap.match_district("Vällingby")
    assert d.kind == "one" and d.item is not None and d.item.id == "hv"


def test_ambiguous_names_list_the_candidates() -> None:
    snap = _names_snapshot()
    m = snap.match_school("Engelbrekt")
    assert m.kind == "ambiguous"
    assert {i.id for i in m.items} == {"engelbrekt", "engelbrekt-fsk"}
    # Saying which kind of school settles it.
    m = snap.match_school("Engelbrektsskolan")
    assert m.kind == "one" and m.item is not None and m.item.id == "engelbrekt"
    m = snap.match_school("Engelbrekts förskola")
    assert m.kind == "one" and m.item is not None and m.item.id == "engelbrekt-fsk"


def test_an_exact_id_is_never_ambiguous() -> None:
    # The dialogs pass the id of the candidate the user picked.
    snap = _names_snapshot()
    assert snap.match_school("Engelbrekt").kind == "ambiguous"
    for ident in ("engelbrekt", "engelbrekt-fsk"):
        m = snap.match_school(ident)
        assert m.kind == "one" and m.item is not None and m.item.id == ident
    r = route(snap, purpose="general", school="engelbrekt-fsk", home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    assert r.ok and r.school is not None and r.school.name == "Engelbrekts förskola"


def test_ambiguous_district() -> None:
    hours = OfficeHours(WEEKDAYS5, time(8), time(16))
    snap = RegistrySnapshot(districts=[
        District("hv", "Hässelby-Vällingby", Intake("M1", "08-000 1"), hours),
        District("hs", "Hässelby strand", Intake("M2", "08-000 2"), hours),
    ])
    m = snap.match_district("Hässelby")
    assert m.kind == "ambiguous" and {i.id for i in m.items} == {"hv", "hs"}


def test_route_with_an_ambiguous_school_asks_instead_of_guessing() -> None:
    snap = _names_snapshot()
    r = route(snap, purpose="general", school="Engelbrekt", home_district=None,
              at=at("2026-11-24T10:00:00+01:00"))
    assert r.status == "ambiguous" and r.primary is None
    err = r.to_json()["error"]
    assert err["code"] == "ambiguous" and err["field"] == "school"
    assert {c["id"] for c in err["candidates"]} == {"engelbrekt", "engelbrekt-fsk"}
    assert "Engelbrektsskolan" in err["message"] and "Engelbrekts förskola" in err["message"]


def test_not_found_suggests_close_names(example_snapshot: RegistrySnapshot) -> None:
    r = route(example_snapshot, purpose="report", school=None, home_district="Östermalmen",
              at=at("2026-11-24T10:00:00+01:00"))
    if r.ok:  # close enough to be matched is fine too
        assert r.district == "ostermalm"
    r = route(example_snapshot, purpose="report", school=None, home_district="Norrtälje",
              at=at("2026-11-24T10:00:00+01:00"))
    assert r.status == "not_found"
    assert r.to_json()["error"]["field"] == "home_district"


def test_matching_by_id(example_snapshot: RegistrySnapshot) -> None:
    m = example_snapshot.match_school("hedvig-eleonora")
    assert m.kind == "one" and m.item is not None and m.item.id == "hedvig-eleonora"


# ---- helpers -------------------------------------------------------------------------------


def test_day_time_helpers() -> None:
    assert parse_day("mån") == "mon" and parse_day("Söndag") == "sun" and parse_day("x") is None
    assert parse_clock("8:00") == time(8) and parse_clock("08.30") == time(8, 30)
    assert parse_clock("24:00") is None and parse_clock("8") is None
    assert format_days(WEEKDAYS5) == "måndag–fredag"
    assert format_days(("mon", "wed", "fri")) == "måndag, onsdag och fredag"
    assert format_days(("mon", "tue", "thu")) == "måndag, tisdag och torsdag"
    assert OfficeHours(WEEKDAYS5, time(8), time(16, 30)).describe() == (
        "måndag–fredag 08.00–16.30"
    )


def _brute_force(index, query: str):  # type: ignore[no-untyped-def]
    """Score every name (no pre-selection): what the index must agree with."""
    from contacts.matching import EXACT, _key, _score

    q = _key(query)
    best: dict[str, tuple[int, float]] = {}
    for name in index.names:
        score, tier = (EXACT, 3) if query.casefold() == name.entity_id.casefold() else _score(
            q, name.key)
        if (tier, score) > best.get(name.entity_id, (-1, -1.0)):
            best[name.entity_id] = (tier, score)
    return best


def test_preselection_loses_no_candidate(example_snapshot: RegistrySnapshot) -> None:
    import random

    from contacts.matching import FUZZY_MARGIN, FUZZY_THRESHOLD

    rng = random.Random(7)
    index = example_snapshot._school_index
    names = [n.text for n in index.names] + [d.name for d in example_snapshot.districts.values()]
    queries = list(names)
    for _ in range(300):
        base = list(rng.choice(names))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(base))
            op = rng.choice("dis")
            if op == "d" and len(base) > 2:
                del base[pos]
            elif op == "i":
                base.insert(pos, rng.choice("abcdeilnorståäö "))
            else:
                base[pos] = rng.choice("abcdeilnorståäö ")
        queries.append("".join(base))
    kinds = {"one": 0, "ambiguous": 0, "none": 0}
    for query in queries:
        brute = _brute_force(index, query.strip())
        top_tier, top_score = max(brute.values())
        if top_tier > 0:
            expected = {e for e, (tier, _s) in brute.items() if tier == top_tier}
        else:
            expected = {
                e for e, (tier, score) in brute.items()
                if score >= FUZZY_THRESHOLD and score >= top_score - FUZZY_MARGIN
            }
        m = example_snapshot.match_school(query)
        kinds[m.kind] += 1
        if not expected:
            assert m.kind == "none", query
        else:
            assert m.kind == ("one" if len(expected) == 1 else "ambiguous"), query
            assert {i.id for i in m.items} == expected, query
    assert kinds["one"] > 100 and kinds["none"] > 10  # the mutations exercise both
