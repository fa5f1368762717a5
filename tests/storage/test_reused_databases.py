"""The PostgreSQL databases of finished tests are emptied and used again (tests/conftest.py): the
next test must get what a fresh copy of the template would be, or a fresh copy."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import text

from storage.db import Database
from tests import conftest
from tests.conftest import (
    _admin_exec,
    _connect,
    _fresh_pg_database,
    _give_back,
    database_url,
    postgres_admin_url,
)

pytestmark = pytest.mark.postgres

INSERT = text(
    "INSERT INTO conversation_refs (channel_id, conversation_id, conversation_type, user_id,"
    " tenant_id, service_url, reference, updated_at)"
    " VALUES ('msteams', :c, 'personal', 'u', 't', 'http://x/', '{}', now()) RETURNING id"
)


@pytest.fixture
def server(pg_template: str | None) -> tuple[str, str]:
    """The admin URL and the template."""
    admin = postgres_admin_url()
    if admin is None or pg_template is None:
        pytest.skip("PostgreSQL not configured")
    return admin, pg_template


async def test_a_given_back_database_is_empty_with_its_counters_reset(
    server: tuple[str, str],
) -> None:
    admin, template = server
    name = await _fresh_pg_database(admin, template)
    db = Database(database_url(admin, name))
    try:
        async with db.transaction() as s:
            ids = [(await s.execute(INSERT, {"c": f"a:{i}"})).scalar_one() for i in range(3)]
        # left open, as a careless test would: it must not stop the emptying
        leftover = await db.engine.connect()
        await leftover.execute(text("SELECT 1"))
    finally:
        await db.dispose()
    assert ids == [1, 2, 3]
    await _give_back(admin, name, template)
    assert name in conftest._PG_FREE[template]
    with contextlib.suppress(Exception):  # its server session was ended by the emptying
        await leftover.close()

    again = await _fresh_pg_database(admin, template)
    assert again == name
    db = Database(database_url(admin, again))
    try:
        async with db.transaction() as s:
            assert (await s.execute(text("SELECT count(*) FROM conversation_refs"))).scalar() == 0
            assert (await s.execute(INSERT, {"c": "b"})).scalar_one() == 1
    finally:
        await db.dispose()
    await _give_back(admin, again, template)


async def test_a_database_whose_schema_changed_is_dropped(server: tuple[str, str]) -> None:
    admin, template = server
    name = await _fresh_pg_database(admin, template)
    await _admin_exec(database_url(admin, name), "ALTER TABLE forums ADD COLUMN extra integer")
    await _give_back(admin, name, template)
    assert name not in conftest._PG_FREE.get(template, [])
    async with _connect(admin) as conn:
        sql = "SELECT count(*) FROM pg_database WHERE datname = $1"
        assert await conn.fetchval(sql, name) == 0
