"""The iCalendar file (parsed back and expanded independently) and the Adaptive Cards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from common import adaptive
from common.clock import FixedClock
from forums import card as forum_cards
from forums import model, schedule
from forums import texts as forum_texts
from forums.definition import parse_forum
from forums.ics import forum_calendar
from forums.model import Forum
from forums.repository import ForumService
from storage.db import Database

from .conftest import EVAL_FILE

NOW = datetime(2026, 8, 20, 8, 0, tzinfo=UTC)


def eval_forums() -> list[Forum]:
    out = []
    for raw in yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))["forums"]:
        f, problems = parse_forum(raw)
        assert f is not None, problems
        out.append(f)
    return out


EXTRA = [
    {
        "id": "dst",
        "name": "Tidig grupp",
        "start": "2026-03-22T02:30",
        "duration_minutes": 45,
        "rrule": "FREQ=WEEKLY;UNTIL=20261231",
        "skip_public_holidays": True,
        "exdates": ["2026-04-12"],
        "reminders": ["P1D", "PT30M"],
    },
    {
        "id": "unsynced",
        "name": "Styrgrupp",
        "start": "2026-09-07T13:00",
        "duration_minutes": 60,
        "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=5",
        "reminders": ["P1M"],
        "kind": "styrgrupp",
    },
    {
        "id": "skip",
        "name": "Onsdagsgrupp",
        "start": "2026-12-30T10:00",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY",
        "skip_public_holidays": True,
    },
]


def all_forums() -> list[Forum]:
    extra = []
    for raw in EXTRA:
        f, problems = parse_forum(raw)
        assert f is not None, problems
        extra.append(f)
    return eval_forums() + extra


def expand_ics(data: bytes, until: datetime) -> list[datetime]:
    """Occurrence starts (UTC) read back from the file with icalendar + dateutil only."""
    cal = Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    start = event.decoded("dtstart")
    rules = rruleset()
    if event.get("rrule") is not None:
        rules.rrule(rrulestr(event["rrule"].to_ical().decode(), dtstart=start))
    else:
        rules.rdate(start)
    for prop, add in (("rdate", rules.rdate), ("exdate", rules.exdate)):
        values = event.get(prop)
        if values is None:
            continue
        for v in values if isinstance(values, list) else [values]:
            for d in v.dts:
                add(d.dt)
    return [d.astimezone(UTC) for d in rules.between(start - timedelta(days=1), until, inc=True)]


@pytest.mark.parametrize("forum", all_forums(), ids=lambda f: f.id)
def test_ics_is_valid_and_means_the_same_schedule(forum: Forum, machine_tz: str) -> None:
    data = forum_calendar(forum, now=NOW)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.rstrip().endswith(b"END:VCALENDAR")
    cal = Calendar.from_ical(data)
    assert cal.get_missing_tzids() == set()
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert str(event["UID"]) == f"{forum.id}@samverkansboten"
    assert str(event["SUMMARY"]) == forum.name
    assert (event.decoded("dtend") - event.decoded("dtstart")) == forum.duration
    if forum.rrule:
        assert event["RRULE"].to_ical().decode().startswith("FREQ=")
    until = datetime(2028, 1, 1, tzinfo=UTC)
    ours = [
        o.start.astimezone(UTC)
        for o in schedule.occurrences(forum, NOW - timedelta(days=400), until)
    ]
    assert expand_ics(data, until) == ours
    alarms = [str(a["TRIGGER"].to_ical().decode()) for a in event.walk("VALARM")]
    expected = [f"-{r}" for r in forum.reminders if "M" not in r.split("T")[0][1:]]
    assert alarms == expected


def test_ics_for_the_eval_bus_forum_has_exdate_and_utc_until() -> None:
    bus = next(f for f in eval_forums() if f.id == "bus-kno")
    text = forum_calendar(bus, now=NOW).decode()
    assert "RRULE:FREQ=MONTHLY;BYDAY=2TU\r\n" in text
    assert "EXDATE;TZID=Europe/Stockholm:20261208T130000\r\n" in text
    assert "DTSTART;TZID=Europe/Stockholm:20260908T130000\r\n" in text
    dst = next(f for f in all_forums() if f.id == "dst")
    assert "UNTIL=20261231T225959Z" in forum_calendar(dst, now=NOW).decode()


async def test_service_ics_uses_the_clock_for_dtstamp(database: Database) -> None:
    service = ForumService(database, FixedClock(NOW))
    await service.import_file(EVAL_FILE)
    data = await service.forum_ics("motesplats-var")
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("dtstamp") == NOW


# --- cards -------------------------------------------------------------------------------------


def occurrences(days: int = 60) -> list[model.Occurrence]:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    return schedule.upcoming(eval_forums(), start, start + timedelta(days=days))


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return found


def texts(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_upcoming_card_personal_chat() -> None:
    card = forum_cards.upcoming_card(
        occurrences(), subscribed_me={"bus-kno"}, subscribed_channel=None
    )
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    body = texts(card)
    assert "tisdag 8 september kl. 13.00–14.30" in body
    assert "onsdag 2 september kl. 14.00–15.30" in body
    assert "Östermalms stadsdelsförvaltning, rum 3" in body
    assert "https://teams.microsoft.com/l/meetup-join/example" in body
    data = [(b["title"], b["data"]) for b in submits(card)]
    assert data == [
        (
            "Påminn mig",
            {"action": "forum.subscribe", "forum": "konsultation-engelbrekt", "scope": "me"},
        ),
        ("Sluta påminna mig", {"action": "forum.unsubscribe", "forum": "bus-kno", "scope": "me"}),
    ]
    assert "kanalen" not in body.lower()


def test_upcoming_card_in_a_channel_has_channel_buttons() -> None:
    card = forum_cards.upcoming_card(
        occurrences(), subscribed_me=set(), subscribed_channel={"konsultation-engelbrekt"}
    )
    data = [b["data"] for b in submits(card)]
    assert {
        "action": "forum.unsubscribe",
        "forum": "konsultation-engelbrekt",
        "scope": "channel",
    } in data
    assert {"action": "forum.subscribe", "forum": "bus-kno", "scope": "channel"} in data
    assert {"action": "forum.subscribe", "forum": "bus-kno", "scope": "me"} in data
    assert len(data) == 4


def test_upcoming_card_years_limits_and_size() -> None:
    card = forum_cards.upcoming_card(
        occurrences(400), subscribed_me=set(), subscribed_channel=set()
    )
    body = texts(card)
    assert "onsdag 17 mars 2027 kl. 08.30–12.00" in body  # another year than the first meeting
    assert "möten till under perioden" in body
    many = [f"forum-{i}" for i in range(40)]
    occs = [
        model.Occurrence(
            forum=fid,
            start=datetime(2026, 9, 1, 8, tzinfo=UTC) + timedelta(hours=i),
            end=datetime(2026, 9, 1, 9, tzinfo=UTC) + timedelta(hours=i),
            local_start=datetime(2026, 9, 1, 10) + timedelta(hours=i),
        )
        for i, fid in enumerate(many)
    ]
    big = forum_cards.upcoming_card(occs, subscribed_me=set(), subscribed_channel=set())
    assert adaptive.card_bytes(big) < adaptive.MAX_CARD_BYTES
    assert "… och 25 forum till." in texts(big)


@pytest.mark.parametrize("scope", ["me", "channel"])
def test_reminder_card(scope: str) -> None:
    bus = next(f for f in eval_forums() if f.id == "bus-kno")
    (occ,) = schedule.occurrences(
        bus, datetime(2026, 9, 8, tzinfo=UTC), datetime(2026, 9, 9, tzinfo=UTC)
    )
    card, summary = forum_cards.reminder_message(
        bus, occ, scope=scope, public_url="https://bot.example.se/"
    )
    assert summary == (
        "Påminnelse: BUS individforum Kungsholmen/Norrmalm/Östermalm, "
        "tisdag 8 september kl. 13.00–14.30"
    )
    actions = card["actions"]
    assert actions[0] == {
        "type": "Action.OpenUrl",
        "title": "Anslut till mötet",
        "url": "https://teams.microsoft.com/l/meetup-join/example",
    }
    assert actions[1] == {
        "type": "Action.OpenUrl",
        "title": "Lägg till i kalender",
        "url": "https://bot.example.se/forums/bus-kno.ics",
    }
    assert actions[2]["data"] == {"action": "forum.unsubscribe", "forum": "bus-kno", "scope": scope}
    assert actions[2]["title"] == "Stäng av påminnelser"
    facts = card["body"][2]["facts"]
    assert facts == [
        {"title": "När", "value": "tisdag 8 september kl. 13.00–14.30"},
        {"title": "Var", "value": "Östermalms stadsdelsförvaltning, rum 3"},
    ]


def test_reminder_card_carries_only_forum_data() -> None:
    """Everything visible comes from the forum definition, the time or the fixed texts."""
    f, _ = parse_forum(
        {"id": "x", "name": "2+2-möte", "start": "2026-09-08T13:00", "duration_minutes": 60}
    )
    assert f is not None
    (occ,) = schedule.occurrences(
        f, datetime(2026, 9, 8, tzinfo=UTC), datetime(2026, 9, 9, tzinfo=UTC)
    )
    card = forum_cards.reminder_card(f, occ, scope="me")
    shown: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value"):
                if isinstance(node.get(key), str):
                    shown.append(node[key])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    card_texts = forum_texts().section("card.") | forum_texts().section("reminder.")
    allowed = set(card_texts.values()) | {f.name, "tisdag 8 september kl. 13.00–14.00"}
    assert set(shown) <= allowed, set(shown) - allowed
    assert "Lägg till i kalender" not in shown  # no public URL configured → no calendar link
    with pytest.raises(ValueError):
        forum_cards.reminder_card(f, occ, scope="team")


def test_texts_can_be_replaced() -> None:
    card = forum_cards.upcoming_card(
        occurrences(),
        subscribed_me=set(),
        subscribed_channel=None,
        texts=forum_texts().replaced({"card.subscribe_me": "Påminn"}),
    )
    assert {b["title"] for b in submits(card)} == {"Påminn"}
