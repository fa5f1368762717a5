"""Findings from playing the bot as staff would (the terminal chat with the real services): a long
message told in full is not declined as "outside my field", the meeting list typed mid-dialog
keeps the way back, "Påminn mig" in a chat that cannot get reminders says so, and the contact
card outside office hours does not label socialjouren "Även" above "Kontakta i första hand".
Runs on SQLite and PostgreSQL where the forums are involved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from common.catalogue import Catalogue
from common.clock import FixedClock
from contacts.card import contact_card
from contacts.routing import Contact, RouteResult
from dialogs import cards as c
from dialogs.forum_replies import forum_card_builder
from forums import texts as forum_texts
from forums.repository import ForumService
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import Hit, SearchIndex, SearchResult
from storage.db import Database
from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router

FORUMS = Path(__file__).resolve().parents[1] / "data" / "forums-example.yaml"
AUGUST = datetime(2026, 8, 24, 8, 0, tzinfo=UTC)

WORRY = (
    "Jag har en elev i klass 3b som har varit konstig i flera veckor, hon kommer sent varje dag, "
    "har smutsiga kläder och säger att mamma sover hela dagarna och att hon själv lagar mat till "
    "sina småsyskon. Ska vi anmäla eller vänta och se?"
)


@dataclass
class NoAnswer:
    """Search that finds nothing, whatever it is asked."""

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        return SearchResult(
            question=question, decision="decline", topic=None, score=0.0, alternatives=[]
        )


async def test_a_worry_search_cannot_place_is_never_declined(
    kb: KnowledgeBase, rules: RuleSet, messages: Catalogue
) -> None:
    router = make_router(kb, NoAnswer(), rules, messages, FixedClock(WEEKDAY_MORNING))  # type: ignore[arg-type]
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say(WORRY)
    text = talk.texts()
    assert "Det du beskriver kan betyda att barnet far illa" in text
    assert "anmäl till socialtjänsten i dag" in text and "ring 112" in text
    assert "Det kan jag tyvärr inte svara på" not in text
    assert "Jag svarar bara på frågor om samverkan" not in text
    # The guided dialog is the first way on.
    assert talk.buttons()[0]["title"] == "Gå igenom oron med mig"
    await talk.press("Gå igenom oron med mig")
    assert "Är barnet i akut fara just nu?" in talk.texts()
    # A short question outside the field is still declined as such.
    await talk.say("avbryt")
    await talk.say("Vad blir det till lunch?")
    assert "Det kan jag tyvärr inte svara på" in talk.texts()
    assert talk.dialog == {}


async def test_meetings_typed_mid_dialog_keep_the_way_back_and_a_chat_without_reminders_says_so(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    clock = FixedClock(AUGUST)
    forums = ForumService(database, clock)
    await forums.import_file(FORUMS)
    cards = forum_card_builder(forum_texts())
    router = make_router(kb, index, rules, messages, clock, forums=forums, forum_cards=cards)
    talk = Talk(router=router, clock=clock)
    await talk.say("Jag är orolig för ett barn")
    await talk.say("nej")
    await talk.say("Samverkansmöten")
    assert "BUS individforum" in talk.texts()
    assert "Källor" not in talk.texts()  # the meeting list, not a search answer
    titles = [b["title"] for b in talk.buttons()]
    assert "Fortsätt: Jag är orolig för ett barn" in titles
    await talk.press("Påminn mig")
    # A personal chat the bot cannot write to later (the terminal): not "open a personal chat".
    assert "Härifrån kan jag inte skicka påminnelser" in talk.texts()
    assert "Öppna en chatt" not in talk.texts()
    await talk.say("fortsätt")
    assert "Vad gäller oron?" in talk.texts()
    assert talk.dialog["node"] == "about"


def _night_route() -> RouteResult:
    intake = Contact(
        kind="intake", id="norrdal", name="Mottagningen barn och unga Norrdal", phone="08-1"
    )
    person = Contact(kind="contact_person", id="p", name="Tove Exempelsson", phone="08-2")
    jour = Contact(kind="after_hours", id="jour", name="Socialjouren Testkommun", phone="08-3")
    return RouteResult(
        purpose="consult",
        at=AUGUST,
        primary=person,
        also=(intake, jour),
        district="norrdal",
        district_name="Norrdal",
        open_now=False,
    )


def test_contact_card_at_night_labels_socialjouren_as_the_urgent_way() -> None:
    card = contact_card(_night_route())
    texts = c.texts_of(card)
    jour = texts.index("Socialjouren Testkommun")
    first = texts.index("Tove Exempelsson")
    assert jour < first  # socialjouren first while the office is closed …
    assert texts[jour - 1] == "Om det är brådskande nu"  # … and not labelled "Även"
    assert texts[first - 1] == "Kontakta i första hand"
    assert "Även" in texts[first:]  # the intake after the primary contact


@dataclass
class UnsureAnswer:
    """Search that answers every question with little confidence."""

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        return SearchResult(
            question=question,
            decision="answer",
            topic="anmalan-anonym",
            score=0.33,
            alternatives=[Hit("anmalningsplikt", 0.31), Hit("informera-vardnadshavare", 0.3)],
            tentative=True,
        )


async def test_an_unsure_answer_offers_the_closest_other_topics_first(
    kb: KnowledgeBase, rules: RuleSet, messages: Catalogue
) -> None:
    router = make_router(kb, UnsureAnswer(), rules, messages, FixedClock(WEEKDAY_MORNING))  # type: ignore[arg-type]
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    await talk.say("Hur gör man om man inte vill att det syns vem som ringde?")
    text = talk.texts()
    assert "Jag är inte helt säker på att jag förstod frågan rätt" in text
    assert "Menade du något av detta?" in text
    assert kb.topic("anmalan-anonym", WEEKDAY_MORNING.date()).title in text  # type: ignore[union-attr]
    titles = [b["title"] for b in talk.buttons()]
    wanted = kb.topic("anmalningsplikt", WEEKDAY_MORNING.date())
    # Its short title (the full one is longer than a Teams button), not also under "Läs också".
    assert wanted is not None and titles.count(wanted.short_title) == 1
    await talk.press(wanted.short_title)  # the chosen topic's answer, told plainly
    assert wanted.answer in talk.texts()
    assert "Jag är inte helt säker" not in talk.texts()
