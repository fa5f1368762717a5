"""No dead ends (issue 16): every reply offers a next step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from contacts.registry import RegistryService
from dialogs import cards as c
from dialogs.forum_replies import forum_card_builder
from forums import texts as forum_texts
from forums.repository import ForumService
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from storage.conversations import ConversationStore, RefInfo
from storage.db import Database
from tests.dialogs.conftest import Talk, make_router

FORUMS = Path(__file__).resolve().parents[1] / "data" / "forums-example.yaml"
AUGUST = datetime(2026, 8, 24, 8, 0, tzinfo=UTC)
EVENING = datetime(2026, 3, 3, 18, 30, tzinfo=UTC)  # 19.30 in Stockholm, a Tuesday


@pytest.mark.parametrize("greeting", ["hej", "tjena", "god morgon", "Hej!"])
async def test_greetings_get_the_menu(talk: Talk, greeting: str) -> None:
    await talk.say(greeting)
    titles = [b["title"] for b in talk.buttons()]
    assert "Jag är orolig för ett barn" in titles and "Vem ska jag kontakta?" in titles


async def test_a_thumbs_down_offers_what_to_do_next(talk: Talk) -> None:
    await talk.say("Måste jag berätta för föräldrarna att jag anmäler?")
    await talk.press("👎 Nej")
    titles = [b["title"] for b in talk.buttons()]
    assert "Ställ frågan på ett annat sätt" in titles
    assert "Vem ska jag kontakta?" in titles and "Jag är orolig för ett barn" in titles
    await talk.press("Ställ frågan på ett annat sätt")
    assert talk.buttons() or "fråga" in talk.texts().lower()


async def test_who_to_call_tonight_gets_the_socialjour_number(
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    registry: RegistryService,
) -> None:
    clock = FixedClock(EVENING)
    talk = Talk(router=make_router(kb, index, rules, messages, clock, registry=registry),
                clock=clock)
    await talk.say("vem ska jag ringa ikväll, det är efter 17")
    text = talk.texts()
    assert "Socialjouren (kvällar, nätter och helger): 08-000 900 00" in text
    assert "112" in text
    assert "Vem ska jag kontakta?" in [b["title"] for b in talk.buttons()]


@pytest.fixture
async def forum_talk(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> tuple[Talk, ForumService]:
    clock = FixedClock(AUGUST)
    forums = ForumService(database, clock)
    conversations = ConversationStore(database, clock)
    router = make_router(
        kb, index, rules, messages, clock, forums=forums,
        forum_cards=forum_card_builder(forum_texts()), conversations=conversations,
    )
    info = RefInfo(
        channel_id="test", conversation_id="conv-1", conversation_type="personal",
        service_url="https://example.test", user_id="user-1",
    )
    await conversations.remember(info, {"conversation": {"id": "conv-1"}})
    return Talk(router=router, clock=clock), forums


async def test_the_empty_forum_list_says_who_adds_meetings(
    forum_talk: tuple[Talk, ForumService],
) -> None:
    talk, _forums = forum_talk
    await talk.press_menu("forums")
    text = talk.texts()
    assert "samverkan forums import" in text
    assert talk.buttons()


async def test_subscribe_says_when_and_my_reminders_lists_them_with_a_stop(
    forum_talk: tuple[Talk, ForumService],
) -> None:
    talk, forums = forum_talk
    await talk.say("mina påminnelser")
    assert "Du har inga påminnelser" in talk.texts()
    await forums.import_file(FORUMS)
    await talk.press_menu("forums")
    await talk.press("Påminn mig")
    assert "Påminnelsen kommer" in talk.texts() and "före varje möte" in talk.texts()
    await talk.press("Mina påminnelser")
    text = talk.texts()
    assert "Dina påminnelser" in text
    stops = [b for b in talk.buttons() if b["title"] == "Sluta påminna mig"]
    assert len(stops) == 1 and stops[0]["data"]["action"] == "forum.unsubscribe"
    await talk.say("mina påminnelser")
    assert "Dina påminnelser" in talk.texts()
    await talk.press("Sluta påminna mig")
    await talk.say("mina påminnelser")
    assert "Du har inga påminnelser" in talk.texts()
    assert any(b["data"]["action"] == c.MENU for b in talk.buttons())


async def test_an_outcome_without_the_school_shows_what_is_known_and_one_press_to_pick_it(
    talk: Talk,
) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Våld eller hot från vuxen i hemmet")
    await talk.press("Ja")
    await talk.say("hoppa över")
    await talk.say("vet inte")
    text = talk.texts()
    assert "Ring socialtjänsten i dag – innan barnet går hem" in text
    assert "08-000 900 00" in text  # socialjouren, known without the school
    await talk.press("Välj skola och visa kontakterna")
    assert "Vilken skola eller förskola arbetar du på?" in talk.texts()
    await talk.say("Lindskolan")
    await talk.say("Norrdal")
    assert "08-000 901 01" in talk.texts()
