"""Fixtures for in-process conversation tests: the real knowledge base, search index, rules,
catalogue and flows; the real registry on a test database; a `Talk` that plays a user.

Between turns the state goes through JSON (as the state store does), so every test also proves
that the dialog state is plain JSON and that the conversation survives a restart.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from common.catalogue import Catalogue
from common.clock import FixedClock
from contacts import texts as contact_texts
from contacts.registry import RegistryService
from dialogs import MESSAGES
from dialogs import cards as c
from dialogs.flow_cards import contact_card_builder
from dialogs.router import Router
from dialogs.types import Incoming, Reply, TurnState
from knowledge.loader import KnowledgeBase, load
from knowledge.rules import RuleSet, load_rules
from knowledge.search import SearchIndex
from knowledge.situations import SituationDetector
from storage.db import Database
from tests.conftest import cached_index

DATA = Path(__file__).resolve().parent / "data"
# A Tuesday in term time, office hours in Stockholm (09:00 local).
WEEKDAY_MORNING = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def index(kb: KnowledgeBase) -> SearchIndex:
    return cached_index(kb)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="session")
def messages() -> Catalogue:
    return Catalogue.load(MESSAGES)


@pytest.fixture
async def registry(sqlite_database: Database) -> AsyncIterator[RegistryService]:
    reg = RegistryService(sqlite_database)
    report = await reg.import_path(DATA / "registry.yaml")
    assert report.ok, report
    yield reg


class FakeFeedback:
    """Counts votes like storage.feedback.FeedbackStore (which has its own database tests)."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    async def record(
        self, topic_id: str, vote: str, *, at: datetime, previous: str | None = None
    ) -> None:
        up, down = self.counts.setdefault(topic_id, [0, 0])
        up += (vote == "up") - (previous == "up")
        down += (vote == "down") - (previous == "down")
        self.counts[topic_id] = [up, down]


@dataclass
class Talk:
    """One user in one conversation, talking to a router; state kept as JSON between turns."""

    router: Router
    clock: FixedClock
    user_id: str = "user-1"
    conversation_id: str = "conv-1"
    conversation_type: str = "personal"
    dialog: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    last: list[Reply] = field(default_factory=list)
    history: list[tuple[str, list[Reply]]] = field(default_factory=list)

    def incoming(self, text: str = "", value: dict[str, Any] | None = None, **kw: Any) -> Incoming:
        return Incoming(
            user_id=self.user_id,
            conversation_id=self.conversation_id,
            text=text,
            value=value,
            conversation_type=self.conversation_type,  # type: ignore[arg-type]
            channel_id="test",
            **kw,
        )

    async def send(self, inc: Incoming) -> list[Reply]:
        state = TurnState(
            now=self.clock.now(),
            dialog=json.loads(json.dumps(self.dialog)),
            user=json.loads(json.dumps(self.user)),
        )
        replies = await self.router.handle(inc, state)
        for effect in state.effects:  # as the turn processor does after saving the state
            await effect()
        # What the state store would keep: plain JSON (fails here if it is not).
        self.dialog = json.loads(json.dumps(state.dialog))
        self.user = json.loads(json.dumps(state.user))
        self.last = replies
        for r in replies:
            if r.card is not None:
                assert r.card["version"] == "1.5"
                assert c.card_bytes(r.card) <= c.MAX_CARD_BYTES
        return replies

    async def say(self, text: str, **kw: Any) -> list[Reply]:
        replies = await self.send(self.incoming(text, **kw))
        self.history.append((text, replies))
        return replies

    def buttons(self) -> list[dict[str, Any]]:
        return [b for r in self.last if r.card for b in c.buttons_of(r.card)]

    def button(self, title: str) -> dict[str, Any]:
        matches = [b for b in self.buttons() if b["title"] == title]
        if not matches:
            matches = [b for b in self.buttons() if title.lower() in b["title"].lower()]
        assert matches, f"no button {title!r} among {[b['title'] for b in self.buttons()]}"
        return matches[-1]

    async def press(self, title: str, **extra: Any) -> list[Reply]:
        data = dict(self.button(title)["data"])
        data.update(extra)
        replies = await self.send(self.incoming("", value=data))
        self.history.append((f"press {title}", replies))
        return replies

    async def press_menu(self, item: str) -> list[Reply]:
        replies = await self.send(self.incoming("", value={"action": c.MENU, "item": item}))
        self.history.append((f"menu {item}", replies))
        return replies

    def texts(self, replies: list[Reply] | None = None) -> str:
        out: list[str] = []
        for r in self.last if replies is None else replies:
            if r.text:
                out.append(r.text)
            if r.card:
                out.extend(c.texts_of(r.card))
                out.extend(b["title"] for b in c.buttons_of(r.card))
        return "\n".join(out)

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)


@functools.cache
def bundled_situations() -> SituationDetector:
    """The detector of the bundled knowledge base, from the tests' cache (trained once)."""
    return SituationDetector.load_or_build(None, Path(os.environ["SAMVERKAN_CACHE_DIR"]))


def make_router(
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet | None,
    messages: Catalogue,
    clock: FixedClock,
    **kw: Any,
) -> Router:
    kw.setdefault("contact_card", contact_card_builder(contact_texts()))
    kw.setdefault("situations", bundled_situations())
    return Router(kb=kb, index=index, rules=rules, messages=messages, clock=clock, **kw)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEEKDAY_MORNING)


@pytest.fixture
def feedback() -> FakeFeedback:
    return FakeFeedback()


@pytest.fixture
def talk(
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    clock: FixedClock,
    registry: RegistryService,
    feedback: FakeFeedback,
) -> Talk:
    router = make_router(kb, index, rules, messages, clock, registry=registry, feedback=feedback)
    return Talk(router=router, clock=clock)
