"""The conversation's front door: every message and button press goes through `Router.handle`.

Order of reading a turn:
1. An abandoned dialog older than the dialog TTL is forgotten, and the user is told so kindly.
2. A pressed button (`Incoming.value`) does what its `action` says.
3. Typed commands work at any time: "hjälp", "meny", "avbryt", "tillbaka"/"ändra svar", "fortsätt".
4. In a guided dialog, typed text is first tried as the answer; if it is not one, it is treated
   as a question asked mid-flow: answered from the knowledge base, with "Fortsätt där du var".
5. Otherwise: menu entries typed as text, greetings and thanks, glossary questions ("vad betyder
   BUS?"), and everything else goes to search: an answer card, "Menade du…?" or a kind decline.

Privacy: nothing the user types is logged; only flow and node ids and event names are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from common.catalogue import Catalogue
from common.clock import Clock, local
from contacts import card as contact_cards
from dialogs import cards as c
from dialogs.actions import FlowActions, Registry, RuleEngine
from dialogs.answers import TopicCards
from dialogs.engine import FlowEngine, FlowError
from dialogs.flows import Flow, load_flows
from dialogs.state import DialogState, Turn
from dialogs.text import (
    contains_personnummer,
    fold_known,
    fold_plain,
    mask_personnummer,
    matches_phrase,
    starts_with_phrase,
)
from dialogs.types import Incoming, Reply, TurnState
from forums import card as forum_cards
from knowledge.loader import KnowledgeBase
from knowledge.situations import Situation, SituationDetector

log = logging.getLogger(__name__)

MAX_VOTES_REMEMBERED = 200
MAX_MARKS = 20
MARK_SLACK = timedelta(hours=1)

# Menu item → flow it starts (the others are handled by the router itself).
MENU_FLOWS = {"concern": "concern", "contacts": "contacts", "sharing": "sharing"}
MENU_TITLE_KEYS = {
    "ask": "menu.items.ask",
    "concern": "menu.items.concern",
    "contacts": "menu.items.contacts",
    "sharing": "menu.items.sharing",
    "forums": "menu.items.forums",
    "help": "menu.items.help",
}
# Typed commands that work at any time → the catalogue's list of words for them.
COMMAND_WORDS = {
    "help": "words.help",
    "menu": "words.menu",
    "cancel": "words.cancel",
    "back": "words.back",
    "resume": "words.resume",
    "restart": "words.restart",
}
# A message of more than this many words that search cannot place gets a "one question at a
# time" decline instead of "I only answer questions about…" (it is most likely a worry told).
LONG_MESSAGE_WORDS = 25
# The forum cards' buttons (forums.card.SUBSCRIBE / UNSUBSCRIBE).
FORUM_SUBSCRIBE = "forum.subscribe"
FORUM_UNSUBSCRIBE = "forum.unsubscribe"


class Searcher(Protocol):
    def search(self, question: str, *, day: date, limit: int = 3) -> Any: ...


class Feedback(Protocol):
    async def record(
        self, topic_id: str, vote: Any, *, at: datetime, previous: Any = None
    ) -> None: ...


class Conversations(Protocol):
    async def get(self, channel_id: str, conversation_id: str) -> Any: ...

    async def personal_for_user(self, channel_id: str, user_id: str) -> Any: ...


class ForumCards(Protocol):
    """The forum helper's card builders, bound to the forums catalogue (forum_card_builder)."""

    def upcoming(
        self,
        occurrences: Sequence[Any],
        *,
        subscribed_me: set[str],
        subscribed_channel: set[str] | None,
    ) -> dict[str, Any]: ...


class Router:
    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        index: Searcher,
        rules: RuleEngine | None,
        messages: Catalogue,
        clock: Clock,
        registry: Registry | None = None,
        forums: Any | None = None,
        feedback: Feedback | None = None,
        conversations: Conversations | None = None,
        flows: Mapping[str, Flow] | None = None,
        contact_card: Callable[[Any], dict[str, Any] | None] | None = None,
        forum_cards: ForumCards | None = None,
        situations: SituationDetector | None = None,
        dialog_ttl: timedelta = timedelta(hours=24),
        forum_days: int = 60,
    ) -> None:
        self.kb = kb
        self.index = index
        self.rules = rules
        self.msg = messages
        self.situations = situations if situations is not None else SituationDetector.build(
            kb.directory
        )
        self.clock = clock
        self.registry = registry
        self.forums = forums
        self.feedback = feedback
        self.conversations = conversations
        self.forum_cards = forum_cards
        self.ttl = dialog_ttl
        self.forum_days = forum_days
        self.topics = TopicCards(kb, messages)
        self.flows = dict(flows) if flows is not None else load_flows(kb.directory)
        self.engine = FlowEngine(
            self.flows,
            FlowActions(rules=rules, registry=registry),
            messages,
            self.topics,
            contact_card=contact_card,
        )

    # --- entry points --------------------------------------------------------------------------

    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return [Reply(card=self.welcome_card(), summary=self.msg.text("welcome.summary"))]

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        turn = self._turn(inc, state)
        notes = self._expire(turn)
        try:
            replies = await self._dispatch(turn)
        except FlowError:
            log.exception("flow failed; dialog state cleared")
            state.dialog.clear()
            replies = [Reply(text=self.msg.text("router.flow_broken")), self._menu_reply(turn)]
        self._mark(turn)
        return [*notes, *replies]

    def _turn(self, inc: Incoming, state: TurnState) -> Turn:
        now = state.now if state.now.tzinfo is not None else self.clock.now()
        return Turn(inc=inc, state=state, now=now, day=local(now).date())

    # --- expiry --------------------------------------------------------------------------------

    def _expire(self, turn: Turn) -> list[Reply]:
        dialog = turn.state.dialog
        marks = turn.state.user.get("dialog_marks")
        conv = turn.inc.conversation_id
        if dialog:
            ds = DialogState(dialog)
            updated = ds.updated_at() if DialogState.present(dialog) else None
            cur = self.engine.current(turn) if DialogState.present(dialog) else None
            if updated is None or cur is None:
                dialog.clear()  # an old or unknown state shape: start afresh, quietly
                return [Reply(text=self.msg.text("flow.reset"))]
            if turn.now - updated > self.ttl:
                dialog.clear()
                return [Reply(text=self.msg.text("flow.expired"))]
            return []
        if isinstance(marks, dict) and conv in marks:
            deadline = _parse(marks.pop(conv))
            if not marks:
                turn.state.user.pop("dialog_marks", None)
            if deadline is not None and turn.now >= deadline:
                return [Reply(text=self.msg.text("flow.expired"))]
        return []

    def _mark(self, turn: Turn) -> None:
        """Remember (in the user's profile: no content, only when) that a dialog is open here,
        so that the user can be told it expired after the store has dropped it."""
        conv = turn.inc.conversation_id
        marks = turn.state.user.get("dialog_marks")
        if not isinstance(marks, dict):
            marks = {}
        if turn.state.dialog:
            deadline = turn.now + self.ttl
            old = _parse(marks.get(conv))
            if old is None or deadline - old > MARK_SLACK:
                marks[conv] = deadline.isoformat()
                while len(marks) > MAX_MARKS:
                    marks.pop(next(iter(marks)))
                turn.state.user["dialog_marks"] = marks
        elif conv in marks:
            marks.pop(conv)
            if marks:
                turn.state.user["dialog_marks"] = marks
            else:
                turn.state.user.pop("dialog_marks", None)

    # --- dispatch ------------------------------------------------------------------------------

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        value = turn.inc.value
        if isinstance(value, dict) and isinstance(value.get("action"), str):
            return await self._button(turn, value)
        text = turn.inc.text.strip()
        if not text:
            return [Reply(text=self.msg.text("router.empty")), *self.engine.prompt(turn)]
        prefix: list[Reply] = []
        if turn.inc.truncated:
            prefix.append(Reply(text=self.msg.text("router.truncated")))
        command = self._command(text)
        waiting = self.engine.waiting(turn)
        if command == "resume" and waiting is not None and not self._at_text_field(waiting):
            # "Fortsätt" may also be the answer itself ("Fortsätt – hjälp mig vidare").
            answered = await self.engine.answer(turn, value=None, text=text)
            if answered is not None:
                return [*prefix, *answered]
        if command is not None:
            return [*prefix, *(await self._run_command(turn, command))]
        entry = self._typed_entry(text)
        if entry is not None:
            # A menu entry or a flow typed by its title is the same as pressing its button.
            kind, name = entry
            started = await (
                self._menu_item(turn, name) if kind == "menu" else self._start(turn, name)
            )
            return [*prefix, *started]
        if waiting is None and matches_phrase(text, self.msg.phrases("words.why")):
            # "Varför?" typed under an outcome instead of pressing its button.
            cur = self.engine.current(turn)
            if cur is not None and cur[0].vars.get("reasons"):
                return [*prefix, *self._why(turn)]
        at_text_field = waiting is not None and self._at_text_field(waiting)
        question = text
        if contains_personnummer(text) and not at_text_field:
            prefix.append(Reply(text=self.msg.text("router.personnummer")))
            # The number says nothing about the question: search without it.
            question = mask_personnummer(text, " ")
        if waiting is not None:
            answered = await self.engine.answer(turn, value=None, text=text)
            if answered is not None:
                return [*prefix, *answered]
            if self._answer_word(text) or not _has_words(text):
                # "nej" where "nej" is no choice, or an emoji: not a question to search for.
                return [*prefix, *self.engine.not_understood(turn)]
            return [*prefix, *(await self._free_text(turn, question, midflow=True))]
        return [*prefix, *(await self._free_text(turn, question, midflow=False))]

    @staticmethod
    def _at_text_field(waiting: tuple[DialogState, Flow]) -> bool:
        ds, flow = waiting
        return flow.nodes[ds.node].kind == "text"

    def _answer_word(self, text: str) -> bool:
        """ja, nej, vet inte, hoppa över: an answer to a question, never a question itself."""
        return any(
            matches_phrase(text, self.msg.phrases(key))
            for key in ("words.yes", "words.no", "words.unknown", "words.skip")
        )

    def _typed_entry(self, text: str) -> tuple[str, str] | None:
        """("menu", item) or ("flow", flow id) when the text is a menu entry's or a flow's title
        (the title of a button the user has seen, typed instead of pressed)."""
        t = fold_plain(text)
        for item, key in MENU_TITLE_KEYS.items():
            if t == fold_known(self.msg.text(key)):
                return ("menu", item)
        for flow in self.flows.values():
            if t == fold_known(flow.title):
                return ("flow", flow.id)
        return None

    def _command(self, text: str) -> str | None:
        for name, key in COMMAND_WORDS.items():
            if matches_phrase(text, self.msg.phrases(key)):
                return name
        return None

    async def _run_command(self, turn: Turn, command: str) -> list[Reply]:
        if command == "help":
            return [self._help_reply(turn)]
        if command == "menu":
            return [self._menu_reply(turn)]
        if command == "cancel":
            return self._cancel(turn)
        if command == "back":
            return await self.engine.back(turn)
        if command == "restart":
            cur = self.engine.current(turn)
            if cur is not None:
                return await self._start(turn, cur[1].id, restart=True)
        prompt = self.engine.prompt(turn)
        return prompt or [
            Reply(text=self.msg.text("flow.nothing_to_resume")),
            self._menu_reply(turn),
        ]

    async def _button(self, turn: Turn, value: dict[str, Any]) -> list[Reply]:
        action = value["action"]
        if action == c.MENU:
            item = value.get("item")
            if item is None:
                return [self._menu_reply(turn)]
            if item in MENU_TITLE_KEYS:
                return await self._menu_item(turn, str(item))
        elif action == c.TOPIC:
            topic = self.kb.topic(str(value.get("topic", "")), turn.day)
            if topic is not None:
                return self._answer(turn, topic.id, midflow=self.engine.waiting(turn) is not None)
        elif action == c.FEEDBACK:
            return await self._vote(turn, value)
        elif action == c.SUGGEST_NONE:
            return [self._decline(turn, midflow=self.engine.waiting(turn) is not None)]
        elif action == c.FLOW_START:
            flow_id = value.get("flow")
            if isinstance(flow_id, str) and flow_id in self.flows:
                return await self._start(turn, flow_id)
        elif action == c.FLOW_ANSWER:
            if self.engine.waiting(turn) is None:
                return [Reply(text=self.msg.text("flow.gone")), self._menu_reply(turn)]
            answered = await self.engine.answer(turn, value=value, text="")
            return answered or [Reply(text=self.msg.text("flow.stale")), *self.engine.prompt(turn)]
        elif action == c.FLOW_BACK:
            return await self.engine.back(turn)
        elif action == c.FLOW_CANCEL:
            return self._cancel(turn)
        elif action == c.FLOW_RESUME:
            return self.engine.prompt(turn) or [
                Reply(text=self.msg.text("flow.gone")),
                self._menu_reply(turn),
            ]
        elif action == c.FLOW_WHY:
            return self._why(turn)
        elif action == c.FLOW_PNR:
            return await self.engine.personnummer_choice(turn, str(value.get("choice", "")))
        elif action in (FORUM_SUBSCRIBE, FORUM_UNSUBSCRIBE):
            return await self._forum_button(turn, value, subscribe=action == FORUM_SUBSCRIBE)
        log.info("unknown button action")
        return [Reply(text=self.msg.text("router.unknown_button")), self._menu_reply(turn)]

    # --- menu, help, welcome -------------------------------------------------------------------

    def _menu_buttons(self) -> list[dict[str, Any]]:
        return [
            c.submit(self.msg.text(key), {"action": c.MENU, "item": item})
            for item, key in MENU_TITLE_KEYS.items()
        ]

    def _resume_button(self, turn: Turn) -> list[dict[str, Any]]:
        cur = self.engine.waiting(turn)
        if cur is None:
            return []
        return [
            c.submit(
                self.msg.text("flow.resume_named", title=cur[1].title),
                {"action": c.FLOW_RESUME},
                style="positive",
            )
        ]

    def _menu_body(self, turn: Turn | None) -> list[dict[str, Any]]:
        buttons = (self._resume_button(turn) if turn is not None else []) + self._menu_buttons()
        return [c.action_set([b]) for b in buttons]

    def _menu_reply(self, turn: Turn) -> Reply:
        body = [c.heading(self.msg.text("menu.title")), *self._menu_body(turn)]
        return Reply(card=c.card(body), summary=self.msg.text("menu.title"))

    def welcome_card(self) -> dict[str, Any]:
        body = [
            c.heading(self.msg.text("welcome.title"), size="Large"),
            c.text(self.msg.text("welcome.text")),
            c.bullets(list(self.msg.phrases("welcome.can"))),
            c.container(
                [c.text(self.msg.text("welcome.acute"), weight="Bolder")], style="attention"
            ),
            c.text(self.msg.text("welcome.privacy"), subtle=True),
            c.text(
                self.msg.text("welcome.checked", checked=self.msg.date(self.kb.meta.legal_checked)),
                size="Small",
                subtle=True,
            ),
            c.text(self.msg.text("menu.title"), weight="Bolder", separator=True),
            *self._menu_body(None),
        ]
        return c.card(body)

    def _help_reply(self, turn: Turn) -> Reply:
        body = [
            c.heading(self.msg.text("help.title")),
            c.text(self.msg.text("help.text")),
            c.bullets(list(self.msg.phrases("help.commands"))),
            c.text(self.msg.text("help.privacy"), subtle=True),
            c.text(self.msg.text("welcome.acute"), weight="Bolder"),
            *self._menu_body(turn),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("help.title"))

    async def _menu_item(self, turn: Turn, item: str) -> list[Reply]:
        if item == "help":
            return [self._help_reply(turn)]
        if item == "ask":
            examples = list(self.msg.phrases("ask.examples"))
            body = [
                c.heading(self.msg.text("ask.title")),
                c.text(self.msg.text("ask.text")),
                c.bullets(examples),
                *c.action_rows(self._resume_button(turn)),
            ]
            return [Reply(card=c.card(body), summary=self.msg.text("ask.title"))]
        if item == "forums":
            return await self._forums(turn)
        return await self._start(turn, MENU_FLOWS[item])

    # --- flows ---------------------------------------------------------------------------------

    async def _start(self, turn: Turn, flow_id: str, *, restart: bool = False) -> list[Reply]:
        flow = self.flows.get(flow_id)
        if flow is None:
            return [Reply(text=self.msg.text("router.flow_missing")), self._menu_reply(turn)]
        if flow.private and turn.inc.in_channel:
            return [Reply(text=self.msg.text("router.private_in_channel", title=flow.title))]
        if "registry" in flow.requires and self.registry is None:
            return [Reply(text=self.msg.text("contacts.no_registry")), self._menu_reply(turn)]
        if "rules" in flow.requires and self.rules is None:
            return [Reply(text=self.msg.text("router.no_rules")), self._menu_reply(turn)]
        notes: list[Reply] = []
        carry: dict[str, Any] = {}
        cur = self.engine.current(turn)
        if cur is not None:
            ds, old = cur
            if ds.status == "done" and not restart:
                carry = dict(ds.vars)
            elif restart and old.id == flow_id:
                notes.append(Reply(text=self.msg.text("flow.restarted")))
            elif old.id != flow_id or ds.history:
                notes.append(Reply(text=self.msg.text("flow.replaced", title=old.title)))
        turn.state.dialog.clear()
        log.info("flow start %s", flow_id)
        return [*notes, *(await self.engine.start(turn, flow_id, carry=carry))]

    def _cancel(self, turn: Turn) -> list[Reply]:
        had = bool(turn.state.dialog)
        turn.state.dialog.clear()
        key = "flow.cancelled" if had else "flow.nothing_to_cancel"
        return [Reply(text=self.msg.text(key)), self._menu_reply(turn)]

    def _why(self, turn: Turn) -> list[Reply]:
        cur = self.engine.current(turn)
        reasons = cur[0].vars.get("reasons") if cur is not None else None
        if not reasons:
            return [Reply(text=self.msg.text("why.gone"))]
        return [
            Reply(
                card=self.topics.reasons_card(reasons, self.kb.meta.legal_checked),
                summary=self.msg.text("why.title"),
            )
        ]

    # --- questions -----------------------------------------------------------------------------

    async def _free_text(self, turn: Turn, text: str, *, midflow: bool) -> list[Reply]:
        if not _has_words(text):
            if any(e in text for e in self.msg.phrases("words.thanks_emoji")):
                return [Reply(text=self.msg.text("small.thanks")), *self.engine.prompt(turn)]
            return [Reply(text=self.msg.text("router.no_words")), *self.engine.prompt(turn)]
        if not midflow and self._answer_word(text):
            # An answer with no question waiting (the dialog ended or expired).
            return [Reply(text=self.msg.text("router.no_question")), self._menu_reply(turn)]
        if matches_phrase(text, self.msg.phrases("words.greetings")):
            return [Reply(text=self.msg.text("small.greeting")), *self.engine.prompt(turn)]
        if matches_phrase(text, self.msg.phrases("words.thanks")):
            return [Reply(text=self.msg.text("small.thanks")), *self.engine.prompt(turn)]
        situation = self.situations(text)
        if situation.concern or situation.acute:
            return await self._situation(turn, text, situation, midflow=midflow)
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
            return await self._start(turn, "concern")
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
                card["body"].extend(c.action_rows(self._resume_button(turn)))
            return [Reply(card=card, summary=term.term)]
        if result is None:
            result = self.index.search(text, day=turn.day)
        if result.decision == "answer" and result.topic and self.kb.topic(result.topic, turn.day):
            instead = [h.topic_id for h in result.alternatives] if result.tentative else []
            return self._answer(turn, result.topic, midflow=midflow, instead=instead)
        if result.decision in ("answer", "suggest"):
            ids = [result.topic] if result.topic else []
            ids += [h.topic_id for h in result.alternatives]
            suggest = self.topics.suggest_card(
                list(dict.fromkeys(ids)),
                turn.day,
                extra_actions=self._resume_button(turn) if midflow else (),
            )
            if suggest is not None:
                return [Reply(card=suggest, summary=self.msg.text("suggest.title"))]
        if midflow:
            return self.engine.not_understood(turn)
        return [self._decline(turn, midflow=False, long=len(text.split()) > LONG_MESSAGE_WORDS)]

    def _answer(
        self, turn: Turn, topic_id: str, *, midflow: bool, instead: Sequence[str] = ()
    ) -> list[Reply]:
        topic = self.kb.topic(topic_id, turn.day)
        assert topic is not None
        lead = self.msg.text("flow.answer_lead") if midflow else None
        card = self.topics.answer_card(
            topic,
            turn.day,
            lead=lead,
            extra_actions=self._resume_button(turn) if midflow else (),
            feedback=True,
            instead=instead,
        )
        return [Reply(card=card, summary=topic.title)]

    def _decline(self, turn: Turn, *, midflow: bool, long: bool = False) -> Reply:
        buttons = self._resume_button(turn) if midflow else []
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
        return Reply(card=self.topics.decline_card(buttons, long=long), summary=title)

    # --- feedback ------------------------------------------------------------------------------

    async def _vote(self, turn: Turn, value: dict[str, Any]) -> list[Reply]:
        topic_id, vote = value.get("topic"), value.get("vote")
        if vote not in ("up", "down") or not any(t.id == topic_id for t in self.kb.topics):
            return [Reply(text=self.msg.text("router.unknown_button"))]
        assert isinstance(topic_id, str)
        votes = turn.state.user.get("votes")
        if not isinstance(votes, dict):
            votes = {}
        previous = votes.get(topic_id)
        if previous == vote:
            return [Reply(text=self.msg.text("feedback.already"))]
        if self.feedback is None:
            return [Reply(text=self.msg.text("feedback.not_stored"))]
        feedback = self.feedback
        at, before = turn.now, previous if previous in ("up", "down") else None

        async def count() -> None:
            try:
                await feedback.record(topic_id, vote, at=at, previous=before)
            except Exception:
                log.warning("feedback not stored", exc_info=True)

        # Counted once, after the user's profile (which remembers the vote) has been saved.
        turn.state.effects.append(count)
        votes.pop(topic_id, None)
        votes[topic_id] = vote  # topic ids only: which answers this user rated
        while len(votes) > MAX_VOTES_REMEMBERED:
            votes.pop(next(iter(votes)))
        turn.state.user["votes"] = votes
        key = "feedback.thanks_up" if vote == "up" else "feedback.thanks_down"
        return [Reply(text=self.msg.text(key))]

    # --- forums --------------------------------------------------------------------------------

    async def _personal_ref(self, turn: Turn) -> Any:
        if self.conversations is None:
            return None
        if not turn.inc.in_channel:
            return await self.conversations.get(turn.inc.channel_id, turn.inc.conversation_id)
        return await self.conversations.personal_for_user(turn.inc.channel_id, turn.inc.user_id)

    async def _channel_ref(self, turn: Turn) -> Any:
        if self.conversations is None or not turn.inc.in_channel:
            return None
        return await self.conversations.get(turn.inc.channel_id, turn.inc.conversation_id)

    async def _forums(self, turn: Turn) -> list[Reply]:
        if self.forums is None or self.forum_cards is None:
            return [Reply(text=self.msg.text("forums.unavailable")), self._menu_reply(turn)]
        try:
            occurrences = await self.forums.upcoming(
                turn.now, turn.now + timedelta(days=self.forum_days)
            )
            me = await self._personal_ref(turn)
            channel = await self._channel_ref(turn)
            subscribed_me = await self.forums.subscribed_forums(me.id) if me is not None else set()
            subscribed_channel = (
                await self.forums.subscribed_forums(channel.id) if channel is not None else None
            )
        except Exception:
            log.warning("forums lookup failed", exc_info=True)
            return [Reply(text=self.msg.text("forums.unavailable")), self._menu_reply(turn)]
        if not occurrences:
            return [
                Reply(text=self.msg.text("forums.none", days=self.forum_days)),
                self._menu_reply(turn),
            ]
        card = self.forum_cards.upcoming(
            occurrences, subscribed_me=set(subscribed_me), subscribed_channel=subscribed_channel
        )
        card["body"].extend(c.action_rows(self._resume_button(turn)))
        return [Reply(card=card, summary=self.msg.text("forums.summary"))]

    async def _forum_button(
        self, turn: Turn, value: dict[str, Any], *, subscribe: bool
    ) -> list[Reply]:
        if self.forums is None:
            return [Reply(text=self.msg.text("forums.unavailable"))]
        forum_id = value.get("forum")
        scope = value.get("scope", "me")
        forum = await self.forums.forum(str(forum_id)) if isinstance(forum_id, str) else None
        if forum is None or scope not in ("me", "channel"):
            return [Reply(text=self.msg.text("router.unknown_button"))]
        if scope == "channel":
            ref = await self._channel_ref(turn)
            if ref is None:
                return [Reply(text=self.msg.text("forums.channel_only"))]
        else:
            ref = await self._personal_ref(turn)
            if ref is None:
                # In a personal chat the reference is missing only where the bot cannot send
                # later (the terminal chat): "open a personal chat" would be no help there.
                key = "forums.need_personal" if turn.inc.in_channel else "forums.cannot_remind_here"
                return [Reply(text=self.msg.text(key))]
        if subscribe:
            await self.forums.subscribe(forum.id, ref.id)
            key = "forums.subscribed_channel" if scope == "channel" else "forums.subscribed_me"
        else:
            await self.forums.unsubscribe(forum.id, ref.id)
            key = "forums.unsubscribed_channel" if scope == "channel" else "forums.unsubscribed_me"
        return [Reply(text=self.msg.text(key, name=forum.name))]


def _has_words(text: str) -> bool:
    """False for emoji, punctuation and the like only (digits count: "112")."""
    return any(ch.isalnum() for ch in text)


def _parse(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


# --- cards of the feature packages, bound to their catalogues -----------------------------------


def contact_card_builder(texts: Catalogue) -> Callable[[Any], dict[str, Any] | None]:
    """The registry helper's contact card with the contacts catalogue (`contacts.texts()`)."""

    def make(result: Any) -> dict[str, Any] | None:
        if not getattr(result, "ok", False):
            return None
        return contact_cards.contact_card(result, texts=texts)

    return make


def forum_card_builder(texts: Catalogue) -> ForumCards:
    """The forum helper's meeting list with the forums catalogue (`forums.texts()`)."""

    class _Cards:
        def upcoming(
            self,
            occurrences: Sequence[Any],
            *,
            subscribed_me: set[str],
            subscribed_channel: set[str] | None,
        ) -> dict[str, Any]:
            return forum_cards.upcoming_card(
                occurrences,
                subscribed_me=subscribed_me,
                subscribed_channel=subscribed_channel,
                texts=texts,
            )

    return _Cards()
