"""Every path through "Jag är orolig för ett barn", walked through the real router, against the
safety invariants of shared/spec/assessment.md (revised 2026-12-07).

The flow graph is enumerated, not sampled: from the first question, every button of every
question is pressed (depth first; the dialog state is plain JSON, so a branch is a copy), and
the free-text answers about the school and the child's home take a few representative inputs
(a known school, "hoppa över"; a known district, "vet inte", a kommun not in the registry). Each
path is walked in office hours and at night, so the number to call now is the intake's and the
socialjour's. On every finished path:

- the dialog's assessment is the rule engine's for the facts it collected;
- no question the path left out could have changed it (each fact never asked, set to each of
  its values, gives the same assessment);
- "barnet har berättat" or "jag vet" never ends in consult;
- emergency, or "Vet inte" on acute danger, keeps "112" and the number to call now on the card;
- violence in the home, sexual abuse, honour, or (maybe) acute danger never advises telling the
  guardians first, and always says not to;
- by_phone_today puts a phone call first (the number when the registry knows it), never the
  e-tjänst.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from contacts.registry import RegistryService
from dialogs import cards as c
from dialogs.flows import OutcomeNode, QuestionNode, TextNode
from dialogs.router import Router
from dialogs.state import DialogState
from dialogs.types import Incoming, Reply, TurnState
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from tests.dialogs.conftest import make_router

HOME_RISK = ("violence_by_guardian", "sexual_abuse", "honor_context", "domestic_violence_witnessed")
# Tuesday 3 March 2026: 09:00 (the intakes are open) and 21:00 (socialjouren) in Stockholm.
OFFICE = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
INTAKE_NORRDAL = "08-000 901 01"
SOCIALJOUR = "08-000 900 00"
# Free-text answers tried at each text field (each at most once per path): all of them in office
# hours; at night the ones that decide which number is shown (intake or socialjour).
TEXT_INPUTS = {
    "school_query": ["Lindskolan", "hoppa över"],
    "home_query": ["Norrdal", "vet inte", "Solna"],
}
NIGHT_INPUTS = {"school_query": ["Lindskolan"], "home_query": ["Norrdal", "vet inte"]}
HOME_CHOICES = ("home_violence", "sexual", "honor", "home_witness")
OPEN_TO_GUARDIANS = ("Som regel är det bra att",)
NOT_GUARDIANS_FIRST = ("Berätta inte för vårdnadshavarna", "Kontakta inte vårdnadshavarna")


@dataclass
class Leaf:
    path: list[str]
    dialog: dict[str, Any]
    replies: list[Reply]
    at: datetime

    def text(self) -> str:
        out: list[str] = []
        for r in self.replies:
            if r.text:
                out.append(r.text)
            if r.card:
                out.extend(c.texts_of(r.card))
                out.extend(b["title"] for b in c.buttons_of(r.card))
        return "\n".join(out)

    def outcome_card(self) -> dict[str, Any]:
        """The card with the numbered steps (an info card may come before it)."""
        cards = [r.card for r in self.replies if r.card]
        assert cards, self.path
        steps = [k for k in cards if any(t.startswith("1. ") for t in c.texts_of(k))]
        return steps[0] if steps else cards[0]


@dataclass
class Walker:
    router: Router
    leaves: list[Leaf] = field(default_factory=list)
    turns: int = 0

    async def send(
        self, dialog: dict[str, Any], user: dict[str, Any], at: datetime, inc: Incoming
    ) -> tuple[dict[str, Any], dict[str, Any], list[Reply]]:
        state = TurnState(now=at, dialog=json.loads(json.dumps(dialog)), user=dict(user))
        replies = await self.router.handle(inc, state)
        self.turns += 1
        _check_buttons(replies)
        return json.loads(json.dumps(state.dialog)), state.user, replies

    async def walk(
        self,
        dialog: dict[str, Any],
        user: dict[str, Any],
        at: datetime,
        path: list[str],
        replies: list[Reply],
        typed: frozenset[tuple[str, str]],
    ) -> None:
        flow = self.router.flows["concern"]
        node_id = dialog["node"]
        node = flow.nodes[node_id]
        if isinstance(node, OutcomeNode):
            self.leaves.append(Leaf(path, dialog, replies, at))
            return
        assert len(path) < 40, path
        if isinstance(node, QuestionNode):
            for opt in self.router.engine.cards.options(node, DialogState(dialog)):
                value = {"action": c.FLOW_ANSWER, "flow": "concern", "node": node_id}
                inc = _incoming(value={**value, "choice": opt.value})
                d, u, r = await self.send(dialog, user, at, inc)
                await self.walk(d, u, at, [*path, f"{node_id}={opt.value}"], r, typed)
            return
        assert isinstance(node, TextNode), node_id
        for text in (TEXT_INPUTS if at == OFFICE else NIGHT_INPUTS)[node.field]:
            if (node_id, text) in typed:
                continue  # "Solna" again after "not found": the walk tries the others
            d, u, r = await self.send(dialog, user, at, _incoming(text=text))
            key = (node_id, text)
            await self.walk(d, u, at, [*path, f"{node_id}:{text}"], r, typed | {key})


def _check_buttons(replies: list[Reply]) -> None:
    """Teams conventions on every card of the dialog: version 1.5, buttons of at most 40
    characters and never cut ("…"); answer cards' topic buttons are the answer cards' own."""
    for r in replies:
        if r.card is None:
            continue
        assert r.card["version"] == "1.5"
        for b in c.buttons_of(r.card):
            if b["data"].get("action") == c.TOPIC:
                continue
            assert len(b["title"]) <= 40 and not b["title"].endswith("…"), b["title"]


def _incoming(text: str = "", value: dict[str, Any] | None = None) -> Incoming:
    return Incoming(
        user_id="u",
        conversation_id="c",
        text=text,
        value=value,
        conversation_type="personal",
        channel_id="test",
    )


@pytest.fixture(params=[OFFICE, NIGHT], ids=["office", "night"])
async def leaves(
    request: pytest.FixtureRequest,
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    registry: RegistryService,
) -> list[Leaf]:
    router = make_router(kb, index, rules, messages, FixedClock(OFFICE), registry=registry)
    walker = Walker(router)
    at: datetime = request.param  # office hours and night: two tests, for parallel runs
    # The dialog starts as from the menu; the user's school is not yet remembered.
    dialog, user, replies = await walker.send(
        {}, {}, at, _incoming(value={"action": c.MENU, "item": "concern"})
    )
    await walker.walk(dialog, user, at, [], replies, frozenset())
    return walker.leaves


def _settled_facts(leaf: Leaf, router: Router) -> set[str]:
    """Facts the path has asked about. A yes/no question settles its facts whatever the answer
    ("Vet inte" leaves them unknown on purpose); a question of several kinds ("Vad gäller
    oron?") settles only the kind chosen, or all of them when the answer is "vet inte"."""
    flow = router.flows["concern"]
    settled: set[str] = set()
    for step in leaf.path:
        node_id, sep, value = step.partition("=")
        node = flow.nodes.get(node_id)
        if not sep or not isinstance(node, QuestionNode):
            continue
        kinds = {frozenset(f for f, v in ch.set.items() if v is not False) for ch in node.choices}
        kinds.discard(frozenset())
        chosen = next(ch for ch in node.choices if ch.value == value)
        if len(kinds) <= 1 or value == "unknown":
            for ch in node.choices:
                settled.update(ch.set)
        else:
            settled.update(chosen.set)
    return settled


_TRIPLES: dict[tuple[int, str, Any], tuple[Any, ...]] = {}


def _triple(rules: RuleSet, facts: dict[str, Any], at: datetime) -> tuple[Any, ...]:
    """(outcome, guardian advice, phone today) of the rule engine; the same fact sets recur on
    many paths, so each is assessed once."""
    key = (id(rules), json.dumps(facts, sort_keys=True), at.date())
    if key not in _TRIPLES:
        a = rules.assess(facts, day=at.date())
        _TRIPLES[key] = (a.outcome, a.inform_guardians, a.by_phone_today)
    return _TRIPLES[key]


async def test_every_path_is_safe(
    leaves: list[Leaf],
    rules: RuleSet,
    kb: KnowledgeBase,
    index: SearchIndex,
    messages: Catalogue,
) -> None:
    router = make_router(kb, index, rules, messages, FixedClock(OFFICE))
    assert len(leaves) > 500, len(leaves)  # the whole graph (in office hours, or at night)
    outcomes: set[str] = set()
    flow = router.flows["concern"]
    # Every question asked could still change the assessment: under it, not every path ends in
    # the same (outcome, guardian advice, phone today).
    under: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}
    for leaf in leaves:
        if leaf.dialog["node"] == "emergency_end":
            continue
        triple = _triple(rules, leaf.dialog["facts"], leaf.at)
        for i, step in enumerate(leaf.path):
            node = flow.nodes.get(step.partition("=")[0])
            if isinstance(node, QuestionNode) and any(ch.set for ch in node.choices):
                under.setdefault((*leaf.path[:i], step.partition("=")[0]), set()).add(
                    triple
                )
    useless = [" → ".join(k) for k, triples in under.items() if len(triples) == 1]
    assert not useless, useless[:5]
    for leaf in leaves:
        facts, vars_ = leaf.dialog["facts"], leaf.dialog["vars"]
        where = " → ".join(leaf.path) + f" @ {leaf.at:%H:%M}"
        text = leaf.text()
        if leaf.dialog["node"] == "emergency_end":  # "Avsluta här" on the 112 card
            assert facts == {"acute_danger": True}, where
            assert "Ring 112" in text and "Kontakta inte vårdnadshavarna" in text, where
            assert SOCIALJOUR in text, where  # socialjouren's number, without more clicks
            continue
        triple = _triple(rules, facts, leaf.at)
        outcome, guardians, phone = triple
        outcomes.add(outcome)
        # The dialog shows the rule engine's assessment of what it collected.
        assert (vars_["outcome"], vars_["inform_guardians"], vars_["by_phone_today"]) == triple

        # Nothing it left out could have changed that.
        settled = _settled_facts(leaf, router)
        for name, spec in rules.facts.items():
            if name in settled or name in facts:
                continue
            for value in spec.allowed():
                assert _triple(rules, {**facts, name: value}, leaf.at) == triple, (
                    f"{where}: {name}={value!r} was never asked but changes the assessment"
                )

        # Asked only what can still change it: a concern in the home settles the guardian
        # advice (no home question, no other kinds of concern), the child's account the outcome.
        asked = [step.partition("=")[0].partition(":")[0] for step in leaf.path]
        if any(f"about={v}" in leaf.path for v in HOME_CHOICES):
            assert "home" not in asked and asked.count("about") == 1, where
        if "disclosed=yes" in leaf.path:
            assert not {"certainty", "reported", "new_info"} & set(asked), where

        # A disclosure or "jag vet" is never a consultation.
        if facts.get("child_disclosed") is True or facts.get("certainty") == "know":
            assert outcome != "consult", where

        # Emergency or "vet inte" on acute danger: 112 and the number to call now.
        if outcome == "emergency" or facts.get("acute_danger") == "unsure":
            assert "112" in text, where
        if phone:
            first = _first_step(leaf.outcome_card())
            if outcome != "emergency":
                assert first.startswith(("Ring", "Kan barnet vara i fara")), (where, first)
            assert "e-tjänst" not in first, (where, first)
            if vars_.get("call_now_known"):
                expected = INTAKE_NORRDAL if leaf.at == OFFICE else SOCIALJOUR
                if vars_.get("home_district_id") == "norrdal":
                    assert vars_["call_now_phone"] == expected, where
                assert vars_["call_now_phone"] in text, where
            else:
                assert "socialjour" in text, where

        # Danger or harm from home: the guardians are not told first.
        risk_from_home = any(facts.get(f) is True for f in HOME_RISK)
        maybe_acute = facts.get("acute_danger") in (True, "unsure")
        if risk_from_home or maybe_acute:
            assert guardians == "consult_first", where
            assert not any(p in text for p in OPEN_TO_GUARDIANS), where
            assert any(p in text for p in NOT_GUARDIANS_FIRST), where
    assert outcomes == {"emergency", "report", "consult"}


def _first_step(card: dict[str, Any]) -> str:
    """The first numbered step of an outcome card ("1. ...")."""
    for t in c.texts_of(card):
        if t.startswith("1. "):
            return t.split("\n", 1)[0][3:]
    raise AssertionError("no numbered steps on the card")


async def test_a_clear_violence_case_reaches_the_number_to_call_in_seven_interactions(
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    registry: RegistryService,
) -> None:
    """Menu → not acute → violence from an adult at home → the child told → school → home
    district → the outcome card with the intake's number: 6 interactions (≤ 7)."""
    from tests.dialogs.conftest import Talk

    router = make_router(kb, index, rules, messages, FixedClock(OFFICE), registry=registry)
    talk = Talk(router=router, clock=FixedClock(OFFICE))
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Våld eller hot från vuxen i hemmet")
    await talk.press("Ja")
    await talk.say("Lindskolan")
    await talk.say("Norrdal")
    text = talk.texts()
    assert "Ring socialtjänsten i dag – innan barnet går hem" in text
    assert INTAKE_NORRDAL in text
    assert len(talk.history) == 6  # every press and typed answer, the menu press included


async def test_the_night_time_112_card_shows_the_socialjour_number(
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    registry: RegistryService,
) -> None:
    """Menu → "Ja, akut fara" → the 112 card with socialjouren's number: 2 interactions, and
    the school the user works at is not yet known."""
    from tests.dialogs.conftest import Talk

    router = make_router(kb, index, rules, messages, FixedClock(NIGHT), registry=registry)
    talk = Talk(router=router, clock=FixedClock(NIGHT))
    await talk.press_menu("concern")
    await talk.press("Ja")
    text = talk.texts()
    assert "Ring 112 nu." in text
    assert f"Socialjouren (kvällar, nätter och helger): {SOCIALJOUR}" in text
    # With the school remembered, the one to phone now is named too (at night: socialjouren).
    talk.user["school"] = {"id": "lindskolan", "name": "Lindskolan"}
    await talk.say("börja om")
    await talk.press("Ja")
    assert f"Ring sedan: Socialjouren Testkommun, {SOCIALJOUR}" in talk.texts()
