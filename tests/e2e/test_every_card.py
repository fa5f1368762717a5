"""Every topic and every flow node over HTTP, as Teams talks to the bot, kept to the phone
budget of tests/e2e/card_budget.py (issue 16): short answers first, version 1.5, buttons that
fit, no file names, at most 28 KB.

The flows are walked by pressing their buttons (a typed answer where a node asks for text), one
fresh conversation per path, breadth first; a question is expanded the first time it is seen.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogs import cards as c
from knowledge.loader import DEFAULT_DIR, load
from tests.e2e.card_budget import (
    MAX_LEAD_WORDS,
    MAX_WORDS_BEFORE_MORE,
    Budget,
    words_before_more,
)
from tests.e2e.helpers import TeamsUser, card_of
from tests.e2e.server import ServerProcess
from tests.fakes import teams
from tests.fakes.connector import FakeConnector

pytestmark = pytest.mark.slow

FLOWS_DIR = DEFAULT_DIR / "flows"
# Typed answers where a flow asks for text: a school and a home district that are in the example
# registry, misspelt, ambiguous and unknown, "vet inte"; a neutral sentence elsewhere (and one
# with a name, which gets the name warning).
TYPED = {
    "school_ask": ["Engelbrektsskolan", "Engelbrecktsskolan", "skolan", "Qwertyskolan"],
    "home_ask": ["Östermalm", "Östermalmm", "malm", "Solna", "vet inte"],
    "observed": ["Eleven sa i dag att hon inte vill gå hem.", "Nour Ahmadi sa att hon är rädd."],
}
TYPED_OTHER = ["Eleven sa i dag att hon inte vill gå hem."]
# Where the school and the home district are asked (the same in every flow): after the first time
# only the first answer is tried, so that the questions before them are walked in every
# combination without multiplying by every way of naming a school.
LOCATION = {
    "school_confirm", "school_ask", "school_pick", "school_suggest",
    "home_ask", "home_pick", "home_suggest",
}
# The concern flow's own questions decide its outcome: each is walked again for every answer
# that led to it and every answer to the first question (every edge of the graph, not every
# path: tests/dialogs/test_concern_paths.py walks every path in process), so that every outcome
# is reached.
EVERY_PATH = "concern"
# Only an ambiguous name leads here ("Vilken av de här skolorna menar du?"), and the example
# registry has none; the card is the same as "Menade du någon av de här?" (…_suggest), reached.
NOT_IN_EXAMPLE_REGISTRY = {
    (flow, node) for flow in ("concern", "contacts", "report") for node in ("school_pick",
                                                                           "home_pick")
}
# Outcomes of the concern dialog whose wording is being rewritten with the conversation part of
# issue 16 (the outcome carries the number to call): every line visible is safety advice, so
# nothing is hidden behind "Visa mer" here; they may not grow. Remove when that work is merged.
# Nodes allowed over the bar: none. (Words the user typed, shown back in the draft, do not
# count: the bot cannot shorten them.)
WORDS_PENDING: dict[tuple[str, str], int] = {}
# A user whose school the bot remembers (then "Arbetar du på Engelbrektsskolan?" is asked).
REMEMBERED: list[Step] = [
    ("press", {"action": c.MENU, "item": "contacts"}),
    ("press", {"action": c.FLOW_ANSWER, "flow": "contacts", "node": "purpose", "choice": "report"}),
    ("say", "Engelbrektsskolan"),
    ("say", "Östermalm"),
]
Step = tuple[str, Any]  # ("press", data) | ("say", text)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_][a-z0-9_]*\}", " ".join(template.split()))
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def _flows() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(FLOWS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


def _texts(card: dict[str, Any]) -> list[str]:
    return [" ".join(t.split()) for t in c.texts_of(card)]


def _nodes_shown(card: dict[str, Any], flows: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """The flow nodes a card shows: questions and text nodes by their buttons' data, outcomes
    by their title, info nodes by their text."""
    found: set[tuple[str, str]] = set()
    for b in c.buttons_of(card):
        data = b.get("data") or {}
        if data.get("action") == c.FLOW_ANSWER and "flow" in data and "node" in data:
            found.add((data["flow"], data["node"]))
    texts = _texts(card)
    for flow_id, flow in flows.items():
        for node_id, node in flow["nodes"].items():
            if node["kind"] == "outcome":
                pat = _pattern(node["title"])
                if any(pat.fullmatch(t) for t in texts):
                    found.add((flow_id, node_id))
    for flow_id, flow in flows.items():
        for node_id, node in flow["nodes"].items():
            if node["kind"] == "info":
                pat = _pattern(node["text"])
                if any(pat.fullmatch(t) for t in texts):
                    found.add((flow_id, node_id))
    return found


def _shown_nodes_of(flows: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (fid, nid)
        for fid, flow in flows.items()
        for nid, node in flow["nodes"].items()
        if node["kind"] != "action"
    }


class Walker:
    def __init__(
        self, server: ServerProcess, connector: FakeConnector, flows: dict[str, dict[str, Any]]
    ) -> None:
        self.flows = flows
        self.server = server
        self.connector = connector
        self.budget = Budget()
        self.measured: set[str] = set()
        self._ids = itertools.count(1)

    def user(self) -> TeamsUser:
        n = next(self._ids)
        return TeamsUser(self.server, self.connector, f"a:walk-{n}", f"walk-{n}")

    def measure(
        self,
        replies: Iterable[dict[str, Any]],
        where: str,
        flows: dict[str, dict[str, Any]] | None = None,
        typed: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        cards = []
        for act in replies:
            card = card_of(act)
            if card is None:
                continue
            cards.append(card)
            key = json.dumps(card, sort_keys=True, ensure_ascii=False)
            if key not in self.measured:
                self.measured.add(key)
                nodes = _nodes_shown(card, flows) if flows else set()
                most = max([WORDS_PENDING.get(n, MAX_WORDS_BEFORE_MORE) for n in nodes] or [0])
                text = " ".join(_texts(card))
                own = sum(len(t.split()) * text.count(t) for t in set(typed))  # the user's words
                self.budget.add(card, where, max(most, MAX_WORDS_BEFORE_MORE) + own)
        return cards

    async def run(self, path: list[Step]) -> tuple[TeamsUser, list[dict[str, Any]]]:
        """Replay `path` as a new user. A press is made on the button of the cards just shown
        whose data matches (so it carries this user's dialog id and step, as in Teams)."""
        user = self.user()
        cards: list[dict[str, Any]] = []
        for kind, value in path:
            if kind == "say":
                replies = await user.say(value)
            else:
                data = _this_users_button(cards, value)
                replies = await user._send(
                    teams.press(self.connector.url, user.conversation_id, user.user_id, data)
                )
            typed = [v for k, v in path if k == "say" and isinstance(v, str)]
            cards = self.measure(replies, _describe(path), self.flows, typed)
        return user, cards


_OWNER = ("dialog", "step", "dflow")


def _this_users_button(cards: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """The data of the shown button that `data` stands for (without another user's dialog
    stamps); a press that starts a path (menu, topic) has no card before it and is sent as is."""
    want = {k: v for k, v in data.items() if k not in _OWNER}
    for card in cards:
        for b in c.buttons_of(card):
            got = b.get("data") or {}
            if {k: v for k, v in got.items() if k not in _OWNER} == want:
                return dict(got)
    return want


def _describe(path: list[Step]) -> str:
    return " → ".join(
        str(v.get("choice") or v.get("item") or v.get("flow") or v.get("action"))
        if k == "press"
        else repr(v)
        for k, v in path
    )


async def test_every_topic_and_every_flow_node_fits_a_phone(
    server: ServerProcess, connector: FakeConnector, tmp_path: Path
) -> None:
    kb = load()
    flows = _flows()
    walker = Walker(server, connector, flows)
    answers = Budget()  # the topic answers alone

    # The welcome, the menu entries without a flow, a greeting.
    user = walker.user()
    walker.measure(await user.install(), "install")
    for item in ("ask", "forums", "help"):
        _, _ = await walker.run([("press", {"action": c.MENU, "item": item})])
    await walker.run([("say", "hej")])

    # Every topic: the short answer first, within the budget.
    for topic in kb.topics:
        assert len(topic.lead.split()) <= MAX_LEAD_WORDS, topic.id
        _, cards = await walker.run([("press", {"action": c.TOPIC, "topic": topic.id})])
        assert cards, topic.id
        answer = cards[0]
        answers.add(answer, topic.id)
        texts = _texts(answer)
        assert " ".join(topic.lead.split()) in texts, topic.id
        _, has_more = words_before_more(answer)
        assert has_more, f"{topic.id}: no 'Visa mer'"
        assert " ".join(topic.answer.split()) in texts  # behind "Visa mer", not gone
    # 👎 on an answer.
    await walker.run(
        [("press", {"action": c.FEEDBACK, "topic": kb.topics[0].id, "vote": "down"})]
    )

    # Every flow node, by pressing buttons.
    starts: list[list[Step]] = [
        [("press", {"action": c.MENU, "item": "concern"})],
        [("press", {"action": c.MENU, "item": "contacts"})],
        [("press", {"action": c.MENU, "item": "sharing"})],
        [("press", {"action": c.FLOW_START, "flow": "report"})],
    ]
    starts += [[*REMEMBERED, *start] for start in starts if start[0][1].get("item") != "sharing"]
    queue: deque[tuple[int, list[Step]]] = deque(enumerate(starts))
    expanded: set[tuple[Any, ...]] = set()
    seen: dict[tuple[str, str], str] = {}
    extras: set[str] = set()
    edges: set[tuple[Any, ...]] = set()
    while queue:
        start, path = queue.popleft()
        _, cards = await walker.run(path)
        shown: set[tuple[str, str]] = set()
        for card in cards:
            shown |= _nodes_shown(card, flows)
        for node in shown:
            seen.setdefault(node, _describe(path))
        todo: list[list[Step]] = []
        for card in cards:
            asked = {
                (d["flow"], d["node"])
                for b in c.buttons_of(card)
                if (d := b.get("data") or {}).get("action") == c.FLOW_ANSWER
            }
            first_time = {k for k in asked if (start, *k) not in expanded}
            last = path[-1][1] if isinstance(path[-1][1], dict) else {"choice": path[-1][1]}
            # The answer to "akut fara?" colours the whole path (by phone today or not).
            acute = next(
                (
                    v.get("choice")
                    for _, v in path
                    if isinstance(v, dict) and v.get("node") == "acute"
                ),
                None,
            )
            edge = (start, acute, last.get("node"), last.get("choice"))
            again = {
                k
                for k in asked
                if k[0] == EVERY_PATH and k[1] not in LOCATION and (*k, *edge) not in edges
            }
            edges.update((*k, *edge) for k in again)
            for b in c.buttons_of(card):
                data = b.get("data") or {}
                action = data.get("action")
                if action == c.FLOW_ANSWER:
                    key = (data["flow"], data["node"])
                    # A location asked again: its first answer only.
                    if (
                        key not in first_time
                        and key not in again
                        and (key[1] not in LOCATION or any(p[:-1] == path for p in todo))
                    ):
                        continue
                    node = flows[key[0]]["nodes"][key[1]]
                    if node["kind"] == "text":
                        if data.get("skip") or data.get("names_ok") or data.get("mask_names"):
                            if key in first_time:
                                todo.append([*path, ("press", data)])
                        else:
                            typed = TYPED.get(key[1], TYPED_OTHER)
                            if key not in first_time:
                                typed = typed[:1]
                            todo.extend([*path, ("say", t)] for t in typed)
                    else:
                        todo.append([*path, ("press", data)])
                elif action in (c.FLOW_WHY, c.FLOW_START):
                    marker = f"{action}:{data.get('flow')}"
                    if marker not in extras:  # "Varför?", "Skriv orosanmälan": once each
                        extras.add(marker)
                        todo.append([*path, ("press", data)])
            expanded |= {(start, *k) for k in asked}
        queue.extend((start, p) for p in todo)

    missing = sorted(_shown_nodes_of(flows) - set(seen) - NOT_IN_EXAMPLE_REGISTRY)
    report = f"{walker.budget.summary()}\nanswers: {answers.summary()}"
    (tmp_path / "budget.txt").write_text(report + "\n", encoding="utf-8")
    print("\n" + report)
    print(f"{len(seen)} flow nodes reached in {next(walker._ids) - 1} conversations")
    print("not reached:", missing)
    assert not walker.budget.failures, "\n".join(walker.budget.failures)
    assert not missing, f"flow nodes not reached by pressing buttons: {missing}"
