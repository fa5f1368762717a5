"""The walk of tests/e2e/test_every_card.py: every flow node reached by pressing buttons (a typed
answer where a node asks for text), one fresh conversation per path, breadth first; a question is
expanded the first time it is seen. Each card seen is measured against the phone budget of
tests/e2e/card_budget.py.

A walk talks to the bot through a `Channel`: over HTTP to the real server (`HttpChannel`, as Teams
does), or in this process (`InProcessChannel`): the same activities go through the bot's own
`to_incoming`, the server's turn processor (state saved in SQLite between turns) and the server's
`reply_body`, so the cards are the ones the server would post, without HTTP, botbuilder and a
second process.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml
from botbuilder.schema import Activity

from bot.activities import to_incoming
from bot.replies import reply_body
from dialogs import cards as c
from knowledge.loader import DEFAULT_DIR
from samverkan.services import Services
from samverkan.turns import TurnProcessor, dialog_key, user_key
from storage.state_store import ETAG_KEY, NEW_ETAG
from tests.e2e.card_budget import MAX_WORDS_BEFORE_MORE, Budget
from tests.e2e.helpers import TeamsUser, card_of
from tests.e2e.server import ServerProcess
from tests.fakes import teams
from tests.fakes.connector import FakeConnector

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
# The concern flow's own questions decide its outcome: with `every_path`, each is walked again for
# every answer that led to it and every answer to the first question (every edge of the graph,
# not every path: tests/dialogs/test_concern_paths.py walks every path in process), so that every
# outcome is reached.
EVERY_PATH = "concern"
# Nodes allowed over the bar: none. (Words the user typed, shown back in the draft, do not
# count: the bot cannot shorten them.)
WORDS_PENDING: dict[tuple[str, str], int] = {}

Step = tuple[str, Any]  # ("press", data) | ("say", text)
# A user whose school the bot remembers (then "Arbetar du på Engelbrektsskolan?" is asked).
REMEMBERED: list[Step] = [
    ("press", {"action": c.MENU, "item": "contacts"}),
    ("press", {"action": c.FLOW_ANSWER, "flow": "contacts", "node": "purpose", "choice": "report"}),
    ("say", "Engelbrektsskolan"),
    ("say", "Östermalm"),
]
STARTS: list[list[Step]] = [
    [("press", {"action": c.MENU, "item": "concern"})],
    [("press", {"action": c.MENU, "item": "contacts"})],
    [("press", {"action": c.MENU, "item": "sharing"})],
    [("press", {"action": c.FLOW_START, "flow": "report"})],
]
STARTS += [[*REMEMBERED, *start] for start in STARTS if start[0][1].get("item") != "sharing"]


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_][a-z0-9_]*\}", " ".join(template.split()))
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def load_flows(folder: Path = FLOWS_DIR) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


def texts(card: dict[str, Any]) -> list[str]:
    return [" ".join(t.split()) for t in c.texts_of(card)]


def nodes_shown(card: dict[str, Any], flows: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """The flow nodes a card shows: questions and text nodes by their buttons' data, outcomes
    by their title, info nodes by their text."""
    found: set[tuple[str, str]] = set()
    for b in c.buttons_of(card):
        data = b.get("data") or {}
        if data.get("action") == c.FLOW_ANSWER and "flow" in data and "node" in data:
            found.add((data["flow"], data["node"]))
    shown = texts(card)
    for kind, key in (("outcome", "title"), ("info", "text")):
        for flow_id, flow in flows.items():
            for node_id, node in flow["nodes"].items():
                if node["kind"] == kind:
                    pat = _pattern(node[key])
                    if any(pat.fullmatch(t) for t in shown):
                        found.add((flow_id, node_id))
    return found


def shown_nodes_of(flows: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (fid, nid)
        for fid, flow in flows.items()
        for nid, node in flow["nodes"].items()
        if node["kind"] != "action"
    }


def describe(path: Sequence[Step]) -> str:
    return " → ".join(
        str(v.get("choice") or v.get("item") or v.get("flow") or v.get("action"))
        if k == "press"
        else repr(v)
        for k, v in path
    )


class Conversation(Protocol):
    async def say(self, text: str) -> list[dict[str, Any]]: ...

    async def press(self, data: dict[str, Any]) -> list[dict[str, Any]]: ...

    async def fork(self, n: int) -> Conversation | None:
        """A new conversation (number `n`) in the state this one is in now; None: the channel
        cannot (the path is replayed from its start)."""


class Channel(Protocol):
    def conversation(self, n: int) -> Conversation: ...


class _HttpConversation:
    def __init__(self, user: TeamsUser) -> None:
        self.user = user

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.user.say(text)

    async def press(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        u = self.user
        return await u._send(teams.press(u.connector.url, u.conversation_id, u.user_id, data))

    async def fork(self, n: int) -> Conversation | None:
        return None


class HttpChannel:
    """The real server over HTTP; replies read from the fake Bot Connector."""

    def __init__(self, server: ServerProcess, connector: FakeConnector) -> None:
        self.server = server
        self.connector = connector

    def user(self, n: int) -> TeamsUser:
        return TeamsUser(self.server, self.connector, f"a:walk-{n}", f"walk-{n}")

    def conversation(self, n: int) -> Conversation:
        return _HttpConversation(self.user(n))


class _InProcessConversation:
    SERVICE_URL = "http://127.0.0.1:9/connector"  # never called: replies are returned

    def __init__(self, channel: InProcessChannel, n: int) -> None:
        self.channel = channel
        self.conversation_id = f"a:inproc-{n}"
        self.user_id = f"inproc-{n}"

    def _keys(self) -> tuple[str, str]:
        """The keys of this conversation's dialog and its user's state, as the server makes them."""
        body = teams.message(self.SERVICE_URL, self.conversation_id, self.user_id, "")
        inc = to_incoming(Activity().deserialize(body), max_chars=1)
        return dialog_key(inc), user_key(inc)

    async def fork(self, n: int) -> Conversation | None:
        """The stored state documents (the dialog and the user's) copied, as they are, to the
        keys of a new conversation and user: the server goes on from there as it would have in
        this one (the button stamps name the dialog, which is in the copy)."""
        child = _InProcessConversation(self.channel, n)
        store = self.channel.services.store
        docs = await store.read(self._keys())
        copies = {}
        for key, child_key in zip(self._keys(), child._keys(), strict=True):
            if key in docs:
                copies[child_key] = {**docs[key], ETAG_KEY: NEW_ETAG}
        await store.write(copies)
        return child

    async def _turn(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        # The server's way: JSON → Activity → Incoming → turn (state saved) → reply bodies.
        body = json.loads(json.dumps(body))
        activity = Activity().deserialize(body)
        inc = to_incoming(activity, max_chars=self.channel.services.settings.max_text_chars)
        replies = await self.channel.turns.message(inc)
        return [json.loads(json.dumps(reply_body(body, r), ensure_ascii=False)) for r in replies]

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._turn(
            teams.message(self.SERVICE_URL, self.conversation_id, self.user_id, text)
        )

    async def press(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return await self._turn(
            teams.press(self.SERVICE_URL, self.conversation_id, self.user_id, data)
        )


class InProcessChannel:
    """The server's services and turn processor in this process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.turns: TurnProcessor = services.turns()

    def conversation(self, n: int) -> Conversation:
        return _InProcessConversation(self, n)


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


class Walker:
    def __init__(
        self,
        channel: Channel,
        flows: dict[str, dict[str, Any]],
        budget: Budget | None = None,
        measured: set[tuple[str, int]] | None = None,
    ) -> None:
        self.flows = flows
        self.channel = channel
        self.budget = budget if budget is not None else Budget()
        self.measured = measured if measured is not None else set()
        self._ids = itertools.count(1)
        self._cards: dict[str, tuple[int, str]] = {}  # card → (its nodes' word limit, its text)
        self.conversations = 0
        self.track = False  # collect `reached`: the nodes of every card of every step
        self.last: Conversation | None = None
        self.reached: dict[tuple[str, str], list[Step]] = {}

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
            info = self._cards.get(key)
            if info is None:
                nodes = nodes_shown(card, flows) if flows else set()
                most = max([WORDS_PENDING.get(n, MAX_WORDS_BEFORE_MORE) for n in nodes] or [0])
                info = self._cards[key] = (most, " ".join(texts(card)))
            most, text = info
            own = sum(len(t.split()) * text.count(t) for t in set(typed))  # the user's words
            limit = max(most, MAX_WORDS_BEFORE_MORE) + own
            if (key, limit) not in self.measured:  # each card once per limit it is held to
                self.measured.add((key, limit))
                self.budget.add(card, where, limit)
        return cards

    async def run(
        self, path: Sequence[Step], parent: tuple[Conversation, list[dict[str, Any]]] | None = None
    ) -> list[dict[str, Any]]:
        """Replay `path` as a new user. A press is made on the button of the cards just shown
        whose data matches (so it carries this user's dialog id and step, as in Teams).
        `parent`: the conversation that walked `path` but its last step, and the cards it was
        shown then; when the channel can fork it, the new user starts in its state and takes
        only the last step. The conversation is kept in `self.last`."""
        self.conversations += 1
        n = next(self._ids)
        user = await parent[0].fork(n) if parent is not None else None
        steps: Sequence[Step] = path
        cards: list[dict[str, Any]] = []
        if user is not None and parent is not None:
            steps, cards = path[-1:], parent[1]
        else:
            user = self.channel.conversation(n)
        self.last = user
        typed = [v for k, v in path if k == "say" and isinstance(v, str)]
        for kind, value in steps:
            if kind == "say":
                replies = await user.say(value)
            else:
                replies = await user.press(_this_users_button(cards, value))
            cards = self.measure(replies, describe(path), self.flows, typed)
            if self.track:
                for card in cards:
                    for node in nodes_shown(card, self.flows):
                        self.reached.setdefault(node, list(path))
        return cards

    async def explore(self, *, every_path: bool) -> dict[tuple[str, str], list[Step]]:
        """Walk every flow from STARTS, breadth first; each flow node shown and the first path
        that showed it. With `every_path`, the concern flow's questions are walked again for
        every edge (EVERY_PATH); without, each question once (every node it reaches)."""
        flows = self.flows
        Parent = tuple[Conversation, list[dict[str, Any]]] | None
        queue: deque[tuple[int, list[Step], Parent]] = deque(
            (i, start, None) for i, start in enumerate(STARTS)
        )
        expanded: set[tuple[Any, ...]] = set()
        seen: dict[tuple[str, str], list[Step]] = {}
        extras: set[str] = set()
        edges: set[tuple[Any, ...]] = set()
        while queue:
            start, path, parent = queue.popleft()
            cards = await self.run(path, parent)
            assert self.last is not None
            here = (self.last, cards)
            for card in cards:
                for node in nodes_shown(card, flows):
                    seen.setdefault(node, path)
            todo: list[list[Step]] = []
            for card in cards:
                asked = {
                    (d["flow"], d["node"])
                    for b in c.buttons_of(card)
                    if (d := b.get("data") or {}).get("action") == c.FLOW_ANSWER
                }
                first_time = {k for k in asked if (start, *k) not in expanded}
                again: set[tuple[str, str]] = set()
                if every_path:
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
            queue.extend((start, p, here) for p in todo)
        return seen
