"""Which kommun a running bot speaks for: SAMVERKAN_KOMMUN, the Teams tenant map, the welcome
card and /healthz."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from common.clock import FixedClock
from dialogs.types import Incoming
from samverkan.kommun_router import KommunRouter
from samverkan.services import build_services
from samverkan.settings import Settings
from tests.fakes.router import EchoRouter
from tests.kommun.conftest import card_text

CLOCK = FixedClock(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
TENANT_EKERO = "11111111-2222-3333-4444-555555555555"


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings(SAMVERKAN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", **env)  # type: ignore[call-arg]


async def test_one_server_serves_several_kommuner_by_tenant(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        SAMVERKAN_KOMMUN="lekeberg",
        SAMVERKAN_TENANT_KOMMUNER=f'{{"{TENANT_EKERO}": "ekero"}}',
    )
    services = await build_services(s, clock=CLOCK)
    try:
        assert isinstance(services.router, KommunRouter)
        turns = services.turns()
        question = "Vilka samverkansforum finns mellan skolan och socialtjänsten?"
        seen = {}
        for tenant in (TENANT_EKERO, "another-tenant", None):
            inc = Incoming(user_id="u", conversation_id=f"c-{tenant}", tenant_id=tenant)
            welcome = card_text((await turns.welcome(inc))[0].card)
            replies = await turns.message(
                Incoming(
                    user_id="u", conversation_id=f"c-{tenant}", text=question, tenant_id=tenant
                )
            )
            seen[tenant] = (welcome, card_text(replies[-1].card))
        welcome, answer = seen[TENANT_EKERO]
        assert "Ekerö kommun (exempel" in welcome
        assert "I Ekerö:" in answer and "PRISMA" in answer and "Lekeberg" not in answer
        for tenant in ("another-tenant", None):
            welcome, answer = seen[tenant]
            assert "Lekebergs kommun (exempel" in welcome
            assert "I Lekeberg:" in answer and "2+2" in answer
            assert "Ekerö" not in answer and "PRISMA" not in answer
        # the default kommun's example registry was loaded on first start
        data = await services.registry.data()
        assert [d.id for d in data.districts] == ["lekeberg"]
    finally:
        await services.close()


async def test_the_default_is_the_stockholm_example(tmp_path: Path) -> None:
    services = await build_services(settings(tmp_path), clock=CLOCK)
    try:
        assert services.kommuner.default == "stockholm"
        welcome = await services.turns().welcome(Incoming(user_id="u", conversation_id="c"))
        assert "Lokala rutiner: Stockholms stad (exempel" in card_text(welcome[0].card)
    finally:
        await services.close()


async def test_healthz_names_the_kommun(tmp_path: Path) -> None:
    s = settings(
        tmp_path, SAMVERKAN_KOMMUN="ekero", SAMVERKAN_TENANT_KOMMUNER='{"t-1": "lekeberg"}'
    )
    router = EchoRouter()
    app = create_app(s, router_factory=lambda _core: router, background=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        body = await (await client.get("/healthz")).json()
    finally:
        await client.close()
    assert body["kommun"] == {
        "id": "ekero",
        "name": "Ekerö kommun",
        "example": True,
        "tenants": 1,
        "profiles": ["ekero", "lekeberg"],
    }
    assert "t-1" not in str(body)  # tenant ids are not shown
