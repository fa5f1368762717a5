"""Router and engine behaviour that transcripts do not show well: typed-answer matching, exact
undo, stale and forged buttons, broken or old state, every card within Teams' limits, "Menade
du…?", missing collaborators, and the wiring from the services container."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs import cards as c
from dialogs.engine import FlowEngine
from dialogs.flows import Flow, QuestionNode, TextNode
from dialogs.router import Router
from dialogs.state import DialogState
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import Hit, SearchIndex, SearchResult
from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router


@pytest.fixture
def router(kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue) -> Router:
    return make_router(kb, index, rules, messages, FixedClock(WEEKDAY_MORNING))


def _talk(router: Router) -> Talk:
    return Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))


# --- typed answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "typed", "value"),
    [
        ("acute", "JA!", "yes"),
        ("acute", "nä", "no"),
        ("acute", "Vet ej", "unknown"),
        ("acute", "3", "unknown"),
        ("acute", "jag vet inte", "unknown"),
        ("acute", "nej, hon är hemma nu", "no"),
        ("acute", "4", None),
        ("acute", "ja men vad händer om jag ringer?", None),  # a question, not an answer
        ("certainty", "misstänker", "suspect"),
        ("certainty", "Jag vet – jag har sett eller hört det själv", "know"),
        ("certainty", "en diffus oro", "unknown"),
        ("certainty", "osäker", "unknown"),
        ("certainty", "ja", None),
        ("certainty", "vad betyder misstänker?", None),
        ("emergency", "fortsätt", "yes"),
        ("emergency", "Fortsätt – visa alla kontakter", "yes"),
        ("about", "omsorgsbrist", "neglect"),
        ("about", "heder", "honor"),
        ("about", "vet inte", "unknown"),
        ("about", "5", "other_adult"),
        ("about", "nej", None),
        ("emergency", "ja", "yes"),
        ("emergency", "avsluta här", "no"),
    ],
)
def test_typed_answers(router: Router, node: str, typed: str, value: str | None) -> None:
    flow = router.flows["concern"]
    q = flow.nodes[node]
    assert isinstance(q, QuestionNode)
    ds = DialogState.new({}, "concern", node, WEEKDAY_MORNING)
    got = router.engine.match_typed(q, ds, typed)
    assert (got.value if got else None) == value


def test_undo_restores_exactly() -> None:
    data: dict[str, Any] = {}
    ds = DialogState.new(data, "f", "a", WEEKDAY_MORNING)
    ds.facts.update(x=True, y="suspect")
    ds.vars.update(lst=[1, 2], keep="k")
    before_all = copy.deepcopy(data)
    before = ds.snapshot()
    ds.facts["x"] = False
    ds.facts.pop("y")
    ds.facts["z"] = True
    ds.vars["lst"].append(3)
    ds.vars["new"] = {"a": 1}
    ds.node = "b"
    ds.record("a", before)
    assert ds.undo_last() == "a"
    assert data["facts"] == before_all["facts"] and data["vars"] == before_all["vars"]
    assert ds.undo_last() is None


# --- buttons and state -----------------------------------------------------------------------


async def test_stale_and_forged_buttons(router: Router) -> None:
    talk = _talk(router)
    await talk.press_menu("concern")
    old_yes = talk.button("Nej")["data"]
    await talk.press("Nej")
    assert talk.dialog["node"] == "about"
    await talk.send(talk.incoming(value=old_yes))  # the first question's button, pressed again
    assert "redan besvarad" in talk.texts() and "Vad gäller oron?" in talk.texts()
    assert talk.dialog["node"] == "about"
    forged = {"action": c.FLOW_ANSWER, "flow": "concern", "node": "about", "choice": "maybe"}
    await talk.send(talk.incoming(value=forged))
    assert "redan besvarad" in talk.texts()
    await talk.send(talk.incoming(value={"action": "self.destruct"}))
    assert "känner jag inte igen" in talk.texts() and talk.dialog["node"] == "about"
    await talk.send(talk.incoming(value={"action": c.TOPIC, "topic": "ingen-sadan"}))
    assert "känner jag inte igen" in talk.texts()


async def test_old_or_unknown_state_is_reset_kindly(router: Router) -> None:
    talk = _talk(router)
    talk.dialog = {"v": 0, "something": "old"}
    await talk.say("meny")
    assert "kunde inte fortsätta den förra dialogen" in talk.texts()
    assert talk.dialog == {}
    talk.dialog = {
        "v": 1,
        "flow": "concern",
        "node": "a-node-that-was-removed",
        "updated_at": WEEKDAY_MORNING.isoformat(),
    }
    await talk.say("ja")
    assert "kunde inte fortsätta" in talk.texts() and talk.dialog == {}


async def test_broken_flow_is_apologised_for_and_cleared(
    kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue
) -> None:
    broken = Flow.model_validate(
        {
            "id": "concern",
            "title": "Trasigt flöde",
            "start": "q",
            "nodes": {
                "q": {
                    "kind": "question",
                    "text": "Fråga?",
                    "choices": [{"label": "Ja", "value": "yes", "next": "spin"}],
                },
                "spin": {"kind": "info", "text": "Runt runt", "next": "spin"},
            },
        }
    )
    router = make_router(
        kb, index, rules, messages, FixedClock(WEEKDAY_MORNING), flows={"concern": broken}
    )
    talk = _talk(router)
    await talk.press_menu("concern")
    await talk.say("ja")
    assert "något gick fel i dialogen" in talk.texts()
    assert talk.dialog == {}


async def test_missing_rules_and_flows_are_said_kindly(
    kb: KnowledgeBase, index: SearchIndex, messages: Catalogue
) -> None:
    router = make_router(kb, index, None, messages, FixedClock(WEEKDAY_MORNING))
    talk = _talk(router)
    await talk.press_menu("concern")
    assert "Bedömningsreglerna är inte tillgängliga" in talk.texts() and talk.dialog == {}
    await talk.send(talk.incoming(value={"action": c.FLOW_START, "flow": "no-such-flow"}))
    assert "känner jag inte igen" in talk.texts()


# --- cards -----------------------------------------------------------------------------------


def _walk_cards(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert c.card_bytes(card) <= c.MAX_CARD_BYTES

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ActionSet":
                assert len(node["actions"]) <= c.MAX_BUTTONS
            if node.get("type") == "Action.Submit":
                assert isinstance(node["data"].get("action"), str) and node["title"]
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(card)
    assert len(card.get("actions", [])) <= c.MAX_BUTTONS


def test_every_question_of_every_flow_renders_within_limits(router: Router) -> None:
    engine: FlowEngine = router.engine
    count = 0
    for flow in router.flows.values():
        for node_id, node in flow.nodes.items():
            if not isinstance(node, QuestionNode | TextNode):
                continue
            ds = DialogState.new({}, flow.id, node_id, WEEKDAY_MORNING)
            ds.vars.update(
                school_name="Lindskolan",
                school_query="x",
                home_query="y",
                school_candidates=[{"value": f"s{i}", "label": f"Skola {i}"} for i in range(5)],
                home_candidates=[{"value": f"d{i}", "label": f"Stadsdel {i}"} for i in range(5)],
            )
            ds.history.append({"node": "x", "undo": []})
            reply = engine.cards.question(flow, ds, node)
            assert reply.card is not None and reply.summary
            _walk_cards(reply.card)
            assert "{" not in reply.summary  # every placeholder filled
            count += 1
    assert count > 30


async def test_welcome_menu_help_and_every_topic_card_within_limits(
    router: Router, kb: KnowledgeBase
) -> None:
    talk = _talk(router)
    (welcome,) = await router.welcome(talk.incoming(), talk_state(talk))
    assert welcome.card is not None
    _walk_cards(welcome.card)
    titles = [b["title"] for b in c.buttons_of(welcome.card)]
    assert titles == [
        "Ställ en fråga",
        "Jag är orolig för ett barn",
        "Vem ska jag kontakta?",
        "Återkoppling och sekretess",
        "Samverkansmöten",
        "Hjälp",
    ]
    for topic in kb.topics_on(date(2026, 3, 3)).values():
        _walk_cards(router.topics.answer_card(topic, date(2026, 3, 3)))


def talk_state(talk: Talk) -> Any:
    from dialogs.types import TurnState

    return TurnState(now=talk.clock.now(), dialog=talk.dialog, user=talk.user)


# --- search decisions --------------------------------------------------------------------------


@dataclass
class FixedSearch:
    result: SearchResult

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        return self.result


async def test_suggestions_and_decline(
    kb: KnowledgeBase, rules: RuleSet, messages: Catalogue
) -> None:
    suggest = SearchResult(
        question="q",
        decision="suggest",
        topic=None,
        score=0.4,
        alternatives=[
            Hit("anmalan-hur", 0.4),
            Hit("anmalan-innehall", 0.38),
            Hit("no-such-topic", 0.3),
        ],
    )
    router = make_router(kb, FixedSearch(suggest), rules, messages, FixedClock(WEEKDAY_MORNING))  # type: ignore[arg-type]
    talk = _talk(router)
    await talk.say("något oklart om anmälan")
    titles = [b["title"] for b in talk.buttons()]
    assert "Menade du…?" in talk.texts()
    assert titles == [
        "Hur gör jag en orosanmälan?",
        "Vad ska stå i en orosanmälan?",
        "Inget av dessa",
    ]
    await talk.press("Hur gör jag en orosanmälan?")
    assert "Hur gör jag en orosanmälan?" in talk.texts() and "Källor" in talk.texts()
    await talk.say("något oklart om anmälan")
    await talk.press("Inget av dessa")
    assert "Det kan jag tyvärr inte svara på" in talk.texts()
    # Mid-flow, a suggestion keeps the way back to the question.
    await talk.press_menu("concern")
    await talk.say("något oklart om anmälan")
    assert "Fortsätt: Jag är orolig för ett barn" in [b["title"] for b in talk.buttons()]
    assert talk.dialog["node"] == "acute"


# --- wiring ----------------------------------------------------------------------------------


async def test_services_build_the_dialogs_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contacts.registry import RegistryService
    from forums.repository import ForumService
    from samverkan.services import build_services
    from samverkan.settings import Settings
    from storage.feedback import FeedbackStore

    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    services = await build_services(Settings(), clock=FixedClock(WEEKDAY_MORNING))
    try:
        router = services.router
        assert isinstance(router, Router)
        assert isinstance(router.registry, RegistryService)
        assert isinstance(router.forums, ForumService)
        assert isinstance(router.feedback, FeedbackStore)
        assert router.forum_cards is not None and router.engine.cards.contact_card is not None
        replies = await services.turns().message(_talk(router).incoming("Kan jag anmäla anonymt?"))
        assert replies and replies[0].card is not None
    finally:
        await services.close()
