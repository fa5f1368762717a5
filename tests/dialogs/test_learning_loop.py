"""The learning loop through the router (issue 15): "Föreslå frågan till kunskapsbasen" under a
decline and under the reply to 👎; nothing is stored, kept in state or logged before the press;
the press stores one masked row (real store, SQLite and PostgreSQL); forged presses get a Swedish
message and store nothing.

Search is a stand-in here (its decisions are the test's), so these tests do not move when the
search engine does; tests/bot/test_learning_over_http.py drives the real bot."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs import MESSAGES
from dialogs import cards as c
from dialogs.learning import MAX_PER_DAY, MAX_QUESTION_CHARS
from dialogs.masking import Masker
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import Hit, SearchResult
from samverkan.logs import CONTENT_LOGGERS
from storage.db import Database
from storage.suggestions import SuggestionStore
from tests.dialogs.conftest import WEEKDAY_MORNING, FakeFeedback, Talk, make_router

BUTTON = "Föreslå frågan till kunskapsbasen"
# Out of field, with a name, a phone number and an e-mail address in it.
QUESTION = "Kan Kalle Svensson (070-123 45 67, kalle.s@example.se) få byta fotbollslag?"
MASKED = "Kan [namn] ([telefon], [e-post]) få byta fotbollslag?"
SECRET_PARTS = ("Kalle", "Svensson", "070-123", "kalle.s@")


@dataclass
class StubIndex:
    """Search with the test's decisions: `answers` maps a question to a topic id; `suggest`
    to a list of topic ids; anything else is declined."""

    answers: dict[str, str] = field(default_factory=dict)
    suggest: dict[str, list[str]] = field(default_factory=dict)

    def search(self, question: str, *, day: Any, limit: int = 3) -> SearchResult:
        if question in self.answers:
            return SearchResult(question, "answer", self.answers[question], 0.9)
        if question in self.suggest:
            hits = [Hit(t, 0.4) for t in self.suggest[question]]
            return SearchResult(question, "suggest", None, 0.4, alternatives=hits)
        return SearchResult(question, "decline", None, 0.1)


@pytest.fixture
def masker(kb: KnowledgeBase, messages: Catalogue) -> Masker:
    return Masker.for_knowledge_base(kb.directory, messages, MESSAGES)


def _talk(
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    store: SuggestionStore | None,
    index: StubIndex | None = None,
) -> Talk:
    clock = FixedClock(WEEKDAY_MORNING)
    router = make_router(
        kb,
        index or StubIndex(),  # type: ignore[arg-type]
        rules,
        messages,
        clock,
        feedback=FakeFeedback(),
        suggestions=store,
    )
    return Talk(router=router, clock=clock)


def _state_and_cards_text(talk: Talk) -> str:
    return json.dumps([talk.dialog, talk.user], ensure_ascii=False)


async def test_decline_offers_the_button_and_stores_nothing_until_pressed(
    database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in CONTENT_LOGGERS:  # held at WARNING in production (samverkan.logs)
        caplog.set_level(logging.WARNING, logger=name)
    clock = FixedClock(WEEKDAY_MORNING)
    store = SuggestionStore(database, clock, mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    await talk.say(QUESTION)
    assert "Det kan jag tyvärr inte svara på" in talk.texts()
    button = talk.button(BUTTON)
    assert button["data"]["q"] == QUESTION  # the question rides in the card the user sees
    # Declined, not pressed: nothing stored, nothing of it in the state documents.
    assert await store.count() == 0
    state = _state_and_cards_text(talk)
    assert not any(p in state for p in SECRET_PARTS)
    await talk.press(BUTTON)
    assert await store.count() == 1
    [group] = await store.groups()
    assert group.text == MASKED and group.count == 1 and group.sources == ("decline",)
    assert group.latest == WEEKDAY_MORNING
    text = talk.texts()
    assert "Tack – frågan är föreslagen" in text
    assert MASKED in text and "högst 90 dagar" in text and "redaktörerna" in text.lower()
    assert "Kontakta socialtjänsten" in text  # the next step
    assert not any(p in _state_and_cards_text(talk) for p in SECRET_PARTS)
    # Nothing the user wrote reached the logs, before or after the press.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(p in logged for p in SECRET_PARTS)
    assert "fotbollslag" not in logged


async def test_a_personnummer_never_reaches_the_button_and_a_forged_one_is_masked(
    sqlite_database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
) -> None:
    store = SuggestionStore(sqlite_database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    await talk.say("Får 150315-1239 byta fotbollslag?")
    assert "personnummer" in talk.texts()  # the router's warning
    assert "150315" not in json.dumps(talk.button(BUTTON)["data"])
    forged = {"action": c.KB_SUGGEST, "q": "Får 20150315-1239 byta fotbollslag?"}
    await talk.send(talk.incoming(value=forged))
    assert [g.text for g in await store.groups()] == ["Får [personnummer] byta fotbollslag?"]


async def test_thumbs_down_offers_the_button_and_stores_the_topic(
    database: Database, kb: KnowledgeBase, rules: RuleSet, messages: Catalogue, masker: Masker
) -> None:
    clock = FixedClock(WEEKDAY_MORNING)
    store = SuggestionStore(database, clock, mask=masker.mask)
    question = "Måste jag berätta för Ahmeds mamma att jag anmäler?"
    index = StubIndex(answers={question: "anmalan-hur"})
    talk = _talk(kb, rules, messages, store, index)
    await talk.say(question)
    assert not any(b["title"] == BUTTON for b in talk.buttons())  # an answer: no offer yet
    await talk.press("👎 Nej")
    assert "sparar bara att svaret inte hjälpte" in talk.texts()
    assert await store.count() == 0
    await talk.press(BUTTON)
    [group] = await store.groups()
    assert group.text == "Måste jag berätta för [namn] mamma att jag anmäler?"
    assert group.sources == ("feedback",) and group.topics == ("anmalan-hur",)


async def test_none_of_these_leads_to_a_decline_with_the_offer(
    database: Database, kb: KnowledgeBase, rules: RuleSet, messages: Catalogue, masker: Masker
) -> None:
    store = SuggestionStore(database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    question = "Vad gäller för skolskjuts när eleven flyttar?"
    index = StubIndex(suggest={question: ["anmalan-hur", "samtycke"]})
    talk = _talk(kb, rules, messages, store, index)
    await talk.say(question)
    await talk.press("Inget av dessa")
    assert talk.button(BUTTON)["data"]["q"] == question
    await talk.press(BUTTON)
    assert [g.text for g in await store.groups()] == [question]


async def test_a_topic_chosen_from_did_you_mean_can_be_voted_down_and_suggested(
    database: Database, kb: KnowledgeBase, rules: RuleSet, messages: Catalogue, masker: Masker
) -> None:
    store = SuggestionStore(database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    question = "Hur gör jag när mentorn inte svarar?"
    index = StubIndex(suggest={question: ["anmalan-hur"]})
    talk = _talk(kb, rules, messages, store, index)
    await talk.say(question)
    title = kb.topic("anmalan-hur", talk.clock.now().date())
    assert title is not None
    await talk.press(title.title)
    await talk.press("👎 Nej")
    await talk.press(BUTTON)
    [group] = await store.groups()
    assert group.text == question and group.topics == ("anmalan-hur",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"q": "x" * (MAX_QUESTION_CHARS + 1)}, "för lång"),
        ({"q": "Hur " * 5000}, "för lång"),
        ({"q": ["Kalle"]}, "ingen fråga"),
        ({"q": {"a": 1}}, "ingen fråga"),
        ({"q": "   "}, "ingen fråga"),
        ({"q": "12345 ?!"}, "ingen fråga"),
        ({}, "ingen fråga"),
    ],
)
async def test_forged_presses_are_refused_in_swedish_and_store_nothing(
    sqlite_database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
    value: dict[str, Any],
    expected: str,
) -> None:
    store = SuggestionStore(sqlite_database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    await talk.send(talk.incoming(value={"action": c.KB_SUGGEST, **value}))
    assert expected in talk.texts()
    assert await store.count() == 0


async def test_forged_source_and_topic_are_ignored(
    sqlite_database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
) -> None:
    store = SuggestionStore(sqlite_database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    forged = {"action": c.KB_SUGGEST, "q": "Vad är en BUS-grupp?", "from": "x", "topic": "nej"}
    await talk.send(talk.incoming(value=forged))
    [group] = await store.groups()
    assert group.sources == ("decline",) and group.topics == ()


async def test_at_most_twenty_suggestions_a_day_per_user(
    sqlite_database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
) -> None:
    store = SuggestionStore(sqlite_database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    for i in range(MAX_PER_DAY + 1):
        await talk.send(talk.incoming(value={"action": c.KB_SUGGEST, "q": f"Fråga nummer {i}?"}))
    assert "i morgon" in talk.texts()
    assert await store.count() == MAX_PER_DAY
    assert talk.user["kb_suggested"] == {"day": "2026-03-03", "n": MAX_PER_DAY}  # a count only
    talk.advance(timedelta(days=1))
    await talk.send(talk.incoming(value={"action": c.KB_SUGGEST, "q": "En fråga till?"}))
    assert await store.count() == MAX_PER_DAY + 1


async def test_no_offer_for_a_long_message_or_without_a_store(
    sqlite_database: Database,
    kb: KnowledgeBase,
    rules: RuleSet,
    messages: Catalogue,
    masker: Masker,
) -> None:
    store = SuggestionStore(sqlite_database, FixedClock(WEEKDAY_MORNING), mask=masker.mask)
    talk = _talk(kb, rules, messages, store)
    long = " ".join(["ord"] * 30) + "?"  # a worry told in full: no knowledge-base question
    await talk.say(long)
    assert "Jag hittade inget säkert svar" in talk.texts()
    assert not any(b["title"] == BUTTON for b in talk.buttons())
    plain = _talk(kb, rules, messages, None)
    await plain.say(QUESTION)
    assert "Det kan jag tyvärr inte svara på" in plain.texts()
    assert not any(b["title"] == BUTTON for b in plain.buttons())
    assert not any("q" in b["data"] for b in plain.buttons())


async def test_a_store_that_fails_says_so(
    kb: KnowledgeBase, rules: RuleSet, messages: Catalogue
) -> None:
    class Broken:
        async def add(self, text: str, *, source: Any, topic_id: str | None = None) -> str:
            raise ConnectionError("database down")

    talk = _talk(kb, rules, messages, Broken())  # type: ignore[arg-type]
    await talk.send(talk.incoming(value={"action": c.KB_SUGGEST, "q": "Vad är BUS?"}))
    assert "kunde jag inte spara" in talk.texts()
    assert "kb_suggested" not in talk.user
