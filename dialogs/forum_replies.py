"""The forums in the conversation: the list of upcoming meetings with its reminder buttons, and
subscribing or unsubscribing the user or the channel (forums.repository does the storing)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from common import swedish
from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.menu import MenuCards
from dialogs.state import Turn
from dialogs.types import Reply
from forums import card as forum_cards

log = logging.getLogger(__name__)

# The forum cards' buttons (forums.card.SUBSCRIBE / UNSUBSCRIBE).
FORUM_SUBSCRIBE = "forum.subscribe"
FORUM_UNSUBSCRIBE = "forum.unsubscribe"
FORUM_MINE = "forum.mine"  # "Mina påminnelser"


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


class ForumReplies:
    """The forum helper in the conversation (`forums` is a forums.repository.ForumService)."""

    def __init__(
        self,
        *,
        messages: Catalogue,
        forums: Any | None,
        forum_cards: ForumCards | None,
        conversations: Conversations | None,
        forum_days: int,
        menu: MenuCards,
    ) -> None:
        self.msg = messages
        self.forums = forums
        self.forum_cards = forum_cards
        self.conversations = conversations
        self.forum_days = forum_days
        self.menu = menu

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

    async def upcoming(self, turn: Turn) -> list[Reply]:
        if self.forums is None or self.forum_cards is None:
            return [Reply(text=self.msg.text("forums.unavailable")), self.menu.reply(turn)]
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
            return [Reply(text=self.msg.text("forums.unavailable")), self.menu.reply(turn)]
        if not occurrences:
            return [await self._none(turn, set(subscribed_me))]
        card = self.forum_cards.upcoming(
            occurrences, subscribed_me=set(subscribed_me), subscribed_channel=subscribed_channel
        )
        card["body"].extend(c.action_rows(self.menu.resume_button(turn)))
        return [Reply(card=card, summary=self.msg.text("forums.summary"))]

    async def button(
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
            when = self._when(forum)
            text = f"{self.msg.text(key, name=forum.name)} {when}"
            mine = c.submit(self.msg.text("forums.mine_button"), {"action": FORUM_MINE})
            return [Reply(card=c.card([c.text(text), c.action_set([mine])]), summary=text)]
        await self.forums.unsubscribe(forum.id, ref.id)
        key = "forums.unsubscribed_channel" if scope == "channel" else "forums.unsubscribed_me"
        return [Reply(text=self.msg.text(key, name=forum.name))]

    def _when(self, forum: Any) -> str:
        """"Påminnelsen kommer en dag och en timme före varje möte." from the forum's offsets."""
        parts: list[str] = []
        for offset in getattr(forum, "offsets", lambda: [])():
            parts.append(self._offset(offset))
        if not parts:
            return self.msg.text("forums.when_none")
        return self.msg.text("forums.when", offsets=swedish.join(parts, "or"))

    def _offset(self, offset: Any) -> str:
        n, exact = offset.nominal, offset.exact
        units: list[str] = []
        days = n.days + exact.days
        for count, key in (
            (n.years, "year"),
            (n.months, "month"),
            (days, "day"),
            (exact.seconds // 3600, "hour"),
            (exact.seconds % 3600 // 60, "minute"),
        ):
            if count:
                form = "one" if count == 1 else "many"
                units.append(self.msg.text(f"forums.unit_{key}_{form}", n=count))
        return swedish.join(units, "and")

    async def mine(self, turn: Turn) -> list[Reply]:
        """"Mina påminnelser": the meetings this user (or channel) is reminded about, each with
        a way to stop it."""
        if self.forums is None:
            return [Reply(text=self.msg.text("forums.unavailable")), self.menu.reply(turn)]
        try:
            in_channel = turn.inc.in_channel
            ref = await (self._channel_ref(turn) if in_channel else self._personal_ref(turn))
            ids = await self.forums.subscribed_forums(ref.id) if ref is not None else set()
            forums = [f for f in await self.forums.forums() if f.id in ids]
        except Exception:
            log.warning("forums lookup failed", exc_info=True)
            return [Reply(text=self.msg.text("forums.unavailable")), self.menu.reply(turn)]
        scope = "channel" if turn.inc.in_channel else "me"
        show = c.submit(self.msg.text("forums.show_button"), {"action": c.MENU, "item": "forums"})
        if not forums:
            none = [c.text(self.msg.text("forums.mine_none")), c.action_set([show])]
            return [Reply(card=c.card(none), summary=self.msg.text("forums.mine_none"))]
        body: list[dict[str, Any]] = [c.heading(self.msg.text("forums.mine_title"))]
        for forum in forums:
            body.append(c.text(f"**{forum.name}** – {self._when(forum)}", separator=True))
            stop = {"action": FORUM_UNSUBSCRIBE, "forum": forum.id, "scope": scope}
            body.append(c.action_set([c.submit(self.msg.text("forums.stop_button"), stop)]))
        body.append(c.action_set([show]))
        return [Reply(card=c.card(body), summary=self.msg.text("forums.mine_title"))]

    async def _none(self, turn: Turn, subscribed: set[str]) -> Reply:
        """No meetings soon: who adds them, and reminders for the forums there are (a meeting
        added later is reminded about too)."""
        assert self.forums is not None
        forums = await self.forums.forums()
        body: list[dict[str, Any]] = [
            c.text(self.msg.text("forums.none", days=self.forum_days), weight="Bolder"),
            c.text(self.msg.text("forums.who_adds")),
        ]
        scope = "channel" if turn.inc.in_channel else "me"
        buttons = [
            c.submit(
                self.msg.text("forums.subscribe_later", name=f.name)
                if len(f.name) <= 24
                else self.msg.text("forums.subscribe_later_short"),
                {"action": FORUM_SUBSCRIBE, "forum": f.id, "scope": scope},
            )
            for f in forums
            if f.id not in subscribed
        ]
        if buttons:
            body.append(c.text(self.msg.text("forums.later")))
        buttons.extend(self.menu.resume_button(turn))
        buttons.append(c.submit(self.msg.text("offer.menu"), {"action": c.MENU}))
        body.extend(c.action_set([b]) for b in buttons)
        return Reply(card=c.card(body), summary=self.msg.text("forums.none", days=self.forum_days))


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
