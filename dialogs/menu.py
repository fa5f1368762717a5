"""The menu, help, welcome and "ask a question" cards, and the button that resumes a waiting
dialog: what the router shows when the user asks where to go."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.engine import FlowEngine
from dialogs.state import Turn
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase

# Menu item → its title (the router starts a flow or shows a card for each).
MENU_TITLE_KEYS = {
    "ask": "menu.items.ask",
    "concern": "menu.items.concern",
    "contacts": "menu.items.contacts",
    "sharing": "menu.items.sharing",
    "forums": "menu.items.forums",
    "help": "menu.items.help",
}


class MenuCards:
    """The menu's cards in the conversation's catalogue; a waiting dialog adds its resume button."""

    def __init__(self, messages: Catalogue, kb: KnowledgeBase, engine: FlowEngine) -> None:
        self.msg = messages
        self.kb = kb
        self.engine = engine

    def buttons(self) -> list[dict[str, Any]]:
        return [
            c.submit(self.msg.text(key), {"action": c.MENU, "item": item})
            for item, key in MENU_TITLE_KEYS.items()
        ]

    def resume_button(self, turn: Turn) -> list[dict[str, Any]]:
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

    def body(self, turn: Turn | None) -> list[dict[str, Any]]:
        buttons = (self.resume_button(turn) if turn is not None else []) + self.buttons()
        return [c.action_set([b]) for b in buttons]

    def reply(self, turn: Turn) -> Reply:
        body = [c.heading(self.msg.text("menu.title")), *self.body(turn)]
        return Reply(card=c.card(body), summary=self.msg.text("menu.title"))

    def welcome_card(self) -> dict[str, Any]:
        body = [
            c.heading(self.msg.text("welcome.title"), size="Large"),
            c.text(self.msg.text("welcome.text")),
            c.bullets(list(self.msg.phrases("welcome.can"))),
            c.container(
                [c.text(self.msg.text("welcome.acute"), weight="Bolder")], style="attention"
            ),
            *self.kommun_line(),
            c.text(self.msg.text("welcome.privacy"), subtle=True),
            c.text(
                self.msg.text("welcome.checked", checked=self.msg.date(self.kb.meta.legal_checked)),
                size="Small",
                subtle=True,
            ),
            c.text(self.msg.text("menu.title"), weight="Bolder", separator=True),
            *self.body(None),
        ]
        return c.card(body)

    def kommun_line(self) -> list[dict[str, Any]]:
        """Which kommun's routines the answers add (and that the profile is an example)."""
        profile = self.kb.kommun
        if profile is None:
            return []
        key = "welcome.kommun_example" if profile.example else "welcome.kommun"
        return [c.text(self.msg.text(key, kommun=profile.name), weight="Bolder")]

    def help_reply(self, turn: Turn) -> Reply:
        body = [
            c.heading(self.msg.text("help.title")),
            c.text(self.msg.text("help.text")),
            c.bullets(list(self.msg.phrases("help.commands"))),
            c.text(self.msg.text("help.privacy"), subtle=True),
            c.text(self.msg.text("welcome.acute"), weight="Bolder"),
            *self.body(turn),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("help.title"))

    def ask_reply(self, turn: Turn) -> Reply:
        examples = list(self.msg.phrases("ask.examples"))
        body = [
            c.heading(self.msg.text("ask.title")),
            c.text(self.msg.text("ask.text")),
            c.bullets(examples),
            *c.action_rows(self.resume_button(turn)),
        ]
        return Reply(card=c.card(body), summary=self.msg.text("ask.title"))

    # --- after 👎 -------------------------------------------------------------------------------

    def down_vote_buttons(self, turn: Turn, topic_id: str) -> list[dict[str, Any]]:
        """What to do next when an answer did not help. One list, so that another way on (e.g.
        suggesting the question for the knowledge base) is one more entry here."""
        return [
            *self.resume_button(turn),
            c.submit(self.msg.text("feedback.rephrase"), {"action": c.MENU, "item": "ask"}),
            c.submit(self.msg.text("menu.items.contacts"), {"action": c.MENU, "item": "contacts"}),
            c.submit(self.msg.text("menu.items.concern"), {"action": c.MENU, "item": "concern"}),
        ]

    def down_vote_reply(
        self, turn: Turn, topic_id: str, extra: Sequence[dict[str, Any]] = ()
    ) -> Reply:
        """The reply to 👎: thanks, the ways on, and `extra` blocks at the end (the learning
        loop's offer to suggest the question for the knowledge base)."""
        body = [
            c.text(self.msg.text("feedback.thanks_down")),
            c.text(self.msg.text("feedback.next"), weight="Bolder"),
            *(c.action_set([b]) for b in self.down_vote_buttons(turn, topic_id)),
            *extra,
        ]
        return Reply(card=c.card(body), summary=self.msg.text("feedback.thanks_down"))

    def greeting_reply(self, turn: Turn) -> Reply:
        body = [c.text(self.msg.text("small.greeting")), *self.body(turn)]
        return Reply(card=c.card(body), summary=self.msg.text("small.greeting"))
