"""Proactive messages through the Bot Connector, from stored conversation references.

This is the transport under `outbound.sender.Sender` (which owns rate limits and retries): one
attempt per call, failures reported as `SendError` with the HTTP status and Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.activities import ADAPTIVE_CARD
from outbound.sender import SendError

log = logging.getLogger(__name__)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: let the backoff decide


def _as_send_error(exc: BaseException) -> SendError:
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, HttpOperationError) and exc.response is not None:
        response = exc.response
        # requests.Response has status_code; aiohttp.ClientResponse (our pipeline) has status.
        status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
        return SendError(status, _retry_after(getattr(response, "headers", None)), f"HTTP {status}")
    if isinstance(exc, ClientRequestError | aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return SendError(0, None, type(exc).__name__)
    return SendError(0, None, type(exc).__name__)


class BotConnectorTransport:
    def __init__(self, adapter: CloudAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

    async def send(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> None:
        ref = ConversationReference().deserialize(reference)
        activity = Activity(
            type=ActivityTypes.message,
            summary=summary,
            attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
        )
        failures: list[BaseException] = []

        async def callback(turn_context: TurnContext) -> None:
            # Catch here: errors must reach the Sender, not the turn error handler (which would
            # write an apology into the conversation).
            try:
                await turn_context.send_activity(activity)
            except Exception as exc:
                failures.append(exc)

        try:
            await self._adapter.continue_conversation(ref, callback, self._app_id)
        except Exception as exc:
            raise _as_send_error(exc) from exc
        if failures:
            raise _as_send_error(failures[0]) from failures[0]
