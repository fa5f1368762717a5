""" "Samverkansmöten" in the conversation: the upcoming meetings (forum helper's card and service)
with reminder buttons; the target is this conversation for "channel" and the user's personal
conversation for "me". Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs.forum_replies import forum_card_builder
from dialogs.router import Router
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


@pytest.fixture
async def setup(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> tuple[Router, ForumService, ConversationStore, FixedClock]:
    clock = FixedClock(AUGUST)
    forums = ForumService(database, clock)
    await forums.import_file(FORUMS)
    conversations = ConversationStore(database, clock)
    router = make_router(
        kb,
        index,
        rules,
        messages,
        clock,
        forums=forums,
        forum_cards=forum_card_builder(forum_texts()),
        conversations=conversations,
    )
    return router, forums, conversations, clock


async def _remember(
    conversations: ConversationStore, conv: str, kind: str, user: str | None
) -> int:
    info = RefInfo(
        channel_id="test",
        conversation_id=conv,
        conversation_type=kind,
        service_url="https://example.test",
        user_id=user,
    )
    await conversations.remember(info, {"conversation": {"id": conv}})
    ref = await conversations.get("test", conv)
    assert ref is not None
    return int(ref.id)


async def test_personal_chat_subscribe_and_unsubscribe(
    setup: tuple[Router, ForumService, ConversationStore, FixedClock],
) -> None:
    router, forums, conversations, clock = setup
    ref_id = await _remember(conversations, "conv-1", "personal", "user-1")
    talk = Talk(router=router, clock=clock)
    await talk.press_menu("forums")
    text = talk.texts()
    assert "Samverkansmöten" in text and "BUS individforum" in text and "tisdag 8 september" in text
    titles = [b["title"] for b in talk.buttons()]
    assert (
        "Påminn mig" in titles and "Påminn kanalen" not in titles
    )  # no channel in a personal chat
    await talk.press("Påminn mig")
    assert "Klart! Jag påminner dig" in talk.texts()
    subs = await forums.subscriptions(conversation_ref_id=ref_id)
    assert len(subs) == 1
    await talk.press_menu("forums")
    assert "Du får påminnelser om det här forumet." in talk.texts()
    await talk.press("Sluta påminna mig")
    assert "Jag slutar påminna dig" in talk.texts()
    assert await forums.subscriptions(conversation_ref_id=ref_id) == []


async def test_channel_subscribes_the_channel_and_me_goes_to_the_personal_chat(
    setup: tuple[Router, ForumService, ConversationStore, FixedClock],
) -> None:
    router, forums, conversations, clock = setup
    channel_ref = await _remember(conversations, "channel-1", "channel", None)
    talk = Talk(
        router=router, clock=clock, conversation_id="channel-1", conversation_type="channel"
    )
    await talk.press_menu("forums")
    titles = [b["title"] for b in talk.buttons()]
    assert "Påminn kanalen" in titles
    await talk.press("Påminn mig")
    assert "personlig chatt" in talk.texts()  # the user has no personal chat with the bot yet
    personal_ref = await _remember(conversations, "personal-1", "personal", "user-1")
    await talk.press_menu("forums")
    await talk.press("Påminn mig")
    await talk.press_menu("forums")
    await talk.press("Påminn kanalen")
    assert "påminner den här kanalen" in talk.texts()
    assert {s.forum_id for s in await forums.subscriptions(conversation_ref_id=personal_ref)}
    assert {s.forum_id for s in await forums.subscriptions(conversation_ref_id=channel_ref)}


async def test_forged_forum_button_is_refused(
    setup: tuple[Router, ForumService, ConversationStore, FixedClock],
) -> None:
    router, _forums, conversations, clock = setup
    await _remember(conversations, "conv-1", "personal", "user-1")
    talk = Talk(router=router, clock=clock)
    await talk.send(
        talk.incoming(value={"action": "forum.subscribe", "forum": "no-such-forum", "scope": "me"})
    )
    assert "känner jag inte igen" in talk.texts()
    await talk.send(
        talk.incoming(value={"action": "forum.subscribe", "forum": "bus-kno", "scope": "channel"})
    )
    assert "bara slås på i kanalen" in talk.texts()
