"""Which question can still change the assessment (dialogs/relevance.py): the answer agrees
with the rules, and a repeated question is answered from memory, not by searching again."""

from __future__ import annotations

from datetime import date
from typing import Any

from dialogs.flows import load_flows
from dialogs.relevance import Relevance, sets_facts
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet

DAY = date(2026, 12, 7)


class Counting:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.calls = 0

    def assess(self, facts: Any, *, day: Any) -> Any:
        self.calls += 1
        return self.rules.assess(facts, day=day)


def test_a_repeated_question_is_answered_from_memory(kb: KnowledgeBase, rules: RuleSet) -> None:
    flow = load_flows(kb.directory)["concern"]
    counting = Counting(rules)
    remembered = Relevance(counting)
    fresh = Relevance(rules)
    questions = [nid for nid, n in flow.nodes.items() if hasattr(n, "choices") and sets_facts(n)]
    assert questions
    for facts in ({}, {"acute_danger": False}, {"acute_danger": False, "child_disclosed": True}):
        for nid in questions:
            first = remembered.can_change(flow, nid, facts, DAY)
            calls = counting.calls
            assert remembered.can_change(flow, nid, dict(facts), DAY) == first
            assert counting.calls == calls  # no rule evaluated the second time
            assert fresh.can_change(flow, nid, facts, DAY) == first
