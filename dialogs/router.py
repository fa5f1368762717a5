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
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from common.catalogue import Catalogue
from common.clock import Clock, local
from dialogs import cards as c
from dialogs.actions import FlowActions, Registry, RuleEngine
from dialogs.answers import TopicCards
from dialogs.engine import FlowEngine, FlowError
from dialogs.flows import Flow, load_flows
from dialogs.forum_replies import (
    FORUM_MINE,
    FORUM_SUBSCRIBE,
    FORUM_UNSUBSCRIBE,
    Conversations,
    ForumCards,
    ForumReplies,
)
from dialogs.free_text import FreeText, Searcher, has_words
from dialogs.learning import LearningLoop, SuggestionSink
from dialogs.menu import MENU_TITLE_KEYS, MenuCards
from dialogs.ownership import (
    BOUND,
    confirm_reply,
    discards,
    foreign,
    other_dialog_reply,
    stale_step,
    stamp,
)
from dialogs.state import DialogState, Turn
from dialogs.text import (
    contains_personnummer,
    fold_known,
    fold_plain,
    mask_personnummer,
    matches_phrase,
)
from dialogs.types import Incoming, Reply, TurnState
from knowledge.loader import KnowledgeBase
from knowledge.situations import SituationDetector

log = logging.getLogger(__name__)

MAX_VOTES_REMEMBERED = 200
MAX_MARKS = 20
MARK_SLACK = timedelta(hours=1)

# Menu item → flow it starts (the others are handled by the router itself).
MENU_FLOWS = {"concern": "concern", "contacts": "contacts", "sharing": "sharing"}
# Typed commands that work at any time → the catalogue's list of words for them.
COMMAND_WORDS = {
    "help": "words.help",
    "menu": "words.menu",
    "cancel": "words.cancel",
    "back": "words.back",
    "resume": "words.resume",
    "restart": "words.restart",
}


class Feedback(Protocol):
    async def record(
        self, topic_id: str, vote: Any, *, at: datetime, previous: Any = None
    ) -> None: ...


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
        suggestions: SuggestionSink | None = None,
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
        self.menu = MenuCards(messages, kb, self.engine)
        self.learning = LearningLoop(messages, kb, suggestions)
        self.free_text = FreeText(
            kb=kb,
            index=index,
            messages=messages,
            situations=self.situations,
            topics=self.topics,
            engine=self.engine,
            menu=self.menu,
            start=self._start,
            learning=self.learning,
        )
        self.forum_replies = ForumReplies(
            messages=messages,
            forums=forums,
            forum_cards=forum_cards,
            conversations=conversations,
            forum_days=forum_days,
            menu=self.menu,
        )

    # --- entry points --------------------------------------------------------------------------

    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return [Reply(card=self.menu.welcome_card(), summary=self.msg.text("welcome.summary"))]

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        turn = self._turn(inc, state)
        notes = self._expire(turn)
        try:
            replies = await self._dispatch(turn)
        except FlowError:
            log.exception("flow failed; dialog state cleared")
            state.dialog.clear()
            replies = [Reply(text=self.msg.text("router.flow_broken")), self.menu.reply(turn)]
        self._mark(turn)
        return stamp([*notes, *replies], state.dialog)

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
        if matches_phrase(text, self.msg.phrases("words.my_reminders")):
            return [*prefix, *(await self.forum_replies.mine(turn))]
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
                return [*prefix, *self.free_text.safety_net(text), *answered]
            if self.free_text.is_answer_word(text) or not has_words(text):
                # "nej" where "nej" is no choice, or an emoji: not a question to search for.
                return [*prefix, *self.engine.not_understood(turn)]
            return [*prefix, *(await self.free_text.reply(turn, question, midflow=True))]
        return [*prefix, *(await self.free_text.reply(turn, question, midflow=False))]

    @staticmethod
    def _at_text_field(waiting: tuple[DialogState, Flow]) -> bool:
        ds, flow = waiting
        return flow.nodes[ds.node].kind == "text"

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
            return [self.menu.help_reply(turn)]
        if command == "menu":
            return [self.menu.reply(turn)]
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
            self.menu.reply(turn),
        ]

    def _would_start(self, value: dict[str, Any]) -> str | None:
        """The title of the dialog a button starts, if it starts one."""
        flow_id: Any = None
        if value["action"] == c.FLOW_START:
            flow_id = value.get("flow")
        elif value["action"] == c.MENU and value.get("item") in MENU_FLOWS:
            flow_id = MENU_FLOWS[str(value["item"])]
        flow = self.flows.get(flow_id) if isinstance(flow_id, str) else None
        return flow.title if flow is not None else None

    def _owned(self, turn: Turn, value: dict[str, Any]) -> list[Reply] | None:
        """A reply when the button does not belong to the dialog it would act on (ownership)."""
        action = value["action"]
        cur = self.engine.current(turn)
        ds = cur[0] if cur is not None else None
        if action in BOUND and foreign(value, ds):
            waiting = self.engine.waiting(turn)
            titles = {f.id: f.title for f in self.flows.values()}
            title = waiting[1].title if waiting is not None else None
            return [other_dialog_reply(self.msg, value, titles, title)]
        if ds is not None and action in BOUND and stale_step(value, ds):
            return [Reply(text=self.msg.text("flow.stale")), *self.engine.prompt(turn)]
        new = self._would_start(value)
        if cur is not None and new is not None and discards(value, ds, new):
            return [confirm_reply(self.msg, value, cur[1].title, new)]
        return None

    async def _button(self, turn: Turn, value: dict[str, Any]) -> list[Reply]:
        action = value["action"]
        owned = self._owned(turn, value)
        if owned is not None:
            return owned
        if action == c.MENU:
            item = value.get("item")
            if item is None:
                return [self.menu.reply(turn)]
            if item in MENU_TITLE_KEYS:
                return await self._menu_item(turn, str(item))
        elif action == c.TOPIC:
            topic = self.kb.topic(str(value.get("topic", "")), turn.day)
            if topic is not None:
                return self.free_text.answer(
                    turn,
                    topic.id,
                    midflow=self.engine.waiting(turn) is not None,
                    question=_question(value),
                )
        elif action == c.FEEDBACK:
            return await self._vote(turn, value)
        elif action == c.SUGGEST_NONE:
            midflow = self.engine.waiting(turn) is not None
            return [self.free_text.decline(turn, midflow=midflow, question=_question(value))]
        elif action == c.KB_SUGGEST:
            return await self.learning.press(turn, value)
        elif action == c.FLOW_START:
            flow_id = value.get("flow")
            if isinstance(flow_id, str) and flow_id in self.flows:
                return await self._start(turn, flow_id)
        elif action == c.FLOW_ANSWER:
            if self.engine.waiting(turn) is None:
                return [Reply(text=self.msg.text("flow.gone")), self.menu.reply(turn)]
            answered = await self.engine.answer(turn, value=value, text="")
            return answered or [Reply(text=self.msg.text("flow.stale")), *self.engine.prompt(turn)]
        elif action == c.FLOW_BACK:
            return await self.engine.back(turn)
        elif action == c.FLOW_CANCEL:
            return self._cancel(turn)
        elif action == c.FLOW_RESUME:
            return self.engine.prompt(turn) or [
                Reply(text=self.msg.text("flow.gone")),
                self.menu.reply(turn),
            ]
        elif action == c.FLOW_WHY:
            return self._why(turn)
        elif action == c.FLOW_PNR:
            return await self.engine.personnummer_choice(turn, str(value.get("choice", "")))
        elif action == FORUM_MINE:
            return await self.forum_replies.mine(turn)
        elif action in (FORUM_SUBSCRIBE, FORUM_UNSUBSCRIBE):
            return await self.forum_replies.button(turn, value, subscribe=action == FORUM_SUBSCRIBE)
        log.info("unknown button action")
        return [Reply(text=self.msg.text("router.unknown_button")), self.menu.reply(turn)]

    async def _menu_item(self, turn: Turn, item: str) -> list[Reply]:
        if item == "help":
            return [self.menu.help_reply(turn)]
        if item == "ask":
            return [self.menu.ask_reply(turn)]
        if item == "forums":
            return await self.forum_replies.upcoming(turn)
        return await self._start(turn, MENU_FLOWS[item])

    # --- flows ---------------------------------------------------------------------------------

    async def _start(self, turn: Turn, flow_id: str, *, restart: bool = False) -> list[Reply]:
        flow = self.flows.get(flow_id)
        if flow is None:
            return [Reply(text=self.msg.text("router.flow_missing")), self.menu.reply(turn)]
        if flow.private and turn.inc.in_channel:
            return [Reply(text=self.msg.text("router.private_in_channel", title=flow.title))]
        if "registry" in flow.requires and self.registry is None:
            return [Reply(text=self.msg.text("contacts.no_registry")), self.menu.reply(turn)]
        if "rules" in flow.requires and self.rules is None:
            return [Reply(text=self.msg.text("router.no_rules")), self.menu.reply(turn)]
        notes: list[Reply] = []
        carry: dict[str, Any] = {}
        cur = self.engine.current(turn)
        if cur is not None:
            ds, old = cur
            if ds.status == "done" and not restart and old.id != flow_id:
                carry = dict(ds.vars)  # what another dialog found out (never from itself)
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
        return [Reply(text=self.msg.text(key)), self.menu.reply(turn)]

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
        if vote == "down":
            offer = self.learning.offer_blocks(
                _question(value), source="feedback", topic=topic_id, key="kb_suggest.down_offer"
            )
            return [self.menu.down_vote_reply(turn, topic_id, extra=offer)]
        return [Reply(text=self.msg.text("feedback.thanks_up"))]


def _question(value: dict[str, Any]) -> str | None:
    """The question a button carries for the learning loop (dialogs.learning), if any."""
    q = value.get("q")
    return q if isinstance(q, str) else None


def _parse(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None
