"""The concern dialog asks only what the assessment needs, yet always reaches the same assessment
as the rule engine given all the facts (assessment.md). A simulated staff member answers every
question from a set of facts; the answer is derived from the flow's own data (which facts each
choice sets), so the test follows the flow file rather than a copy of it.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.catalogue import Catalogue
from common.clock import FixedClock
from dialogs import cards as c
from dialogs.flows import OutcomeNode, QuestionNode, load_flows
from dialogs.router import Router
from knowledge.loader import DEFAULT_DIR, KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router

VIGNETTES = Path(__file__).resolve().parents[1] / "data" / "vignettes.yaml"
BOOLEAN_FACTS = [
    "child_disclosed",
    "violence_by_guardian",
    "violence_by_other",
    "sexual_abuse",
    "honor_context",
    "domestic_violence_witnessed",
    "neglect",
    "self_destructive",
    "peer_abuse",
    "school_absence",
    "already_reported",
    "new_information",
]


@functools.cache
def talk_flow_nodes() -> dict[str, Any]:
    return load_flows(DEFAULT_DIR)["concern"].nodes


def choose(node: QuestionNode, facts: dict[str, Any]) -> str:
    """The value a staff member who knows `facts` (absent = does not know) would choose: the
    first choice (in the order shown) whose facts all hold, else "vet inte". The flow file says
    which facts each choice sets, so this follows the flow rather than a copy of it. A story
    that does not mention acute danger is one without it (the staff member answers "Nej")."""
    known = dict(facts)
    known.setdefault("acute_danger", False)
    for ch in node.choices:
        holds = all(known.get(f) == v and type(known.get(f)) is type(v) for f, v in ch.set.items())
        if ch.set and holds:
            return ch.value
    values = {ch.value for ch in node.choices}
    if "unknown" in values:
        return "unknown"
    # No fact involved (the 112 card): go on to who to call rather than stop.
    flow_nodes = talk_flow_nodes()
    return next(
        ch.value for ch in node.choices if not isinstance(flow_nodes[ch.next or ""], OutcomeNode)
    )


async def walk(talk: Talk, facts: dict[str, Any]) -> dict[str, Any]:
    flow = talk.router.flows["concern"]
    await talk.press_menu("concern")
    for _ in range(40):
        node = flow.nodes[talk.dialog["node"]]
        if isinstance(node, OutcomeNode):
            return talk.dialog
        assert isinstance(node, QuestionNode), node
        await talk.send(
            talk.incoming(
                value={
                    "action": c.FLOW_ANSWER,
                    "flow": "concern",
                    "node": talk.dialog["node"],
                    "choice": choose(node, facts),
                }
            )
        )
    raise AssertionError("the dialog did not end")


@pytest.fixture
def router(kb: KnowledgeBase, index: SearchIndex, rules: RuleSet, messages: Catalogue) -> Router:
    # No registry: the dialog goes straight from the assessment to the outcome.
    return make_router(kb, index, rules, messages, FixedClock(WEEKDAY_MORNING))


def _vignettes() -> list[dict[str, Any]]:
    return yaml.safe_load(VIGNETTES.read_text(encoding="utf-8"))["vignettes"]


@pytest.mark.parametrize("vignette", _vignettes(), ids=lambda v: v["id"])
async def test_vignettes_through_the_dialog(vignette: dict[str, Any], router: Router) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    dialog = await walk(talk, vignette["facts"])
    assert dialog["vars"]["outcome"] == vignette["expect"]["outcome"]
    assert dialog["vars"]["inform_guardians"] == vignette["expect"]["inform_guardians"]
    assert dialog["vars"]["by_phone_today"] == vignette["expect"]["by_phone_today"]


# What a member of staff knows when they start the dialog: acute danger is answered, and so is
# how sure they are (the dialog always asks unless the child has told).
facts_strategy = st.fixed_dictionaries(
    {
        "acute_danger": st.sampled_from([True, False, "unsure"]),
        "certainty": st.sampled_from(["unsure", "suspect", "know"]),
    },
    optional={f: st.booleans() for f in BOOLEAN_FACTS},
)


@settings(
    max_examples=300,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(facts=facts_strategy)
async def test_dialog_agrees_with_the_rules_for_any_facts(
    facts: dict[str, Any], router: Router, rules: RuleSet
) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    dialog = await walk(talk, facts)
    expected = rules.assess(facts, day=WEEKDAY_MORNING.date())
    got = (
        dialog["vars"]["outcome"],
        dialog["vars"]["inform_guardians"],
        dialog["vars"]["by_phone_today"],
    )
    assert got == (expected.outcome, expected.inform_guardians, expected.by_phone_today), facts
    # The facts the dialog collected are the staff member's own.
    for fact, value in dialog["facts"].items():
        if value is True or (fact == "certainty" and value != "unsure"):
            assert facts.get(fact) == value, (fact, facts)
    # Few questions: acute, what it is about, the home, told, how sure, earlier report, new.
    assert len(dialog["history"]) <= 7


async def test_acute_danger_goes_straight_to_who_to_call(router: Router) -> None:
    talk = Talk(router=router, clock=FixedClock(WEEKDAY_MORNING))
    dialog = await walk(talk, {"acute_danger": True, "neglect": True, "certainty": "know"})
    asked = [h["node"] for h in dialog["history"]]
    assert asked == ["acute", "emergency"]
    assert dialog["vars"]["outcome"] == "emergency"
    assert dialog["vars"]["inform_guardians"] == "consult_first"
