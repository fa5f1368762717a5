"""Teams-shaped activities for tests (the shapes Teams and the Agents Playground send)."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:samverkansboten-test"
BOT_NAME = "Samverkansboten"
_ids = itertools.count(1)


def _base(
    service_url: str, conversation_id: str, user_id: str, *, kind: str = "personal"
) -> dict[str, Any]:
    conv: dict[str, Any] = {"id": conversation_id, "conversationType": kind, "tenantId": "tenant-1"}
    if kind != "personal":
        conv["isGroup"] = True
    return {
        "id": f"act-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-24T09:00:00.000Z",
        "from": {"id": f"29:{user_id}", "name": "Testlärare", "aadObjectId": user_id},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": conv,
        "channelData": {"tenant": {"id": "tenant-1"}},
        "locale": "sv-SE",
    }


def message(
    service_url: str, conversation_id: str, user_id: str, text: str, **kw: Any
) -> dict[str, Any]:
    act = _base(service_url, conversation_id, user_id, kind=kw.pop("kind", "personal"))
    act.update(type="message", text=text, textFormat="plain")
    act.update(kw)
    return act


def press(
    service_url: str, conversation_id: str, user_id: str, value: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """What Teams sends when an Adaptive Card Action.Submit button is pressed."""
    act = _base(service_url, conversation_id, user_id, kind=kw.pop("kind", "personal"))
    act.update(type="message", value=value)
    act.update(kw)
    return act


def channel_mention(
    service_url: str,
    conversation_id: str,
    user_id: str,
    text: str,
    *,
    team_id: str = "19:team@thread.tacv2",
    other_mentions: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A channel message that @mentions the bot (and optionally other people)."""
    at = f"<at>{BOT_NAME}</at>"
    entities: list[dict[str, Any]] = [
        {"type": "mention", "text": at, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
    ]
    body = f"{at} {text}"
    for pid, pname in other_mentions or []:
        entities.append(
            {
                "type": "mention",
                "text": f"<at>{pname}</at>",
                "mentioned": {"id": pid, "name": pname},
            }
        )
    act = message(service_url, conversation_id, user_id, body, kind="channel", entities=entities)
    act["channelData"] = {
        "tenant": {"id": "tenant-1"},
        "team": {"id": team_id},
        "channel": {"id": conversation_id},
    }
    return act


def install(
    service_url: str, conversation_id: str, user_id: str, *, kind: str = "personal"
) -> list[dict[str, Any]]:
    """Teams sends both of these, nearly at once, when the app is installed."""
    upd = _base(service_url, conversation_id, user_id, kind=kind)
    upd.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    inst = _base(service_url, conversation_id, user_id, kind=kind)
    inst.update(type="installationUpdate", action="add")
    return [upd, inst]


def uninstall(
    service_url: str, conversation_id: str, user_id: str, *, kind: str = "personal"
) -> dict[str, Any]:
    act = _base(service_url, conversation_id, user_id, kind=kind)
    act.update(type="installationUpdate", action="remove")
    return act
