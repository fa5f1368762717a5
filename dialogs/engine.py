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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.actions import ACTION_SPECS, FlowActions
from dialogs.answers import TopicCards
from dialogs.flows import (
    ActionNode,
    Flow,
    InfoNode,
    Item,
    OutcomeNode,
    QuestionNode,
    Section,
    TextNode,
)
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
)
from dialogs.types import Reply

log = logging.getLogger(__name__)

MAX_STEPS = 200
# Outcome `offer` values that open a menu entry → the entry's title.
MENU_OFFERS = {
    "contacts": "menu.items.contacts",
    "concern": "menu.items.concern",
    "sharing": "menu.items.sharing",
}
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Which words answer a question (FlowEngine.answer_words) → the hint under it, and the message
# when a typed text answers nothing.
HINT_KEYS = {
    "yes_no_unknown": "flow.hint_choice",
    "yes_no": "flow.hint_choice_yes_no",
    "number": "flow.hint_choice_number",
}
NOT_UNDERSTOOD_KEYS = {
    "yes_no_unknown": "flow.not_understood",
    "yes_no": "flow.not_understood_yes_no",
    "number": "flow.not_understood_number",
}

ContactCardBuilder = Callable[[Any], "dict[str, Any] | None"]


class FlowError(RuntimeError):
    """A flow that cannot run (caught by the router, which apologises and clears the state)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    index: int  # 1-based, as shown


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
        self.topics = topics
        self.contact_card = contact_card
        self.names = names if names is not None else NameList.load()

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
        ds, _flow = cur
        if ds.undo_last() is None:
            return [Reply(text=self.msg.text("flow.first_question")), *self.prompt(turn)]
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
            return [self._render_waiting(flow, ds, node)]
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
                words = self.answer_words(node, ds)
        return [Reply(text=self.msg.text(NOT_UNDERSTOOD_KEYS[words])), *self.prompt(turn)]

    def answer_words(self, node: QuestionNode, ds: DialogState) -> str:
        """Which typed words answer this question, so that hints name only those: ja/nej/vet
        inte where the choices are yes/no/unknown, ja/nej, or else the number of a choice."""
        values = {o.value for o in self.options(node, ds)}
        if {"yes", "no"} <= values:
            return "yes_no_unknown" if "unknown" in values else "yes_no"
        return "number"

    def options(self, node: QuestionNode, ds: DialogState) -> list[Option]:
        opts: list[tuple[str, str]] = []
        if node.choices_from:
            for cand in ds.vars.get(node.choices_from) or []:
                if isinstance(cand, dict) and "value" in cand and "label" in cand:
                    opts.append((str(cand["value"]), str(cand["label"])))
        opts.extend((ch.value, self._fill(ch.label, ds)) for ch in node.choices)
        return [Option(v, label, i) for i, (v, label) in enumerate(opts, start=1)]

    def match_typed(self, node: QuestionNode, ds: DialogState, text: str) -> Option | None:
        opts = self.options(node, ds)
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
        # "ja, hon berättade det i dag": a yes/no word first, then a short remark (not a question).
        first = t.split()[0]
        if "?" not in text and len(t.split()) <= 8:
            for value, key in (("yes", "words.yes"), ("no", "words.no")):
                if value in by_value and first in {fold_known(w) for w in self.msg.phrases(key)}:
                    return by_value[value]
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
        opts = self.options(node, ds)
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
            return [self._pnr_card(flow)]
        if node.check_names and not (value is not None and value.get("names_ok") is True):
            if value is not None and value.get("mask_names") is True:
                answer = mask_names(answer, self.names, self.msg.text("names.masked"))
            elif find_names(answer, self.names):
                # Nothing is kept: the card carries the answer back to the user to edit.
                ds.touch(turn.now)
                return [self._names_card(flow, ds, node, answer)]
        return await self._accept_text(turn, ds, flow, node, answer)

    async def _accept_text(
        self, turn: Turn, ds: DialogState, flow: Flow, node: TextNode, answer: str | None
    ) -> list[Reply]:
        replies: list[Reply] = []
        before = ds.snapshot()
        ds.pending = None
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
                replies.append(self._render_info(node, ds))
                ds.node = node.next
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
                    replies.append(self._render_waiting(flow, ds, node))
                    return replies
                assert isinstance(node, OutcomeNode)
                ds.status = "done"
                replies.extend(self._render_outcome(turn, flow, ds, node))
                if not flow.clear_on_finish:
                    _forget_typed_text(flow, ds)
                if flow.clear_on_finish:
                    turn.state.dialog.clear()
                    replies.append(Reply(text=self.msg.text("flow.cleared")))
                return replies
        raise FlowError(f"{flow.id}: more than {MAX_STEPS} steps without a question")

    # --- rendering -----------------------------------------------------------------------------

    def _fill(self, template: str, ds: DialogState) -> str:
        return _PLACEHOLDER.sub(lambda m: str(ds.vars.get(m.group(1), "")), template)

    def _nav(self, flow: Flow, ds: DialogState) -> list[dict[str, Any]]:
        nav: list[dict[str, Any]] = []
        if ds.history:
            nav.append(c.submit(self.msg.text("flow.back"), {"action": c.FLOW_BACK}, inputs=False))
        nav.append(c.submit(self.msg.text("flow.cancel"), {"action": c.FLOW_CANCEL}, inputs=False))
        return nav

    def _render_info(self, node: InfoNode, ds: DialogState) -> Reply:
        body: list[dict[str, Any]] = []
        if node.title:
            body.append(c.heading(self._fill(node.title, ds)))
        body.append(c.text(self._fill(node.text, ds)))
        return Reply(card=c.card(body), summary=self._fill(node.title or node.text, ds)[:200])

    def _render_waiting(self, flow: Flow, ds: DialogState, node: QuestionNode | TextNode) -> Reply:
        question = self._fill(node.text, ds)
        head: list[dict[str, Any]] = [
            c.text(flow.title, size="Small", subtle=True),
            c.text(question, size="Medium", weight="Bolder"),
        ]
        data = {"action": c.FLOW_ANSWER, "flow": flow.id, "node": ds.node}
        if isinstance(node, QuestionNode):
            if node.help:
                head.append(c.text(self._fill(node.help, ds), subtle=True))
            body = [c.container(head, style="attention")] if node.style == "attention" else head
            options = self.options(node, ds)
            buttons = [c.submit(o.label, {**data, "choice": o.value}) for o in options]
            if len(buttons) > 3 or any(len(o.label) > 12 for o in options):
                # One per row: long labels are never cut off, and they read down a phone screen.
                body.extend(c.action_set([b]) for b in buttons)
            else:
                body.extend(c.action_rows(buttons))
            hint = self.msg.text(HINT_KEYS[self.answer_words(node, ds)])
            body.append(c.text(hint, size="Small", subtle=True))
            return Reply(card=c.card(body, self._nav(flow, ds)), summary=question[:200])
        if node.guidance:
            head.append(c.text(self._fill(node.guidance, ds), subtle=True))
        field: dict[str, Any] = {
            "type": "Input.Text",
            "id": "answer",
            "isMultiline": True,
            "maxLength": node.max_length,
            "label": self.msg.text("flow.your_answer"),
        }
        if node.placeholder:
            field["placeholder"] = node.placeholder
        head.append(field)
        head.append(c.text(self.msg.text("flow.hint_text"), size="Small", subtle=True))
        actions = [c.submit(self.msg.text("flow.next"), data, style="positive")]
        if node.optional:
            skip = {**data, "skip": True}
            actions.append(c.submit(self.msg.text("flow.skip"), skip, inputs=False))
        actions.extend(self._nav(flow, ds))
        return Reply(card=c.card(head, actions), summary=question[:200])

    def _pnr_card(self, flow: Flow) -> Reply:
        body = [
            c.container(
                [c.heading(self.msg.text("pnr.title")), c.text(self.msg.text("pnr.text"))],
                style="warning",
            ),
            c.action_set(
                [
                    c.submit(
                        self.msg.text("pnr.rewrite_button"),
                        {"action": c.FLOW_PNR, "choice": "rewrite"},
                    ),
                    c.submit(
                        self.msg.text("pnr.mask_button"),
                        {"action": c.FLOW_PNR, "choice": "use_masked"},
                    ),
                ]
            ),
        ]
        return Reply(
            card=c.card(body, [c.submit(self.msg.text("flow.cancel"), {"action": c.FLOW_CANCEL})]),
            summary=self.msg.text("pnr.title"),
        )

    def _names_card(self, flow: Flow, ds: DialogState, node: TextNode, answer: str) -> Reply:
        """"That looks like a name": the answer, pre-filled, to edit and send again; or the
        names replaced; or "it is no name"."""
        data = {"action": c.FLOW_ANSWER, "flow": flow.id, "node": ds.node}
        body = [
            c.text(flow.title, size="Small", subtle=True),
            c.text(self._fill(node.text, ds), size="Medium", weight="Bolder"),
            c.container(
                [c.heading(self.msg.text("names.title")), c.text(self.msg.text("names.text"))],
                style="warning",
            ),
            {
                "type": "Input.Text",
                "id": "answer",
                "isMultiline": True,
                "maxLength": node.max_length,
                "label": self.msg.text("names.label"),
                "value": answer[: node.max_length],
            },
        ]
        actions = [
            c.submit(self.msg.text("names.send"), data, style="positive"),
            c.submit(self.msg.text("names.mask"), {**data, "mask_names": True}),
            c.submit(self.msg.text("names.not_a_name"), {**data, "names_ok": True}),
            c.submit(self.msg.text("flow.cancel"), {"action": c.FLOW_CANCEL}, inputs=False),
        ]
        return Reply(card=c.card(body, actions), summary=self.msg.text("names.title"))

    def _section_applies(self, section: Section | Item, ds: DialogState) -> bool:
        for key, expected in section.when.items():
            value = ds.facts.get(key[6:]) if key.startswith("facts.") else ds.vars.get(key)
            if isinstance(expected, list):
                if value not in expected:
                    return False
            elif value != expected:
                return False
        return True

    def _offer_buttons(
        self, flow: Flow, node: OutcomeNode, ds: DialogState
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for offer in node.offer:
            if offer == "why":
                if ds.vars.get("reasons"):
                    out.append(c.submit(self.msg.text("offer.why"), {"action": c.FLOW_WHY}))
            elif offer == "report":
                out.append(
                    c.submit(
                        self.msg.text("offer.report"),
                        {"action": c.FLOW_START, "flow": "report"},
                        style="positive",
                    )
                )
            elif offer == "back":
                out.append(c.submit(self.msg.text("flow.back"), {"action": c.FLOW_BACK}))
            elif offer == "restart":
                out.append(
                    c.submit(
                        self.msg.text("offer.restart"), {"action": c.FLOW_START, "flow": flow.id}
                    )
                )
            elif offer == "menu":
                out.append(c.submit(self.msg.text("offer.menu"), {"action": c.MENU}))
            else:
                title = self.msg.text(MENU_OFFERS[offer])
                out.append(c.submit(title, {"action": c.MENU, "item": offer}))
        return out

    def _render_outcome(
        self, turn: Turn, flow: Flow, ds: DialogState, node: OutcomeNode
    ) -> list[Reply]:
        title = self._fill(node.title, ds)
        head: list[dict[str, Any]] = [
            c.text(flow.title, size="Small", subtle=True),
            c.heading(title, size="Large"),
        ]
        if node.text:
            head.append(c.text(self._fill(node.text, ds)))
        style = {"attention": "attention", "good": "good", "warning": "warning"}.get(node.style)
        body: list[dict[str, Any]] = [c.container(head, style=style)] if style else head
        for section in node.sections:
            if not self._section_applies(section, ds):
                continue
            if section.heading:
                body.append(
                    c.text(self._fill(section.heading, ds), weight="Bolder", separator=True)
                )
            if section.text:
                body.append(c.text(self._fill(section.text, ds)))
            items = [
                self._fill(i if isinstance(i, str) else i.text, ds)
                for i in section.items
                if isinstance(i, str) or self._section_applies(i, ds)
            ]
            if items:
                body.append(c.bullets(items, numbered=section.numbered))
        for topic_id in node.topics:
            topic = self.topics.kb.topic(topic_id, turn.day)
            if topic is None:
                log.warning("flow %s: topic %s not in the knowledge base", flow.id, topic_id)
                continue
            blocks = self.topics.topic_blocks(topic, turn.day, details=False)
            body.append(c.container(blocks, separator=True, spacing="Large"))
        if node.sources:
            body.extend(self.topics.sources_block(node.sources, turn.day))
        body.extend(c.action_rows(self._offer_buttons(flow, node, ds)))
        replies = [Reply(card=c.card(body), summary=title)]
        if "report_draft" in node.render and node.draft is not None:
            replies.append(Reply(text=self.draft_text(flow, ds), summary=node.draft.title))
        if "contacts" in node.render:
            replies.extend(self._contacts(turn, ds))
        return replies

    def _contacts(self, turn: Turn, ds: DialogState) -> list[Reply]:
        result = turn.scratch.get("route")
        routed = result is not None and bool(getattr(result, "ok", False))
        if routed and self.contact_card is not None:
            try:
                card = self.contact_card(result)
            except Exception:
                log.warning("contact card failed", exc_info=True)
                card = None
            if card is not None:
                return [Reply(card=card, summary=self.msg.text("contacts.summary"))]
        purpose = ds.vars.get("purpose")
        rule_key = {"report": "contacts.rule_report", "general": "contacts.rule_general"}.get(
            str(purpose), "contacts.rule_consult"
        )
        why_key = (
            "contacts.missing" if result is not None and not routed else "contacts.unavailable"
        )
        body = [
            c.text(self.msg.text("contacts.heading"), weight="Bolder"),
            c.text(self.msg.text(why_key)),
            c.text(self.msg.text(rule_key)),
            c.action_set(
                [
                    c.submit(
                        self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}
                    )
                ]
            ),
        ]
        return [Reply(card=c.card(body), summary=self.msg.text("contacts.heading"))]

    def draft_text(self, flow: Flow, ds: DialogState) -> str:
        """The report draft from the answers of the nodes the user went through, in flow order."""
        assert isinstance(flow.nodes[ds.node], OutcomeNode)
        outcome = flow.nodes[ds.node]
        assert isinstance(outcome, OutcomeNode) and outcome.draft is not None
        draft = outcome.draft
        visited = {h["node"] for h in ds.history}
        parts: list[str] = [draft.title]
        parts.extend(self._fill(line, ds) for line in draft.before)
        for node_id, node in flow.nodes.items():
            if node_id not in visited or not isinstance(node, TextNode | QuestionNode):
                continue
            if not node.draft_heading:
                continue
            if isinstance(node, TextNode):
                value = ds.vars.get(node.field)
                if isinstance(value, str) and value:
                    body = f"”{value}”" if node.quote else value
                else:
                    body = draft.empty
            else:
                label = ds.vars.get(f"{node.field}_label") if node.field else None
                body = str(label) if label else draft.empty
            # One paragraph per field: Teams shows paragraph breaks reliably, single ones not.
            parts.append(f"{node.draft_heading} {body}")
        parts.extend(self._fill(line, ds) for line in draft.after)
        return "\n\n".join(parts)


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


def action_needs(flow: Flow) -> set[str]:
    """Collaborators ("rules", "registry") some action of the flow uses."""
    needs: set[str] = set()
    for node in flow.nodes.values():
        if isinstance(node, ActionNode) and node.action in ACTION_SPECS:
            need = ACTION_SPECS[node.action].needs
            if need is not None:
                needs.add(need)
    return needs
