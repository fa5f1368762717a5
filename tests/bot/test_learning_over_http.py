"""The learning loop over HTTP, the real bot (dialogs router, bundled knowledge base, search)
on SQLite and PostgreSQL: a declined question is not stored, not in the state documents; the
press of "Föreslå frågan till kunskapsbasen" stores one masked row and says what happens."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from dialogs import cards as c
from storage.models import StateDocument
from storage.suggestions import KbSuggestion
from tests.bot.conftest import BotHarness
from tests.fakes import teams

BUTTON = "Föreslå frågan till kunskapsbasen"
QUESTION = "Hur lagar man köttbullar till Kalle Svensson, 070-123 45 67?"
SECRETS = ("Kalle", "Svensson", "070-123")


def _buttons(harness: BotHarness) -> list[dict[str, Any]]:
    return [
        b
        for s in harness.connector.sent
        for att in s.activity.get("attachments") or []
        for b in c.buttons_of(att["content"])
    ]


def _texts(harness: BotHarness) -> str:
    out: list[str] = []
    for s in harness.connector.sent:
        out.append(s.activity.get("text") or "")
        for att in s.activity.get("attachments") or []:
            out.extend(c.texts_of(att["content"]))
    return "\n".join(out)


async def _rows(harness: BotHarness) -> list[str]:
    async with harness.services.db.session() as s:
        return list((await s.scalars(select(KbSuggestion.text))).all())


async def _state_dump(harness: BotHarness) -> str:
    async with harness.services.db.session() as s:
        docs = (await s.scalars(select(StateDocument.data))).all()
    return json.dumps(docs, ensure_ascii=False)


async def test_nothing_is_stored_before_the_press_and_one_masked_row_after(
    real_harness: BotHarness,
) -> None:
    url = real_harness.connector.url
    r = await real_harness.post(teams.message(url, "c-learn", "u1", QUESTION))
    assert r.status == 200
    assert "Det kan jag tyvärr inte svara på" in _texts(real_harness)
    [button] = [b for b in _buttons(real_harness) if b["title"] == BUTTON]
    # Declined: no row, and the question is in no state document.
    assert await _rows(real_harness) == []
    state = await _state_dump(real_harness)
    assert not any(s in state for s in SECRETS) and "köttbullar" not in state
    real_harness.connector.clear()
    r = await real_harness.post(teams.press(url, "c-learn", "u1", button["data"]))
    assert r.status == 200
    assert await _rows(real_harness) == ["Hur lagar man köttbullar till [namn], [telefon]?"]
    text = _texts(real_harness)
    assert "Tack – frågan är föreslagen" in text and "högst 90 dagar" in text
    state = await _state_dump(real_harness)
    assert not any(s in state for s in SECRETS) and "köttbullar" not in state


async def test_an_oversized_forged_press_is_refused(real_harness: BotHarness) -> None:
    url = real_harness.connector.url
    forged = {"action": c.KB_SUGGEST, "q": "Kalle " * 10_000}
    r = await real_harness.post(teams.press(url, "c-forged", "u1", forged))
    assert r.status == 200
    assert "för lång" in _texts(real_harness)
    assert await _rows(real_harness) == []
