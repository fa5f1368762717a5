"""Forum import (all or nothing, errors with file, line and field), queries and subscriptions."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.clock import FixedClock
from forums.file_import import ForumImportError, parse_forums_yaml
from forums.repository import ForumService, UnknownConversationError, UnknownForumError
from forums.tables import ForumRow
from storage.db import Database

from .conftest import EVAL_FILE, add_references

T0 = datetime(2026, 8, 20, 8, 0, tzinfo=UTC)

GOOD = """\
forums:
  - id: a
    name: Forum A
    start: 2026-09-08T13:00
    duration_minutes: 60
    rrule: FREQ=MONTHLY;BYDAY=2TU
    reminders: [P1D]
  - id: b
    name: Forum B
    start: 2026-09-09T09:00
    duration_minutes: 30
"""


@pytest.fixture
def service(database: Database) -> ForumService:
    return ForumService(database, FixedClock(T0))


async def count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(ForumRow)) or 0)


def errors_of(text: str) -> list[tuple[int | None, str | None, str | None]]:
    _, problems = parse_forums_yaml(textwrap.dedent(text), "f.yaml")
    return [(p.line, p.forum, p.field) for p in problems]


async def test_import_eval_file_then_idempotent(service: ForumService, database: Database) -> None:
    report = await service.import_file(EVAL_FILE)
    assert sorted(report.created) == ["bus-kno", "konsultation-engelbrekt", "motesplats-var"]
    again = await service.import_file(EVAL_FILE)
    assert again.created == () and again.updated == () and len(again.unchanged) == 3
    assert await count(database) == 3
    f = await service.forum("bus-kno")
    assert f is not None
    assert f.start == datetime(2026, 9, 8, 13, 0) and f.exdates[0].isoformat() == "2026-12-08"
    assert f.reminders == ("P1D", "PT1H") and f.join_url and f.location
    got = await service.upcoming(
        datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [(o.forum, o.start.isoformat()) for o in got] == [
        ("konsultation-engelbrekt", "2026-12-23T14:00:00+01:00")
    ]
    due = await service.due(datetime(2027, 3, 10, tzinfo=UTC), datetime(2027, 3, 11, tzinfo=UTC))
    assert [(r.forum, r.send_at.isoformat(), r.offset) for r in due] == [
        ("motesplats-var", "2027-03-10T08:30:00+01:00", "P7D")
    ]


async def test_reimport_updates_changed_forums(service: ForumService) -> None:
    await service.import_text(GOOD, "good.yaml")
    report = await service.import_text(GOOD.replace("duration_minutes: 30", "duration_minutes: 45"))
    assert report.updated == ("b",) and report.unchanged == ("a",)
    b = await service.forum("b")
    assert b is not None and b.duration_minutes == 45


async def test_a_file_with_any_error_changes_nothing(
    service: ForumService, database: Database, tmp_path: Path
) -> None:
    await service.import_text(GOOD, "good.yaml")
    bad = GOOD.replace("duration_minutes: 30", "duration_minutes: 45") + (
        "  - id: c\n"
        "    name: Forum C\n"
        "    start: 2026-09-10T09:00\n"
        "    duration_minutes: 30\n"
        "    rrule: FREQ=FORTNIGHTLY\n"
    )
    path = tmp_path / "forums.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ForumImportError) as info:
        await service.import_file(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.forum, problem.field) == (
        "forums.yaml",
        16,
        "c",
        "rrule",
    )
    assert str(problem).startswith("forums.yaml:16: forum 'c', fält 'rrule': ")
    assert await count(database) == 2
    b = await service.forum("b")
    assert b is not None and b.duration_minutes == 30  # the valid change was not applied either


def test_every_error_is_listed_with_line_and_field() -> None:
    got = errors_of("""\
        forums:
          - id: a
            name: A
            start: 2026-09-08T13:00
            timezone: Europe/Stokholm
            duration_minutes: -5
            reminders: [P1D, tomorrow]
            colour: blue
          - id: a
            name: Second A
            start: 2026-09-08T13:00
            duration_minutes: 60
          - name: No id
            start: 2026-09-08
            duration_minutes: 60
            duration_minutes: 61
        """)
    assert (5, "a", "timezone") in got
    assert (6, "a", "duration_minutes") in got
    assert (7, "a", "reminders") in got
    assert (8, "a", "colour") in got
    assert (9, "a", "id") in got  # duplicate id, pointing at the second one
    assert (13, None, "id") in got  # missing id: the line of the item
    assert (14, None, "start") in got  # no time of day
    assert (16, None, "duration_minutes") in got  # the key twice
    assert len(got) == 8


ITEM = "forums:\n  - id: a\n    name: A\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("forums: [\n  - id: a\n", 2),  # broken YAML
        ("forum:\n  - id: a\n", 1),  # unknown top-level key and no 'forums'
        ("- id: a\n", 1),  # not a mapping
        ("forums: {id: a}\n", 1),  # not a list
        ("forums:\n  - just text\n", 2),
        ("", None),
        (ITEM + "    start: 2026-02-30T10:00\n    duration_minutes: 5\n", 4),
        (
            ITEM
            + "    start: 2026-02-03T10:00\n    duration_minutes: 5\n    exdates: [2026-02-30]\n",
            6,
        ),
    ],
)
def test_structural_errors(text: str, line: int | None) -> None:
    got = errors_of(text)
    assert got, text
    assert got[0][0] == line


def test_empty_forum_list_is_valid() -> None:
    assert parse_forums_yaml("forums: []\n", "x") == ([], [])
    assert parse_forums_yaml("forums:\n", "x") == ([], [])


async def test_unreadable_files(service: ForumService, tmp_path: Path) -> None:
    with pytest.raises(ForumImportError) as info:
        await service.import_file(tmp_path / "missing.yaml")
    assert "kan inte läsas" in str(info.value)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("forums:\n  - id: a\n    name: Möte\n".encode("latin-1"))
    with pytest.raises(ForumImportError) as info:
        await service.import_file(latin1)
    assert info.value.problems[0].line == 3 and "UTF-8" in info.value.problems[0].message


async def test_subscriptions_personal_and_channel(
    service: ForumService, database: Database
) -> None:
    await service.import_text(GOOD)
    (me,) = await add_references(database, 1, kind="personal", prefix="p")
    (channel,) = await add_references(database, 1, kind="channel", prefix="ch")
    s1 = await service.subscribe("a", me)
    s2 = await service.subscribe("a", channel)
    assert (s1.target_kind, s1.scope, s2.target_kind, s2.scope) == (
        "personal",
        "me",
        "channel",
        "channel",
    )
    assert (await service.subscribe("a", me)).id == s1.id  # idempotent
    assert await service.subscribed_forums(me) == {"a"}
    assert {s.conversation_ref_id for s in await service.subscriptions(forum_id="a")} == {
        me,
        channel,
    }
    assert await service.unsubscribe("a", me) is True
    assert await service.unsubscribe("a", me) is False
    assert await service.subscribed_forums(me) == set()
    ended = await service.subscriptions(forum_id="a", active_only=False)
    assert {s.active for s in ended} == {True, False}
    again = await service.subscribe("a", me)
    assert again.id == s1.id and again.active
    with pytest.raises(UnknownForumError):
        await service.subscribe("nope", me)
    with pytest.raises(UnknownConversationError):
        await service.subscribe("a", 999_999)
    with pytest.raises(UnknownForumError):
        await service.forum_ics("nope")


ONLY_B = """\
forums:
  - id: b
    name: Forum B
    start: 2026-09-09T09:00
    duration_minutes: 30
"""


async def test_replace_removes_forums_not_in_the_file_with_their_reminders(
    service: ForumService, database: Database
) -> None:
    await service.import_text(GOOD)
    (me,) = await add_references(database, 1, kind="personal", prefix="p")
    await service.subscribe("a", me)
    await service.subscribe("b", me)
    # A plain import keeps what the file leaves out.
    plain = await service.import_text(ONLY_B)
    assert plain.removed == () and await count(database) == 2
    report = await service.import_text(ONLY_B, replace=True)
    assert (report.removed, report.ended_subscriptions, report.unchanged) == (("a",), 1, ("b",))
    assert [f.id for f in await service.forums()] == ["b"]
    assert await service.subscribed_forums(me) == {"b"}
    september = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    assert {r.forum_id for r in await service.due(*september)} <= {"b"}
    # A file with errors changes nothing, replace or not; an empty schedule removes nothing.
    with pytest.raises(ForumImportError):
        await service.import_text("forums:\n  - id: c\n", replace=True)
    assert [f.id for f in await service.forums()] == ["b"]
    empty = await service.import_text("forums: []\n", replace=True)
    assert empty.removed == () and [f.id for f in await service.forums()] == ["b"]
