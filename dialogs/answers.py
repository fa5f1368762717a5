"""Cards that answer from the knowledge base: a topic's answer, "Menade du…?", a kind decline,
a glossary term and the reasons behind an assessment. Every answer shows its sources and the date
the legal content was last checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs import local_routine
from knowledge.loader import KnowledgeBase
from knowledge.model import BUTTON_MAX, GuidanceSource, LawSource, SeedSource, Term, Topic

SourceT = SeedSource | LawSource | GuidanceSource
# At most this many "Läs också" (and "Menade du…") buttons under an answer.
MAX_RELATED = 3

# Topic `offer` values → (message key of the button title, button data).
_OFFERS: dict[str, tuple[str, dict[str, Any]]] = {
    "concern": ("menu.items.concern", {"action": c.MENU, "item": "concern"}),
    "contacts": ("menu.items.contacts", {"action": c.MENU, "item": "contacts"}),
    "forums": ("menu.items.forums", {"action": c.MENU, "item": "forums"}),
    "feedback": ("menu.items.sharing", {"action": c.MENU, "item": "sharing"}),
    "report": ("offer.report", {"action": c.FLOW_START, "flow": "report"}),
}


class TopicCards:
    def __init__(self, kb: KnowledgeBase, msg: Catalogue) -> None:
        self.kb = kb
        self.msg = msg

    # --- sources -------------------------------------------------------------------------------

    def _law_valid(self, src: LawSource, day: date) -> bool:
        return src.valid_from <= day and (src.valid_until is None or day < src.valid_until)

    def source_line(self, src: SourceT, day: date) -> str:
        """A source as users see it: a human name linked to its public text."""
        line = self.kb.cited(src).markdown()
        if isinstance(src, LawSource):
            if src.valid_until is not None and day >= src.valid_until:
                line = self.msg.text(
                    "answer.source_until", source=line, date=self.msg.date(src.valid_until)
                )
            elif day < src.valid_from:
                line = self.msg.text(
                    "answer.source_from", source=line, date=self.msg.date(src.valid_from)
                )
        return line

    def source_lines(self, sources: Iterable[SourceT], day: date) -> list[str]:
        current: list[str] = []
        older: list[str] = []
        seen: set[str] = set()
        for src in sources:
            line = self.source_line(src, day)
            if line in seen:
                continue
            seen.add(line)
            if isinstance(src, LawSource) and not self._law_valid(src, day):
                older.append(line)
            else:
                current.append(line)
        return current + older

    def main_law(self, sources: Sequence[SourceT], day: date) -> str | None:
        for src in sources:
            if isinstance(src, LawSource) and self._law_valid(src, day):
                return self.kb.cite(src)
        return None

    def validity_line(self, sources: Sequence[SourceT], day: date) -> str:
        checked = self.msg.date(self.kb.meta.legal_checked)
        law = self.main_law(sources, day)
        if law is not None:
            return self.msg.text("answer.valid_law", law=law, checked=checked)
        return self.msg.text("answer.valid_practice", checked=checked)

    def sources_block(self, sources: Sequence[SourceT], day: date) -> list[dict[str, Any]]:
        sources = local_routine.visible(self.kb, sources)  # no other kommun's documents
        lines = self.source_lines(sources, day)
        return [
            c.text(self.validity_line(sources, day), size="Small", subtle=True, separator=True),
            c.text(self.msg.text("answer.sources"), size="Small", weight="Bolder", spacing="Small"),
            c.text("\n".join(f"- {s}" for s in lines), size="Small", spacing="None"),
        ]

    def sources_more(
        self,
        sources: Sequence[SourceT],
        day: date,
        *,
        before: Sequence[dict[str, Any]] = (),
        suffix: str = "s",
    ) -> list[dict[str, Any]]:
        """`before` (more of a flow outcome), the validity line and the sources behind
        "Visa mer"."""
        details_id, more_id = f"details{suffix}", f"more{suffix}"
        toggle = [details_id, more_id]
        hidden = [
            *before,
            *(self.sources_block(sources, day) if sources else []),
            c.action_set([c.toggle(self.msg.text("answer.less"), toggle)]),
        ]
        return [
            c.action_set([c.toggle(self.msg.text("answer.more"), toggle)], id=more_id),
            c.container(hidden, id=details_id, isVisible=False),
        ]

    def seed_label(self, ref: str) -> str:
        """A source as the rule engine gives it ('003', 'SoL (2025:400) 19 kap. 1 §') as users
        see it: 'Lekebergs samverkansplan 2020', '[Socialtjänstlagen 19 kap. 1 §](url)'."""
        return self.kb.cited_reference(ref).markdown()

    # --- topic answers -------------------------------------------------------------------------

    def topic_button(
        self, topic: Topic, *, key: str | None = None, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A button that opens a topic: its title when that fits a Teams button (≤ 40
        characters), else its short title; with `key` ("Läs mer: {title}") the short title.
        `extra`: more button data (the learning loop's question)."""
        if key:
            title = self.msg.text(key, title=topic.short_title)
        else:
            title = topic.title if len(topic.title) <= BUTTON_MAX else topic.short_title
        return c.submit(title, {"action": c.TOPIC, "topic": topic.id} | (extra or {}))

    def topic_blocks(
        self, topic: Topic, day: date, *, heading: bool = True, suffix: str = ""
    ) -> list[dict[str, Any]]:
        """Title (unless `heading` is False: the card has its own), the short answer and the
        kommun's routine ("I <kommun>:"), then "Visa mer" revealing the full answer, the details,
        the validity line and the sources ("Visa mindre" hides them again). `suffix` keeps
        element ids unique in one card."""
        details_id, more_id = f"details{suffix}", f"more{suffix}"
        local = local_routine.blocks(self.kb, topic, day, self.msg)
        hidden: list[dict[str, Any]] = [c.text(topic.answer)]
        if topic.details:
            hidden.append(c.text(topic.details))
        if topic.changed:
            hidden.append(c.text(self.msg.text("answer.changed", text=topic.changed), subtle=True))
        hidden.extend(local.more)
        hidden.extend(self.sources_block(local_routine.sources(self.kb, topic, day), day))
        toggle = [details_id, more_id]
        hidden.append(c.action_set([c.toggle(self.msg.text("answer.less"), toggle)]))
        return [
            *([c.heading(topic.title)] if heading else []),
            c.text(topic.lead),
            *local.shown,
            c.action_set([c.toggle(self.msg.text("answer.more"), toggle)], id=more_id),
            c.container(hidden, id=details_id, isVisible=False),
        ]

    def answer_card(
        self,
        topic: Topic,
        day: date,
        *,
        lead: str | None = None,
        extra_actions: Sequence[dict[str, Any]] = (),
        feedback: bool = True,
        instead: Sequence[str] = (),
        question: str | None = None,
    ) -> dict[str, Any]:
        """A topic's answer: its short answer first, the rest behind "Visa mer". `lead`: a note
        above it; `instead`: the closest other topics, offered first when the answer was found
        with little confidence; `question`: what the user typed, carried by the 👎 button so
        that its reply can offer to suggest it (dialogs.learning)."""
        body: list[dict[str, Any]] = []
        topics = self.kb.topics_on(day)
        others = [topics[t] for t in dict.fromkeys(instead) if t in topics and t != topic.id]
        others = others[:MAX_RELATED]
        if others:
            body.append(c.text(self.msg.text("answer.tentative"), subtle=True))
        if lead:
            body.append(c.text(lead, subtle=True))
        body.extend(self.topic_blocks(topic, day))
        if extra_actions:  # "Fortsätt där du var" belongs right under the answer
            body.extend(c.action_rows(list(extra_actions)))
        if others:
            body.append(c.text(self.msg.text("answer.instead"), weight="Bolder", separator=True))
            body.extend(c.action_rows([self.topic_button(t) for t in others]))
        shown = {t.id for t in others}
        related = [topics[r] for r in topic.related if r in topics and r not in shown]
        related = related[: MAX_RELATED - len(others)] if others else related[:MAX_RELATED]
        if related:
            body.append(c.text(self.msg.text("answer.related"), weight="Bolder", separator=True))
            body.append(c.action_set([self.topic_button(t) for t in related]))
        offers = [
            c.submit(self.msg.text(key), data)
            for o in topic.offer
            if o in _OFFERS
            for key, data in [_OFFERS[o]]
        ]
        if offers:
            body.extend(c.action_rows(offers))
        if feedback:
            body.append(
                c.text(self.msg.text("feedback.ask"), size="Small", subtle=True, separator=True)
            )
            body.append(
                c.action_set(
                    [
                        c.submit(
                            self.msg.text("feedback.up"),
                            {"action": c.FEEDBACK, "topic": topic.id, "vote": "up"},
                        ),
                        c.submit(
                            self.msg.text("feedback.down"),
                            {"action": c.FEEDBACK, "topic": topic.id, "vote": "down"}
                            | ({"q": question} if question else {}),
                        ),
                    ]
                )
            )
        return c.card(body)

    def suggest_card(
        self,
        topic_ids: Sequence[str],
        day: date,
        *,
        extra_actions: Sequence[dict[str, Any]] = (),
        question: str | None = None,
    ) -> dict[str, Any] | None:
        """"Menade du…?"; `question` (what the user typed) rides on the buttons so that the
        answer's 👎 and the decline after "Inget av dessa" can offer to suggest it."""
        topics = self.kb.topics_on(day)
        chosen = [topics[t] for t in topic_ids if t in topics][:3]
        if not chosen:
            return None
        q: dict[str, Any] = {"q": question} if question else {}
        buttons = [self.topic_button(t, extra=q) for t in chosen]
        buttons.append(c.submit(self.msg.text("suggest.none"), {"action": c.SUGGEST_NONE} | q))
        body = [
            c.heading(self.msg.text("suggest.title")),
            c.text(self.msg.text("suggest.text")),
            *c.action_rows(buttons),
        ]
        if extra_actions:
            body.extend(c.action_rows(list(extra_actions)))
        return c.card(body)

    def decline_card(
        self,
        menu_buttons: list[dict[str, Any]],
        *,
        lead: str | None = None,
        long: bool = False,
        extra: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """No answer found; `long` for a long message (most likely a worry told in full, not a
        question outside the field); `extra`: blocks at the bottom (dialogs.learning's offer)."""
        body: list[dict[str, Any]] = []
        if lead:
            body.append(c.text(lead, subtle=True))
        body.extend(
            [
                c.heading(self.msg.text("decline.long_title" if long else "decline.title")),
                c.text(self.msg.text("decline.long_text" if long else "decline.text")),
                c.text(self.msg.text("decline.contacts")),
                *c.action_rows(menu_buttons),
                *extra,
            ]
        )
        return c.card(body)

    def glossary_card(self, term: Term, day: date) -> dict[str, Any]:
        title = f"{term.term} – {term.long}" if term.long else term.term
        body: list[dict[str, Any]] = [c.heading(title), c.text(term.explanation)]
        topic = self.kb.topic(term.topic, day) if term.topic else None
        if topic is not None:
            body.append(
                c.action_set(
                    [
                        self.topic_button(topic, key="glossary.read_more")
                    ]
                )
            )
        return c.card(body)

    def reasons_card(self, reasons: Sequence[dict[str, Any]], checked: date) -> dict[str, Any]:
        """Why the assessment came out as it did: each rule's text; its sources behind
        "Visa mer" (shown under each rule)."""
        body: list[dict[str, Any]] = [
            c.heading(self.msg.text("why.title")),
            c.text(self.msg.text("why.text")),
        ]
        hidden: list[str] = []
        for n, r in enumerate(reasons, start=1):
            body.append(c.text(str(r.get("text", "")), separator=True))
            refs = local_routine.visible_refs(self.kb, [str(s) for s in r.get("sources", [])])
            sources = list(dict.fromkeys(self.seed_label(s) for s in refs))
            if sources:
                hidden.append(f"sources{n}")
                line = self.msg.text("why.sources", sources="; ".join(sources))
                block = c.text(line, size="Small", subtle=True, spacing="Small")
                body.append(c.container([block], id=hidden[-1], isVisible=False))
        if hidden:
            targets = [*hidden, "more", "less"]
            body.append(c.action_set([c.toggle(self.msg.text("answer.more"), targets)], id="more"))
            body.append(
                c.action_set(
                    [c.toggle(self.msg.text("answer.less"), targets)], id="less", isVisible=False
                )
            )
        body.append(
            c.text(
                self.msg.text("why.checked", checked=self.msg.date(checked)),
                size="Small",
                subtle=True,
                separator=True,
            )
        )
        return c.card(body)
