"""The pooled aiohttp pipeline keeps the SDK's auth semantics for outbound calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from bot.connector import use_shared_session
from tests.fakes.connector import FakeConnector


class FixedTokenCredentials(MicrosoftAppCredentials):
    calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        FixedTokenCredentials.calls += 1
        return "token-123"


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    fc = FakeConnector()
    await fc.start()
    yield fc
    await fc.stop()


async def _send(fake: FakeConnector, creds: MicrosoftAppCredentials) -> None:
    client = ConnectorClient(creds, base_url=fake.url)
    async with aiohttp.ClientSession() as session:
        use_shared_session(client, session)
        result = await client.conversations.send_to_conversation(
            "conv-1", Activity(type="message", text="hej")
        )
    assert result.id


async def test_authenticated_credentials_send_bearer_token(fake: FakeConnector) -> None:
    await _send(fake, FixedTokenCredentials("app-id", "secret"))
    assert fake.sent[-1].authorization == "Bearer token-123"
    assert fake.sent[-1].activity["text"] == "hej"


async def test_anonymous_credentials_send_no_token(fake: FakeConnector) -> None:
    FixedTokenCredentials.calls = 0
    await _send(fake, FixedTokenCredentials("", ""))
    assert fake.sent[-1].authorization is None
    assert FixedTokenCredentials.calls == 0


async def test_http_errors_surface_with_status(fake: FakeConnector) -> None:
    from msrest.exceptions import HttpOperationError

    fake.failures.append((429, 3.0))
    with pytest.raises(HttpOperationError) as info:
        await _send(fake, FixedTokenCredentials("", ""))
    assert info.value.response.status == 429
    assert info.value.response.headers["Retry-After"] == "3.0"
