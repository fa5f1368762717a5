"""Proves the guided dialogs (`knowledge/data/flows/*.yaml`) for `samverkan kb check`.

For every flow file: the schema (strict), and for every flow:
- every `next` points to an existing node and the start node exists;
- every node is reachable from the start;
- every path ends in an outcome: from every node an outcome can be reached (no dead ends, no
  cycle without an exit), and no cycle runs without stopping at a question (the engine would spin);
- every action exists, its params are valid and every result it can give has a next node
  (and no next is given for a result it cannot give);
- every outcome names its sources (law, seed or guidance, or knowledge-base topics) and these
  resolve in the knowledge base of the same directory: laws in laws.yaml, seeds in seeds.yaml,
  topic ids among the topics;
- an outcome shows one topic as its answer and at most three more as buttons;
- a choice's label fits a Teams button (≤ 40 characters, placeholders aside);
- facts set by answers are facts the assessment rules know, with allowed values;
- `{placeholders}` in texts are vars the flow can have (fields, action results, carried vars).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from common import yaml_safe
from dialogs import texts
from dialogs.actions import ACTION_SPECS, BASE_VARS
from dialogs.answers import MAX_RELATED
from dialogs.flows import (
    ActionNode,
    Flow,
    InfoNode,
    OutcomeNode,
    QuestionNode,
    TextNode,
    flow_files,
    parse_flow,
    placeholders,
)
from dialogs.relevance import sets_facts, skip_target
from knowledge.loader import Problem
from knowledge.model import BUTTON_MAX, LawSource, SeedSource


def validate(directory: Path) -> list[Problem]:
    """Every problem of every flow under `directory/flows`, or [] when all flows are sound."""
    directory = Path(directory)
    problems: list[Problem] = []
    files = flow_files(directory)
    if not (directory / "flows").is_dir():
        return [Problem("flows/", texts().text("flowcheck.no_directory"))]
    if not files:
        return [Problem("flows/", texts().text("flowcheck.no_flows"))]
    refs = _References.load(directory)
    seen_ids: dict[str, str] = {}
    for path in files:
        flow, errs = parse_flow(path, directory)
        for file, message, where in errs:
            problems.append(Problem(file, message, where))
        if flow is None:
            continue
        rel = f"flows/{path.name}"
        if flow.id in seen_ids:
            duplicate = texts().text("flowcheck.duplicate", flow=flow.id, file=seen_ids[flow.id])
            problems.append(Problem(rel, duplicate, flow.id))
        seen_ids[flow.id] = rel
        problems.extend(Problem(rel, msg, where) for msg, where in check_flow(flow, refs))
    return problems


class _References:
    """What the knowledge base next to the flows knows: laws, seeds, topics and facts."""

    def __init__(
        self,
        laws: set[str] | None,
        seeds: set[str] | None,
        topics: set[str] | None,
        facts: dict[str, tuple[object, ...]] | None,
    ) -> None:
        self.laws = laws
        self.seeds = seeds
        self.topics = topics
        self.facts = facts

    @classmethod
    def load(cls, directory: Path) -> _References:
        laws = _ids(directory / "laws.yaml", "laws", "abbr")
        seeds = _ids(directory / "seeds.yaml", "seeds", "id")
        topics: set[str] | None = None
        topic_dir = directory / "topics"
        if topic_dir.is_dir():
            topics = set()
            for path in sorted(topic_dir.glob("*.yaml")):
                for item in _items(path, "topics"):
                    if isinstance(item.get("id"), str):
                        topics.add(item["id"])
        facts: dict[str, tuple[object, ...]] | None = None
        rules_file = directory / "rules" / "assessment.yaml"
        if rules_file.exists():
            raw = _read(rules_file)
            spec = raw.get("facts") if isinstance(raw, dict) else None
            if isinstance(spec, dict):
                facts = {}
                for name, f in spec.items():
                    if isinstance(f, dict) and f.get("type") == "choice":
                        facts[str(name)] = tuple(f.get("values") or ())
                    else:
                        facts[str(name)] = (True, False)
        return cls(laws, seeds, topics, facts)


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml_safe.safe_load(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _items(path: Path, key: str) -> list[dict[str, Any]]:
    raw = _read(path)
    items = raw.get(key) if isinstance(raw, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _ids(path: Path, key: str, field: str) -> set[str] | None:
    if not path.exists():
        return None
    return {str(i[field]) for i in _items(path, key) if field in i}


def successors(node: Any) -> list[str]:
    if isinstance(node, QuestionNode):
        out = [ch.next for ch in node.choices if ch.next]
        if node.next and (node.choices_from or any(ch.next is None for ch in node.choices)):
            out.append(node.next)
        if node.skip_to:
            out.append(node.skip_to)
        return out
    if isinstance(node, TextNode | InfoNode):
        return [node.next]
    if isinstance(node, ActionNode):
        return [node.next] if isinstance(node.next, str) else list(node.next.values())
    return []


def check_flow(flow: Flow, refs: _References | None = None) -> list[tuple[str, str | None]]:
    """Graph and reference checks of one parsed flow: (message, where) pairs."""
    refs = refs or _References(None, None, None, None)
    out: list[tuple[str, str | None]] = []
    nodes = flow.nodes

    # Edges and actions.
    for node_id, node in nodes.items():
        where = f"{flow.id}:{node_id}"
        for target in successors(node):
            if target not in nodes:
                out.append((texts().text("flowcheck.no_node", node=target), where))
        if isinstance(node, ActionNode):
            out.extend((m, where) for m in _check_action(node))
        if isinstance(node, QuestionNode):
            out.extend((m, where) for m in _check_facts(node, refs))
            if flow.skip_settled and sets_facts(node) and skip_target(node) is None:
                out.append((texts().text("flowcheck.no_skip_target"), where))
            out.extend(
                (texts().text("flowcheck.long_label", label=ch.label, most=BUTTON_MAX), where)
                for ch in node.choices
                if len(ch.label) > BUTTON_MAX and "{" not in ch.label
            )
        if isinstance(node, OutcomeNode):
            out.extend((m, where) for m in _check_outcome(node, refs))

    # Reachability from the start.
    reachable = _reach([flow.start], nodes)
    for node_id in nodes:
        if node_id not in reachable:
            out.append((texts().text("flowcheck.unreachable"), f"{flow.id}:{node_id}"))

    # Every node can reach an outcome (no dead end, no cycle without an exit).
    outcomes = [n for n, node in nodes.items() if isinstance(node, OutcomeNode)]
    if not outcomes:
        out.append((texts().text("flowcheck.no_outcome"), flow.id))
    finishing = _reach_backwards(outcomes, nodes)
    for node_id in nodes:
        if node_id in reachable and node_id not in finishing:
            out.append((texts().text("flowcheck.dead_end"), f"{flow.id}:{node_id}"))

    # Cycles through info/action nodes only would never wait for the user.
    for cycle_node in _silent_cycles(nodes):
        out.append((texts().text("flowcheck.silent_cycle"), f"{flow.id}:{cycle_node}"))

    # Placeholders.
    known = set(BASE_VARS) | set(flow.carry) | set(flow.vars)
    for node in nodes.values():
        if isinstance(node, QuestionNode | TextNode) and node.field:
            known.update({node.field, f"{node.field}_label"})
        if isinstance(node, ActionNode) and node.action in ACTION_SPECS:
            known |= ACTION_SPECS[node.action].provides
    for node_id, node in nodes.items():
        for text in _texts(node):
            for name in sorted(placeholders(text) - known):
                unknown = texts().text("flowcheck.unknown_placeholder", name=name)
                out.append((unknown, f"{flow.id}:{node_id}"))
    return out


def _check_action(node: ActionNode) -> list[str]:
    spec = ACTION_SPECS.get(node.action)
    if spec is None:
        known = ", ".join(sorted(ACTION_SPECS))
        return [texts().text("flowcheck.unknown_action", action=node.action, known=known)]
    try:
        params = spec.parse(node.params)
    except (ValidationError, ValueError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return [texts().text("flowcheck.bad_params", action=node.action, problem=msg)]
    if isinstance(node.next, str):
        return []
    results = spec.results(params)
    problems = [
        texts().text("flowcheck.result_no_next", result=r, action=node.action)
        for r in sorted(results - node.next.keys())
    ]
    problems += [
        texts().text("flowcheck.impossible_result", action=node.action, result=r)
        for r in sorted(node.next.keys() - results)
    ]
    return problems


def _check_facts(node: QuestionNode, refs: _References) -> list[str]:
    if refs.facts is None:
        return []
    problems: list[str] = []
    for ch in node.choices:
        for fact, value in ch.set.items():
            if fact not in refs.facts:
                known = ", ".join(refs.facts)
                problems.append(texts().text("flowcheck.unknown_fact", fact=fact, known=known))
            elif value is not None and not any(
                value == a and type(value) is type(a) for a in refs.facts[fact]
            ):
                problems.append(texts().text("flowcheck.bad_value", fact=fact, value=value))
    return problems


def _check_outcome(node: OutcomeNode, refs: _References) -> list[str]:
    problems: list[str] = []
    if not node.sources and not node.topics:
        problems.append(texts().text("flowcheck.no_sources"))
    if len(node.topics) > 1 + MAX_RELATED:
        problems.append(texts().text("flowcheck.many_topics", most=1 + MAX_RELATED))
    for src in node.sources:
        if isinstance(src, LawSource) and refs.laws is not None and src.law not in refs.laws:
            problems.append(texts().text("flowcheck.unknown_law", law=src.law))
        if isinstance(src, SeedSource) and refs.seeds is not None and src.seed not in refs.seeds:
            problems.append(texts().text("flowcheck.unknown_seed", seed=src.seed))
    if refs.topics is not None:
        for topic_id in node.topics:
            if topic_id not in refs.topics:
                problems.append(texts().text("flowcheck.unknown_topic", topic=topic_id))
    return problems


def _texts(node: Any) -> Iterable[str]:
    for attr in ("text", "help", "guidance", "title", "placeholder"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            yield value
    if isinstance(node, QuestionNode):
        for ch in node.choices:
            yield ch.label
        yield from (n.text for n in node.notes)
    if isinstance(node, OutcomeNode):
        for s in node.sections:
            yield from [s.heading or "", s.text or ""]
            yield from (i if isinstance(i, str) else i.text for i in s.items)
        if node.draft is not None:
            yield from [*node.draft.before, *node.draft.after]


def _reach(start: list[str], nodes: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    queue = deque(n for n in start if n in nodes)
    while queue:
        n = queue.popleft()
        if n in seen:
            continue
        seen.add(n)
        queue.extend(t for t in successors(nodes[n]) if t in nodes and t not in seen)
    return seen


def _reach_backwards(targets: list[str], nodes: dict[str, Any]) -> set[str]:
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    for n, node in nodes.items():
        for t in successors(node):
            if t in preds:
                preds[t].add(n)
    seen: set[str] = set()
    queue = deque(targets)
    while queue:
        n = queue.popleft()
        if n in seen:
            continue
        seen.add(n)
        queue.extend(preds[n] - seen)
    return seen


def _silent_cycles(nodes: dict[str, Any]) -> list[str]:
    """Nodes on a cycle made only of info and action nodes (depth-first, colour marking)."""
    silent = {n for n, node in nodes.items() if isinstance(node, InfoNode | ActionNode)}
    state: dict[str, int] = {}
    found: list[str] = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        stack.append(n)
        for t in successors(nodes[n]):
            if t not in silent:
                continue
            if state.get(t) == 1:
                found.extend(stack[stack.index(t) :])  # every node on the cycle
            elif t not in state:
                visit(t, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(silent):
        if n not in state:
            visit(n, [])
    return sorted(set(found))
