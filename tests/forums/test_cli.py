"""The CLI contract: `samverkan forums import|upcoming|ics` and `samverkan reminders due|status`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from cli.main import main
from forums.reminders import ReminderScheduler
from forums.repository import ForumService
from outbound.sender import Sender, SendError
from storage.db import Database
from tests.conftest import _fresh_pg_database, _give_back, database_url, postgres_admin_url

from .conftest import EVAL_FILE, FakeSleeper, FakeTransport, add_references

RUN = tuple[int, str, str]


@pytest.fixture(params=["sqlite", "postgres"])
def cli_db(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_template: str | None,
) -> Iterator[str]:
    """SAMVERKAN_DATABASE_URL for one CLI run: an SQLite file or a fresh PostgreSQL database."""
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
        yield url
        return
    admin = postgres_admin_url()
    if admin is None or pg_template is None:
        pytest.skip("PostgreSQL not configured")
    name = asyncio.run(_fresh_pg_database(admin, pg_template))
    url = database_url(admin, name)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
    try:
        yield url
    finally:
        asyncio.run(_give_back(admin, name, pg_template))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> RUN:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_then_upcoming_and_due_json(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "forums", "import", str(EVAL_FILE))
    assert code == 0, err
    assert out.strip().endswith("3 nya, 0 ändrade, 0 oförändrade (3 forum).")
    code, out, _ = run(capsys, "forums", "import", str(EVAL_FILE))
    assert code == 0 and "0 nya, 0 ändrade, 3 oförändrade" in out

    code, out, err = run(
        capsys, "forums", "upcoming", "--from", "2026-10-01", "--to", "2026-11-26", "--json"
    )
    assert code == 0, err
    assert json.loads(out) == [
        {
            "forum": "bus-kno",
            "start": "2026-10-13T13:00:00+02:00",
            "end": "2026-10-13T14:30:00+02:00",
        },
        {
            "forum": "konsultation-engelbrekt",
            "start": "2026-10-28T14:00:00+01:00",
            "end": "2026-10-28T15:30:00+01:00",
        },
        {
            "forum": "bus-kno",
            "start": "2026-11-10T13:00:00+01:00",
            "end": "2026-11-10T14:30:00+01:00",
        },
        {
            "forum": "konsultation-engelbrekt",
            "start": "2026-11-25T14:00:00+01:00",
            "end": "2026-11-25T15:30:00+01:00",
        },
    ]
    assert len(out.splitlines()) == 1  # one JSON value, nothing else on stdout

    code, out, err = run(
        capsys,
        "reminders",
        "due",
        "--from",
        "2026-10-27T13:00:00+01:00",
        "--to",
        "2026-10-28T12:00:00+01:00",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == [
        {
            "forum": "konsultation-engelbrekt",
            "occurrence": "2026-10-28T14:00:00+01:00",
            "send_at": "2026-10-27T14:00:00+01:00",
            "offset": "P1D",
        }
    ]  # PT2H at 12.00 is outside [from, to)


def test_readable_output(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "forums", "import", str(EVAL_FILE))[0] == 0
    code, out, _ = run(capsys, "forums", "upcoming", "--from", "2026-09-01", "--to", "2026-09-10")
    assert code == 0
    assert out.splitlines() == [
        "onsdag 2 september 2026 kl. 14.00–15.30  Skolbaserad konsultationsgrupp "
        "Engelbrektsskolan – Engelbrektsskolan, konferensrummet",
        "tisdag 8 september 2026 kl. 13.00–14.30  BUS individforum Kungsholmen/Norrmalm/Östermalm"
        " – Östermalms stadsdelsförvaltning, rum 3",
    ]
    code, out, _ = run(capsys, "reminders", "due", "--from", "2027-03-10", "--to", "2027-03-11")
    assert out.strip() == (
        "onsdag 10 mars 2027 kl. 08.30  påminnelse P7D om Mötesplats förskola och socialtjänst "
        "(mötet onsdag 17 mars kl. 08.30)"
    )
    code, out, _ = run(capsys, "reminders", "due", "--from", "2030-01-01", "--to", "2030-01-02")
    assert code == 0 and out.startswith("Inga påminnelser")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--from", "2026-13-01", "--to", "2026-12-01"), "Ogiltig tidpunkt för --from"),
        (("--from", "2026-09-01", "--to", "igår"), "Ogiltig tidpunkt för --to"),
        (("--from", "2026-12-01", "--to", "2026-09-01"), "måste vara före"),
        (("--from", "", "--to", "2026-09-01"), "Ogiltig tidpunkt"),
    ],
)
def test_bad_times_exit_1_with_a_swedish_message(
    cli_db: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    for command in (("forums", "upcoming"), ("reminders", "due")):
        code, out, err = run(capsys, *command, *args, "--json")
        assert code == 1 and out == "" and needle in err and "Traceback" not in err


def test_import_errors_exit_1(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "forum.yaml"
    bad.write_text(
        "forums:\n  - id: x\n    name: X\n    start: 2026-09-08T13:00\n"
        "    duration_minutes: 60\n    rrule: FREQ=WEEKLY;BYDAY=XX\n    reminders: [1 dag]\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "forums", "import", str(bad))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("Forumschemat lästes INTE in: 2 fel i ")
    assert lines[1].startswith("  forum.yaml:6: forum 'x', fält 'rrule': ")
    assert lines[2].startswith("  forum.yaml:7: forum 'x', fält 'reminders': ")
    code, _, err = run(capsys, "forums", "import", str(tmp_path / "nope.yaml"))
    assert code == 1 and "kan inte läsas" in err


def test_ics(cli_db: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["forums", "import", str(EVAL_FILE)]) == 0
    capsysbinary.readouterr()
    assert main(["forums", "ics", "bus-kno"]) == 0
    out, _ = capsysbinary.readouterr()
    cal = Calendar.from_ical(out)
    (event,) = cal.walk("VEVENT")
    assert b"\r\nRRULE:FREQ=MONTHLY;BYDAY=2TU\r\n" in out
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert main(["forums", "ics", "okänt"]) == 1
    _, err = capsysbinary.readouterr()
    assert "Det finns inget forum med id 'okänt'." in err.decode()


def test_reminders_status_shows_failures(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def deliver() -> None:
        db = Database(cli_db)
        try:
            await db.migrate()
            from common.clock import FixedClock

            clock = FixedClock(datetime(2026, 9, 1, tzinfo=UTC))
            forums = ForumService(db, clock)
            await forums.import_file(EVAL_FILE)
            refs = await add_references(db, 3)
            for ref in refs:
                await forums.subscribe("bus-kno", ref)
            clock.set(datetime(2026, 9, 7, 11, 0, tzinfo=UTC))
            transport = FakeTransport(
                clock, lambda conv, k: SendError(403) if conv == "c1" else None
            )
            sleeper = FakeSleeper(clock)
            scheduler = ReminderScheduler(
                db, forums, transport, clock, sleeper, sender=Sender(transport, clock, sleeper)
            )
            await scheduler.tick()
        finally:
            await db.dispose()

    asyncio.run(deliver())
    code, out, _ = run(capsys, "reminders", "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["counts"] == {
        "claimed": 0,
        "sent": 2,
        "failed": 0,
        "skipped_stale": 0,
        "gave_up": 1,
    }
    (failure,) = data["failures"]
    assert failure["forum"] == "bus-kno" and failure["offset"] == "P1D"
    assert failure["status"] == "gave_up" and failure["last_status"] == 403
    assert failure["occurrence"] == "2026-09-08T11:00:00+00:00"
    assert "HTTP 403" in failure["reason"]
    code, out, _ = run(capsys, "reminders", "status")
    assert "skickade: 2" in out and "gav upp: 1" in out
    assert "[gav upp] bus-kno, mötet tisdag 8 september 2026 kl. 13.00, påminnelse P1D" in out
    code, out, _ = run(capsys, "reminders", "status", "--failed", "--json")
    assert json.loads(out)["counts"] == {"failed": 0, "gave_up": 1}


def test_bad_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "mysql://u@h/db")
    code, out, err = run(capsys, "forums", "upcoming", "--from", "2026-09-01", "--to", "2026-10-01")
    assert code == 1 and out == "" and "Databasen kan inte användas" in err


def test_import_replace_says_what_was_removed(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "forums", "import", str(EVAL_FILE))[0] == 0
    text = EVAL_FILE.read_text(encoding="utf-8")
    # The schedule without the last forum in the file.
    last = text.rindex("\n  - id: ")
    gone = text[last:].split("id: ", 1)[1].split()[0]
    smaller = tmp_path / "forum.yaml"
    smaller.write_text(text[:last] + "\n", encoding="utf-8")
    code, out, err = run(capsys, "forums", "import", "--replace", str(smaller))
    assert code == 0, err
    assert "0 nya, 0 ändrade, 2 oförändrade (2 forum). Borttagna (1): " + gone in out
    code, out, _ = run(
        capsys, "forums", "upcoming", "--from", "2026-09-01", "--to", "2027-06-30", "--json"
    )
    assert code == 0 and gone not in {m["forum"] for m in json.loads(out)}
