"""A message that describes a child who may be harmed is never declined (issue 12, "What was
found" 5 and 6): the concern dialog is offered with what to do first (or started, for "jag är
orolig för en elev"), acute words keep the 112 card first, and the decline itself never gives
advice that could leave a child unprotected."""

from __future__ import annotations

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs.router import Router
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router

DECLINE = "Det kan jag tyvärr inte svara på"
OFFER = "Det du beskriver kan betyda att barnet far illa"


@pytest.fixture
def router(kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue) -> Router:
    return make_router(kb, index, rules, messages, FixedClock(WEEKDAY_MORNING))


@pytest.mark.parametrize(
    "text",
    [
        "Eleven har könsstympats under sommarlovet",
        "En elev visar sexuella bilder som en vuxen man skickat till henne",
        "one of my students says his mom hits him with a belt. what should i do?",
        "eleven säger att pappa slår henne",
        "hon sager att pappa slar henne med skarpet",
    ],
)
async def test_a_described_harm_gets_the_dialog_and_what_to_do(router: Router, text: str) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say(text)
    shown = talk.texts()
    assert DECLINE not in shown
    assert OFFER in shown or "Ring 112" in shown, shown
    assert "anmäl till socialtjänsten i dag" in shown or "anmälan" in shown
    titles = [b["title"] for b in talk.buttons()]
    assert any(t in ("Gå igenom oron med mig", "Jag är orolig för ett barn") for t in titles)
    assert "Vem ska jag kontakta?" in titles
    assert talk.dialog == {}  # offered, not started: the user chooses


@pytest.mark.parametrize(
    "text",
    ["jag är orolig för en elev", "Jag är orolig för ett barn i min klass", "orolig for en elev"],
)
async def test_a_worry_about_a_child_starts_the_dialog(router: Router, text: str) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say(text)
    assert "Är barnet i akut fara just nu?" in talk.texts()
    assert talk.dialog["flow"] == "concern"


async def test_acute_words_keep_the_112_card_first(router: Router) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    replies = await talk.say("hon vågar inte gå hem, pappa har hotat henne med kniv")
    first = replies[0].card
    assert first is not None and "Ring 112" in first["body"][0]["items"][0]["text"]
    assert DECLINE not in talk.texts()


async def test_the_decline_says_to_report_and_offers_the_dialog(router: Router) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say("Vad blir det för lunch i morgon?")
    shown = talk.texts()
    assert DECLINE in shown
    assert "anmäla till socialtjänsten genast" in shown and "ring 112" in shown
    assert "konsultera socialtjänsten, utan att säga barnets namn" not in shown
    titles = [b["title"] for b in talk.buttons()]
    assert "Jag är orolig för ett barn" in titles and "Vem ska jag kontakta?" in titles


async def test_thanks_that_goes_on_about_a_child_is_a_concern(router: Router) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say("tack, men eleven har blåmärken igen idag")
    assert "Varsågod" not in talk.texts()
    assert OFFER in talk.texts() or "Ring 112" in talk.texts()
