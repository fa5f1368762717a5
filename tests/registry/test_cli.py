"""The CLI contract: `samverkan registry import|export` and `samverkan route`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli.main import main

from .conftest import REGISTRY_EXAMPLE, ROUTES


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    return db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_summary_and_idempotency(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))
    assert code == 0, err
    assert out.splitlines() == [
        "Kontaktregistret har lästs in från registry-example.yaml.",
        "  socialjourer: 1 nya, 0 uppdaterade, 0 oförändrade",
        "  stadsdelar/kommuner: 4 nya, 0 uppdaterade, 0 oförändrade",
        "  personer: 3 nya, 0 uppdaterade, 0 oförändrade",
        "  skolor: 6 nya, 0 uppdaterade, 0 oförändrade",
    ]
    code, out, _ = run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))
    assert code == 0
    assert out.startswith("Kontaktregistret är redan aktuellt")
    assert "skolor: 0 nya, 0 uppdaterade, 6 oförändrade" in out


def test_import_errors_exit_1_and_change_nothing(
    cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    bad = tmp_path / "bad.yaml"
    text = REGISTRY_EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('phone: "08-000 101 01"', 'phone: "ring mig"')
    text = text.replace("contact_person: p-karin", "contact_person: p-nobody")
    text = text.replace("    name: Kungsholmen\n", "")
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "registry", "import", str(bad))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == "Registret lästes INTE in: 3 fel i bad.yaml. Inget har ändrats."
    assert lines[1].startswith("  bad.yaml, rad 8: districts[ostermalm].intake.phone:")
    assert lines[2].startswith("  bad.yaml, rad 23: districts[kungsholmen].name: namn saknas")
    assert lines[3].startswith("  bad.yaml, rad 36: schools[matteus].contact_person: okänd")
    assert "Traceback" not in err
    # Nothing changed: the export equals a fresh import of the good file.
    code, exported, _ = run(capsys, "registry", "export")
    assert code == 0 and "08-000 101 01" in exported and "p-nobody" not in exported


def test_import_missing_file_is_a_clear_message(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "registry", "import", "finns-inte.yaml")
    assert code == 1
    assert "finns-inte.yaml: filen kan inte läsas" in err
    assert "Traceback" not in err


def test_export_round_trip_yaml_and_csv(
    cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    code, yaml_text, _ = run(capsys, "registry", "export")
    assert code == 0
    doc = yaml.safe_load(yaml_text)
    assert set(doc) == {"after_hours", "districts", "people", "schools"}
    assert {s["id"] for s in doc["schools"]} == {
        "engelbrekt", "hedvig-eleonora", "gardesskolan", "ostermalmsskolan", "matteus", "eriksdal"
    }
    code, csv_text, _ = run(capsys, "registry", "export", "--format", "csv")
    assert code == 0 and csv_text.startswith("table,id,name,")
    (tmp_path / "r.yaml").write_text(yaml_text, encoding="utf-8")
    (tmp_path / "r.csv").write_text(csv_text, encoding="utf-8")
    for f in ("r.yaml", "r.csv"):
        code, out, _ = run(capsys, "registry", "import", str(tmp_path / f))
        assert code == 0 and out.startswith("Kontaktregistret är redan aktuellt"), out
    code, _, _ = run(capsys, "registry", "export", "--format", "csv", "--out",
                       str(tmp_path / "tables") + "/")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "after_hours.csv", "districts.csv", "people.csv", "schools.csv"
    ]
    code, out, _ = run(capsys, "registry", "import", str(tmp_path / "tables"))
    assert code == 0 and out.startswith("Kontaktregistret är redan aktuellt")


def test_route_json_contract_over_the_eval_routes(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    cases = yaml.safe_load(ROUTES.read_text(encoding="utf-8"))["routes"]
    for c in cases:
        argv = ["route", "--purpose", c["purpose"], "--at", c["at"], "--json"]
        if c.get("school"):
            argv += ["--school", c["school"]]
        if c.get("home_district"):
            argv += ["--home-district", c["home_district"]]
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert out.count("\n") == 1  # one JSON object, nothing else
        obj = json.loads(out)
        assert list(obj) == ["purpose", "district", "primary", "also", "notes"]
        assert obj["purpose"] == c["purpose"]
        assert (obj["primary"]["kind"], obj["primary"]["id"]) == (
            c["expect"]["kind"], c["expect"]["primary"])
        for contact in [obj["primary"], *obj["also"]]:
            assert {"kind", "id", "name", "phone", "email"} <= set(contact)
        assert all(isinstance(n, str) and n for n in obj["notes"])


def test_route_readable_swedish(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    code, out, _ = run(capsys, "route", "--purpose", "report", "--school", "Engelbrektsskolan",
                       "--home-district", "Norrmalm", "--at", "2026-11-24T10:00:00+01:00")
    assert code == 0
    assert out.startswith("Anmälan – stadsdel: Norrmalm. Kontakta:\n")
    assert "• Mottagningen barn och unga Norrmalm" in out
    assert "Öppet: måndag–fredag 08.00–16.00" in out
    assert "inte där skolan ligger" in out


def test_route_naive_at_is_stockholm_time(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    # 16:15 local is open in Östermalm; 16:15 UTC (17:15 local) is not.
    base = ["route", "--purpose", "report", "--home-district", "Östermalm", "--json"]
    _, out, _ = run(capsys, *base, "--at", "2026-11-24T16:15")
    assert json.loads(out)["primary"]["kind"] == "intake"
    _, out, _ = run(capsys, *base, "--at", "2026-11-24T16:15Z")
    assert json.loads(out)["primary"]["kind"] == "after_hours"


@pytest.mark.parametrize("bad_at", ["igår", "2026-13-01T10:00", "24/11/2026"])
def test_route_bad_at(cli_db: Path, capsys: pytest.CaptureFixture[str], bad_at: str) -> None:
    code, out, err = run(capsys, "route", "--purpose", "report", "--home-district", "Norrmalm",
                         "--at", bad_at, "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "bad_at"
    assert err.startswith(f"Ogiltig tidpunkt för --at: ”{bad_at}”")
    code, out, err = run(capsys, "route", "--purpose", "report", "--home-district", "Norrmalm",
                         "--at", bad_at)
    assert code == 1 and out == "" and "Ogiltig tidpunkt" in err


def test_route_unknown_and_ambiguous_names_exit_1(
    cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "amb.yaml"
    reg.write_text(REGISTRY_EXAMPLE.read_text(encoding="utf-8") + (
        "  - {id: engelbrekt-fsk, name: Engelbrekts förskola, district: ostermalm}\n"
    ), encoding="utf-8")
    assert run(capsys, "registry", "import", str(reg))[0] == 0
    code, out, err = run(capsys, "route", "--purpose", "consult", "--school", "Engelbrekt",
                         "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "ambiguous" and error["field"] == "school"
    assert {c["id"] for c in error["candidates"]} == {"engelbrekt", "engelbrekt-fsk"}
    assert "Vilken menar du" in err
    code, out, err = run(capsys, "route", "--purpose", "consult", "--school", "Engelbrekt")
    assert code == 1 and out == ""
    assert "”Engelbrektsskolan”" in err and "”Engelbrekts förskola”" in err
    code, out, err = run(capsys, "route", "--purpose", "report", "--home-district", "Göteborg",
                         "--json")
    assert code == 1
    assert json.loads(out)["error"] == {
        "code": "not_found", "field": "home_district",
        "message": "Hittar ingen stadsdel eller kommun som heter ”Göteborg” i kontaktregistret.",
        "query": "Göteborg", "suggestions": [],
    }


def test_route_on_an_empty_registry_uses_the_example_data(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "route", "--purpose", "report", "--school", "Vallingbyskolan",
                       "--home-district", "Hässelby", "--at", "2026-11-24T10:00:00+01:00",
                       "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["district"] == "hasselby-vallingby" and obj["primary"]["example"] is True
    assert any("exempeldata" in n for n in obj["notes"])


def test_import_replace_removes_someone_who_left(
    cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "registry", "import", str(REGISTRY_EXAMPLE))[0] == 0
    text = REGISTRY_EXAMPLE.read_text(encoding="utf-8")
    omar = next(line for line in text.splitlines(keepends=True) if "id: p-omar" in line)
    left = text.replace(omar, "")
    # Without moving the school he was contact person for, --replace refuses and changes nothing.
    refused = tmp_path / "utan-omar.yaml"
    refused.write_text(left, encoding="utf-8")
    code, out, err = run(capsys, "registry", "import", "--replace", str(refused))
    assert code == 1 and out == ""
    assert "p-omar" in err and "schools[hedvig-eleonora]" in err and "Inget har ändrats" in err
    # A plain import of the same file keeps him (records not in the file are kept).
    moved = tmp_path / "kontakter.yaml"
    moved.write_text(
        left.replace("district: ostermalm, contact_person: p-omar", "district: ostermalm, "
                     "contact_person: p-lina"),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "registry", "import", str(moved))
    assert code == 0, err
    assert "borttagna" not in out
    code, exported, _ = run(capsys, "registry", "export")
    assert "p-omar" in exported
    # With --replace he is gone, and the school's consultations go to Lina.
    code, out, err = run(capsys, "registry", "import", "--replace", str(moved))
    assert code == 0, err
    assert "  personer: 0 nya, 0 uppdaterade, 2 oförändrade, 1 borttagna" in out.splitlines()
    code, exported, _ = run(capsys, "registry", "export")
    assert "p-omar" not in exported and "Omar" not in exported
    code, out, _ = run(capsys, "route", "--purpose", "consult", "--school",
                       "Hedvig Eleonora skola", "--json")
    assert code == 0 and json.loads(out)["primary"]["id"] == "p-lina"
