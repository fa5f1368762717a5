"""Reuse Bot Connector clients across turns, and send over one pooled aiohttp session.

The SDK builds a new ConnectorClient (msrest pipeline, retry policy, a new `requests` session run
in a thread pool) for every turn and every proactive message. Here the authentication object hands
out connector factories that cache one client per (app id, OAuth scope, login endpoint, service
URL, audience), and each cached client's msrest pipeline sends through a shared aiohttp session
(keep-alive connections, no thread hop per request).

Authentication semantics are the SDK's: inbound requests are still validated by the SDK, and the
outbound Authorization header comes from the very credentials object the SDK created for that
client (`_should_set_token` decides, as in `AppCredentials.signed_session`; MSAL caches and
refreshes the token; the blocking MSAL call runs in a worker thread).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.aiohttp import AioHttpClientResponse

log = logging.getLogger(__name__)


class _Response(AioHttpClientResponse):
    def __init__(self, request: Any, response: aiohttp.ClientResponse, body: bytes) -> None:
        super().__init__(request, response)
        self._loaded = body

    def body(self) -> bytes:
        return self._loaded


class SharedSessionSender(AsyncHTTPSender):
    """msrest pipeline sender over an aiohttp session owned by the application."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> SharedSessionSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # the session belongs to the app and is closed at shutdown

    def build_context(self) -> Any:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http = request.http_request
        data = http.data
        async with self._session.request(
            http.method, http.url, headers=dict(http.headers), data=data
        ) as resp:
            body = await resp.read()
        return Response(request, _Response(http, resp, body))


async def authorization(credentials: Any) -> str | None:
    """The Authorization header the SDK's credentials would set, or None (anonymous)."""
    should = getattr(credentials, "_should_set_token", None)
    if credentials is None or should is None or not should(None):
        return None
    token = await asyncio.to_thread(credentials.get_access_token)
    return f"Bearer {token}"


class CredentialsPolicy(AsyncHTTPPolicy):
    """Sets the Authorization header exactly when the SDK's own credentials would."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._creds = credentials

    async def send(self, request: Request, **kwargs: Any) -> Response:
        headers = request.http_request.headers
        value = await authorization(self._creds)
        if value is not None:
            headers["Authorization"] = value
        else:
            headers.pop("Authorization", None)
        assert self.next is not None  # the pipeline links every policy to the next one
        return await self.next.send(request, **kwargs)


def use_shared_session(client: ConnectorClient, session: aiohttp.ClientSession) -> None:
    """Replace the client's msrest pipeline (requests in a thread pool) with an aiohttp one."""
    config = client.config
    config.pipeline = AsyncPipeline(
        [
            config.user_agent_policy,
            CredentialsPolicy(config.credentials),
            RawDeserializer(),
            config.http_logger_policy,
        ],
        SharedSessionSender(session),
    )


class ClientCache:
    def __init__(self, max_clients: int = 256, *, timeout: float = 30.0) -> None:
        self._clients: dict[tuple[Any, ...], ConnectorClient] = {}
        self._max = max_clients
        self._lock = asyncio.Lock()
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=100),
            )
        return self._session

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
                    self._clients.pop(next(iter(self._clients)))
                client = await factory.create(service_url, audience)
                use_shared_session(client, self.session())
                self._clients[key] = client
            return client

    async def close(self) -> None:
        self._clients = {}
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def __len__(self) -> int:
        return len(self._clients)


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
        # The SDK builds a TokenApiClient (msrest configuration and retry policy: ~10 ms) on every
        # turn for OAuth prompts this bot never uses; one per bot identity is enough.
        self._token_clients: dict[tuple[Any, ...], UserTokenClient] = {}

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
        claims = claims_identity.claims or {}
        key = (claims.get("aud"), claims.get("appid"), claims.get("azp"), claims.get("ver"))
        client = self._token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            if len(self._token_clients) > 64:
                self._token_clients.clear()
            self._token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
