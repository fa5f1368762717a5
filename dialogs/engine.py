"""A small flow engine on plain dict state (not botbuilder-dialogs).

The engine walks a flow (dialogs.flows) for one user: it shows each `question`/`text` node as an
Adaptive Card and waits, runs `action` nodes, shows `info` nodes and ends at an `outcome`. State
lives in `TurnState.dialog` as plain JSON (dialogs.state), so a conversation survives a restart;
every answer records how to undo it, so "Ändra svar" restores the facts as they were.

Typed answers work as well as buttons: "ja"/"nej"/"vet inte", the number of a choice, or a
label typed roughly ("misstänker"). Text that is none of these is not an answer: `answer()`
returns None and the router treats it as a question asked mid-flow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rapidfuzz import fuzz

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.actions import ACTION_SPECS, FlowActions
from dialogs.answers import TopicCards
from dialogs.flow_cards import ContactCardBuilder, FlowCards, Option
from dialogs.flows import (
    ActionNode,
    Flow,
    InfoNode,
    OutcomeNode,
    QuestionNode,
    TextNode,
)
from dialogs.relevance import Relevance, skip_target
from dialogs.state import DialogState, Turn
from dialogs.text import (
    NameList,
    contains_personnummer,
    find_names,
    fold_known,
    fold_plain,
    mask_names,
    mask_personnummer,
    matches_phrase,
    words,
)
from dialogs.types import Reply

log = logging.getLogger(__name__)

MAX_STEPS = 200
# A typed answer may carry a remark ("ja, hon sa det i dag"): at most this many words in all.
MAX_REMARK_WORDS = 20
# Which words answer a question (FlowCards.answer_words) → the message when a typed text
# answers nothing.
NOT_UNDERSTOOD_KEYS = {
    "yes_no_unknown": "flow.not_understood",
    "yes_no": "flow.not_understood_yes_no",
    "number": "flow.not_understood_number",
}


class FlowError(RuntimeError):
    """A flow that cannot run (caught by the router, which apologises and clears the state)."""



class FlowEngine:
    def __init__(
        self,
        flows: Mapping[str, Flow],
        actions: FlowActions,
        msg: Catalogue,
        topics: TopicCards,
        *,
        contact_card: ContactCardBuilder | None = None,
        names: NameList | None = None,
    ) -> None:
        self.flows = dict(flows)
        self.actions = actions
        self.msg = msg
        self.names = names if names is not None else NameList.load()
        self.cards = FlowCards(msg, topics, contact_card=contact_card)
        self.relevance = Relevance(actions.rules)

    # --- queries -------------------------------------------------------------------------------

    def current(self, turn: Turn) -> tuple[DialogState, Flow] | None:
        if not DialogState.present(turn.state.dialog):
            return None
        ds = DialogState(turn.state.dialog)
        flow = self.flows.get(ds.flow)
        if flow is None or ds.node not in flow.nodes:
            return None
        return ds, flow

    def waiting(self, turn: Turn) -> tuple[DialogState, Flow] | None:
        """The flow, if it waits for an answer (not finished)."""
        cur = self.current(turn)
        if cur is None or cur[0].status != "active":
            return None
        return cur

    # --- starting and moving -------------------------------------------------------------------

    async def start(
        self, turn: Turn, flow_id: str, *, carry: Mapping[str, Any] | None = None
    ) -> list[Reply]:
        flow = self.flows[flow_id]
        ds = DialogState.new(turn.state.dialog, flow.id, flow.start, turn.now)
        ds.vars.update(flow.vars)
        for key in flow.carry:
            if carry and carry.get(key) is not None:
                ds.vars[key] = carry[key]
        replies: list[Reply] = []
        if flow.intro:
            replies.append(
                Reply(card=c.card([c.heading(flow.title), c.text(flow.intro)]), summary=flow.title)
            )
        replies.extend(await self._advance(turn, ds, flow, answered=None, before=None))
        return replies

    async def answer(
        self, turn: Turn, *, value: Mapping[str, Any] | None, text: str
    ) -> list[Reply] | None:
        """Apply an answer to the waiting node; None if `text` is not an answer to it."""
        cur = self.waiting(turn)
        if cur is None:
            return None
        ds, flow = cur
        node = flow.nodes[ds.node]
        if value is not None and (value.get("node") != ds.node or value.get("flow") != ds.flow):
            return [Reply(text=self.msg.text("flow.stale")), *self.prompt(turn)]
        if isinstance(node, QuestionNode):
            return await self._answer_question(turn, ds, flow, node, value, text)
        if isinstance(node, TextNode):
            return await self._answer_text(turn, ds, flow, node, value, text)
        return None

    async def back(self, turn: Turn) -> list[Reply]:
        cur = self.current(turn)
        if cur is None:
            return [Reply(text=self.msg.text("flow.nothing_to_change"))]
        ds, flow = cur
        last = ds.history[-1]["node"] if ds.history else None
        node = flow.nodes.get(last) if last else None
        typed = ds.vars.get(node.field) if isinstance(node, TextNode) else None
        if ds.undo_last() is None:
            return [Reply(text=self.msg.text("flow.first_question")), *self.prompt(turn)]
        if isinstance(typed, str) and typed:
            ds.data["prefill"] = {"node": last, "text": typed}  # shown in the field to edit
        ds.touch(turn.now)
        return self.prompt(turn)

    def prompt(self, turn: Turn) -> list[Reply]:
        """The waiting question again (after a detour: a question, the menu, help)."""
        cur = self.waiting(turn)
        if cur is None:
            return []
        ds, flow = cur
        node = flow.nodes[ds.node]
        if isinstance(node, QuestionNode | TextNode):
            return [self.cards.question(flow, ds, node)]
        return []

    async def personnummer_choice(self, turn: Turn, choice: str) -> list[Reply]:
        cur = self.waiting(turn)
        if cur is None or cur[0].pending is None:
            return [Reply(text=self.msg.text("flow.stale")), *self.prompt(turn)]
        ds, flow = cur
        pending = ds.pending or {}
        ds.pending = None
        node = flow.nodes[ds.node]
        if choice == "use_masked" and isinstance(node, TextNode) and pending.get("node") == ds.node:
            return await self._accept_text(turn, ds, flow, node, str(pending.get("masked", "")))
        if pending.get("node") == ds.node and pending.get("masked"):
            # "Skriv om svaret": the answer comes back without the number, to edit.
            ds.data["prefill"] = {"node": ds.node, "text": str(pending["masked"])}
        return [Reply(text=self.msg.text("pnr.rewrite")), *self.prompt(turn)]

    # --- answers -------------------------------------------------------------------------------

    def not_understood(self, turn: Turn) -> list[Reply]:
        """"I did not understand" with the words that do answer the waiting question, and the
        question again."""
        cur = self.waiting(turn)
        words = "yes_no_unknown"
        if cur is not None:
            ds, flow = cur
            node = flow.nodes[ds.node]
            if isinstance(node, QuestionNode):
                words = self.cards.answer_words(node, ds)
        return [Reply(text=self.msg.text(NOT_UNDERSTOOD_KEYS[words])), *self.prompt(turn)]
    def leading_answer(self, text: str, values: set[str]) -> str | None:
        """"yes"/"no"/"unknown" when a statement (no question mark, at most MAX_REMARK_WORDS
        words) begins with one of those phrases; the longest phrase wins ("absolut inte" is no,
        "absolut" yes)."""
        ws = words(text)
        if "?" in text or not ws or len(ws) > MAX_REMARK_WORDS:
            return None
        best: tuple[int, str] | None = None
        for value, key in (("yes", "words.yes"), ("no", "words.no"), ("unknown", "words.unknown")):
            if value not in values:
                continue
            for phrase in self.msg.phrases(key):
                pw = fold_known(phrase).split()
                if pw and ws[: len(pw)] == pw and (best is None or len(pw) > best[0]):
                    best = (len(pw), value)
        return best[1] if best is not None else None

    def match_typed(self, node: QuestionNode, ds: DialogState, text: str) -> Option | None:
        opts = self.cards.options(node, ds)
        t = fold_plain(text)
        if not t:
            return None
        if t.isdigit():
            n = int(t)
            return opts[n - 1] if 1 <= n <= len(opts) else None
        by_value = {o.value: o for o in opts}
        for value, key in (("yes", "words.yes"), ("no", "words.no"), ("unknown", "words.unknown")):
            if value in by_value and matches_phrase(text, self.msg.phrases(key)):
                return by_value[value]
        # "ja, hon berättade det i dag", "kanske, hon är rädd för ...", "absolut inte": a yes,
        # no or don't-know phrase first (the longest that fits), then a short remark.
        lead = self.leading_answer(text, set(by_value))
        if lead is not None:
            return by_value[lead]
        # A label typed roughly: the whole label, or a shorter part of it.
        best: tuple[float, Option] | None = None
        second = 0.0
        for o in opts:
            label = fold_known(o.label)
            score = float(fuzz.ratio(t, label))
            if len(t) >= 4 and len(t) < len(label) and len(t.split()) <= len(label.split()):
                score = max(score, float(fuzz.partial_ratio(t, label)) - 5)
            if best is None or score > best[0]:
                second = best[0] if best else 0.0
                best = (score, o)
            elif score > second:
                second = score
        if best is not None and best[0] >= 85 and best[0] - second >= 10:
            return best[1]
        return None

    async def _answer_question(
        self,
        turn: Turn,
        ds: DialogState,
        flow: Flow,
        node: QuestionNode,
        value: Mapping[str, Any] | None,
        text: str,
    ) -> list[Reply] | None:
        opts = self.cards.options(node, ds)
        chosen: Option | None = None
        if value is not None:
            chosen = next((o for o in opts if o.value == value.get("choice")), None)
            if chosen is None:
                return [Reply(text=self.msg.text("flow.stale")), *self.prompt(turn)]
        else:
            chosen = self.match_typed(node, ds, text)
            if chosen is None:
                return None
        before = ds.snapshot()
        static = next((ch for ch in node.choices if ch.value == chosen.value), None)
        if static is not None:
            for fact, v in static.set.items():
                if v is None:
                    ds.facts.pop(fact, None)
                else:
                    ds.facts[fact] = v
        if node.field:
            ds.vars[node.field] = chosen.value
            ds.vars[f"{node.field}_label"] = chosen.label
        nxt = (static.next if static is not None and static.next else None) or node.next
        if nxt is None:  # flowcheck forbids this; guard anyway
            raise FlowError(f"{flow.id}:{ds.node} has no next node")
        answered = ds.node
        ds.node = nxt
        return await self._advance(turn, ds, flow, answered=answered, before=before)

    async def _answer_text(
        self,
        turn: Turn,
        ds: DialogState,
        flow: Flow,
        node: TextNode,
        value: Mapping[str, Any] | None,
        text: str,
    ) -> list[Reply]:
        if value is not None:
            skip = bool(value.get("skip"))
            raw = value.get("answer")
            answer = raw.strip() if isinstance(raw, str) else ""
        else:
            answer = text.strip()
            skip = matches_phrase(answer, self.msg.phrases("words.skip")) or matches_phrase(
                answer, self.msg.phrases("words.unknown")
            )
        if skip:
            if not node.optional:
                return [Reply(text=self.msg.text("flow.required")), *self.prompt(turn)]
            return await self._accept_text(turn, ds, flow, node, None)
        if not answer:
            return [Reply(text=self.msg.text("flow.empty_answer")), *self.prompt(turn)]
        if node.check_personnummer and contains_personnummer(answer):
            masked = mask_personnummer(answer, self.msg.text("pnr.masked"))
            # Only the masked text is kept, in this dialog's state, until the user decides.
            ds.pending = {"node": ds.node, "masked": masked[: node.max_length]}
            ds.touch(turn.now)
            return [self.cards.pnr_card(flow)]
        if node.check_names and not (value is not None and value.get("names_ok") is True):
            if value is not None and value.get("mask_names") is True:
                answer = mask_names(answer, self.names, self.msg.text("names.masked"))
            elif find_names(answer, self.names):
                # Nothing is kept: the card carries the answer back to the user to edit.
                ds.touch(turn.now)
                return [self.cards.names_card(flow, ds, node, answer)]
        return await self._accept_text(turn, ds, flow, node, answer)

    async def _accept_text(
        self, turn: Turn, ds: DialogState, flow: Flow, node: TextNode, answer: str | None
    ) -> list[Reply]:
        replies: list[Reply] = []
        before = ds.snapshot()
        ds.pending = None
        ds.data.pop("prefill", None)
        if answer is None:
            ds.vars.pop(node.field, None)
        else:
            if len(answer) > node.max_length:
                answer = answer[: node.max_length].rstrip()
                replies.append(Reply(text=self.msg.text("flow.shortened", limit=node.max_length)))
            ds.vars[node.field] = answer
        answered = ds.node
        ds.node = node.next
        replies.extend(await self._advance(turn, ds, flow, answered=answered, before=before))
        return replies

    # --- walking -------------------------------------------------------------------------------

    async def _advance(
        self,
        turn: Turn,
        ds: DialogState,
        flow: Flow,
        *,
        answered: str | None,
        before: dict[str, dict[str, Any]] | None,
    ) -> list[Reply]:
        replies: list[Reply] = []
        for _ in range(MAX_STEPS):
            node_id = ds.node
            node = flow.nodes.get(node_id)
            if node is None:
                raise FlowError(f"{flow.id}: unknown node {node_id!r}")
            if isinstance(node, InfoNode):
                replies.append(self.cards.info(node, ds))
                ds.node = node.next
            elif (
                isinstance(node, QuestionNode)
                and flow.skip_settled
                and (target := skip_target(node)) is not None
                and not self.relevance.can_change(flow, node_id, ds.facts, turn.day)
            ):
                # No answer to it could change the assessment: not asked.
                log.info("flow %s: %s skipped (settled)", flow.id, node_id)
                ds.node = target
            elif isinstance(node, ActionNode):
                result = await self.actions.run(node.action, node.params, turn, ds)
                nxt = node.next if isinstance(node.next, str) else node.next.get(result)
                if nxt is None:
                    raise FlowError(f"{flow.id}:{node_id}: no next node for result {result!r}")
                ds.node = nxt
            else:
                if answered is not None and before is not None:
                    ds.record(answered, before)
                ds.touch(turn.now)
                if isinstance(node, QuestionNode | TextNode):
                    replies.append(self.cards.question(flow, ds, node))
                    return replies
                assert isinstance(node, OutcomeNode)
                ds.status = "done"
                replies.extend(self.cards.outcome(turn, flow, ds, node))
                if not flow.clear_on_finish:
                    _forget_typed_text(flow, ds)
                if flow.clear_on_finish:
                    turn.state.dialog.clear()
                    replies.append(Reply(text=self.msg.text("flow.cleared")))
                return replies
        raise FlowError(f"{flow.id}: more than {MAX_STEPS} steps without a question")



def _forget_typed_text(flow: Flow, ds: DialogState) -> None:
    """When a dialog ends, what the user typed is deleted (the README promises it): the text
    fields and the previous values kept for "Ändra svar". What the next step needs was derived
    from them already (a school id, a district id) and stays."""
    fields = {n.field for n in flow.nodes.values() if isinstance(n, TextNode)}
    for name in fields:
        ds.vars.pop(name, None)
    for entry in ds.history:
        for change in entry.get("undo", []):
            if change[0] == "vars" and change[1] in fields:
                change[2], change[3] = False, None
    ds.pending = None
    ds.data.pop("prefill", None)


def action_needs(flow: Flow) -> set[str]:
    """Collaborators ("rules", "registry") some action of the flow uses."""
    needs: set[str] = set()
    for node in flow.nodes.values():
        if isinstance(node, ActionNode) and node.action in ACTION_SPECS:
            need = ACTION_SPECS[node.action].needs
            if need is not None:
                needs.add(need)
    return needs
