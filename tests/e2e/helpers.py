"""Talk to the running server like Teams does: post activities, read the replies from the fake
Bot Connector, press card buttons by their title."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from samverkan.cardtext import Button, render_card
from tests.e2e.server import ServerProcess
from tests.fakes import teams
from tests.fakes.connector import FakeConnector


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    for att in activity.get("attachments") or []:
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content = att["content"]
            return content if isinstance(content, dict) else json.loads(content)
    return None


def text_of(activity: dict[str, Any]) -> str:
    parts = [activity.get("text") or ""]
    card = card_of(activity)
    if card is not None:
        parts.append(render_card(card).text)
    return "\n".join(p for p in parts if p)


@dataclass
class TeamsUser:
    server: ServerProcess
    connector: FakeConnector
    conversation_id: str
    user_id: str
    kind: str = "personal"
    last: list[dict[str, Any]] = field(default_factory=list)

    async def _send(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.connector.sent)
        status, body = await self.server.post(activity)
        assert status == 200, (status, body)
        self.last = [
            s.activity
            for s in self.connector.sent[before:]
            if s.conversation_id == self.conversation_id
        ]
        return self.last

    async def install(self) -> list[dict[str, Any]]:
        before = len(self.connector.sent)
        for act in teams.install(
            self.connector.url, self.conversation_id, self.user_id, kind=self.kind
        ):
            status, _ = await self.server.post(act)
            assert status == 200
        self.last = [s.activity for s in self.connector.sent[before:]]
        return self.last

    async def say(self, text: str) -> list[dict[str, Any]]:
        if self.kind == "channel":
            return await self._send(
                teams.channel_mention(self.connector.url, self.conversation_id, self.user_id, text)
            )
        return await self._send(
            teams.message(self.connector.url, self.conversation_id, self.user_id, text)
        )

    def buttons(self) -> list[Button]:
        found: list[Button] = []
        for act in self.last:
            card = card_of(act)
            if card is not None:
                found += [b for b in render_card(card).buttons if b.kind == "submit"]
        return found

    async def press(self, title: str) -> list[dict[str, Any]]:
        matches = [b for b in self.buttons() if b.title == title]
        assert matches, (
            f"no button {title!r}; have {[b.title for b in self.buttons()]}\n{self.transcript()}"
        )
        return await self._send(
            teams.press(
                self.connector.url,
                self.conversation_id,
                self.user_id,
                matches[-1].data or {},
                kind=self.kind,
            )
        )

    def transcript(self) -> str:
        return "\n---\n".join(text_of(a) for a in self.last)
