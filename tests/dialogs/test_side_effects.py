"""Issue 13 C: under contention a turn's side effects happen once, after the state commits, and
contention never deletes a dialog. Many presses at once, through the real turn processor, state
store and feedback store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs import cards as c
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from samverkan.turns import TurnProcessor, dialog_key
from storage.db import Database
from storage.feedback import FeedbackStore
from storage.state_store import SqlStateStore
from tests.dialogs.conftest import WEEKDAY_MORNING, make_router


def _turns(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> tuple[TurnProcessor, FeedbackStore]:
    clock = FixedClock(WEEKDAY_MORNING)
    feedback = FeedbackStore(database)
    router = make_router(kb, index, rules, messages, clock, feedback=feedback)
    return TurnProcessor(SqlStateStore(database, clock), router, clock), feedback


def _vote(topic: str, n: int) -> Incoming:
    return Incoming(
        user_id="u-votes",
        conversation_id="c-votes",
        channel_id="t",
        value={"action": c.FEEDBACK, "topic": topic, "vote": "up", "press": n},
    )


async def test_parallel_thumbs_up_on_one_answer_count_once(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    turns, feedback = _turns(database, kb, index, rules, messages)
    await asyncio.gather(*(turns.message(_vote("anmalningsplikt", n)) for n in range(12)))
    counted = await feedback.get("anmalningsplikt")
    assert counted is not None and (counted.up, counted.down) == (1, 0)


async def test_parallel_thumbs_up_on_many_answers_count_each_once(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    turns, feedback = _turns(database, kb, index, rules, messages)
    topics = [t.id for t in kb.topics][:10]
    await asyncio.gather(*(turns.message(_vote(t, 0)) for t in topics))
    for t in topics:
        counted = await feedback.get(t)
        assert counted is not None and counted.up == 1, t


async def test_parallel_back_presses_never_delete_the_dialog(
    database: Database, kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    turns, _ = _turns(database, kb, index, rules, messages)

    def inc(value: dict[str, object]) -> Incoming:
        return Incoming(user_id="u-back", conversation_id="c-back", channel_id="t", value=value)

    await turns.message(inc({"action": c.FLOW_START, "flow": "concern"}))
    for _ in range(3):
        doc = (await turns._store.read([dialog_key(inc({}))]))[dialog_key(inc({}))]
        node = doc["node"]
        choice = "no" if node != "about" else "neglect"
        await turns.message(
            inc({"action": c.FLOW_ANSWER, "flow": "concern", "node": node, "choice": choice})
        )
    results = await asyncio.gather(
        *(turns.message(inc({"action": c.FLOW_BACK})) for _ in range(8)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    doc = (await turns._store.read([dialog_key(inc({}))])).get(dialog_key(inc({})))
    assert doc is not None and doc["flow"] == "concern"
