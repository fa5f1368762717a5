"""Import, validation, export and the service API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.clock import FixedClock
from contacts.export import export_csv, export_yaml
from contacts.file_formats import CSV_ALL_COLUMNS, parse_csv, parse_path, parse_yaml
from contacts.registry import RegistryService
from storage.db import Database

from .conftest import REGISTRY_EXAMPLE, snapshot_of

NOON = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm, a Tuesday
# The bundled example registry: the Stockholm example profile's.
BUNDLED = Path(__file__).resolve().parents[2] / "knowledge/data/kommuner/stockholm/registry.yaml"


def service(db: Database) -> RegistryService:
    return RegistryService(db, clock=FixedClock(NOON))


def counts(report) -> dict[str, tuple[int, int, int, int]]:
    return {t: (c.created, c.updated, c.unchanged, c.removed) for t, c in report.counts.items()}


GOOD = """\
after_hours:
  - {id: jour, name: Socialjouren, phone: "08-000 100 00"}
districts:
  - id: alfa
    name: Alfa
    aliases: [Alfa stadsdel]
    intake: {name: Mottagningen Alfa, phone: "08-000 200 00", email: m@example.se}
    office_hours: {days: [mon, tue, wed, thu, fri], open: "08:00", close: "16:30"}
    after_hours: jour
people:
  - {id: p1, name: Per Exempel, district: alfa, phone: "08-000 300 00"}
schools:
  - {id: s1, name: Alfaskolan, district: alfa, contact_person: p1}
"""


# ---- import ---------------------------------------------------------------------------------


async def test_import_eval_registry_and_idempotency(database: Database) -> None:
    svc = service(database)
    first = await svc.import_path(REGISTRY_EXAMPLE)
    assert first.ok, [str(e) for e in first.errors]
    assert counts(first) == {
        "after_hours": (1, 0, 0, 0), "districts": (4, 0, 0, 0),
        "people": (3, 0, 0, 0), "schools": (6, 0, 0, 0),
    }
    rev = await svc.revision()
    again = await svc.import_path(REGISTRY_EXAMPLE)
    assert again.ok and not again.changed
    assert counts(again) == {
        "after_hours": (0, 0, 1, 0), "districts": (0, 0, 4, 0),
        "people": (0, 0, 3, 0), "schools": (0, 0, 6, 0),
    }
    assert await svc.revision() == rev  # nothing changed, no new revision
    snap = await svc.snapshot()
    assert snap.districts["norrmalm"].aliases == ("Norrmalms stadsdelsförvaltning", "Vasastan")
    assert snap.schools["engelbrekt"].contact_person == "p-lina"


async def test_update_by_id(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(GOOD, fmt="yaml")).ok
    changed = GOOD.replace('"08-000 200 00"', '"08-000 200 99"').replace(
        "[Alfa stadsdel]", "[Alfa sdf, Alfa stadsdel]")
    report = await svc.import_text(changed, fmt="yaml")
    assert report.ok
    assert counts(report)["districts"] == (0, 1, 0, 0)
    assert counts(report)["schools"] == (0, 0, 1, 0)
    snap = await svc.snapshot()
    assert snap.districts["alfa"].intake.phone == "08-000 200 99"
    assert snap.districts["alfa"].aliases == ("Alfa sdf", "Alfa stadsdel")


def _errors(text: str, fmt: str = "yaml") -> list[str]:
    parsed = parse_yaml(text, "reg.yaml") if fmt == "yaml" else parse_csv(text, "reg.csv")
    return [str(e) for e in parsed.errors]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # missing name (line 6: the districts record's first line)
        ("    name: Alfa\n", "", "reg.yaml, rad 4: districts[alfa].name: namn saknas"),
        # bad phone
        ('phone: "08-000 200 00"', 'phone: "08-abc"',
         "reg.yaml, rad 7: districts[alfa].intake.phone: ogiltigt telefonnummer ”08-abc”"),
        # bad e-mail
        ("email: m@example.se", "email: m.example.se",
         "reg.yaml, rad 7: districts[alfa].intake.email: ogiltig e-postadress ”m.example.se”"),
        # bad time
        ('open: "08:00"', 'open: "8 am"',
         "reg.yaml, rad 8: districts[alfa].office_hours.open: ogiltig tid ”8 am”"),
        ('close: "16:30"', 'close: "25:00"',
         "reg.yaml, rad 8: districts[alfa].office_hours.close: ogiltig tid ”25:00”"),
        ('close: "16:30"', 'close: "07:00"',
         "reg.yaml, rad 8: districts[alfa].office_hours.close: stängningstiden 07:00"),
        # bad day
        ("days: [mon, tue", "days: [mon, tis, xyz",
         "reg.yaml, rad 8: districts[alfa].office_hours.days: ogiltig veckodag ”xyz”"),
        # unknown key, with a suggestion
        ("    aliases: [Alfa stadsdel]\n", "    aliase: [Alfa stadsdel]\n",
         "reg.yaml, rad 6: districts[alfa].aliase: okänt fält ”aliase” – menade du ”aliases”?"),
        # missing required structure
        ("    office_hours: {days: [mon, tue, wed, thu, fri], open: \"08:00\", close: \"16:30\"}\n",
         "", "reg.yaml, rad 4: districts[alfa].office_hours: saknas"),
        # a person nobody can reach
        ('{id: p1, name: Per Exempel, district: alfa, phone: "08-000 300 00"}',
         "{id: p1, name: Per Exempel, district: alfa}",
         "reg.yaml, rad 11: people[p1]: personen behöver minst ett av phone, email"),
        # bad id
        ("{id: s1,", "{id: s 1,", "reg.yaml, rad 13: schools.id: ogiltigt id ”s 1”"),
        # YAML syntax
        ("  - {id: s1, name: Alfaskolan,", "  - {id: s1, name: [Alfaskolan,",
         "reg.yaml, rad 13: YAML-filen kan inte läsas"),
    ],
)
def test_each_kind_of_error_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    errors = _errors(GOOD.replace(old, new))
    assert any(e.startswith(expected) for e in errors), errors


def test_duplicate_id_names_both_lines() -> None:
    text = GOOD + "  - {id: s1, name: Alfaskolan igen, district: alfa}\n"
    assert _errors(text) == [
        "reg.yaml, rad 14: schools[s1].id: id ”s1” finns redan på rad 13"
    ]


def test_duplicate_key_and_unknown_top_level_key() -> None:
    text = GOOD.replace("    name: Alfa\n", "    name: Alfa\n    name: Alfa igen\n")
    text += "forums: []\n"
    errors = _errors(text)
    assert "reg.yaml, rad 6: districts[alfa].name: fältet ”name” förekommer två gånger" in errors
    assert any(e.startswith("reg.yaml, rad 15: okänd nyckel ”forums”") for e in errors)


def test_unquoted_times_are_read_as_times_not_numbers() -> None:
    # YAML 1.1 would read 08:00 as the number 480 and 16:30 as 990.
    text = GOOD.replace('open: "08:00", close: "16:30"', "open: 08:00, close: 16:30")
    parsed = parse_yaml(text, "reg.yaml")
    assert not parsed.errors
    hours = parsed.data.districts[0].office_hours
    assert (hours.open.hour, hours.close.hour, hours.close.minute) == (8, 16, 30)


def test_swedish_and_ranged_days_are_accepted() -> None:
    text = GOOD.replace("days: [mon, tue, wed, thu, fri]", "days: [mån–fre]")
    parsed = parse_yaml(text, "reg.yaml")
    assert not parsed.errors
    assert parsed.data.districts[0].office_hours.days == ("mon", "tue", "wed", "thu", "fri")


def test_every_error_is_collected() -> None:
    text = """\
districts:
  - id: alfa
    intake: {name: M, phone: "abc", email: "nope"}
    office_hours: {days: [mon, funday], open: "8", close: "16:30"}
    after_hours: missing-jour
people:
  - {id: p1, name: Per, district: nowhere, phone: "08-000 1", colour: blue}
schools:
  - {id: s1, name: S, district: alfa, contact_person: ghost}
  - {id: s1, name: S2, district: alfa}
"""
    parsed = parse_yaml(text, "many.yaml")
    errors = [str(e) for e in parsed.errors]
    assert len(errors) == 7, errors  # static errors; the references are checked on import
    assert {r.value for r in parsed.refs} == {"missing-jour", "nowhere", "alfa", "ghost"}


async def test_unknown_references_and_nothing_changes(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(GOOD, fmt="yaml")).ok
    before = await svc.export()
    bad = GOOD.replace("after_hours: jour", "after_hours: jouren").replace(
        "contact_person: p1", "contact_person: p2"
    ).replace('"08-000 200 00"', '"08-000 200 11"')  # a valid change that must NOT land
    report = await svc.import_text(bad, fmt="yaml", source="bad.yaml")
    assert not report.ok
    msgs = [str(e) for e in report.errors]
    assert msgs == [
        "bad.yaml, rad 9: districts[alfa].after_hours: okänd referens ”jouren”: "
        "socialjouren finns inte i filen eller i registret",
        "bad.yaml, rad 13: schools[s1].contact_person: okänd referens ”p2”: "
        "personen finns inte i filen eller i registret",
    ]
    assert await svc.export() == before
    assert not report.changed


async def test_a_file_with_one_error_changes_nothing_on_an_empty_registry(
    database: Database,
) -> None:
    svc = service(database)
    report = await svc.import_text(GOOD.replace("email: m@example.se", "email: m@"), fmt="yaml")
    assert not report.ok and len(report.errors) == 1
    assert await svc.is_empty()
    assert await svc.revision() == 0


async def test_references_may_point_to_records_already_in_the_registry(
    database: Database,
) -> None:
    svc = service(database)
    assert (await svc.import_text(GOOD, fmt="yaml")).ok
    extra = "schools:\n  - {id: s2, name: Betaskolan, district: alfa, contact_person: p1}\n"
    report = await svc.import_text(extra, fmt="yaml")
    assert report.ok and counts(report)["schools"] == (1, 0, 0, 0)
    assert (await svc.match_school("Betaskolan")).kind == "one"


# ---- CSV ------------------------------------------------------------------------------------


def test_csv_errors_name_rows_and_columns() -> None:
    text = (
        "table,id,name,phone,district\n"
        "after_hours,jour,Jouren,08-000 100 00,\n"
        "people,p1,,08-000 1,alfa\n"
        "people,p2,Per,0800 x,\n"
        "school,s1,Skolan,,alfa\n"
        "after_hours,jour2,Jouren 2,08-000 100 01,alfa\n"
    )
    assert _errors(text, "csv") == [
        "reg.csv, rad 3: people[p1].name: namn saknas",
        "reg.csv, rad 4: people[p2].phone: ogiltigt telefonnummer ”0800 x”: använd siffror, "
        "mellanslag och bindestreck, t.ex. ”08-508 000 00” eller ”+46 8 508 000 00”",
        "reg.csv, rad 5: table: okänd tabell ”school” (tillåtna: after_hours, districts, "
        "people, schools)",
        "reg.csv, rad 6: after_hours[jour2].district: kolumnen ”district” hör inte till "
        "tabellen after_hours och ska vara tom",
    ]


def test_csv_unknown_column() -> None:
    errors = _errors("table,id,name,phonee\nafter_hours,j,J,08-000 1\n", "csv")
    assert errors == ["reg.csv, rad 1: phonee: okänd kolumn ”phonee” – menade du ”phone”?"]


async def test_csv_round_trip_single_file_and_directory(
    database: Database, tmp_path: Path
) -> None:
    svc = service(database)
    assert (await svc.import_path(REGISTRY_EXAMPLE)).ok
    original = await svc.data()
    text = await svc.export("csv")
    assert text.splitlines()[0] == ",".join(CSV_ALL_COLUMNS)
    parsed = parse_csv(text, "registry.csv")
    assert not parsed.errors, [str(e) for e in parsed.errors]
    assert parsed.data == original
    tables = await svc.export_tables()
    assert set(tables) == {"after_hours.csv", "districts.csv", "people.csv", "schools.csv"}
    for name, body in tables.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    parsed_dir = parse_path(tmp_path)
    assert not parsed_dir.errors
    assert parsed_dir.data == original
    # Importing either is a no-op.
    assert not (await svc.import_parsed(parsed)).changed
    assert not (await svc.import_parsed(parsed_dir)).changed


def test_csv_from_excel_semicolons_bom_and_cp1252(tmp_path: Path) -> None:
    rows = (
        "table;id;name;phone\r\n"
        "after_hours;jour;Socialjouren Södertälje;08-000 100 00\r\n"
    )
    p = tmp_path / "excel.csv"
    p.write_bytes(b"\xef\xbb\xbf" + rows.encode("utf-8"))
    parsed = parse_path(p)
    assert not parsed.errors and parsed.data.after_hours[0].name == "Socialjouren Södertälje"
    p.write_bytes(rows.encode("cp1252"))
    parsed = parse_path(p)
    assert not parsed.errors and parsed.data.after_hours[0].name == "Socialjouren Södertälje"


def test_per_table_csv_file_named_after_its_table(tmp_path: Path) -> None:
    p = tmp_path / "after_hours.csv"
    p.write_text("id,name,phone\njour,Jouren,08-000 100 00\n", encoding="utf-8")
    parsed = parse_path(p)
    assert not parsed.errors and parsed.data.after_hours[0].id == "jour"
    q = tmp_path / "kontakter.csv"
    q.write_text("id,name,phone\njour,Jouren,08-000 100 00\n", encoding="utf-8")
    assert "saknar kolumnen ”table”" in str(parse_path(q).errors[0])


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    assert "kan inte läsas" in str(parse_path(tmp_path / "nope.yaml").errors[0])
    odd = tmp_path / "reg.txt"
    odd.write_text("x", encoding="utf-8")
    assert "okänt filformat" in str(parse_path(odd).errors[0])


# ---- export / round trip --------------------------------------------------------------------


async def test_yaml_round_trip(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_path(REGISTRY_EXAMPLE)).ok
    original = await svc.data()
    text = await svc.export("yaml")
    assert '"08:00"' in text and '"08-000 100 00"' in text
    parsed = parse_yaml(text, "export.yaml")
    assert not parsed.errors
    assert parsed.data == original
    assert export_yaml(parsed.data) == text
    assert export_csv(parsed.data) == await svc.export("csv")


def test_yaml_round_trip_is_the_same_data_as_the_file() -> None:
    parsed = parse_path(REGISTRY_EXAMPLE)
    again = parse_yaml(export_yaml(parsed.data), "x.yaml")
    assert again.data.snapshot().schools.keys() == parsed.data.snapshot().schools.keys()
    assert sorted(again.data.districts, key=lambda d: d.id) == sorted(
        parsed.data.districts, key=lambda d: d.id
    )


# ---- example data ---------------------------------------------------------------------------


async def test_default_example_registry(database: Database) -> None:
    svc = service(database)
    assert await svc.is_empty()
    assert await svc.ensure_default(BUNDLED) is True
    assert await svc.ensure_default(BUNDLED) is False  # only when empty
    snap = await svc.snapshot()
    assert snap.is_example
    assert len(snap.districts) == 13
    assert all(p.example for p in snap.people.values())
    r = await svc.route(purpose="report", school="Vallingbyskolan", home_district="Hässelby",
                        at=NOON)
    assert r.ok and r.example and r.district == "hasselby-vallingby"
    exported = await svc.export()
    assert exported.splitlines()[1] == "# EXEMPELDATA: påhittade personer och nummer."
    assert "\nexample: true\n" in exported


def test_bundled_example_data_is_fictional() -> None:
    snap = snapshot_of(BUNDLED)
    for p in snap.people.values():
        assert p.phone is None or p.phone.startswith("08-000")
        assert p.email is None or p.email.endswith("@example.se")
    for d in snap.districts.values():
        assert d.intake.phone.startswith("08-000")
        assert d.intake.email is None or d.intake.email.endswith("@example.se")


async def test_real_import_replaces_example_data(database: Database) -> None:
    svc = service(database)
    await svc.ensure_default(BUNDLED)
    report = await svc.import_text(GOOD, fmt="yaml", source="kommun.yaml")
    assert report.ok
    assert counts(report) == {
        "after_hours": (1, 0, 0, 1), "districts": (1, 0, 0, 13),
        "people": (1, 0, 0, 5), "schools": (1, 0, 0, 8),
    }
    snap = await svc.snapshot()
    assert set(snap.districts) == {"alfa"} and not snap.is_example
    r = await svc.route(purpose="consult", school="Alfaskolan", home_district=None, at=NOON)
    assert r.ok and not r.example


async def test_real_data_may_not_point_at_example_records(database: Database) -> None:
    svc = service(database)
    await svc.ensure_default(BUNDLED)
    text = "schools:\n  - {id: s9, name: Nioskolan, district: bromma}\n"
    report = await svc.import_text(text, fmt="yaml", source="k.yaml")
    assert not report.ok
    assert "finns bara i exempeldata" in str(report.errors[0])
    assert (await svc.snapshot()).is_example  # unchanged


# ---- snapshot cache and service API ---------------------------------------------------------


async def test_snapshot_is_cached_and_follows_imports_of_other_processes(
    database: Database,
) -> None:
    seconds = [0.0]
    bot = RegistryService(database, clock=FixedClock(NOON), monotonic=lambda: seconds[0])
    admin = service(database)  # e.g. the CLI, in another process
    assert (await admin.import_text(GOOD, fmt="yaml")).ok
    first = await bot.snapshot()
    assert await bot.snapshot() is first  # cached
    changed = GOOD.replace("name: Alfaskolan", "name: Alfaskolan Nya")
    assert (await admin.import_text(changed, fmt="yaml")).ok
    # Within a second the bot goes on with what it has, without asking the database ...
    seconds[0] = 0.5
    assert await bot.snapshot() is first
    # ... then it reads the revision and sees the other process's import.
    seconds[0] = 1.0
    second = await bot.snapshot()
    assert second is not first
    assert second.schools["s1"].name == "Alfaskolan Nya"
    seconds[0] = 1.5
    assert await bot.snapshot() is second


async def test_own_imports_are_seen_at_once(database: Database) -> None:
    svc = RegistryService(database, clock=FixedClock(NOON), monotonic=lambda: 0.0)
    assert (await svc.import_text(GOOD, fmt="yaml")).ok
    first = await svc.snapshot()
    changed = GOOD.replace("name: Alfaskolan", "name: Alfaskolan Nya")
    assert (await svc.import_text(changed, fmt="yaml")).ok
    assert (await svc.snapshot()).schools["s1"].name == "Alfaskolan Nya"
    assert first.schools["s1"].name == "Alfaskolan"


async def test_service_lookups(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_path(REGISTRY_EXAMPLE)).ok
    m = await svc.match_school("gardesskolan")
    assert m.kind == "one" and m.item is not None and m.item.name == "Gärdesskolan"
    d = await svc.match_district("söder")
    assert d.kind == "one" and d.item is not None and d.item.id == "sodermalm"
    names = [d.name for d in await svc.list_districts()]
    assert names == sorted(names) and "Östermalm" in names
    schools = await svc.list_schools("ostermalm")
    assert {s.id for s in schools} == {
        "engelbrekt", "hedvig-eleonora", "gardesskolan", "ostermalmsskolan"
    }
    late = NOON + timedelta(hours=10)
    r = await svc.route(purpose="report", school="Engelbrektsskolan", home_district="Norrmalm",
                        at=late)
    assert r.primary is not None and r.primary.kind == "after_hours"


async def test_updated_at_comes_from_the_clock(database: Database) -> None:
    from sqlalchemy import select

    from contacts.tables import RegistrySchool

    svc = service(database)
    assert (await svc.import_text(GOOD, fmt="yaml")).ok
    async with database.session() as s:
        stamp = await s.scalar(select(RegistrySchool.updated_at))
    assert stamp == NOON


# ---- replace ----------------------------------------------------------------------------------

TWO_PEOPLE = GOOD.replace(
    '  - {id: p1, name: Per Exempel, district: alfa, phone: "08-000 300 00"}\n',
    '  - {id: p1, name: Per Exempel, district: alfa, phone: "08-000 300 00"}\n'
    '  - {id: p2, name: Pia Exempel, district: alfa, phone: "08-000 300 01"}\n',
)


async def test_plain_import_keeps_what_the_file_leaves_out(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(TWO_PEOPLE, fmt="yaml")).ok
    again = await svc.import_text(GOOD, fmt="yaml")
    assert again.ok and not again.changed
    assert {p.id for p in (await svc.data()).people} == {"p1", "p2"}


async def test_replace_removes_what_the_file_leaves_out(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(TWO_PEOPLE, fmt="yaml")).ok
    rev = await svc.revision()
    report = await svc.import_text(GOOD, fmt="yaml", replace=True)
    assert report.ok, [str(e) for e in report.errors]
    assert counts(report)["people"] == (0, 0, 1, 1)
    assert {p.id for p in (await svc.data()).people} == {"p1"}
    assert await svc.revision() > rev


async def test_replace_touches_only_the_tables_in_the_file(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(TWO_PEOPLE, fmt="yaml")).ok
    only_people = (
        'people:\n  - {id: p1, name: Per Exempel, district: alfa, phone: "08-000 300 00"}\n'
    )
    report = await svc.import_text(only_people, fmt="yaml", replace=True)
    assert report.ok, [str(e) for e in report.errors]
    data = await svc.data()
    assert {p.id for p in data.people} == {"p1"}
    assert [s.id for s in data.schools] == ["s1"] and [d.id for d in data.districts] == ["alfa"]
    # An empty file replaces nothing.
    empty = await svc.import_text("people: []\n", fmt="yaml", replace=True)
    assert empty.ok and not empty.changed
    assert {p.id for p in (await svc.data()).people} == {"p1"}


async def test_replace_refuses_to_remove_what_a_kept_record_refers_to(database: Database) -> None:
    svc = service(database)
    assert (await svc.import_text(TWO_PEOPLE, fmt="yaml")).ok
    before = export_yaml(await svc.data())
    # Only p2 in the file: p1 would go, but the school (not in the file) names p1.
    only_p2 = 'people:\n  - {id: p2, name: Pia Exempel, district: alfa, phone: "08-000 300 01"}\n'
    report = await svc.import_text(only_p2, fmt="yaml", source="personer.yaml", replace=True)
    assert not report.ok
    message = str(report.errors[0])
    assert "personer.yaml" in message and "p1" in message and "schools[s1]" in message
    assert export_yaml(await svc.data()) == before  # nothing changed
    # With the school moved to p2 in the same file, p1 can go.
    fixed = only_p2 + (
        "schools:\n  - {id: s1, name: Alfaskolan, district: alfa, contact_person: p2}\n"
    )
    report = await svc.import_text(fixed, fmt="yaml", replace=True)
    assert report.ok, [str(e) for e in report.errors]
    data = await svc.data()
    assert {p.id for p in data.people} == {"p2"} and data.schools[0].contact_person == "p2"
