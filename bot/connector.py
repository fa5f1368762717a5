"""Reuse Bot Connector clients (and their HTTP sessions) across turns.

The SDK builds a new ConnectorClient — a new msrest pipeline, retry policy and aiohttp session —
for every turn and every proactive message. Here the authentication object hands out connector
factories that cache one client per (app id, OAuth scope, login endpoint, service URL, audience).
Authentication of inbound requests is untouched: every request is still validated by the SDK, and
the cached clients carry the same credentials the SDK would have created (tokens are cached and
refreshed by MSAL inside those credentials).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

log = logging.getLogger(__name__)


class ClientCache:
    def __init__(self, max_clients: int = 256) -> None:
        self._clients: dict[tuple[Any, ...], ConnectorClient] = {}
        self._max = max_clients
        self._lock = asyncio.Lock()

    async def get(
        self,
        key: tuple[Any, ...],
        factory: ConnectorFactory,
        service_url: str,
        audience: str | None,
    ) -> ConnectorClient:
        client = self._clients.get(key)
        if client is not None:
            return client
        async with self._lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) >= self._max:
                    old_key = next(iter(self._clients))
                    old = self._clients.pop(old_key)
                    await _close(old)
                client = await factory.create(service_url, audience)
                self._clients[key] = client
            return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await _close(client)

    def __len__(self) -> int:
        return len(self._clients)


async def _close(client: ConnectorClient) -> None:
    try:
        await client.close()
    except Exception as exc:  # closing is best effort
        log.debug("closing connector client failed: %s", type(exc).__name__)


class CachingConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, cache: ClientCache) -> None:
        self._inner = inner
        self._cache = cache

    def _identity(self) -> tuple[Any, ...]:
        inner = self._inner
        return (
            type(inner).__name__,
            getattr(inner, "_app_id", None),
            getattr(inner, "_to_channel_from_bot_oauth_scope", None),
            getattr(inner, "_login_endpoint", None),
        )

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (*self._identity(), service_url, audience)
        return await self._cache.get(key, self._inner, service_url, audience)


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates everything to the SDK's authentication; only connector factories are wrapped."""

    def __init__(self, inner: BotFrameworkAuthentication, cache: ClientCache | None = None) -> None:
        self._inner = inner
        self.cache = cache or ClientCache()

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = CachingConnectorFactory(result.connector_factory, self.cache)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        if result.connector_factory is not None:
            result.connector_factory = CachingConnectorFactory(result.connector_factory, self.cache)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity), self.cache
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
