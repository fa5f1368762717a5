"""Proactive sends through the real CloudAdapter to the fake Bot Connector."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import RUNTIME
from bot.proactive import BotConnectorTransport
from forums.card import calendar_signature
from outbound.sender import SendError
from tests.bot.conftest import BotHarness
from tests.fakes import teams

CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Påminnelse"}],
}


async def _reference(harness: BotHarness, conv: str) -> dict:  # type: ignore[type-arg]
    await harness.post(teams.message(harness.connector.url, conv, "u1", "hej"))
    stored = await harness.services.conversations.get("msteams", conv)
    assert stored is not None
    return stored.reference


async def test_send_card_to_stored_reference(harness: BotHarness) -> None:
    ref = await _reference(harness, "c-pro")
    harness.connector.clear()
    transport = BotConnectorTransport(harness.app[RUNTIME].adapter, "")
    await transport.send(ref, CARD, "Påminnelse om möte")
    assert len(harness.connector.sent) == 1
    sent = harness.connector.sent[0]
    assert sent.conversation_id == "c-pro"
    assert sent.activity["attachments"][0]["content"] == CARD
    assert sent.activity["summary"] == "Påminnelse om möte"


@pytest.mark.parametrize(("status", "retry_after"), [(429, 2.5), (403, None), (502, None)])
async def test_failures_become_send_errors_with_status(
    harness: BotHarness, status: int, retry_after: float | None
) -> None:
    ref = await _reference(harness, f"c-{status}")
    harness.connector.failures.append((status, retry_after))
    transport = BotConnectorTransport(harness.app[RUNTIME].adapter, "")
    with pytest.raises(SendError) as info:
        await transport.send(ref, CARD, "x")
    assert info.value.status == status
    assert info.value.retry_after == retry_after
    # the turn error handler did not write an apology into the conversation
    assert all("gick fel" not in (s.activity.get("text") or "") for s in harness.connector.sent)


async def test_unreachable_connector_is_status_0(harness: BotHarness, tmp_path: Path) -> None:
    ref = await _reference(harness, "c-down")
    ref["serviceUrl"] = "http://127.0.0.1:9/"
    transport = BotConnectorTransport(harness.app[RUNTIME].adapter, "")
    with pytest.raises(SendError) as info:
        await transport.send(ref, CARD, "x")
    assert info.value.status == 0


async def test_forum_calendar_is_served(harness: BotHarness) -> None:
    from forums.repository import ForumService

    forums = ForumService(harness.services.db, harness.services.clock)
    report = await forums.import_text(
        "forums:\n  - id: bus-test\n    name: BUS-grupp test\n    kind: bus\n"
        "    start: 2026-09-08T13:00\n    timezone: Europe/Stockholm\n    duration_minutes: 90\n"
        "    rrule: FREQ=MONTHLY;BYDAY=2TU\n",
        "forums.yaml",
    )
    assert report.total
    # Calendar links are signed (issue 13 J): the unsigned path is a 404.
    assert (await harness.client.get("/forums/bus-test.ics")).status == 404
    sig = calendar_signature(harness.app[RUNTIME].link_secret, "bus-test")
    r = await harness.client.get(f"/forums/bus-test.ics?sig={sig}")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/calendar")
    body = await r.text()
    assert "BEGIN:VCALENDAR" in body and "RRULE:FREQ=MONTHLY;BYDAY=2TU" in body
    assert "TZID=Europe/Stockholm" in body
    sig = calendar_signature(harness.app[RUNTIME].link_secret, "finns-inte")
    missing = await harness.client.get(f"/forums/finns-inte.ics?sig={sig}")
    assert missing.status == 404
