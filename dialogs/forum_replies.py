"""The forums in the conversation: the list of upcoming meetings with its reminder buttons, and
subscribing or unsubscribing the user or the channel (forums.repository does the storing)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

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
            return [
                Reply(text=self.msg.text("forums.none", days=self.forum_days)),
                self.menu.reply(turn),
            ]
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
        else:
            await self.forums.unsubscribe(forum.id, ref.id)
            key = "forums.unsubscribed_channel" if scope == "channel" else "forums.unsubscribed_me"
        return [Reply(text=self.msg.text(key, name=forum.name))]


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
