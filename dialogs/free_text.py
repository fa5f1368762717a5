"""Replies to free text that is no command and no answer: thanks and greetings, a child at risk
described (the 112 and concern cards), glossary terms, and search's answer, suggestions or decline.

Mid-flow (typed text that does not answer the waiting question) the replies carry the button
that resumes the dialog. The order in which the router reads a turn: dialogs.router.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, Protocol

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.answers import TopicCards
from dialogs.engine import FlowEngine
from dialogs.learning import LearningLoop
from dialogs.menu import MenuCards
from dialogs.state import DialogState, Turn
from dialogs.text import matches_phrase, starts_with_phrase, words
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase
from knowledge.situations import Situation, SituationDetector

log = logging.getLogger(__name__)

# A message of more than this many words that search cannot place gets a "one question at a
# time" decline instead of "I only answer questions about…" (it is most likely a worry told).
LONG_MESSAGE_WORDS = 25

# Starts a flow by its id (the router's, which checks what the flow needs first).
FlowStarter = Callable[[Turn, str], Awaitable[list[Reply]]]


class Searcher(Protocol):
    def search(self, question: str, *, day: date, limit: int = 3) -> Any: ...


class FreeText:
    """What to answer to free text, in the conversation's catalogue."""

    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        index: Searcher,
        messages: Catalogue,
        situations: SituationDetector,
        topics: TopicCards,
        engine: FlowEngine,
        menu: MenuCards,
        start: FlowStarter,
        learning: LearningLoop | None = None,
    ) -> None:
        self.kb = kb
        self.index = index
        self.msg = messages
        self.situations = situations
        self.topics = topics
        self.engine = engine
        self.menu = menu
        self.start = start
        self.learning = learning if learning is not None else LearningLoop(messages, kb, None)

    def is_answer_word(self, text: str) -> bool:
        """ja, nej, vet inte, hoppa över: an answer to a question, never a question itself."""
        return any(
            matches_phrase(text, self.msg.phrases(key))
            for key in ("words.yes", "words.no", "words.unknown", "words.skip")
        )

    def safety_net(self, text: str) -> list[Reply]:
        """A typed answer that also tells of acute danger ("kanske, hon vågar inte gå hem") gets
        the 112 card first, as any message does."""
        if len(words(text)) < 3:
            return []
        situation = self.situations(text)
        if situation.acute:
            log.info("situation: acute in a typed answer")
            return [self._acute_reply()]
        return []

    async def reply(self, turn: Turn, text: str, *, midflow: bool) -> list[Reply]:
        if not has_words(text):
            if any(e in text for e in self.msg.phrases("words.thanks_emoji")):
                return [Reply(text=self.msg.text("small.thanks")), *self.engine.prompt(turn)]
            return [Reply(text=self.msg.text("router.no_words")), *self.engine.prompt(turn)]
        if not midflow and self.is_answer_word(text):
            # An answer with no question waiting (the dialog ended or expired).
            return [Reply(text=self.msg.text("router.no_question")), self.menu.reply(turn)]
        if matches_phrase(text, self.msg.phrases("words.greetings")):
            return [self.menu.greeting_reply(turn)]
        if matches_phrase(text, self.msg.phrases("words.thanks")):
            return [Reply(text=self.msg.text("small.thanks")), *self.engine.prompt(turn)]
        situation = self.situations(text)
        if situation.concern or situation.acute:
            return await self._situation(turn, text, situation, midflow=midflow)
        if starts_with_phrase(text, self.msg.phrases("words.who_to_call"), max_words=14):
            # "vem ska jag ringa ikväll, det är efter 17": the number, not an article.
            return await self.call_now_reply(turn, midflow=midflow)
        result = None
        if starts_with_phrase(text, self.msg.phrases("words.thanks"), max_words=8):
            # "Tack för hjälpen, du är bäst!" — checked after the situation check, and only
            # when the rest says nothing the knowledge base knows.
            result = self.index.search(text, day=turn.day)
            if result.decision == "decline":
                return [Reply(text=self.msg.text("small.thanks")), *self.engine.prompt(turn)]
        return await self._search_reply(turn, text, midflow=midflow, result=result)

    async def _situation(
        self, turn: Turn, text: str, situation: Situation, *, midflow: bool
    ) -> list[Reply]:
        """A message that describes a child who may be harmed is never declined: the 112 card
        first when the danger may be acute, the concern dialog offered (or, for "jag är orolig
        för en elev", started) with what to do first, and the best topic when there is one."""
        in_concern = midflow and (cur := self.engine.current(turn)) is not None and (
            cur[1].id == "concern"
        )
        if situation.worry_only and not midflow:
            log.info("situation: worry, dialog started")
            return await self.start(turn, "concern")
        replies: list[Reply] = []
        if situation.acute:
            replies.append(self._acute_reply())
        elif situation.concern and not in_concern:
            replies.append(self._concern_reply())
        log.info("situation: concern=%s acute=%s", situation.concern, situation.acute)
        result = self.index.search(text, day=turn.day)
        if result.decision == "decline":
            if midflow:
                replies.extend(self.engine.prompt(turn))
            return replies
        return [*replies, *(await self._search_reply(turn, text, midflow=midflow, result=result))]

    async def call_now_reply(self, turn: Turn, *, midflow: bool) -> list[Reply]:
        """Who to phone now, as far as known without a question (the remembered school,
        socialjouren), with the way to the full contacts and the concern dialog."""
        scratch = DialogState({"v": 1, "flow": "", "vars": {}, "facts": {}})
        await self.engine.actions.run("call_now", {}, turn, scratch)
        found = scratch.vars
        body: list[dict[str, Any]] = [c.heading(self.msg.text("call_now.title"))]
        if found.get("call_now_known"):
            name, phone = found["call_now_name"], found["call_now_phone"]
            body.append(c.text(self.msg.text("call_now.on_duty", name=name, phone=phone),
                               weight="Bolder"))
        if found.get("socialjour_known"):
            line = self.msg.text("contacts.socialjour", phone=str(found["socialjour_phone"]))
            body.append(c.text(line, weight="Bolder"))
        if not found.get("call_now_known") and not found.get("socialjour_known"):
            body.append(c.text(self.msg.text("call_now.unknown")))
        body.append(c.text(self.msg.text("call_now.more")))
        body.append(c.container([c.text(self.msg.text("welcome.acute"), weight="Bolder")],
                                style="attention"))
        buttons = [
            *(self.menu.resume_button(turn) if midflow else []),
            c.submit(self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}),
            c.submit(self.msg.text("menu.items.concern"), {"action": c.MENU, "item": "concern"}),
        ]
        body.extend(c.action_set([b]) for b in buttons)
        return [Reply(card=c.card(body), summary=self.msg.text("call_now.title"))]

    def _concern_reply(self) -> Reply:
        body = [
            c.container(
                [
                    c.heading(self.msg.text("concern_offer.title")),
                    c.bullets(list(self.msg.phrases("concern_offer.steps"))),
                ],
                style="warning",
            ),
            c.action_set(
                [
                    c.submit(
                        self.msg.text("concern_offer.start"),
                        {"action": c.FLOW_START, "flow": "concern"},
                        style="positive",
                    )
                ]
            ),
            c.action_set(
                [
                    c.submit(
                        self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}
                    )
                ]
            ),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("concern_offer.title"))

    def _acute_reply(self) -> Reply:
        body = [
            c.container(
                [
                    c.heading(self.msg.text("acute.title")),
                    c.text(self.msg.text("acute.text")),
                ],
                style="attention",
            ),
            *c.action_rows(
                [
                    c.submit(
                        self.msg.text("menu.items.concern"),
                        {"action": c.FLOW_START, "flow": "concern"},
                    ),
                    c.submit(
                        self.msg.text("acute.read_more"), {"action": c.TOPIC, "topic": "akut-fara"}
                    ),
                    c.submit(
                        self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}
                    ),
                ]
            ),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("acute.summary"))

    async def _search_reply(
        self, turn: Turn, text: str, *, midflow: bool, result: Any = None
    ) -> list[Reply]:
        explain = getattr(self.index, "explain_term", None)
        term = explain(text) if callable(explain) else None
        if term is not None:
            card = self.topics.glossary_card(term, turn.day)
            if midflow:
                card["body"].extend(c.action_rows(self.menu.resume_button(turn)))
            return [Reply(card=card, summary=term.term)]
        if result is None:
            result = self.index.search(text, day=turn.day)
        question = self.learning.question(text)  # carried by buttons, never kept
        if result.decision == "answer" and result.topic and self.kb.topic(result.topic, turn.day):
            instead = [h.topic_id for h in result.alternatives] if result.tentative else []
            replies = self.answer(
                turn, result.topic, midflow=midflow, instead=instead, question=question
            )
            if result.english:  # the one place English gets its note
                replies.insert(0, Reply(text=self.msg.text("answer.in_swedish")))
            return replies
        if result.decision in ("answer", "suggest"):
            ids = [result.topic] if result.topic else []
            ids += [h.topic_id for h in result.alternatives]
            suggest = self.topics.suggest_card(
                list(dict.fromkeys(ids)),
                turn.day,
                extra_actions=self.menu.resume_button(turn) if midflow else (),
                question=question,
            )
            if suggest is not None:
                return [Reply(card=suggest, summary=self.msg.text("suggest.title"))]
        if midflow:
            return self.engine.not_understood(turn)
        long = len(text.split()) > LONG_MESSAGE_WORDS
        return [self.decline(turn, midflow=False, long=long, question=None if long else question)]

    def answer(
        self,
        turn: Turn,
        topic_id: str,
        *,
        midflow: bool,
        instead: Sequence[str] = (),
        question: str | None = None,
    ) -> list[Reply]:
        topic = self.kb.topic(topic_id, turn.day)
        assert topic is not None
        waiting = self.engine.waiting(turn) if midflow else None
        lead = (
            self.msg.text("flow.answer_lead", title=waiting[1].title)
            if waiting is not None
            else None
        )
        card = self.topics.answer_card(
            topic,
            turn.day,
            lead=lead,
            extra_actions=self.menu.resume_button(turn) if midflow else (),
            feedback=True,
            instead=instead,
            question=self.learning.question(question),
        )
        return [Reply(card=card, summary=topic.title)]

    def decline(
        self, turn: Turn, *, midflow: bool, long: bool = False, question: str | None = None
    ) -> Reply:
        """The kind decline; with `question` (what the user typed, not a long message) it
        offers to suggest the question for the knowledge base (dialogs.learning)."""
        buttons = self.menu.resume_button(turn) if midflow else []
        contacts = c.submit(
            self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}
        )
        concern = c.submit(
            self.msg.text("menu.items.concern"), {"action": c.MENU, "item": "concern"}
        )
        # A long message is most likely a worry told in full: the guided dialog comes first.
        buttons += [concern, contacts] if long else [contacts, concern]
        buttons.append(c.submit(self.msg.text("offer.menu"), {"action": c.MENU}))
        title = self.msg.text("decline.long_title" if long else "decline.title")
        offer = self.learning.offer_blocks(question, source="decline")
        return Reply(card=self.topics.decline_card(buttons, long=long, extra=offer), summary=title)


def has_words(text: str) -> bool:
    """False for emoji, punctuation and the like only (digits count: "112")."""
    return any(ch.isalnum() for ch in text)

