"""Teams/Bot Framework activities ⇄ the SDK-free `Incoming`/`Reply` of dialogs.types."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot import texts
from dialogs.types import ConversationType, Incoming, Reply
from samverkan.settings import is_loopback
from storage.models import ConversationReference

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


class ActivityError(ValueError):
    """The request body is not an activity we can accept (→ HTTP 400)."""


def _column_length(name: str) -> int:
    length = getattr(ConversationReference.__table__.c[name].type, "length", None)
    assert isinstance(length, int)
    return length


# What the conversation reference stores, refused at the edge when longer than its column, so
# that SQLite (which ignores VARCHAR lengths) and PostgreSQL (which enforces them) behave alike.
# The user id is `from.aadObjectId` when Teams gives one, else `from.id`: both are limited.
_ID_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("channelId",), _column_length("channel_id")),
    (("serviceUrl",), _column_length("service_url")),
    (("conversation", "id"), _column_length("conversation_id")),
    (("conversation", "conversationType"), _column_length("conversation_type")),
    (("conversation", "tenantId"), _column_length("tenant_id")),
    (("from", "id"), _column_length("user_id")),
    (("from", "aadObjectId"), _column_length("user_id")),
    (("channelData", "tenant", "id"), _column_length("tenant_id")),
    (("channelData", "team", "id"), _column_length("team_id")),
)
# A conversation's name is only shown (group chats, channels): shortened, never refused.
MAX_NAME_CHARS = _column_length("display_name")
# Lists whose items the SDK and the handler read as objects.
_OBJECT_LISTS = (
    "membersAdded",
    "membersRemoved",
    "entities",
    "attachments",
    "reactionsAdded",
    "reactionsRemoved",
)
_OBJECTS = ("from", "recipient", "conversation", "channelData")
# NUL (PostgreSQL refuses it in text and JSON) and lone UTF-16 surrogates (not encodable as
# UTF-8): both can only arrive as JSON escapes once the body has been decoded as strict UTF-8.
_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# A card button's value (our Action.Submit data and the card's inputs) holds only scalars.
INVALID_BUTTON = "invalid-button"


def parse_body(raw: bytes) -> Any:
    """Strict UTF-8 JSON, with NUL and lone surrogates removed from every string.

    Raises ValueError (bad UTF-8 or JSON) or RecursionError (absurd nesting).
    """
    text = raw.decode("utf-8")
    body = json.loads(text)
    if _BAD_ESCAPE.search(text):
        body = _clean(body)
    return body


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _BAD_CHARS.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def _at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = body
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def validate_body(body: Any, *, require_https: bool = False, loopback_http: bool = True) -> None:
    """Reject bodies that are not Bot Framework activities, with a message saying what is wrong.

    `require_https`: the serviceUrl (where replies go) must be https, except an http loopback
    address when `loopback_http` (local tests). Over-long conversation names are shortened here
    (the body is changed in place).
    """
    if not isinstance(body, dict):
        raise ActivityError(texts().text("activity.not_object"))
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
    if missing:
        raise ActivityError(texts().text("activity.missing", fields=", ".join(missing)))
    for field in ("text", "locale", "id", "replyToId", "serviceUrl", "channelId"):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            raise ActivityError(texts().text("activity.not_string", field=field))
    for field in _OBJECTS:
        if field in body and body[field] is not None and not isinstance(body[field], dict):
            raise ActivityError(texts().text("activity.not_dict", field=field))
    if (
        "value" in body
        and body["value"] is not None
        and not isinstance(body["value"], dict | str | list | int | float | bool)
    ):
        raise ActivityError(texts().text("activity.bad_value"))
    for field in _OBJECT_LISTS:
        items = body.get(field)
        if items is not None and (
            not isinstance(items, list) or not all(isinstance(i, dict) for i in items)
        ):
            raise ActivityError(texts().text("activity.not_list", field=field))
    for path, limit in _ID_LIMITS:
        value = _at(body, path)
        name = ".".join(path)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ActivityError(texts().text("activity.not_string", field=name))
        if len(value) > limit:
            raise ActivityError(texts().text("activity.too_long", field=name, max=limit))
    if isinstance(body.get("serviceUrl"), str):
        _check_service_url(body["serviceUrl"], require_https, loopback_http)
    conv = body.get("conversation")
    if isinstance(conv, dict) and "name" in conv and conv["name"] is not None:
        if not isinstance(conv["name"], str):
            raise ActivityError(texts().text("activity.not_string", field="conversation.name"))
        conv["name"] = conv["name"][:MAX_NAME_CHARS]


def _check_service_url(url: str, require_https: bool, loopback_http: bool) -> None:
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # e.g. an invalid IPv6 literal or port
        scheme, host = "", None
    if host is None or scheme not in ("http", "https"):
        raise ActivityError(texts().text("activity.service_url"))
    if require_https and scheme != "https" and not (loopback_http and is_loopback(host)):
        raise ActivityError(texts().text("activity.service_url_https"))


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
    value = button_value(activity.value)
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


def button_value(value: Any) -> dict[str, Any] | None:
    """A pressed button's value. Our buttons carry flat data (strings, numbers, booleans); one
    that names an action but carries lists or objects is not ours: it becomes a button nobody
    knows (the router answers with the menu), never an error that would end the user's dialog."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("action"), str) and not all(
        v is None or isinstance(v, str | int | float | bool) for v in value.values()
    ):
        log.info("button value with nested data treated as an unknown button")
        return {"action": INVALID_BUTTON}
    return value


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
