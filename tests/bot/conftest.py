from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, create_app
from samverkan.settings import Settings
from storage.db import Database
from tests.fakes.connector import FakeConnector
from tests.fakes.router import EchoRouter


@dataclass
class BotHarness:
    client: TestClient
    connector: FakeConnector
    router: EchoRouter
    app: web.Application

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app[RUNTIME].services

    async def post(self, activity: dict, **kw):  # type: ignore[no-untyped-def,type-arg]
        return await self.client.post("/api/messages", json=activity, **kw)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fc = FakeConnector()
    await fc.start()
    yield fc
    await fc.stop()


@pytest.fixture
async def harness(tmp_path: Path, connector: FakeConnector) -> AsyncIterator[BotHarness]:
    router = EchoRouter()
    settings = Settings(
        SAMVERKAN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        SAMVERKAN_KB_DIR=str(Path(__file__).parent.parent / "fixtures" / "kb-min"),
    )  # type: ignore[call-arg]
    app = create_app(settings, router_factory=lambda _s: router, background=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield BotHarness(client=client, connector=connector, router=router, app=app)
    finally:
        await client.close()


def bot_settings(database_url: str, **extra: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        SAMVERKAN_DATABASE_URL=database_url,
        SAMVERKAN_KB_DIR=str(Path(__file__).parent.parent / "fixtures" / "kb-min"),
        **extra,
    )


@pytest.fixture
async def db_harness(database: Database, connector: FakeConnector) -> AsyncIterator[BotHarness]:
    """The echo bot on the `database` fixture's backend (SQLite and PostgreSQL)."""
    router = EchoRouter()
    app = create_app(
        bot_settings(database.url), router_factory=lambda _s: router, background=False
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield BotHarness(client=client, connector=connector, router=router, app=app)
    finally:
        await client.close()


@pytest.fixture
async def real_harness(database: Database, connector: FakeConnector) -> AsyncIterator[BotHarness]:
    """The real dialogs router and the bundled knowledge base, on both backends."""
    settings = Settings(_env_file=None, SAMVERKAN_DATABASE_URL=database.url)  # type: ignore[call-arg]
    app = create_app(settings, background=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield BotHarness(client=client, connector=connector, router=EchoRouter(), app=app)
    finally:
        await client.close()
