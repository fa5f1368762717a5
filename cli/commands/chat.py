"""`samverkan chat`: the same bot (router, state, knowledge base, database) in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from cli import texts
from common.catalogue import Catalogue
from dialogs.types import Incoming, Reply
from samverkan.cardtext import Button, ansi_bold, no_bold, plain, render_card
from samverkan.logs import configure as configure_logging
from samverkan.settings import Settings, SettingsError


class TerminalChat:
    """Shows replies; a typed number presses the numbered button of the latest replies."""

    def __init__(
        self, turns: Any, messages: Catalogue, user_id: str, out: TextIO, ask: Any
    ) -> None:
        self._turns = turns
        self.msg = messages
        self._user = user_id
        self._out = out
        self._ask = ask
        self.buttons: list[Button] = []
        # Bold as bold on a terminal; as plain words when the output is a file or a pipe.
        isatty = getattr(out, "isatty", None)
        self._bold = ansi_bold if callable(isatty) and isatty() else no_bold

    def incoming(self, text: str = "", value: dict[str, Any] | None = None) -> Incoming:
        return Incoming(
            user_id=self._user,
            conversation_id=f"terminal-{self._user}",
            text=text,
            value=value,
            conversation_type="personal",
            channel_id="cli",
            user_name=self._user,
        )

    def show(self, replies: list[Reply]) -> None:
        buttons: list[Button] = []
        for reply in replies:
            if reply.text:
                text = plain(reply.text, self._bold)
                print("\n" + self.msg.text("chat.bot", text=text), file=self._out)
            if reply.card is not None:
                rendered = render_card(reply.card, start=len(buttons) + 1, bold=self._bold)
                print("\n" + rendered.text, file=self._out)
                buttons += rendered.buttons
        self.buttons = buttons
        self._out.flush()

    async def start(self) -> None:
        self.show(await self._turns.welcome(self.incoming()))

    async def say(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to quit."""
        line = line.strip()
        if not line:
            return True
        if line.lower() in self.msg.phrases("chat.quit"):
            return False
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return await self.press(self.buttons[int(line) - 1])
        self.show(await self._turns.message(self.incoming(text=line)))
        return True

    async def press(self, button: Button) -> bool:
        if button.kind == "url":
            print(self.msg.text("chat.link", url=button.url), file=self._out)
            return True
        if button.kind == "showcard" and button.card is not None:
            rendered = render_card(button.card, bold=self._bold)
            print("\n" + rendered.text, file=self._out)
            self.buttons = rendered.buttons
            return True
        data = dict(button.data or {})
        for field in button.inputs:
            label = field.get("label") or field.get("placeholder") or field.get("id")
            answer = await self._ask(self.msg.text("chat.field", label=label))
            if answer is None:
                return False
            data[str(field.get("id"))] = answer
        print(self.msg.text("chat.chose", title=button.title), file=self._out)
        self.show(await self._turns.message(self.incoming(value=data)))
        return True


async def _read(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def _main(user: str) -> int:
    from samverkan.services import build_services

    services = await build_services(Settings())
    messages: Catalogue = services.messages
    try:
        chat = TerminalChat(services.turns(), messages, user, sys.stdout, _read)
        print(messages.text("chat.intro"))
        await chat.start()
        while True:
            line = await _read("\n" + messages.text("chat.prompt"))
            if line is None or not await chat.say(line):
                break
        print("\n" + messages.text("chat.bye"))
    finally:
        await services.close()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        Settings().check_or_raise()
    except (SettingsError, ValueError) as exc:
        print(texts().text("chat.cannot_start", problem=exc), file=sys.stderr)
        return 2
    configure_logging("WARNING")
    try:
        return asyncio.run(_main(args.user))
    except KeyboardInterrupt:
        print()
        return 0
