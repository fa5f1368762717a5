"""Teams/Bot Framework activities ⇄ the SDK-free `Incoming`/`Reply` of dialogs.types."""

from __future__ import annotations

import re
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from dialogs.types import ConversationType, Incoming, Reply

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


class ActivityError(ValueError):
    """The request body is not an activity we can accept (→ HTTP 400)."""


def validate_body(body: Any) -> None:
    """Reject bodies that are not Bot Framework activities, with a message saying what is wrong."""
    if not isinstance(body, dict):
        raise ActivityError("Förväntade ett JSON-objekt (en Bot Framework-aktivitet).")
    missing = [f for f in ("type",) if not isinstance(body.get(f), str) or not body.get(f)]
    if body.get("type") in (
        ActivityTypes.message,
        ActivityTypes.conversation_update,
        ActivityTypes.installation_update,
        ActivityTypes.invoke,
    ):
        for field in ("serviceUrl", "channelId"):
            if not isinstance(body.get(field), str) or not body.get(field):
                missing.append(field)
        conv = body.get("conversation")
        if not isinstance(conv, dict) or not isinstance(conv.get("id"), str) or not conv["id"]:
            missing.append("conversation.id")
        frm = body.get("from")
        if not isinstance(frm, dict) or not isinstance(frm.get("id"), str) or not frm["id"]:
            missing.append("from.id")
        rec = body.get("recipient")
        if rec is not None and not isinstance(rec, dict):
            missing.append("recipient")
    if missing:
        raise ActivityError("Aktiviteten saknar obligatoriska fält: " + ", ".join(missing))
    for field in ("text", "locale", "id", "replyToId"):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            raise ActivityError(f"Fältet {field} måste vara en sträng.")
    if (
        "value" in body
        and body["value"] is not None
        and not isinstance(body["value"], dict | str | list | int | float | bool)
    ):
        raise ActivityError("Fältet value har fel typ.")
    if (
        "entities" in body
        and body["entities"] is not None
        and not isinstance(body["entities"], list)
    ):
        raise ActivityError("Fältet entities måste vara en lista.")


def conversation_type(activity: Activity) -> ConversationType:
    kind = (
        (activity.conversation.conversation_type or "personal")
        if activity.conversation
        else "personal"
    )
    if kind == "channel":
        return "channel"
    if kind == "groupChat" or (activity.conversation and activity.conversation.is_group):
        return "groupChat"
    return "personal"


def user_id(activity: Activity) -> str:
    frm = activity.from_property
    return (getattr(frm, "aad_object_id", None) or frm.id) if frm else "unknown"


def tenant_id(activity: Activity) -> str | None:
    if activity.conversation is not None and getattr(activity.conversation, "tenant_id", None):
        return str(activity.conversation.tenant_id)
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") or {}
    return tenant.get("id") if isinstance(tenant, dict) else None


def team_id(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") or {}
    return team.get("id") if isinstance(team, dict) else None


def mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if getattr(entity, "type", None) == "mention":
            props = entity.additional_properties or {}
            mentioned = props.get("mentioned") or {}
            if isinstance(mentioned, dict) and bot_id and mentioned.get("id") == bot_id:
                return True
    return False


def strip_own_mention(activity: Activity) -> str:
    """The text without the bot's own @mention; other people's mentions become plain names."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        mention_text = props.get("text")
        if (
            isinstance(mentioned, dict)
            and bot_id
            and mentioned.get("id") == bot_id
            and isinstance(mention_text, str)
            and mention_text
        ):
            text = text.replace(mention_text, " ")
    text = _AT_TAG.sub("", text).replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def to_incoming(activity: Activity, *, max_chars: int) -> Incoming:
    text = strip_own_mention(activity)
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    value = activity.value if isinstance(activity.value, dict) else None
    frm = activity.from_property
    return Incoming(
        user_id=user_id(activity),
        conversation_id=activity.conversation.id,
        text=text,
        value=value,
        conversation_type=conversation_type(activity),
        channel_id=activity.channel_id or "unknown",
        user_name=(frm.name if frm else None),
        tenant_id=tenant_id(activity),
        team_id=team_id(activity),
        truncated=truncated,
    )


def to_activity(reply: Reply) -> Activity:
    activity = Activity(type=ActivityTypes.message)
    if reply.text:
        activity.text = reply.text
        activity.text_format = "markdown"
    if reply.card is not None:
        activity.attachments = [Attachment(content_type=ADAPTIVE_CARD, content=reply.card)]
        if reply.summary:
            activity.summary = reply.summary
    return activity
