"""Replies in a turn, posted as plain JSON over the pooled session.

The SDK turns every reply into an msrest model and serialises it field by field (about 5 ms for an
answer card, the largest cost of a turn in the profile). A reply is only the inbound activity's
addressing turned around plus our text and card, so it is built as a dict and posted to the same
Bot Connector endpoint the SDK uses (`/v3/conversations/{id}/activities/{replyToId}`), with the
Authorization header from the credentials the SDK created for this turn's connector client.
`deliveryMode: expectReplies` (replies returned in the HTTP response) keeps the SDK path.

A reply that gets 429/412/5xx, or no connection, is tried again (Retry-After honoured, full
jitter, at most four attempts within a few seconds). If it still fails, ReplyError: the turn
processor then puts the user's state back as it was before the turn.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase

from bot.activities import ADAPTIVE_CARD, to_activity
from bot.connector import ClientCache, authorization
from dialogs.types import Reply

# The inbound activity as it arrived (plain JSON), set by the HTTP handler for this request.
RAW_ACTIVITY: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "raw_activity", default=None
)


class ReplyError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"Bot Connector answered HTTP {status}")
        self.status = status


# Teams throttles and has hiccups (429, 412, 5xx): a reply is tried again after a pause that
# honours Retry-After, with full jitter, a few times and within a few seconds – the user waits.
RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})
MAX_REPLY_ATTEMPTS = 4
BASE_DELAY = 0.25  # seconds; attempt n waits up to BASE_DELAY · 2^(n-1)
MAX_RETRY_AFTER = 5.0  # a longer Retry-After is not waited for: the turn fails (and is undone)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def reply_body(inbound: dict[str, Any], reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "from": inbound.get("recipient"),
        "recipient": inbound.get("from"),
        "conversation": inbound.get("conversation"),
        "channelId": inbound.get("channelId"),
        "serviceUrl": inbound.get("serviceUrl"),
    }
    if inbound.get("id"):
        body["replyToId"] = inbound["id"]
    if inbound.get("locale"):
        body["locale"] = inbound["locale"]
    if reply.text:
        body["text"] = reply.text
        body["textFormat"] = "markdown"
    if reply.card is not None:
        body["attachments"] = [{"contentType": ADAPTIVE_CARD, "content": reply.card}]
        if reply.summary:
            body["summary"] = reply.summary
    return body


class ReplySender:
    def __init__(
        self,
        cache: ClientCache,
        *,
        sleeper: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._cache = cache
        self._sleep = sleeper
        self._rng = rng if rng is not None else random.Random()

    async def send(self, turn_context: TurnContext, replies: list[Reply]) -> None:
        if not replies:
            return
        inbound = RAW_ACTIVITY.get()
        activity = turn_context.activity
        client = turn_context.turn_state.get(CloudAdapterBase.BOT_CONNECTOR_CLIENT_KEY)
        if (
            inbound is None
            or client is None
            or activity.delivery_mode == "expectReplies"
            or inbound.get("id") != activity.id
        ):
            await turn_context.send_activities([to_activity(r) for r in replies])
            return
        base = str(inbound["serviceUrl"]).rstrip("/")
        conversation = quote(str(inbound["conversation"]["id"]), safe="")
        url = f"{base}/v3/conversations/{conversation}/activities"
        if inbound.get("id"):
            url += f"/{quote(str(inbound['id']), safe='')}"
        headers = {"Content-Type": "application/json; charset=utf-8"}
        auth = await authorization(client.config.credentials)
        if auth is not None:
            headers["Authorization"] = auth
        session = self._cache.session()
        for reply in replies:
            data = json.dumps(reply_body(inbound, reply), ensure_ascii=False).encode()
            for attempt in range(1, MAX_REPLY_ATTEMPTS + 1):
                retry_after: float | None = None
                try:
                    async with session.post(url, data=data, headers=headers) as resp:
                        await resp.read()
                        if resp.status < 300:
                            break
                        status = resp.status
                        retry_after = _retry_after(resp.headers.get("Retry-After"))
                except aiohttp.ClientConnectorError:
                    status = 0  # no connection: nothing was sent, safe to try again
                if status and status not in RETRY_STATUSES:
                    raise ReplyError(status)
                if attempt == MAX_REPLY_ATTEMPTS or (
                    retry_after is not None and retry_after > MAX_RETRY_AFTER
                ):
                    raise ReplyError(status)
                jitter = self._rng.uniform(0, BASE_DELAY * 2 ** (attempt - 1))
                await self._sleep(max(jitter, retry_after or 0.0))
