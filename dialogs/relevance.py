"""Whether a question can still change the assessment: the general rule behind "ask only what
can still change the outcome or the guardian advice" (flows with `skip_settled: true`).

A question that sets assessment facts is asked only if some answer to it gives a different
assessment (outcome, inform_guardians, by_phone_today) than another answer, for SOME way the
rest of the dialog could still go. "The rest" is over-approximated: every fact that a question
reachable after this one can set takes each value the flow can give it, or stays as it is — a
superset of what the later questions can really produce, so a question is never skipped that
one real continuation would need. When the space is too large to enumerate (the first questions),
the question is asked.

Skipping goes to the question's `skip_to`, else the next node of its choice that sets no facts
("Vet inte"), else the next node all its choices share (`skip_target`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from dialogs.flows import ActionNode, Flow, InfoNode, OutcomeNode, QuestionNode, TextNode

log = logging.getLogger(__name__)

# Evaluations of the rules at most, per question (choices x combinations of later facts).
MAX_EVALUATIONS = 50_000
MAX_REMEMBERED = 10_000  # answers kept by Relevance (cleared when full)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


class Assessor(Protocol):
    def assess(self, facts: Mapping[str, object], *, day: Any) -> Any: ...


def sets_facts(node: QuestionNode) -> bool:
    return any(ch.set for ch in node.choices)


def skip_target(node: QuestionNode) -> str | None:
    """Where the dialog goes when the question is skipped (None: it cannot be skipped)."""
    if node.skip_to:
        return node.skip_to
    for ch in node.choices:
        if not ch.set:
            return ch.next or node.next
    nexts = {ch.next or node.next for ch in node.choices}
    return nexts.pop() if len(nexts) == 1 else None


def _successors(node: Any) -> list[str]:
    if isinstance(node, QuestionNode):
        out = [ch.next for ch in node.choices if ch.next]
        if node.next:
            out.append(node.next)
        target = skip_target(node)
        if target:
            out.append(target)
        return out
    if isinstance(node, TextNode | InfoNode):
        return [node.next]
    if isinstance(node, ActionNode):
        return [node.next] if isinstance(node.next, str) else list(node.next.values())
    assert isinstance(node, OutcomeNode)
    return []


def later_facts(flow: Flow, node_id: str) -> dict[str, list[object]]:
    """Facts that questions reachable after `node_id` can set, with the values they can set."""
    start = flow.nodes[node_id]
    seen: set[str] = set()
    todo = list(_successors(start))
    values: dict[str, list[object]] = {}
    while todo:
        nid = todo.pop()
        if nid in seen or nid not in flow.nodes:
            continue
        seen.add(nid)
        node = flow.nodes[nid]
        if isinstance(node, QuestionNode):
            for ch in node.choices:
                for fact, v in ch.set.items():
                    got = values.setdefault(fact, [])
                    if v not in got:
                        got.append(v)
        todo.extend(_successors(node))
    return values


def _triple(rules: Assessor, facts: dict[str, object], day: date) -> tuple[Any, Any, Any]:
    a = rules.assess(facts, day=day)
    return (a.outcome, a.inform_guardians, a.by_phone_today)


def _apply(facts: dict[str, object], changes: Mapping[str, object]) -> None:
    for fact, v in changes.items():
        if v is UNSET:
            continue
        if v is None:
            facts.pop(fact, None)
        else:
            facts[fact] = v


class Relevance:
    """Answers "can this question still change the assessment?" for one flow engine."""

    def __init__(self, rules: Assessor | None) -> None:
        self.rules = rules
        self._later: dict[tuple[str, str], dict[str, list[object]]] = {}
        # (flow, node, known facts, day) → the answer: the same few fact sets recur for every
        # user, and the search below can take thousands of rule evaluations.
        self._answers: dict[tuple[Any, ...], bool] = {}

    def can_change(
        self, flow: Flow, node_id: str, facts: Mapping[str, object], day: date
    ) -> bool:
        try:
            key = (flow.id, node_id, frozenset(facts.items()), day)
        except TypeError:  # a fact value that cannot be hashed: do not remember
            return self._can_change(flow, node_id, facts, day)
        found = self._answers.get(key)
        if found is None:
            found = self._can_change(flow, node_id, facts, day)
            if len(self._answers) >= MAX_REMEMBERED:
                self._answers.clear()
            self._answers[key] = found
        return found

    def _can_change(
        self, flow: Flow, node_id: str, facts: Mapping[str, object], day: date
    ) -> bool:
        node = flow.nodes[node_id]
        if self.rules is None or not isinstance(node, QuestionNode) or not sets_facts(node):
            return True
        key = (flow.id, node_id)
        if key not in self._later:
            self._later[key] = later_facts(flow, node_id)
        later = self._later[key]
        names = sorted(later)
        space = [[UNSET, *later[n]] for n in names]
        size = len(node.choices)
        for options in space:
            size *= len(options)
            if size > MAX_EVALUATIONS:
                return True
        base = {k: v for k, v in facts.items() if v is not None}
        try:
            for combo in itertools.product(*space):
                rest = dict(zip(names, combo, strict=True))
                seen: tuple[Any, Any, Any] | None = None
                for ch in node.choices:
                    f = dict(base)
                    _apply(f, ch.set)
                    _apply(f, rest)
                    t = _triple(self.rules, f, day)
                    if seen is None:
                        seen = t
                    elif t != seen:
                        return True
        except Exception as exc:  # a broken rule file: ask rather than guess
            log.warning("relevance check failed: %s", type(exc).__name__)
            return True
        return False
