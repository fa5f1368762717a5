from pathlib import Path

import pytest
from sqlalchemy import inspect

from storage import db as db_module
from storage.db import SCHEMA_HEADS, Database, DatabaseUrlError, alembic_config, normalize_url


async def test_migrations_create_core_tables(database: Database) -> None:
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"bot_state", "conversation_refs", "feedback_counts", "alembic_version"} <= names


async def test_migrate_twice_is_harmless(database: Database) -> None:
    await database.migrate()
    assert await database.ping()


def test_the_listed_heads_are_alembics() -> None:
    """A new migration must be added to SCHEMA_HEADS, or a start would not run it."""
    from alembic.script import ScriptDirectory

    assert set(ScriptDirectory.from_config(alembic_config()).get_heads()) == SCHEMA_HEADS


async def test_a_database_at_the_heads_is_not_handed_to_alembic(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_alembic(_connection: object) -> None:
        raise AssertionError("Alembic was run on a database already at the newest revisions")

    monkeypatch.setattr(db_module, "_upgrade", no_alembic)
    await database.migrate()
    assert await database.ping()


async def test_a_database_behind_is_upgraded(tmp_path: Path) -> None:
    """A database from before the newest migrations (here 0001 and 0003 only) is upgraded."""
    from alembic import command

    database = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0003_forums"))
        await database.migrate()
        assert await database.revisions() == SCHEMA_HEADS
        async with database.engine.connect() as conn:
            columns = await conn.run_sync(lambda c: inspect(c).get_columns("forums"))
        assert "kommun" in {column["name"] for column in columns}
    finally:
        await database.dispose()


def test_url_normalisation() -> None:
    assert normalize_url("sqlite:///x.db").startswith("sqlite+aiosqlite:///")
    assert normalize_url("postgresql://u:p@h/db").startswith("postgresql+asyncpg://")
    with pytest.raises(DatabaseUrlError):
        normalize_url("mysql://u@h/db")
