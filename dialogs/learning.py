"""The learning loop: "Föreslå frågan till kunskapsbasen" under a decline and under the reply to
👎, and what happens when it is pressed.

Nothing the user typed is kept before the press: not in the dialog or user state, not in logs.
The question travels in the button's own data (the card the user already sees in the chat holds
it) and comes back with the press; only then is it masked and stored (storage.suggestions, which
masks with dialogs.masking). The press carries data anyone could forge: a question that is not
text, is empty or is longer than MAX_QUESTION_CHARS gets a Swedish message and nothing is
stored; a user can suggest at most MAX_PER_DAY questions a day (a count in the user's profile,
no text).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.state import Turn
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)

# Longest question offered and accepted (a longer message is most likely a worry told in full,
# which belongs with socialtjänsten, not in the knowledge base's inbox).
MAX_QUESTION_CHARS = 300
MAX_PER_DAY = 20
SOURCES = ("decline", "feedback")
_COUNTER = "kb_suggested"  # user profile: {"day": "YYYY-MM-DD", "n": count}


class SuggestionSink(Protocol):
    async def add(self, text: str, *, source: Any, topic_id: str | None = None) -> str: ...


def offerable(question: str | None) -> str | None:
    """The question to put on the button, or None when there is none worth offering."""
    if not isinstance(question, str):
        return None
    q = question.strip()
    if not q or len(q) > MAX_QUESTION_CHARS or not any(ch.isalpha() for ch in q):
        return None
    return q


class LearningLoop:
    def __init__(
        self, messages: Catalogue, kb: KnowledgeBase, store: SuggestionSink | None
    ) -> None:
        self.msg = messages
        self.kb = kb
        self.store = store

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def question(self, question: str | None) -> str | None:
        """What to carry on the buttons that may lead to the offer (None: offer nothing)."""
        return offerable(question) if self.enabled else None

    def button(
        self, question: str | None, *, source: str, topic: str | None = None
    ) -> dict[str, Any] | None:
        q = self.question(question)
        if q is None:
            return None
        data: dict[str, Any] = {"action": c.KB_SUGGEST, "q": q, "from": source}
        if topic:
            data["topic"] = topic
        return c.submit(self.msg.text("kb_suggest.button"), data)

    def offer_blocks(
        self,
        question: str | None,
        *,
        source: str,
        topic: str | None = None,
        key: str = "kb_suggest.offer",
    ) -> list[dict[str, Any]]:
        """The offer's text and button for the bottom of a card (nothing when not offerable)."""
        button = self.button(question, source=source, topic=topic)
        if button is None:
            return []
        return [
            c.text(self.msg.text(key), size="Small", subtle=True, separator=True),
            c.action_set([button]),
        ]

    async def press(self, turn: Turn, value: dict[str, Any]) -> list[Reply]:
        q = value.get("q")
        if not isinstance(q, str) or not q.strip() or not any(ch.isalpha() for ch in q):
            return [Reply(text=self.msg.text("kb_suggest.empty"))]
        if len(q.strip()) > MAX_QUESTION_CHARS:
            return [Reply(text=self.msg.text("kb_suggest.too_long", limit=MAX_QUESTION_CHARS))]
        if self.store is None:
            return [Reply(text=self.msg.text("kb_suggest.not_stored"))]
        source = value.get("from") if value.get("from") in SOURCES else "decline"
        topic = value.get("topic")
        topic_id = topic if isinstance(topic, str) and self.kb.topic(topic, turn.day) else None
        counter = turn.state.user.get(_COUNTER)
        today = turn.day.isoformat()
        n = counter.get("n", 0) if isinstance(counter, dict) and counter.get("day") == today else 0
        if not isinstance(n, int) or n >= MAX_PER_DAY:
            return [Reply(text=self.msg.text("kb_suggest.limit", limit=MAX_PER_DAY))]
        try:
            stored = await self.store.add(q.strip(), source=source, topic_id=topic_id)
        except Exception as exc:
            log.warning("knowledge-base suggestion not stored: %s", type(exc).__name__)
            return [Reply(text=self.msg.text("kb_suggest.not_stored"))]
        turn.state.user[_COUNTER] = {"day": today, "n": n + 1}
        log.info("knowledge-base suggestion stored (source=%s)", source)
        return [self._thanks(stored)]

    def _thanks(self, stored: str) -> Reply:
        body = [
            c.heading(self.msg.text("kb_suggest.thanks_title")),
            c.text(self.msg.text("kb_suggest.thanks")),
            c.text(self.msg.text("kb_suggest.stored", text=stored), weight="Bolder"),
            c.text(self.msg.text("kb_suggest.privacy"), size="Small", subtle=True),
            c.text(self.msg.text("kb_suggest.next"), separator=True),
            c.action_set(
                [
                    c.submit(
                        self.msg.text("menu.items.contacts"),
                        {"action": c.MENU, "item": "contacts"},
                    ),
                    c.submit(self.msg.text("offer.menu"), {"action": c.MENU}),
                ]
            ),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("kb_suggest.thanks_title"))
