"""Issue 13 J and N at the HTTP edge: /healthz shows no internals, the content type is matched
exactly, and calendar links are signed (a wrong or missing signature is a 404)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, create_app, reminder_renderer
from forums.repository import ForumService
from tests.bot.conftest import BotHarness, bot_settings
from tests.fakes import teams
from tests.fakes.router import EchoRouter

FORUM = (
    "forums:\n  - id: bus-test\n    name: BUS-grupp test\n    kind: bus\n"
    "    start: 2026-09-08T13:00\n    timezone: Europe/Stockholm\n    duration_minutes: 90\n"
    "    rrule: FREQ=MONTHLY;BYDAY=2TU\n"
    "    join_url: https://teams.microsoft.com/l/meetup-join/hemlig\n"
)


async def test_healthz_shows_no_database_url_or_path(harness: BotHarness, tmp_path: Path) -> None:
    r = await harness.client.get("/healthz")
    assert r.status == 200
    text = await r.text()
    body = json.loads(text)
    assert body["status"] == "ok" and body["database"]["ok"] is True
    assert "url" not in body["database"]
    assert str(tmp_path) not in text and "sqlite3" not in text


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("Application/JSON; charset=UTF-8", 200),
        ("text/plain; x=application/json", 415),
        ("application/jsonx", 415),
        ("application/json-patch+json", 415),
        ("application/json, text/plain", 415),
        ("application/json; charset=latin-1", 415),
        ("", 415),
    ],
)
async def test_content_type_is_the_json_media_type_exactly(
    harness: BotHarness, content_type: str, status: int
) -> None:
    act = teams.message(harness.connector.url, "c-ct", "u1", "hej")
    r = await harness.client.post(
        "/api/messages", data=json.dumps(act).encode(), headers={"Content-Type": content_type}
    )
    assert r.status == status
    if status == 415:
        assert "application/json" in (await r.json())["error"]


# --- signed calendar links ---------------------------------------------------------------------


async def _import_forum(harness: BotHarness) -> ForumService:
    forums = ForumService(harness.services.db, harness.services.clock)
    report = await forums.import_text(FORUM, "forums.yaml")
    assert report.total
    return forums


async def _calendar_link(harness: BotHarness, forums: ForumService) -> str:
    """The 'Lägg till i kalender' link of the reminder card the bot's scheduler sends."""
    forum = await forums.forum("bus-test")
    assert forum is not None
    occurrences = await forums.upcoming(
        datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    )
    render = reminder_renderer("https://bot.kommun.se/", harness.app[RUNTIME].link_secret)
    card, _summary = render(forum, occurrences[0], "P1D", "me")
    urls = [a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    calendar = [u for u in urls if ".ics" in u]
    assert len(calendar) == 1
    assert calendar[0].startswith("https://bot.kommun.se/forums/bus-test.ics?sig=")
    parts = urlsplit(calendar[0])
    return f"{parts.path}?{parts.query}"


async def test_calendar_is_served_only_on_a_signed_link(harness: BotHarness) -> None:
    forums = await _import_forum(harness)
    link = await _calendar_link(harness, forums)
    r = await harness.client.get(link)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/calendar")
    body = await r.text()
    assert "BEGIN:VCALENDAR" in body and "RRULE:FREQ=MONTHLY;BYDAY=2TU" in body
    sig = link.split("sig=", 1)[1]
    for probe in (
        "/forums/bus-test.ics",
        "/forums/bus-test.ics?sig=",
        f"/forums/bus-test.ics?sig={sig[:-1]}",
        f"/forums/bus-test.ics?sig={sig}x",
        f"/forums/bus-kno.ics?sig={sig}",
    ):
        r = await harness.client.get(probe)
        assert r.status == 404, probe
        assert "hemlig" not in await r.text()


async def test_unknown_forum_and_bad_signature_look_the_same(harness: BotHarness) -> None:
    """Forum ids cannot be probed: a known id with a wrong signature answers exactly like an
    unknown id."""
    await _import_forum(harness)
    known = await harness.client.get("/forums/bus-test.ics?sig=AAAAAAAAAAAAAAAAAAAAAA")
    unknown = await harness.client.get("/forums/finns-inte.ics?sig=AAAAAAAAAAAAAAAAAAAAAA")
    assert known.status == unknown.status == 404
    assert await known.read() == await unknown.read()


@pytest.fixture
async def second_app(tmp_path: Path) -> AsyncIterator[Any]:
    clients: list[TestClient] = []

    async def start(database_url: str, **extra: str) -> Any:
        app = create_app(
            bot_settings(database_url, **extra),
            router_factory=lambda _s: EchoRouter(),
            background=False,
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return app

    yield start
    for client in clients:
        await client.close()


async def test_link_secret_is_generated_once_and_shared(
    harness: BotHarness, second_app: Any
) -> None:
    """Without SAMVERKAN_LINK_SECRET the secret is generated on first start and kept in the
    database: every instance (and every restart) signs the same links."""
    secret = harness.app[RUNTIME].link_secret
    assert len(secret) >= 32
    other = await second_app(harness.services.db.url)
    assert other[RUNTIME].link_secret == secret


async def test_link_secret_setting_is_used(harness: BotHarness, second_app: Any) -> None:
    configured = "k" * 40
    other = await second_app(harness.services.db.url, SAMVERKAN_LINK_SECRET=configured)
    assert other[RUNTIME].link_secret == configured.encode()
    assert other[RUNTIME].link_secret != harness.app[RUNTIME].link_secret
