"""Each kommun's own contacts and forums on one server (issue 17): the registry and the forum
schedule hold records per kommun (`kommun` column, migrations 0005/0006), a user of a Teams tenant
mapped to kommun X gets X's contact card and X's forum list – never another kommun's people or
forums – and an import for one kommun (`--kommun`) never changes, removes or takes over another
kommun's records. On SQLite and PostgreSQL (`database`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cli.main import main
from common.clock import FixedClock
from contacts.registry import RegistryService
from dialogs.types import Incoming
from forums.file_import import ForumImportError
from forums.repository import ForumService
from knowledge.kommun import BUILTIN_DIR
from samverkan.schema import metadata
from samverkan.services import build_services
from samverkan.settings import Settings
from storage.db import Database
from tests.dialogs.conftest import Talk

# The first days of term: the example forums meet in September 2026 (a Tuesday, 10:00 local).
CLOCK_START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
TENANTS = {"t-ekero": "ekero", "t-lekeberg": "lekeberg"}


def profile_file(kommun: str, name: str) -> Path:
    return BUILTIN_DIR / kommun / name


def ids(data: Any) -> set[str]:
    return {r.id for t in ("after_hours", "districts", "people", "schools") for r in data.table(t)}


# ---- the registry ---------------------------------------------------------------------------


async def test_each_kommun_imports_and_sees_only_its_own_registry(database: Database) -> None:
    base = RegistryService(database, clock=FixedClock(CLOCK_START))
    ekero, lekeberg = base.for_kommun("ekero"), base.for_kommun("lekeberg")
    assert (await ekero.import_path(profile_file("ekero", "registry.yaml"))).ok
    before = await ekero.data()
    assert (await lekeberg.import_path(profile_file("lekeberg", "registry.yaml"))).ok
    assert ids(await ekero.data()) == ids(before)  # untouched by Lekeberg's import
    assert "uppgardsskolan" in ids(before) and "lekebergsskolan" not in ids(before)
    assert "lekebergsskolan" in ids(await lekeberg.data())
    # routing looks in the kommun's own registry only
    found = await ekero.route(purpose="general", school="Uppgårdsskolan", at=CLOCK_START)
    assert found.ok and found.district == "ekero"
    assert not (await ekero.route(purpose="general", school="Lekebergsskolan", at=CLOCK_START)).ok
    # a real Lekeberg registry with --replace removes Lekeberg's example records, not Ekerö's
    real = (
        "districts:\n  - id: lekeberg-ifo\n    name: Lekeberg\n"
        "    intake: {name: IFO Lekeberg, phone: '0585-000 999'}\n"
        "    office_hours: {days: [mon, tue, wed, thu, fri], open: '08:00', close: '16:00'}\n"
        "schools:\n  - {id: lekeberg-skola, name: Lekebergsskolan, district: lekeberg-ifo}\n"
    )
    report = await lekeberg.import_text(real, fmt="yaml", source="lekeberg.yaml", replace=True)
    assert report.ok, report.errors
    assert ids(await lekeberg.data()) == {"lekeberg-ifo", "lekeberg-skola"}
    assert ids(await ekero.data()) == ids(before)
    assert (await ekero.snapshot()).is_example


async def test_an_id_of_another_kommun_is_refused_and_left_alone(database: Database) -> None:
    base = RegistryService(database, clock=FixedClock(CLOCK_START))
    ekero, lekeberg = base.for_kommun("ekero"), base.for_kommun("lekeberg")
    assert (await ekero.import_path(profile_file("ekero", "registry.yaml"))).ok
    before = await ekero.export()
    text = "after_hours:\n  - {id: socialjour-ekero, name: Fel jour, phone: '0585-000 000'}\n"
    report = await lekeberg.import_text(text, fmt="yaml", source="lekeberg.yaml")
    assert not report.ok
    assert "socialjour-ekero" in str(report.errors[0]) and "ekero" in str(report.errors[0])
    assert await ekero.export() == before
    assert await lekeberg.is_empty()


async def test_records_from_before_belong_to_the_default_kommun(database: Database) -> None:
    # A registry imported before each kommun had its own has no kommun: the default adopts it.
    old = RegistryService(database, clock=FixedClock(CLOCK_START))
    assert (await old.import_path(profile_file("ekero", "registry.yaml"))).ok
    ekero = old.for_kommun("ekero")
    assert await ekero.is_empty()
    assert await ekero.adopt_unscoped() == 5
    assert "uppgardsskolan" in ids(await ekero.data())
    assert await old.is_empty() and await old.for_kommun("lekeberg").is_empty()
    assert await ekero.adopt_unscoped() == 0


# ---- the forums -----------------------------------------------------------------------------


async def test_each_kommun_imports_and_lists_only_its_own_forums(database: Database) -> None:
    every = ForumService(database, FixedClock(CLOCK_START))
    ekero, lekeberg = every.for_kommun("ekero"), every.for_kommun("lekeberg")
    await ekero.import_file(profile_file("ekero", "forums.yaml"))
    await lekeberg.import_file(profile_file("lekeberg", "forums.yaml"))
    mine = {f.id for f in await ekero.forums()}
    theirs = {f.id for f in await lekeberg.forums()}
    assert mine == {"prisma-ledning", "polis-soc-manad"}
    assert theirs == {"lekeberg-2plus2", "lekeberg-styrgrupp"}
    assert {f.id for f in await every.forums()} == mine | theirs  # the reminder loop's view
    end = datetime(2026, 12, 31, tzinfo=UTC)
    assert {o.forum for o in await ekero.upcoming(CLOCK_START, end)} == mine
    assert await ekero.forum("lekeberg-2plus2") is None
    # --replace is the whole schedule of Lekeberg only
    one = profile_file("lekeberg", "forums.yaml").read_text(encoding="utf-8")
    one = one[: one.index("  - id: lekeberg-styrgrupp")]
    report = await lekeberg.import_text(one, "lekeberg.yaml", replace=True)
    assert report.removed == ("lekeberg-styrgrupp",)
    assert {f.id for f in await ekero.forums()} == mine
    # an id another kommun uses is refused, and that forum is left as it was
    taken = profile_file("ekero", "forums.yaml").read_text(encoding="utf-8")
    with pytest.raises(ForumImportError) as refused:
        await lekeberg.import_text(taken, "ekero-copy.yaml")
    assert "prisma-ledning" in str(refused.value) and "ekero" in str(refused.value)
    assert {f.id for f in await lekeberg.forums()} == {"lekeberg-2plus2"}
    assert await every.for_kommun("ekero").adopt_unscoped() == 0


async def test_kommun_columns_match_the_models(database: Database) -> None:
    tables = ("registry_after_hours", "registry_districts", "registry_people",
              "registry_schools", "forums")
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
    ours = [d for d in diff if any(f"'{t}'" in repr(d) for t in tables)]
    assert ours == []


async def test_the_migration_keeps_a_registry_and_forums_from_before(database: Database) -> None:
    # Back to the schema before kommun scoping, a registry and a forum written then, and up
    # again: the records are kept, with no kommun until the default kommun adopts them.
    from alembic import command
    from sqlalchemy import Connection, text

    from storage.db import alembic_config

    def down(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), "0005_registry_kommun-1")
        command.downgrade(alembic_config(conn), "0006_forums_kommun-1")
        conn.execute(text(
            "INSERT INTO registry_after_hours (id, name, phone, example, updated_at) "
            "VALUES ('jour', 'Socialjouren', '08-000 000 00', false, CURRENT_TIMESTAMP)"
        ))
        conn.execute(text(
            "INSERT INTO forums (id, name, start_local, timezone, duration_minutes, exdates, "
            "skip_public_holidays, reminders, updated_at) VALUES ('bus', 'BUS', "
            "'2026-09-08T13:00:00', 'Europe/Stockholm', 90, '[]', false, '[]', CURRENT_TIMESTAMP)"
        ))

    async with database.engine.begin() as conn:
        await conn.run_sync(down)
    await database.migrate()
    registry = RegistryService(database, clock=FixedClock(CLOCK_START))
    forums = ForumService(database, FixedClock(CLOCK_START))
    assert ids(await registry.data()) == {"jour"}  # no kommun yet
    assert await registry.for_kommun("ekero").adopt_unscoped() == 1
    assert await forums.for_kommun("ekero").adopt_unscoped() == 1
    assert ids(await registry.for_kommun("ekero").data()) == {"jour"}
    assert [f.id for f in await forums.for_kommun("ekero").forums()] == ["bus"]
    assert await forums.for_kommun("lekeberg").forums() == []


# ---- the command line -----------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_imports_per_kommun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.delenv("SAMVERKAN_KOMMUN", raising=False)
    for kommun in ("ekero", "lekeberg"):
        registry = str(profile_file(kommun, "registry.yaml"))
        assert run(capsys, "registry", "import", "--kommun", kommun, registry)[0] == 0
        forums = str(profile_file(kommun, "forums.yaml"))
        assert run(capsys, "forums", "import", "--kommun", kommun, forums)[0] == 0
    # the default kommun (SAMVERKAN_KOMMUN unset: the Stockholm example) has neither
    code, out, _ = run(capsys, "registry", "export")
    assert code == 0 and "Uppgårdsskolan" not in out and "Lekebergsskolan" not in out
    code, out, _ = run(capsys, "registry", "export", "--kommun", "ekero")
    assert "Uppgårdsskolan" in out and "Lekeberg" not in out
    # Lekeberg's registry replaced as a whole does not touch Ekerö's
    path = tmp_path / "lekeberg.yaml"
    path.write_text(
        "after_hours:\n  - {id: jour-lekeberg-ny, name: Socialjouren Lekeberg, phone: '0585-1'}\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "registry", "import", "--kommun", "lekeberg", "--replace", str(path)
    )
    assert code == 0, err  # Lekeberg's example registry is replaced as a whole
    code, out, _ = run(capsys, "registry", "export", "--kommun", "lekeberg")
    assert "jour-lekeberg-ny" in out and "Lekebergsskolan" not in out
    monkeypatch.setenv("SAMVERKAN_KOMMUN", "ekero")  # the default now: --kommun not needed
    code, out, _ = run(capsys, "registry", "export")
    assert "socialjour-ekero" in out and "lekeberg" not in out
    code, out, _ = run(
        capsys, "route", "--purpose", "general", "--school", "Uppgårdsskolan", "--json"
    )
    assert code == 0 and json.loads(out)["district"] == "ekero"
    code, _, err = run(
        capsys, "route", "--purpose", "general", "--school", "Lekebergsskolan", "--json"
    )
    assert code == 1
    code, out, _ = run(
        capsys, "forums", "upcoming", "--from", "2026-09-01", "--to", "2026-10-01", "--json",
        "--kommun", "ekero",
    )
    assert {m["forum"] for m in json.loads(out)} == {"prisma-ledning", "polis-soc-manad"}
    code, out, _ = run(
        capsys, "forums", "upcoming", "--from", "2026-09-01", "--to", "2026-10-01", "--json"
    )
    assert "lekeberg-2plus2" in {m["forum"] for m in json.loads(out)}  # every kommun's
    for command in (["registry", "export"], ["forums", "import", str(path)]):
        code, out, err = run(capsys, *command, "--kommun", "ingenstans")
        assert code == 2 and out == "" and "unknown-kommun" in err


# ---- the bot: two tenants, two kommuner -----------------------------------------------------


@dataclass
class TenantTalk(Talk):
    tenant: str | None = None

    def incoming(self, text: str = "", value: dict[str, Any] | None = None, **kw: Any) -> Incoming:
        return super().incoming(text, value, tenant_id=self.tenant, **kw)


async def test_two_tenants_get_their_own_contact_card_and_forum_list(
    database: Database,
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        SAMVERKAN_DATABASE_URL=database.url,
        SAMVERKAN_KOMMUN="stockholm",
        SAMVERKAN_TENANT_KOMMUNER=json.dumps(TENANTS),
    )
    clock = FixedClock(CLOCK_START)
    services = await build_services(settings, clock=clock)
    try:
        for kommun in TENANTS.values():  # each kommun's example forums
            forums = services.forums.for_kommun(kommun)
            await forums.import_file(profile_file(kommun, "forums.yaml"))
        seen: dict[str, tuple[str, str]] = {}
        own_school = {"ekero": "Uppgårdsskolan", "lekeberg": "Lekebergsskolan"}
        for tenant, kommun in TENANTS.items():
            talk = TenantTalk(router=services.router, clock=clock, tenant=tenant,
                              user_id=f"u-{kommun}", conversation_id=f"c-{kommun}")
            await talk.press_menu("contacts")
            await talk.press("Allmän samverkan")
            await talk.say(own_school[kommun])
            contacts = talk.texts()
            await talk.press_menu("forums")
            seen[kommun] = (contacts, talk.texts())
        ekero_contacts, ekero_forums = seen["ekero"]
        lekeberg_contacts, lekeberg_forums = seen["lekeberg"]
        assert "Socialkontoret Ekerö" in ekero_contacts and "Sara Exempelsdotter" in ekero_contacts
        assert "Individ- och familjeomsorgen Lekeberg" in lekeberg_contacts
        assert "Jonas Prov" in lekeberg_contacts
        assert "PRISMA ledningsgrupp" in ekero_forums
        assert "2+2" in lekeberg_forums
        for text in (ekero_contacts, ekero_forums):
            assert "Lekeberg" not in text and "Jonas Prov" not in text and "2+2" not in text
            assert "Stockholm" not in text and "Östermalm" not in text
        for text in (lekeberg_contacts, lekeberg_forums):
            assert "Ekerö" not in text and "PRISMA" not in text and "Sara" not in text
            assert "Stockholm" not in text and "Östermalm" not in text
        # Ekerö's bot does not know Lekeberg's school, nor take a Lekeberg forum's button
        talk = TenantTalk(router=services.router, clock=clock, tenant="t-ekero")
        await talk.press_menu("contacts")
        await talk.press("Allmän samverkan")
        await talk.say("Lekebergsskolan")
        assert "Jonas Prov" not in talk.texts()
        assert "hittade ingen skola som heter ”Lekebergsskolan”" in talk.texts()
        replies = await talk.send(
            talk.incoming(value={"action": "forum.subscribe", "forum": "lekeberg-2plus2"})
        )
        assert "2+2" not in talk.texts(replies)
        assert await services.forums.subscriptions(forum_id="lekeberg-2plus2") == []
        # every kommun in use got its own example registry; the default kept Stockholm's
        for kommun, school in own_school.items():
            assert school in {s.name for s in (await services.registries[kommun].data()).schools}
        assert "Engelbrektsskolan" in {s.name for s in (await services.registry.data()).schools}
    finally:
        await services.close()
