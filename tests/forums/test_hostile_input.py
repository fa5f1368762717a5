"""Hostile forum definitions (issue 13, items F, L and N): rules that would stall the bot, names
that would break the iCalendar file, plain http links and files the admin CLI cannot read."""

from __future__ import annotations

import asyncio
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from cli.main import main
from common.clock import FixedClock
from forums import model, schedule
from forums.definition import parse_forum
from forums.file_import import MAX_IMPORT_BYTES, ForumImportError, parse_forums_yaml
from forums.ics import forum_calendar
from forums.model import Forum
from forums.repository import ForumService
from forums.tables import ForumRow
from storage.db import Database

T0 = datetime(2026, 9, 8, 9, 0, tzinfo=UTC)


def problems(**kw: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "id": "f",
        "name": "Forum",
        "start": "2026-09-08T13:00",
        "duration_minutes": 60,
    }
    base.update(kw)
    f, probs = parse_forum({k: v for k, v in base.items() if v is not ...})
    assert (f is None) == bool(probs)
    return {p.field: p.message for p in probs}


def parsed(**kw: Any) -> Forum:
    base: dict[str, Any] = {"id": "f", "name": "Forum", "start": "2026-09-08T13:00"}
    base["duration_minutes"] = 60
    base.update(kw)
    f, probs = parse_forum(base)
    assert f is not None, probs
    return f


# ---- F: rules that would stall the bot are refused at import -----------------------------------


@pytest.mark.parametrize("freq", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_frequencies_finer_than_daily_are_refused(freq: str) -> None:
    assert problems(rrule=f"FREQ={freq}") == {
        "rrule": f"rrule: FREQ={freq} går inte att använda – ett forum kan ha högst ett möte "
        "per dag (använd DAILY, WEEKLY, MONTHLY eller YEARLY)"
    }


@pytest.mark.parametrize("part", ["BYHOUR=9,13", "BYMINUTE=0,30", "BYSECOND=1"])
def test_times_of_day_in_the_rule_are_refused(part: str) -> None:
    name = part.split("=")[0]
    assert problems(rrule=f"FREQ=DAILY;{part}") == {
        "rrule": f"rrule: {name} går inte att använda – mötets klockslag står i start"
    }


def test_count_is_bounded() -> None:
    assert model.MAX_COUNT == 1000
    assert problems(rrule="FREQ=WEEKLY;COUNT=1000") == {}
    assert problems(rrule="FREQ=WEEKLY;COUNT=1001") == {
        "rrule": "rrule: COUNT får vara högst 1000 möten"
    }
    assert problems(rrule="FREQ=DAILY;COUNT=999999999") == {
        "rrule": "rrule: COUNT får vara högst 1000 möten"
    }
    assert problems(rrule="FREQ=YEARLY;INTERVAL=1001") == {
        "rrule": "rrule: INTERVAL får vara högst 1000"
    }


def test_unknown_and_non_standard_rule_parts_are_refused() -> None:
    assert problems(rrule="FREQ=FORTNIGHTLY") == {
        "rrule": "rrule: FREQ=FORTNIGHTLY finns inte (använd DAILY, WEEKLY, MONTHLY eller YEARLY)"
    }
    assert "BYEASTER" in problems(rrule="FREQ=YEARLY;BYEASTER=0")["rrule"]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
        "FREQ=DAILY;BYYEARDAY=366;BYMONTH=1",
    ],
)
def test_rules_without_meetings_are_refused_quickly(rule: str) -> None:
    started = time.perf_counter()
    got = problems(rrule=rule)
    assert time.perf_counter() - started < 2.0
    assert got == {
        "rrule": "rrule ger inget möte under de första 10 åren efter start – kontrollera att "
        "dagen finns (det finns t.ex. ingen 31 februari)"
    }


def test_a_rare_but_real_rule_is_accepted() -> None:
    leap = parsed(start="2027-03-01T10:00", rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")
    got = schedule.occurrences(leap, T0, datetime(2033, 1, 1, tzinfo=UTC))
    assert [o.start.date().isoformat() for o in got] == [
        "2027-03-01", "2028-02-29", "2032-02-29",
    ]


def test_start_exdates_and_reminders_are_bounded() -> None:
    assert problems(start="1900-01-01T10:00") == {
        "start": "start ska ligga mellan år 2000 och år 2100"
    }
    assert problems(start="2101-01-01T10:00") == {
        "start": "start ska ligga mellan år 2000 och år 2100"
    }
    many = [f"2027-01-{d:02d}" for d in range(1, 29)] * 40
    assert problems(exdates=many) == {"exdates": "högst 1000 undantag per forum"}
    assert problems(reminders=["P1Y"]) == {}
    assert problems(reminders=["PT8760H"]) == {}
    for too_early in ("P1YT1H", "P13M", "P9999Y"):
        assert problems(reminders=[too_early]) == {
            "reminders": f"påminnelsen {too_early} får vara högst ett år före mötet"
        }


async def test_import_lists_every_rule_error_with_its_line_and_changes_nothing(
    database: Database,
) -> None:
    service = ForumService(database, FixedClock(T0))
    text = textwrap.dedent("""\
        forums:
          - id: ok
            name: Fungerar
            start: 2026-09-08T13:00
            duration_minutes: 60
          - id: sekund
            name: Varje sekund
            start: 2026-09-08T13:00
            duration_minutes: 60
            rrule: FREQ=SECONDLY
          - id: minut
            name: Varje minut
            start: 2026-09-08T13:00
            duration_minutes: 60
            rrule: FREQ=MINUTELY;INTERVAL=5
          - id: manga
            name: Många
            start: 2026-09-08T13:00
            duration_minutes: 60
            rrule: FREQ=DAILY;COUNT=999999999
        """)
    with pytest.raises(ForumImportError) as info:
        await service.import_text(text, "forum.yaml")
    got = [(p.line, p.forum, p.field) for p in info.value.problems]
    assert got == [(10, "sekund", "rrule"), (15, "minut", "rrule"), (20, "manga", "rrule")]
    assert str(info.value.problems[0]).startswith(
        "forum.yaml:10: forum 'sekund', fält 'rrule': rrule: FREQ=SECONDLY går inte att använda"
    )
    assert await service.forums() == []


# ---- F and L: rows stored before the limits existed stay cheap and give a valid .ics -----------


async def _store(db: Database, **values: Any) -> None:
    row: dict[str, Any] = {
        "name": "Gammalt forum",
        "kind": None,
        "start_local": "2026-09-08T11:00:00",
        "timezone": "Europe/Stockholm",
        "duration_minutes": 60,
        "rrule": None,
        "exdates": [],
        "skip_public_holidays": False,
        "location": None,
        "join_url": None,
        "reminders": ["PT1H"],
        "updated_at": T0,
    }
    row.update(values)
    async with db.transaction() as s:
        s.add(ForumRow(**row))


async def test_an_old_secondly_forum_is_expanded_with_a_hard_cap(database: Database) -> None:
    await _store(database, id="sekund", rrule="FREQ=SECONDLY")
    await _store(database, id="vecka", rrule="FREQ=WEEKLY")
    service = ForumService(database, FixedClock(T0))
    started = time.perf_counter()
    got = await service.upcoming(T0, T0 + timedelta(days=2))
    assert time.perf_counter() - started < 10.0
    per_forum = {f: sum(1 for o in got if o.forum == f) for f in ("sekund", "vecka")}
    assert per_forum["vecka"] == 1
    assert 0 < per_forum["sekund"] <= 5000
    due = await service.due(T0, T0 + timedelta(days=2))
    assert 0 < sum(1 for r in due if r.forum == "sekund") <= 5000


async def test_expanding_an_old_secondly_forum_does_not_block_the_event_loop(
    database: Database,
) -> None:
    # Three days of seconds before the window: the whole generation budget is spent there.
    await _store(database, id="sekund", rrule="FREQ=SECONDLY", start_local="2026-09-04T11:00:00")
    service = ForumService(database, FixedClock(T0))
    longest = 0.0
    done = False

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await service.upcoming(T0, T0 + timedelta(days=2))
    finally:
        done = True
        await tick
    assert longest < 0.5


async def test_ics_of_old_rows_with_huge_counts_or_line_breaks_is_valid(
    database: Database,
) -> None:
    await _store(database, id="manga", rrule="FREQ=DAILY;COUNT=999999999")
    await _store(database, id="radbrytning", name="Forum\r\nX-EVIL:1\nBEGIN:VEVENT",
                 rrule="FREQ=WEEKLY", location="Rum 3\r\nX-A:1")
    await _store(database, id="sekund", rrule="FREQ=SECONDLY;COUNT=999999999")
    service = ForumService(database, FixedClock(T0))
    for forum_id in ("manga", "radbrytning", "sekund"):
        started = time.perf_counter()
        body = await service.forum_ics(forum_id)
        assert time.perf_counter() - started < 10.0
        cal = Calendar.from_ical(body)
        (event,) = cal.walk("VEVENT")
        assert "\n" not in str(event["SUMMARY"]) and "\r" not in str(event["SUMMARY"])
        for line in body.split(b"\r\n"):
            assert b"\n" not in line and b"\r" not in line
    cal = Calendar.from_ical(await service.forum_ics("radbrytning"))
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Forum X-EVIL:1 BEGIN:VEVENT"
    assert str(event["LOCATION"]) == "Rum 3 X-A:1"


# ---- L: names are normalised or refused at import ----------------------------------------------


def test_line_breaks_in_texts_become_spaces_and_control_characters_are_refused() -> None:
    f = parsed(name="Forum\r\nX-EVIL: 1", location="Rum\t3\u2028plan 2", kind="bus")
    assert (f.name, f.location) == ("Forum X-EVIL: 1", "Rum 3 plan 2")
    assert problems(name="Forum\x00A", kind="b\x1bus") == {
        "name": "innehåller ett otillåtet tecken (U+0000)",
        "kind": "innehåller ett otillåtet tecken (U+001B)",
    }
    text = forum_calendar(f, now=T0).decode()
    assert "SUMMARY:Forum X-EVIL: 1\r\n" in text


def test_plain_http_join_urls_are_refused() -> None:
    assert problems(join_url="http://teams.microsoft.com/l/meetup-join/x") == {
        "join_url": "ska vara en webbadress som börjar med https://"
    }
    assert problems(join_url="https://teams.microsoft.com/l/meetup-join/x") == {}


# ---- N: files the admin CLI cannot read give named errors ----------------------------------------


def test_deeply_nested_yaml_is_a_named_error() -> None:
    text = "forums: " + "[" * 5000 + "]" * 5000 + "\n"
    _, probs = parse_forums_yaml(text, "f.yaml")
    assert [str(p) for p in probs] == ["f.yaml:1: filen är för djupt nästlad (högst 20 nivåer)"]


async def test_oversized_and_binary_files_are_refused(database: Database, tmp_path: Path) -> None:
    assert MAX_IMPORT_BYTES == 5 * 1024 * 1024
    service = ForumService(database, FixedClock(T0))
    cases = {
        "big.yaml": b"forums:\n" + b"#" * MAX_IMPORT_BYTES + b"\n",
        "bild.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
    }
    expected = {
        "big.yaml": "filen är för stor: högst 5 MB kan läsas in",
        "bild.yaml": "filen innehåller binära data (nolltecken) – den ska vara en textfil i YAML",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ForumImportError) as info:
            await service.import_file(tmp_path / name)
        assert [str(p) for p in info.value.problems] == [f"{tmp_path / name}: {expected[name]}"]
    with pytest.raises(ForumImportError) as info:
        await service.import_file("/dev/zero")
    assert [str(p) for p in info.value.problems] == [
        "/dev/zero: filen är för stor: högst 5 MB kan läsas in"
    ]


@pytest.fixture
def cli_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"forums: " + b"[" * 5000 + b"]" * 5000, "för djupt nästlad"),
        (b"\x89PNG\r\n\x1a\n\x00\x00" * 10, "binära data"),
        (None, "för stor"),
    ],
)
def test_cli_import_of_hostile_files_exits_1_with_a_swedish_error(
    cli_sqlite: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    expected: str,
) -> None:
    path = "/dev/zero"
    if content is not None:
        (tmp_path / "forum.yaml").write_bytes(content)
        path = str(tmp_path / "forum.yaml")
    code = main(["forums", "import", path])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("Forumschemat lästes INTE in: 1 fel i "), err
    assert expected in err and "Traceback" not in err


def test_windows_at_the_edges_of_the_calendar_do_not_overflow() -> None:
    daily = parsed(rrule="FREQ=DAILY", reminders=["P1Y"])
    far = datetime(9999, 12, 30, tzinfo=UTC)
    assert len(schedule.occurrences(daily, T0, far)) == model.MAX_OCCURRENCES
    assert 0 < len(schedule.reminders_due(daily, T0, far)) <= model.MAX_OCCURRENCES
    early = datetime(1, 1, 2, tzinfo=UTC)
    assert schedule.occurrences(daily, early, early + timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("command", "window"),
    [
        (("forums", "upcoming"), ("--from", "2026-01-01", "--to", "9999-12-31")),
        (("reminders", "due"), ("--from", "2026-01-01", "--to", "9999-12-31")),
        (("forums", "upcoming"), ("--from", "0001-01-01", "--to", "0001-01-02")),
    ],
)
def test_cli_windows_at_the_edges_of_the_calendar(
    cli_sqlite: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, str],
    window: tuple[str, ...],
) -> None:
    (tmp_path / "f.yaml").write_text(
        "forums:\n  - id: d\n    name: Daglig\n    start: 2026-09-08T13:00\n"
        "    duration_minutes: 60\n    rrule: FREQ=DAILY\n    reminders: [P1D]\n",
        encoding="utf-8",
    )
    assert main(["forums", "import", str(tmp_path / "f.yaml")]) == 0
    capsys.readouterr()
    code = main([*command, *window, "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if window[1].startswith("0001"):
        assert code == 1 and out == "" and "Ogiltig tidpunkt för --from" in err
    else:
        assert code == 0 and out.startswith("[")
