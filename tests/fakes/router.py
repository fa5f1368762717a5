"""A minimal router for testing the channel layer on its own (the real one is dialogs.router)."""

from __future__ import annotations

from dialogs.types import Incoming, Reply, TurnState


class EchoRouter:
    """Echoes what it got, counts turns in dialog state, and fails on request."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return [
            Reply(
                card={
                    "type": "AdaptiveCard",
                    "version": "1.5",
                    "body": [{"type": "TextBlock", "text": "Välkommen"}],
                }
            )
        ]

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        self.seen.append(inc)
        if inc.text == "krascha":
            raise RuntimeError(f"failed while reading {inc.text}")
        if inc.text == "glöm":
            state.dialog.clear()
            return [Reply(text="glömt")]
        state.dialog["turns"] = int(state.dialog.get("turns", 0)) + 1
        state.dialog["last"] = inc.text
        return [Reply(text=f"eko: {inc.text[:50]} ({state.dialog['turns']})")]
