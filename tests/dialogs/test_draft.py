"""The report draft reads well in Teams and can be copied; "Ändra svar" and "Skriv om svaret"
come back with what was typed (issue 16)."""

from __future__ import annotations

from typing import Any

from dialogs import cards as c
from tests.dialogs.conftest import Talk


def _field(talk: Talk) -> dict[str, Any]:
    for r in talk.last:
        for block in (r.card or {}).get("body", []):
            if block.get("type") == "Input.Text":
                return dict(block)
    raise AssertionError("no text field")


async def _to_draft(talk: Talk, words: str) -> None:
    await talk.say("Skriv orosanmälan")
    await talk.say("Hon hade blåmärken på båda armarna.")
    await talk.say("hoppa över")
    await talk.say(words)
    while talk.dialog and talk.dialog.get("status") == "active":
        node = talk.dialog["node"]
        if node == "school_ask":
            await talk.say("Lindskolan")
        elif node == "school_confirm":
            await talk.press("Ja")
        elif node == "home_ask":
            await talk.say("Söderby")
        elif any(b["title"] == "Vet inte" for b in talk.buttons()):
            await talk.press("Vet inte")
        else:
            await talk.say("hoppa över")


async def test_the_draft_has_bold_labels_single_quotes_and_a_plain_text_copy(talk: Talk) -> None:
    await _to_draft(talk, '"Pappa slår mig när han är arg."')
    cards = [r.card for r in talk.last if r.card]
    draft = next(k for k in cards if "Orosanmälan – underlag" in c.texts_of(k))
    assert draft["version"] == "1.5"
    bold = [b["text"] for b in draft["body"] if b.get("weight") == "Bolder"]
    assert "Vad jag har sett och hört:" in bold and "Barnets egna ord (ordagrant):" in bold
    texts = c.texts_of(draft)
    assert "”Pappa slår mig när han är arg.”" in texts
    assert not any('”"' in t or '"”' in t for t in texts)
    plain = [r.text for r in talk.last if r.text and r.text.startswith("Orosanmälan – underlag")]
    assert plain, "no plain-text copy of the draft"
    assert "*" not in plain[0]
    assert "Vad jag har sett och hört:\nHon hade blåmärken på båda armarna." in plain[0]


async def test_change_answer_brings_back_what_was_typed(talk: Talk) -> None:
    await talk.say("Skriv orosanmälan")
    await talk.say("Hon hade blåmärken på båda armarna.")
    assert talk.dialog["node"] == "when"
    await talk.press("Ändra svar")
    assert talk.dialog["node"] == "observed"
    assert _field(talk)["value"] == "Hon hade blåmärken på båda armarna."
    await talk.say("Hon hade blåmärken på vänster arm.")
    assert "prefill" not in talk.dialog


async def test_rewrite_after_a_personnummer_brings_back_the_text_without_it(talk: Talk) -> None:
    await talk.say("Skriv orosanmälan")
    await talk.say("Eleven 120315-1234 hade blåmärken.")
    await talk.press("Skriv om svaret")
    value = _field(talk)["value"]
    assert "1234" not in value and "hade blåmärken" in value
