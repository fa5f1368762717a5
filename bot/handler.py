"""Teams activity handling: install/uninstall, messages, mentions, conversation references."""

from __future__ import annotations

import logging
import traceback
from functools import partial

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ChannelAccount

from bot.activities import mentions_bot, team_id, tenant_id, to_activity, to_incoming
from bot.replies import ReplyError, ReplySender
from common.catalogue import Catalogue
from dialogs.types import Reply
from samverkan.services import Services
from samverkan.turns import TurnBusyError, TurnProcessor, conversation_key
from storage.conversations import RefInfo
from storage.state_store import StateConflictError

log = logging.getLogger(__name__)


class SamverkanBot(ActivityHandler):
    def __init__(
        self,
        services: Services,
        turns: TurnProcessor,
        messages: Catalogue,
        replies: ReplySender | None = None,
    ) -> None:
        self._services = services
        self._turns = turns
        self.msg = messages
        self._replies = replies
        self._max_chars = services.settings.max_text_chars

    # --- every activity -------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not _is_removal(activity):
            await self._remember(activity)
        await super().on_turn(turn_context)

    async def _remember(self, activity: Activity) -> None:
        if not activity.conversation or not activity.conversation.id or not activity.service_url:
            return
        channel = activity.channel_id or "unknown"
        conversations = self._services.conversations
        # Everything a stored reference holds, cheaply: skip the SDK's serialisation when the
        # conversation is unchanged (the usual case: every turn of every conversation).
        frm, rec, conv = activity.from_property, activity.recipient, activity.conversation
        fingerprint = "\x1f".join(
            str(x)
            for x in (
                activity.service_url,
                conv.id,
                conv.conversation_type,
                conv.tenant_id,
                conv.name,
                frm.id if frm else None,
                getattr(frm, "aad_object_id", None) if frm else None,
                frm.name if frm else None,
                rec.id if rec else None,
                rec.name if rec else None,
                activity.locale,
                team_id(activity),
            )
        )
        if conversations.is_current(channel, conv.id, fingerprint):
            return
        ref = TurnContext.get_conversation_reference(activity)
        kind = conv.conversation_type or "personal"
        info = RefInfo(
            channel_id=channel,
            conversation_id=conv.id,
            conversation_type=kind,
            service_url=activity.service_url,
            user_id=(to_incoming(activity, max_chars=1).user_id if kind == "personal" else None),
            tenant_id=tenant_id(activity),
            team_id=team_id(activity),
            display_name=getattr(conv, "name", None),
        )
        reference = ref.serialize()
        # The id of the activity being answered changes every turn and has no use for proactive
        # messages.
        reference.pop("activityId", None)
        await conversations.remember(info, reference, fingerprint=fingerprint)

    # --- messages -------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        inc = to_incoming(activity, max_chars=self._max_chars)
        if inc.in_channel and inc.value is None and not mentions_bot(activity):
            return  # in channels and group chats we only answer when @mentioned
        if not inc.text and inc.value is None:
            await self._send(turn_context, [Reply(text=self.msg.text("channel.text_only"))])
            return
        # The replies are delivered once the state is saved; if they cannot be delivered, the
        # state goes back to what it was, so the user loses nothing (see TurnProcessor).
        await self._turns.message(inc, deliver=partial(self._send, turn_context))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """The bot uses no invoke features (task modules, message extensions, Action.Execute):
        acknowledge instead of the SDK's 501, so a stray invoke never looks like a server fault."""
        return InvokeResponse(status=200, body={})

    # --- install / uninstall ----------------------------------------------------------------
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_added or []):
            await self._welcome_once(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome_once(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_removed or []):
            await self._forget(turn_context)

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        key = conversation_key(activity.channel_id or "unknown", activity.conversation.id)
        try:
            # Teams sends conversationUpdate and installationUpdate together: the first one to
            # create the conversation document sends the welcome.
            await self._services.store.insert_new(key, {"welcomed": True})
        except StateConflictError:
            return
        inc = to_incoming(activity, max_chars=self._max_chars)
        await self._turns.welcome(inc, deliver=partial(self._send, turn_context))

    async def _forget(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        channel = activity.channel_id or "unknown"
        await self._services.conversations.forget(channel, activity.conversation.id)
        inc = to_incoming(activity, max_chars=1)
        await self._turns.forget_conversation(
            channel, activity.conversation.id, [inc.user_id], personal=not inc.in_channel
        )

    async def _send(self, turn_context: TurnContext, replies: list[Reply]) -> None:
        if not replies:
            return
        if self._replies is not None:
            await self._replies.send(turn_context, replies)
        else:
            await turn_context.send_activities([to_activity(r) for r in replies])

    # --- errors -----------------------------------------------------------------------------
    async def on_error(self, turn_context: TurnContext, error: Exception) -> None:
        """The catch-all: log without message content and tell the user, truthfully.

        - The replies could not be delivered (the Bot Connector kept failing): the turn's state
          was already put back, the dialog is kept; one short notice is attempted.
        - Too many turns of this user at once: nothing changed, the dialog is kept; try again.
        - Anything else: the dialog is deleted for safety. The user is told it was deleted only
          when it was; otherwise that it will be (the deletion is retried once the database
          answers, before the user's next turn).
        """
        activity = turn_context.activity
        log.error(
            "turn failed: %s (activity type %s, channel %s)\n%s",
            type(error).__name__,
            activity.type,
            activity.channel_id,
            _frames(error),
        )
        if isinstance(error, ReplyError):
            key = "channel.reply_failed"
        elif isinstance(error, TurnBusyError):
            key = "channel.busy"
        else:
            cleared = False
            if activity.conversation is not None and activity.from_property is not None:
                cleared = await self._turns.clear_dialog(to_incoming(activity, max_chars=1))
            key = "channel.error" if cleared else "channel.error_not_deleted"
        try:
            await turn_context.send_activity(to_activity(Reply(text=self.msg.text(key))))
        except Exception as exc:
            log.error("could not tell the user about the error: %s", type(exc).__name__)


def _frames(error: BaseException) -> str:
    """Where it failed (file, line, function) without source text or exception message,
    either of which could carry what the user wrote."""
    return "\n".join(
        f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(error.__traceback__)
    )


def _is_removal(activity: Activity) -> bool:
    if activity.type == "installationUpdate" and (activity.action or "").startswith("remove"):
        return True
    if activity.type == "conversationUpdate" and activity.members_removed:
        bot_id = activity.recipient.id if activity.recipient else None
        return any(m.id == bot_id for m in activity.members_removed)
    return False
