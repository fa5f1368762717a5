"""A local fake of the Bot Connector service: records what the bot sends, can inject failures."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    conversation_id: str
    activity: dict[str, Any]
    authorization: str | None
    reply_to: str | None


@dataclass
class FakeConnector:
    """Start with `await fc.start()`; `fc.url` is the serviceUrl to put in activities."""

    sent: list[Sent] = field(default_factory=list)
    # Responses to inject before succeeding: (status, retry_after or None), consumed in order.
    failures: deque[tuple[int, float | None]] = field(default_factory=deque)
    # Fail a fraction of sends deterministically: every n-th request gets this status.
    fail_every: int = 0
    # Or fail every n-th conversation once: its first request gets the status, its retries go
    # through (a retry's wait is the sender's backoff, up to base · 2^(n-1) s on the n-th retry:
    # failing retries again only lengthens the tail of a fan-out test; the sender's repeated
    # failures have their own tests in tests/forums).
    fail_once_every: int = 0
    fail_status: int = 429
    fail_retry_after: float | None = None
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _seen: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    url: str = ""
    requests: int = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities/{reply}", self._activity)
        app.router.add_post("/v3/conversations/{conv}/activities", self._activity)
        app.router.add_put("/v3/conversations/{conv}/activities/{reply}", self._activity)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _activity(self, request: web.Request) -> web.Response:
        self.requests += 1
        n = next(self._counter)
        if self.failures:
            status, retry = self.failures.popleft()
            return self._fail(status, retry)
        if self.fail_every and n % self.fail_every == self.fail_every - 1:
            return self._fail(self.fail_status, self.fail_retry_after)
        if self.fail_once_every:
            conversation = request.match_info["conv"]
            first = conversation not in self._seen
            self._seen.add(conversation)
            if first and len(self._seen) % self.fail_once_every == 0:
                return self._fail(self.fail_status, self.fail_retry_after)
        body = await request.json()
        self.sent.append(
            Sent(
                conversation_id=request.match_info["conv"],
                activity=body,
                authorization=request.headers.get("Authorization"),
                reply_to=request.match_info.get("reply"),
            )
        )
        self._event.set()
        return web.json_response({"id": f"reply-{n}"})

    @staticmethod
    def _fail(status: int, retry_after: float | None) -> web.Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return web.json_response({"error": {"code": str(status)}}, status=status, headers=headers)

    def for_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        return [s.activity for s in self.sent if s.conversation_id == conversation_id]

    def clear(self) -> None:
        self.sent.clear()
