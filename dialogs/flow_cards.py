"""The cards of a flow's nodes: questions with their choices, info, the personnummer and name
warnings, outcomes with their sections, topics and contacts, and the report draft.

The flow engine (dialogs.engine) walks the flow and asks these for what to show.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.catalogue import Catalogue
from contacts import card as contact_cards
from dialogs import cards as c
from dialogs.answers import TopicCards
from dialogs.flows import (
    Flow,
    InfoNode,
    Item,
    OutcomeNode,
    QuestionNode,
    Section,
    TextNode,
)
from dialogs.state import DialogState, Turn
from dialogs.types import Reply

log = logging.getLogger(__name__)

# Outcome `offer` values that open a menu entry → the entry's title.
MENU_OFFERS = {
    "contacts": "menu.items.contacts",
    "concern": "menu.items.concern",
    "sharing": "menu.items.sharing",
}
# Quotation marks a user may type around the child's words (the draft adds its own).
QUOTES = "\"'”“„«»‘’"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Which words answer a question (FlowCards.answer_words) → the hint under it.
HINT_KEYS = {
    "yes_no_unknown": "flow.hint_choice",
    "yes_no": "flow.hint_choice_yes_no",
    "number": "flow.hint_choice_number",
}

ContactCardBuilder = Callable[[Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    index: int  # 1-based, as shown


class FlowCards:
    """The cards and texts of the nodes of the flows, with the conversation's catalogue."""

    def __init__(
        self,
        msg: Catalogue,
        topics: TopicCards,
        *,
        contact_card: ContactCardBuilder | None = None,
    ) -> None:
        self.msg = msg
        self.topics = topics
        self.contact_card = contact_card

    # --- choices -------------------------------------------------------------------------------

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
        opts.extend((ch.value, self.fill(ch.label, ds)) for ch in node.choices)
        return [Option(v, label, i) for i, (v, label) in enumerate(opts, start=1)]

    # --- rendering -----------------------------------------------------------------------------

    def fill(self, template: str, ds: DialogState) -> str:
        return _PLACEHOLDER.sub(lambda m: str(ds.vars.get(m.group(1), "")), template)

    def _nav(self, flow: Flow, ds: DialogState) -> list[dict[str, Any]]:
        nav: list[dict[str, Any]] = []
        if ds.history:
            nav.append(c.submit(self.msg.text("flow.back"), {"action": c.FLOW_BACK}, inputs=False))
        nav.append(c.submit(self.msg.text("flow.cancel"), {"action": c.FLOW_CANCEL}, inputs=False))
        return nav

    def info(self, node: InfoNode, ds: DialogState) -> Reply:
        body: list[dict[str, Any]] = []
        if node.title:
            body.append(c.heading(self.fill(node.title, ds)))
        body.append(c.text(self.fill(node.text, ds)))
        return Reply(card=c.card(body), summary=self.fill(node.title or node.text, ds)[:200])

    def question(self, flow: Flow, ds: DialogState, node: QuestionNode | TextNode) -> Reply:
        question = self.fill(node.text, ds)
        head: list[dict[str, Any]] = [
            c.text(flow.title, size="Small", subtle=True),
            c.text(question, size="Medium", weight="Bolder"),
        ]
        data = {"action": c.FLOW_ANSWER, "flow": flow.id, "node": ds.node}
        if isinstance(node, QuestionNode):
            if node.help:
                head.append(c.text(self.fill(node.help, ds), subtle=True))
            for note in node.notes:
                if self._section_applies(note, ds):
                    head.append(c.text(self.fill(note.text, ds), weight="Bolder"))
            body = [c.container(head, style="attention")] if node.style == "attention" else head
            options = self.options(node, ds)
            buttons = [c.submit(o.label, {**data, "choice": o.value}) for o in options]
            if len(buttons) > 3 or any(len(o.label) > 12 for o in options):
                # One per row: long labels are never cut off, and they read down a phone screen.
                body.extend(c.action_set([b]) for b in buttons)
            else:
                body.extend(c.action_rows(buttons))
            hint = self.msg.text(HINT_KEYS[self.answer_words(node, ds)])
            # id "hint": the terminal chat says "Skriv numret" instead (samverkan.cardtext).
            body.append({**c.text(hint, size="Small", subtle=True), "id": "hint"})
            return Reply(card=c.card(body, self._nav(flow, ds)), summary=question[:200])
        if node.guidance:
            head.append(c.text(self.fill(node.guidance, ds), subtle=True))
        field: dict[str, Any] = {
            "type": "Input.Text",
            "id": "answer",
            "isMultiline": True,
            "maxLength": node.max_length,
            "label": self.msg.text("flow.your_answer"),
        }
        if node.placeholder:
            field["placeholder"] = node.placeholder
        prefill = ds.data.get("prefill")
        if isinstance(prefill, dict) and prefill.get("node") == ds.node and prefill.get("text"):
            # "Ändra svar" or "Skriv om svaret": what was typed, to edit (dialog state only).
            field["value"] = str(prefill["text"])[: node.max_length]
        head.append(field)
        head.append(c.text(self.msg.text("flow.hint_text"), size="Small", subtle=True))
        actions = [c.submit(self.msg.text("flow.next"), data, style="positive")]
        if node.optional:
            skip = {**data, "skip": True}
            actions.append(c.submit(self.msg.text("flow.skip"), skip, inputs=False))
        actions.extend(self._nav(flow, ds))
        return Reply(card=c.card(head, actions), summary=question[:200])

    def pnr_card(self, flow: Flow) -> Reply:
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

    def names_card(self, flow: Flow, ds: DialogState, node: TextNode, answer: str) -> Reply:
        """"That looks like a name": the answer, pre-filled, to edit and send again; or the
        names replaced; or "it is no name"."""
        data = {"action": c.FLOW_ANSWER, "flow": flow.id, "node": ds.node}
        body = [
            c.text(flow.title, size="Small", subtle=True),
            c.text(self.fill(node.text, ds), size="Medium", weight="Bolder"),
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

    def outcome(
        self, turn: Turn, flow: Flow, ds: DialogState, node: OutcomeNode
    ) -> list[Reply]:
        title = self.fill(node.title, ds)
        # The outcome's own heading says what it is about (no flow title above it on a phone).
        head: list[dict[str, Any]] = [c.heading(title, size="Large")]
        if node.text:
            head.append(c.text(self.fill(node.text, ds)))
        style = {"attention": "attention", "good": "good", "warning": "warning"}.get(node.style)
        body: list[dict[str, Any]] = [c.container(head, style=style)] if style else head
        later: list[dict[str, Any]] = []  # sections marked `more`: behind "Visa mer"
        for section in node.sections:
            if not self._section_applies(section, ds):
                continue
            into = later if section.more else body
            if section.heading:
                into.append(
                    c.text(self.fill(section.heading, ds), weight="Bolder", separator=True)
                )
            if section.text:
                into.append(c.text(self.fill(section.text, ds)))
            items = [
                self.fill(i if isinstance(i, str) else i.text, ds)
                for i in section.items
                if isinstance(i, str) or self._section_applies(i, ds)
            ]
            if items:
                into.append(c.bullets(items, numbered=section.numbered))
        body.extend(self._topics(turn, flow, node))
        if node.sources or later:
            body.extend(self.topics.sources_more(node.sources, turn.day, before=later))
        body.extend(c.action_rows(self._offer_buttons(flow, node, ds)))
        replies = [Reply(card=c.card(body), summary=title)]
        if "report_draft" in node.render and node.draft is not None:
            replies.append(Reply(card=self.draft_card(flow, ds), summary=node.draft.title))
            # The same as plain text, to copy into the e-tjänst in one go.
            replies.append(Reply(text=self.draft_text(flow, ds), summary=node.draft.title))
        if "contacts" in node.render:
            replies.extend(self._contacts(turn, ds))
        return replies

    def _topics(self, turn: Turn, flow: Flow, node: OutcomeNode) -> list[dict[str, Any]]:
        """The first topic is the answer (its short answer, the rest behind "Visa mer"); the
        others are "Läs också" buttons, never whole articles stacked in one card."""
        found = []
        for topic_id in node.topics:
            topic = self.topics.kb.topic(topic_id, turn.day)
            if topic is None:
                log.warning("flow %s: topic %s not in the knowledge base", flow.id, topic_id)
            else:
                found.append(topic)
        if not found:
            return []
        blocks = self.topics.topic_blocks(found[0], turn.day, heading=False)
        more = [
            c.submit(
                self.msg.text("answer.read_more", title=t.short_title),
                {"action": c.TOPIC, "topic": t.id},
            )
            for t in found[1:]
        ]
        if more:
            blocks.append(c.text(self.msg.text("answer.related"), weight="Bolder", separator=True))
            blocks.extend(c.action_set([b]) for b in more)
        return blocks

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
        known: list[dict[str, Any]] = []
        if ds.vars.get("socialjour_known") and ds.vars.get("socialjour_phone"):
            # What is known without the school or the home: socialjouren's number.
            line = self.msg.text("contacts.socialjour", phone=str(ds.vars["socialjour_phone"]))
            known.append(c.text(line, weight="Bolder"))
        body = [
            c.text(self.msg.text("contacts.heading"), weight="Bolder"),
            c.text(self.msg.text(why_key)),
            c.text(self.msg.text(rule_key)),
            *known,
            c.action_set(
                [
                    # One press to the school question (what it is about is carried over).
                    c.submit(
                        self.msg.text("contacts.pick_school"),
                        {"action": c.FLOW_START, "flow": "contacts"},
                        style="positive",
                    )
                ]
            ),
        ]
        return [Reply(card=c.card(body), summary=self.msg.text("contacts.heading"))]

    def draft_parts(self, flow: Flow, ds: DialogState) -> tuple[str, list[tuple[str, str]]]:
        """The report draft from the answers of the nodes the user went through, in flow order:
        (title, [(label, text)]); a line of `before`/`after` has no label."""
        outcome = flow.nodes[ds.node]
        assert isinstance(outcome, OutcomeNode) and outcome.draft is not None
        draft = outcome.draft
        visited = {h["node"] for h in ds.history}
        parts: list[tuple[str, str]] = [("", self.fill(line, ds)) for line in draft.before]
        for node_id, node in flow.nodes.items():
            if node_id not in visited or not isinstance(node, TextNode | QuestionNode):
                continue
            if not node.draft_heading:
                continue
            if isinstance(node, TextNode):
                value = ds.vars.get(node.field)
                if isinstance(value, str) and value.strip():
                    # The child's own words in quotation marks, once: quotes the user typed
                    # around them are not doubled (”"…"”).
                    words = value.strip().strip(QUOTES).strip()
                    body = f"”{words}”" if node.quote and words else value.strip()
                else:
                    body = draft.empty
            else:
                label = ds.vars.get(f"{node.field}_label") if node.field else None
                body = str(label) if label else draft.empty
            parts.append((node.draft_heading, body))
        parts.extend(("", self.fill(line, ds)) for line in draft.after)
        return draft.title, parts

    def draft_text(self, flow: Flow, ds: DialogState) -> str:
        """The draft as plain text to copy: no markdown, one paragraph per field."""
        title, parts = self.draft_parts(flow, ds)
        lines = [title, *(f"{label}\n{body}" if label else body for label, body in parts)]
        return "\n\n".join(lines)

    def draft_card(self, flow: Flow, ds: DialogState) -> dict[str, Any]:
        """The draft to read in Teams: bold labels, space between the fields."""
        title, parts = self.draft_parts(flow, ds)
        body: list[dict[str, Any]] = [c.heading(title)]
        for label, text in parts:
            if label:
                body.append(c.text(label, weight="Bolder", spacing="Medium"))
                body.append(c.text(text, spacing="Small"))
            else:
                body.append(c.text(text, subtle=True, spacing="Medium"))
        body.append(c.text(self.msg.text("draft.copy_hint"), size="Small", subtle=True,
                           separator=True))
        return c.card(body)


# --- the contact card of the contacts package, bound to its catalogue -----------------------------


def contact_card_builder(texts: Catalogue) -> Callable[[Any], dict[str, Any] | None]:
    """The registry helper's contact card with the contacts catalogue (`contacts.texts()`)."""

    def make(result: Any) -> dict[str, Any] | None:
        if not getattr(result, "ok", False):
            return None
        return contact_cards.contact_card(result, texts=texts)

    return make

